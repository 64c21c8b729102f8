DROP TABLE registration_requests;
DROP TABLE application_assignments;
DROP TABLE applications;
