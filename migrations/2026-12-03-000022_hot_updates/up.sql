-- Rows the sign-in and refresh paths update right after reading them: a refresh token when it
-- is rotated, a code when it is redeemed, a user's last login, a session's last use. None of
-- those columns is indexed, so the update can stay on its page (a HOT update: no new entry in
-- any index, no trigram insert for a user) if the page has room. Leave that room on new pages.
ALTER TABLE refresh_tokens SET (fillfactor = 80);
ALTER TABLE authorization_codes SET (fillfactor = 80);
ALTER TABLE users SET (fillfactor = 90);
ALTER TABLE sessions SET (fillfactor = 90);
