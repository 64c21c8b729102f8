-- How an application signs users in (contract §4, §8): only its effective users when
-- assignment_required; third-party (first_party = false) apps ask for consent; the algorithm
-- of its ID tokens.
ALTER TABLE applications
    ADD COLUMN assignment_required boolean NOT NULL DEFAULT false,
    ADD COLUMN first_party boolean NOT NULL DEFAULT true,
    ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'ES256'
        CHECK (id_token_signed_response_alg IN ('ES256', 'RS256'));
