DROP TABLE comment_posts;
