-- A top-level comment may quote the article it discusses: one of its key takeaways
-- (by position) or a passage of its summary (by the sentence it starts in), with the
-- text as it was when the comment was posted.
ALTER TABLE comments ADD COLUMN quote_kind TEXT;
ALTER TABLE comments ADD COLUMN quote_position INTEGER;
ALTER TABLE comments ADD COLUMN quote_text TEXT;
-- Counting an article's comments per takeaway, and finding each one's best-ranked.
CREATE INDEX comments_quotes ON comments (article_id, quote_kind, quote_position, status, rank_best);
