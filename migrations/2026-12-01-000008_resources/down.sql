ALTER TABLE registration_requests DROP COLUMN requested_resources;
ALTER TABLE applications DROP COLUMN allowed_resources;
