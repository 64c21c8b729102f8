DROP TABLE passkey_challenges;
DROP TABLE mfa_passkeys;
