-- A refresh-token row holds a chain of tokens: a rotation rewrites the row in place (its
-- current token becomes the previous one), so it adds no row, no index entry and no
-- foreign-key check, and stays a HOT update. Tokens name their row (`<row>.<secret>`); only
-- keyed hashes are kept. Tokens issued before keep being found by `legacy_hmac`.
ALTER TABLE refresh_tokens RENAME COLUMN token_hmac TO legacy_hmac;
ALTER TABLE refresh_tokens ALTER COLUMN legacy_hmac DROP NOT NULL;
ALTER TABLE refresh_tokens
    ADD COLUMN current_hmac bytea,
    ADD COLUMN previous_hmac bytea;
-- An unrotated token is its row's current one; a rotated one (its successor has a row of its
-- own) the previous one, with the grace it had.
UPDATE refresh_tokens
SET current_hmac = CASE WHEN rotated_at IS NULL THEN legacy_hmac END,
    previous_hmac = CASE WHEN rotated_at IS NOT NULL THEN legacy_hmac END;
