-- What changed on an article's thread, for readers watching it live: written in the
-- transaction that made the change (a rolled-back write announces nothing), read by
-- every instance to tell its own readers, and by a reader who reconnects to catch up
-- (Last-Event-ID). Rows older than a few minutes are deleted.
CREATE TABLE live_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    comment_id INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX live_events_article ON live_events (article_id, id);
