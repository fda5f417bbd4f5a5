-- Tool policies: which tool actions are allowed, monitored, held for
-- approval or blocked. Rules are ordered; the first that matches decides;
-- a pack's rules (pack_id set) come before the org's; the org's default
-- action applies when none matches.
CREATE TABLE tool_policies (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pack_id    uuid,
    position   integer NOT NULL,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    tools      text NOT NULL CHECK (char_length(tools) BETWEEN 1 AND 200),
    condition  text CHECK (char_length(condition) BETWEEN 1 AND 2000),
    action     text NOT NULL CHECK (action IN ('allow', 'monitor', 'approve', 'block')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    -- A pack's rule can only belong to a pack of the same org.
    FOREIGN KEY (org_id, pack_id) REFERENCES tool_packs (org_id, id) ON DELETE CASCADE
);
CREATE INDEX tool_policies_scope_idx ON tool_policies (org_id, pack_id, position);

ALTER TABLE orgs ADD COLUMN default_tool_action text NOT NULL DEFAULT 'allow'
    CHECK (default_tool_action IN ('allow', 'monitor', 'approve', 'block'));
