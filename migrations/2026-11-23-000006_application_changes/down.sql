DROP INDEX applications_updated_at;
