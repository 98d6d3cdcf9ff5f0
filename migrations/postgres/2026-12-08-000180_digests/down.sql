DROP INDEX outbox_state;
ALTER TABLE outbox DROP COLUMN state;
ALTER TABLE outbox DROP COLUMN headers;
ALTER TABLE outbox DROP COLUMN html_body;
DROP TABLE leases;
DROP TABLE digest_subscriptions;
