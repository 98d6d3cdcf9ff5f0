-- PostgreSQL keeps its comments' search vectors in a table of their own from this
-- version; SQLite's FTS5 table (fts_comments) already plays that part.
SELECT 1;
