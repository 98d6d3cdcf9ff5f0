CREATE TABLE saved_articles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    saved_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, article_id)
);
CREATE INDEX saved_articles_newest ON saved_articles (user_id, saved_at DESC);
CREATE INDEX saved_articles_article ON saved_articles (article_id);

ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN bio_source TEXT;
ALTER TABLE users ADD COLUMN bio_html TEXT;

-- Search: title, summary and takeaways of an article in one column, kept by the
-- application; full-text indexes over it and over visible comments.
ALTER TABLE articles ADD COLUMN search_document TEXT NOT NULL DEFAULT '';
UPDATE articles SET search_document = title || ' ' || summary || ' ' ||
    COALESCE((SELECT group_concat(body, ' ') FROM article_takeaways t WHERE t.article_id = articles.id), '');

CREATE VIRTUAL TABLE fts_articles USING fts5(
    search_document, content='articles', content_rowid='id', tokenize='porter unicode61'
);
INSERT INTO fts_articles (rowid, search_document) SELECT id, search_document FROM articles;
CREATE TRIGGER fts_articles_insert AFTER INSERT ON articles BEGIN
    INSERT INTO fts_articles (rowid, search_document) VALUES (new.id, new.search_document);
END;
CREATE TRIGGER fts_articles_delete AFTER DELETE ON articles BEGIN
    INSERT INTO fts_articles (fts_articles, rowid, search_document) VALUES ('delete', old.id, old.search_document);
END;
CREATE TRIGGER fts_articles_update AFTER UPDATE OF search_document ON articles BEGIN
    INSERT INTO fts_articles (fts_articles, rowid, search_document) VALUES ('delete', old.id, old.search_document);
    INSERT INTO fts_articles (rowid, search_document) VALUES (new.id, new.search_document);
END;

-- Only visible comments are indexed.
CREATE VIRTUAL TABLE fts_comments USING fts5(
    body_source, content='comments', content_rowid='id', tokenize='porter unicode61'
);
INSERT INTO fts_comments (rowid, body_source) SELECT id, body_source FROM comments WHERE status = 'visible';
CREATE TRIGGER fts_comments_insert AFTER INSERT ON comments WHEN new.status = 'visible' BEGIN
    INSERT INTO fts_comments (rowid, body_source) VALUES (new.id, new.body_source);
END;
CREATE TRIGGER fts_comments_delete AFTER DELETE ON comments WHEN old.status = 'visible' BEGIN
    INSERT INTO fts_comments (fts_comments, rowid, body_source) VALUES ('delete', old.id, old.body_source);
END;
-- One trigger, so that the old entry always goes before the new one comes.
CREATE TRIGGER fts_comments_update AFTER UPDATE OF body_source, status ON comments BEGIN
    INSERT INTO fts_comments (fts_comments, rowid, body_source)
        SELECT 'delete', old.id, old.body_source WHERE old.status = 'visible';
    INSERT INTO fts_comments (rowid, body_source)
        SELECT new.id, new.body_source WHERE new.status = 'visible';
END;
