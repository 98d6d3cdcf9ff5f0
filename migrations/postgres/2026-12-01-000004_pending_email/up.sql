-- An address typed at sign-up that another account already uses: shown to the new
-- account as unconfirmed, never used to log in or to send it mail.
ALTER TABLE users ADD COLUMN pending_email TEXT;
