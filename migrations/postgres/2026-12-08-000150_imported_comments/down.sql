DROP INDEX users_imported_email;
ALTER TABLE users DROP COLUMN imported_email_key;
ALTER TABLE users DROP COLUMN imported_from;
DROP TABLE import_ids;
