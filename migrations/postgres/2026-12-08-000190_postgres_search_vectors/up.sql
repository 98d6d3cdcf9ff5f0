-- The search vectors of visible comments, kept apart from the comments: a search finds
-- the newest matches of a common word by walking this table's key backwards, checking
-- each stored vector (a word used in one comment in four: about 800 rows for 200
-- matches), where the index alone reads every match first. A rare word still goes
-- through the index. Named like SQLite's FTS5 table, which plays the same part.
-- Instances still serving wait to write comments until this commits: no comment is
-- written between the copy below and the triggers that keep the table after it.
LOCK TABLE comments IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE fts_comments (
    id BIGINT PRIMARY KEY REFERENCES comments (id) ON DELETE CASCADE,
    vector TSVECTOR NOT NULL
);
INSERT INTO fts_comments (id, vector)
    SELECT id, to_tsvector('english', body_source) FROM comments WHERE status = 'visible';
CREATE INDEX fts_comments_vector ON fts_comments USING GIN (vector);
DROP INDEX comments_search;

CREATE FUNCTION fts_comments_sync() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'visible' THEN
        INSERT INTO fts_comments (id, vector) VALUES (NEW.id, to_tsvector('english', NEW.body_source))
            ON CONFLICT (id) DO UPDATE SET vector = EXCLUDED.vector;
    ELSE
        DELETE FROM fts_comments WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER fts_comments_insert AFTER INSERT ON comments
    FOR EACH ROW EXECUTE FUNCTION fts_comments_sync();
CREATE TRIGGER fts_comments_update AFTER UPDATE OF body_source, status ON comments
    FOR EACH ROW WHEN (OLD.body_source IS DISTINCT FROM NEW.body_source OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION fts_comments_sync();
