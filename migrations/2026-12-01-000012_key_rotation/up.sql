-- Key rotation (contract §8): a new key is published before it signs (`activates_at`), and the
-- keys it replaces stay published until `retired_at`, after every token they signed expired.
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz;
UPDATE signing_keys SET activates_at = created_at;
ALTER TABLE signing_keys ALTER COLUMN activates_at SET NOT NULL;
