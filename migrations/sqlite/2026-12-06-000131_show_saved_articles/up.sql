-- A reader's saved articles show on their public profile only when they say so.
ALTER TABLE users ADD COLUMN show_saved BOOLEAN NOT NULL DEFAULT 0;
