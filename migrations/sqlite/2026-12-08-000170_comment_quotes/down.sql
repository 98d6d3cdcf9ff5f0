DROP INDEX comments_quotes;
ALTER TABLE comments DROP COLUMN quote_text;
ALTER TABLE comments DROP COLUMN quote_position;
ALTER TABLE comments DROP COLUMN quote_kind;
