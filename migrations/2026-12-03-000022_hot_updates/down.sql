ALTER TABLE refresh_tokens RESET (fillfactor);
ALTER TABLE authorization_codes RESET (fillfactor);
ALTER TABLE users RESET (fillfactor);
ALTER TABLE sessions RESET (fillfactor);
