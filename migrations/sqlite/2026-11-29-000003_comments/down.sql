ALTER TABLE users DROP COLUMN email_replies;
DROP TABLE notifications;
DROP TABLE comment_votes;
DROP TABLE comments;
