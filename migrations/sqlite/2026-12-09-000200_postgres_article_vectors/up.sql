-- PostgreSQL keeps its articles' search vectors in a table of their own from this
-- version; SQLite's FTS5 table (fts_articles) already plays that part.
SELECT 1;
