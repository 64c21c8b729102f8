ALTER TABLE applications
    DROP COLUMN id_token_signed_response_alg,
    DROP COLUMN first_party,
    DROP COLUMN assignment_required;
