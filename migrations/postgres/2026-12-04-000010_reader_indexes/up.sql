-- A signed-in reader's page asks for their votes among the page's comments, and for
-- their own held comments on the article.
DROP INDEX comment_votes_user;
CREATE INDEX comment_votes_user ON comment_votes (user_id, comment_id);
CREATE INDEX comments_author_article ON comments (author_id, article_id);
