-- Every order a thread page asks for has an index: an article's top-level comments
-- (pinned ones apart from the rest) and a comment's replies, in each sort.
DROP INDEX comments_top_level;
DROP INDEX comments_parent;
CREATE INDEX comments_top_best ON comments (article_id, depth, pinned, rank_best DESC, id DESC);
CREATE INDEX comments_top_top ON comments (article_id, depth, pinned, (upvotes - downvotes) DESC, id DESC);
CREATE INDEX comments_top_new ON comments (article_id, depth, pinned, id);
CREATE INDEX comments_top_controversial ON comments (article_id, depth, pinned, rank_controversial DESC, id DESC);
CREATE INDEX comments_replies_best ON comments (parent_id, rank_best DESC, id DESC);
CREATE INDEX comments_replies_top ON comments (parent_id, (upvotes - downvotes) DESC, id DESC);
CREATE INDEX comments_replies_new ON comments (parent_id, id);
CREATE INDEX comments_replies_controversial ON comments (parent_id, rank_controversial DESC, id DESC);
