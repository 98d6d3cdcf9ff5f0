-- Actions taken with the command line on the server (role changes, imports) are
-- logged too: they have no moderator's account, so the column may be NULL.
ALTER TABLE moderation_log ALTER COLUMN moderator_id DROP NOT NULL;
