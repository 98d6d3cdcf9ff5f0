-- Why a moderator removed or did not approve a comment, as its author is told.
ALTER TABLE notifications ADD COLUMN reason TEXT;
