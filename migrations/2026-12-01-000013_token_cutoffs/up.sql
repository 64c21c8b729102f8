-- Owner-level token cutoffs (domain::token_cutoff): tokens of an owner (user, tenant, partner)
-- issued before `cutoff_at` are refused, and every token of a `blocked` owner. Every process
-- polls the rows changed since its last look (`changed_at`).
CREATE TABLE token_cutoffs (
    owner      text PRIMARY KEY,
    cutoff_at  timestamptz NOT NULL,
    blocked    boolean     NOT NULL,
    changed_at timestamptz NOT NULL
);
CREATE INDEX token_cutoffs_changed ON token_cutoffs (changed_at);
CREATE INDEX token_cutoffs_blocked ON token_cutoffs (owner) WHERE blocked;
