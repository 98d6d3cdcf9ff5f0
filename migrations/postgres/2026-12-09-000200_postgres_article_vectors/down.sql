DROP TRIGGER fts_articles_update ON articles;
DROP TRIGGER fts_articles_insert ON articles;
DROP FUNCTION fts_articles_sync();
DROP TABLE fts_articles;
CREATE INDEX articles_search ON articles USING GIN (to_tsvector('english', search_document));
