-- An address typed at sign-up that another account already uses: shown to the new
-- account as unconfirmed and accepted for its login, never used to mail it.
ALTER TABLE users ADD COLUMN pending_email TEXT;
-- Lower-cased, for the login by address.
ALTER TABLE users ADD COLUMN pending_email_key TEXT;
CREATE INDEX users_pending_email_key ON users (pending_email_key);
