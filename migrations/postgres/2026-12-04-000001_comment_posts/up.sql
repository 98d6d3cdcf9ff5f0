-- Comments posted per account in the last day, for the per-account limits (per minute
-- and per day): counted here rather than in each process, so that every instance and
-- every restart sees the same counts, and kept apart from the comments themselves so
-- that deleting a comment does not give its post back. Each account's rows older than
-- a day are deleted when it posts.
CREATE TABLE comment_posts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    posted_at TIMESTAMP NOT NULL
);
CREATE INDEX comment_posts_user ON comment_posts (user_id, posted_at);
