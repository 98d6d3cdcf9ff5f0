DROP INDEX comments_author_article;
DROP INDEX comment_votes_user;
CREATE INDEX comment_votes_user ON comment_votes (user_id);
