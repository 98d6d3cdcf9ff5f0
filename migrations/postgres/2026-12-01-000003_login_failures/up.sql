-- Failed logins and password re-checks of the last minutes, per account (NULL when the
-- name matched no account) and client network, for the login lockout.
CREATE TABLE login_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (user_id, network, failed_at);
CREATE INDEX login_failures_network ON login_failures (network, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);
