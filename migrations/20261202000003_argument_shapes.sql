-- By default a call record keeps its arguments' shape (types, lengths and
-- the placeholders of what was detected), never a value; an org can opt in
-- to storing full arguments with the detected values redacted.
ALTER TABLE orgs ADD COLUMN store_full_arguments boolean NOT NULL DEFAULT false;
