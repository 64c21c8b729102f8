-- Rows of the newer form cannot be found by a token hash of the older one: they go.
DELETE FROM refresh_tokens WHERE legacy_hmac IS NULL;
ALTER TABLE refresh_tokens DROP COLUMN current_hmac, DROP COLUMN previous_hmac;
ALTER TABLE refresh_tokens ALTER COLUMN legacy_hmac SET NOT NULL;
ALTER TABLE refresh_tokens RENAME COLUMN legacy_hmac TO token_hmac;
