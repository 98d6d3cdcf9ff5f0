DROP INDEX comments_search;
DROP INDEX articles_search;
ALTER TABLE articles DROP COLUMN search_document;
ALTER TABLE users DROP COLUMN bio_html;
ALTER TABLE users DROP COLUMN bio_source;
ALTER TABLE users DROP COLUMN display_name;
DROP TABLE saved_articles;
