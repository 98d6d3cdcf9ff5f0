-- The name of the personal API token an action came through (NULL: the site's own
-- pages, or the command line). A name, not a reference: the log outlives the token.
ALTER TABLE moderation_log ADD COLUMN via_token TEXT;
