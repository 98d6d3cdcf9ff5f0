ALTER TABLE moderation_log DROP COLUMN via_token;
