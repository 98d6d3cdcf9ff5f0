DROP TRIGGER fts_comments_update ON comments;
DROP TRIGGER fts_comments_insert ON comments;
DROP FUNCTION fts_comments_sync();
DROP TABLE fts_comments;
CREATE INDEX comments_search ON comments USING GIN (to_tsvector('english', body_source)) WHERE status = 'visible';
