CREATE TABLE comments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users (id),
    parent_id BIGINT REFERENCES comments (id),
    root_id BIGINT NOT NULL DEFAULT 0,
    depth INTEGER NOT NULL,
    body_source TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'visible',
    upvotes INTEGER NOT NULL DEFAULT 0,
    downvotes INTEGER NOT NULL DEFAULT 0,
    reply_count INTEGER NOT NULL DEFAULT 0,
    rank_best DOUBLE PRECISION NOT NULL DEFAULT 0,
    rank_controversial DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP
);
CREATE INDEX comments_top_level ON comments (article_id, depth, rank_best DESC, id DESC);
CREATE INDEX comments_root ON comments (root_id);
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_author ON comments (author_id, created_at);

CREATE TABLE comment_votes (
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    value INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (comment_id, user_id)
);
CREATE INDEX comment_votes_user ON comment_votes (user_id);

CREATE TABLE notifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, id DESC);

ALTER TABLE users ADD COLUMN email_replies BOOLEAN NOT NULL DEFAULT FALSE;
