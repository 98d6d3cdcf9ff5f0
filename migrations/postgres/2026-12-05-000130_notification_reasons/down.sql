ALTER TABLE notifications DROP COLUMN reason;
