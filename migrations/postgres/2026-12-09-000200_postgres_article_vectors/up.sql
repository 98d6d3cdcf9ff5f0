-- The articles' search vectors, kept apart as the comments' are (see
-- 2026-12-08-000190): a search finds the newest matches of a common word by walking
-- this table's key backwards, checking each stored vector, and ranks them without
-- parsing their text again. A rare word still goes through the index.
-- Instances still serving wait to write articles until this commits.
LOCK TABLE articles IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE fts_articles (
    id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    vector TSVECTOR NOT NULL
);
INSERT INTO fts_articles (id, vector) SELECT id, to_tsvector('english', search_document) FROM articles;
CREATE INDEX fts_articles_vector ON fts_articles USING GIN (vector);
DROP INDEX articles_search;

CREATE FUNCTION fts_articles_sync() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fts_articles (id, vector) VALUES (NEW.id, to_tsvector('english', NEW.search_document))
        ON CONFLICT (id) DO UPDATE SET vector = EXCLUDED.vector;
    RETURN NULL;
END
$$;
CREATE TRIGGER fts_articles_insert AFTER INSERT ON articles
    FOR EACH ROW EXECUTE FUNCTION fts_articles_sync();
CREATE TRIGGER fts_articles_update AFTER UPDATE OF search_document ON articles
    FOR EACH ROW WHEN (OLD.search_document IS DISTINCT FROM NEW.search_document)
    EXECUTE FUNCTION fts_articles_sync();
