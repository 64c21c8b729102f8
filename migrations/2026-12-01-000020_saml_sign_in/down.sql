DROP TABLE saml_assertions;
ALTER TABLE federation_states DROP COLUMN identity;
