-- SAML sign-in (contract §11). The ACS (a cross-site POST, without the SameSite=Lax binding
-- cookie) attaches the verified identity to the started sign-in; the browser's next request,
-- which carries the cookie, takes both.
ALTER TABLE federation_states ADD COLUMN identity jsonb;
-- A started sign-in is marked used rather than deleted, so the per-IP bound counts every start
-- of the last minute, finished or not; rows go once expired.
ALTER TABLE federation_states ADD COLUMN used_at timestamptz;

-- Assertion IDs seen, per IdP, until their assertions expire: an assertion is accepted once.
CREATE TABLE saml_assertions (
    idp_id       uuid        NOT NULL,
    assertion_id text        NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (idp_id, assertion_id)
);
CREATE INDEX saml_assertions_expiry ON saml_assertions (expires_at);
