-- Comments imported from another system (`afterword import-comments`).
-- Each imported thread, comment and author keeps the other system's id, so that a
-- second run of the same file finds what the first one wrote and changes nothing.
-- kind: thread | comment | author; local_id: the article, comment or account.
CREATE TABLE import_ids (
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    local_id BIGINT NOT NULL,
    PRIMARY KEY (source, kind, source_id)
);
-- A placeholder account made for an imported author: it has no password (it cannot
-- log in), shows the imported name, and names the system it came from. A reader who
-- confirms the same address may claim its comments.
ALTER TABLE users ADD COLUMN imported_from TEXT;
ALTER TABLE users ADD COLUMN imported_email_key TEXT;
CREATE INDEX users_imported_email ON users (imported_email_key);
