DROP INDEX comments_status;
ALTER TABLE articles DROP COLUMN lock_reason;
ALTER TABLE comments DROP COLUMN distinguished;
ALTER TABLE comments DROP COLUMN pinned;
ALTER TABLE comments DROP COLUMN removed_reason;
ALTER TABLE users DROP COLUMN ban_reason;
ALTER TABLE users DROP COLUMN banned_until;
DROP TABLE moderation_log;
DROP TABLE reports;
