-- Each process caches client records for the token endpoint and polls for applications changed
-- since its last look (`updated_at > $1`, every second); this keeps that poll an index range scan.
CREATE INDEX applications_updated_at ON applications (updated_at);
