DROP INDEX moderation_log_moderator;
DROP INDEX reports_reporter;
DROP INDEX notifications_actor;
DROP INDEX notifications_comment;
