DROP INDEX users_pending_email_key;
ALTER TABLE users DROP COLUMN pending_email_key;
ALTER TABLE users DROP COLUMN pending_email;
