-- A password change ends every other session: each session remembers the
-- generation of the credentials it signed in with, and a change moves it.
ALTER TABLE users ADD COLUMN credentials_generation integer NOT NULL DEFAULT 0;
