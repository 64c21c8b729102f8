-- RFC 8707 resource indicators an application may ask tokens for (contract §7); a
-- registration request carries the ones it asks for into the application it creates.
ALTER TABLE applications ADD COLUMN allowed_resources text[] NOT NULL DEFAULT '{}';
ALTER TABLE registration_requests ADD COLUMN requested_resources text[] NOT NULL DEFAULT '{}';
