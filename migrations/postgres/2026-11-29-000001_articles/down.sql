DROP TABLE settings;
DROP TABLE article_tags;
DROP TABLE article_takeaways;
DROP TABLE articles;
