-- Every foreign key has an index whose leading column is the key column, so
-- deleting (or cascading from) the parent row never scans the child table.
CREATE INDEX notifications_comment ON notifications (comment_id);
CREATE INDEX notifications_actor ON notifications (actor_id);
CREATE INDEX reports_reporter ON reports (reporter_id);
CREATE INDEX moderation_log_moderator ON moderation_log (moderator_id);
