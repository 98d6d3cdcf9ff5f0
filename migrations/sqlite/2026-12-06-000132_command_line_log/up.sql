-- Actions taken with the command line on the server (role changes, imports) are
-- logged too: they have no moderator's account, so the column may be NULL. SQLite
-- cannot drop a NOT NULL constraint: the table is copied.
CREATE TABLE moderation_log_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    moderator_id INTEGER REFERENCES users (id),
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    target_label TEXT NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO moderation_log_new (id, moderator_id, action, target_type, target_id, target_label, reason, created_at)
    SELECT id, moderator_id, action, target_type, target_id, target_label, reason, created_at FROM moderation_log;
DROP TABLE moderation_log;
ALTER TABLE moderation_log_new RENAME TO moderation_log;
CREATE INDEX moderation_log_newest ON moderation_log (id DESC);
CREATE INDEX moderation_log_moderator ON moderation_log (moderator_id);
