DROP TABLE federation_states;
DROP TABLE federated_identities;
ALTER TABLE identity_providers DROP COLUMN attribute_mapping, DROP COLUMN jit_provisioning;
