ALTER TABLE users DROP COLUMN show_saved;
