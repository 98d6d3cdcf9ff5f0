-- Email digests. A reader who opted in has a row: how often (daily | weekly), the
-- watermark (comments after `since` are new) and when the next digest is due. Off: no row.
CREATE TABLE digest_subscriptions (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    frequency TEXT NOT NULL,
    since TIMESTAMP NOT NULL,
    next_due_at TIMESTAMP NOT NULL
);
CREATE INDEX digest_subscriptions_due ON digest_subscriptions (next_due_at, user_id);

-- Background jobs that exactly one instance of the site runs at a time: the instance
-- that holds the lease (`holder`) until `expires_at`.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT,
    expires_at TIMESTAMP NOT NULL
);
INSERT INTO leases (name, holder, expires_at) VALUES ('digests', NULL, '1970-01-01 00:00:00');

-- Messages with an HTML alternative and headers of their own (digests: the unsubscribe
-- headers, one `Name: value` a line), and where each stands: kept (no SMTP server: the
-- outbox is where it ends), queued (for SMTP), sending, sent, failed.
ALTER TABLE outbox ADD COLUMN html_body TEXT;
ALTER TABLE outbox ADD COLUMN headers TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'kept';
CREATE INDEX outbox_state ON outbox (state, id);
