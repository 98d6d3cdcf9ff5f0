-- Account emails sent on request (password reset), to limit them per recipient.
CREATE TABLE account_mails (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
CREATE INDEX account_mails_user_sent ON account_mails (user_id, purpose, sent_at);
