DELETE FROM moderation_log WHERE moderator_id IS NULL;
ALTER TABLE moderation_log ALTER COLUMN moderator_id SET NOT NULL;
