-- CORS: is an origin listed by any live application? (`allowed_origins @> ARRAY[origin]`)
CREATE INDEX applications_allowed_origins ON applications USING gin (allowed_origins) WHERE deleted_at IS NULL;
