DROP TABLE consents;
DROP TABLE refresh_tokens;
DROP TABLE authorization_codes;
ALTER TABLE sessions DROP COLUMN amr, DROP COLUMN cookie_hmac;
