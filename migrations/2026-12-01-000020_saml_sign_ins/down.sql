DROP TABLE saml_assertions;
ALTER TABLE federation_states DROP COLUMN used_at;
ALTER TABLE federation_states DROP COLUMN identity;
