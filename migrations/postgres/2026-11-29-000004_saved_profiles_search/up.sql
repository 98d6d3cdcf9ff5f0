CREATE TABLE saved_articles (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
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
    COALESCE((SELECT string_agg(body, ' ' ORDER BY position) FROM article_takeaways t WHERE t.article_id = articles.id), '');
CREATE INDEX articles_search ON articles USING GIN (to_tsvector('english', search_document));
CREATE INDEX comments_search ON comments USING GIN (to_tsvector('english', body_source)) WHERE status = 'visible';
