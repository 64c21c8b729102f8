ALTER TABLE users DROP COLUMN email_verified, DROP COLUMN mfa_methods;
DROP TABLE login_throttle;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_totp;
