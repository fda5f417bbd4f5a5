-- Tool integrity: the definition of every exposed tool an admin approved
-- (its pin), the changes upstreams made since, and what Gatehouse did.

-- What an upstream change does: quarantine the tool, or only alert.
ALTER TABLE orgs ADD COLUMN tool_change_action text NOT NULL DEFAULT 'quarantine'
    CHECK (tool_change_action IN ('quarantine', 'alert'));

-- The latest discovered definition's fingerprint and the instructions
-- aimed at the model found in it (tool picker, pinning).
ALTER TABLE connector_tools
    ADD COLUMN fingerprint text NOT NULL DEFAULT '',
    ADD COLUMN findings jsonb NOT NULL DEFAULT '[]';

-- One pin per exposed tool (a tool in at least one pack): the definition
-- agents are served, whatever the upstream says later.
CREATE TABLE tool_pins (
    connector_id   uuid NOT NULL,
    org_id         uuid NOT NULL,
    tool_name      text NOT NULL,
    -- {name, title, description, inputSchema, outputSchema, annotations}
    definition     jsonb NOT NULL,
    -- sha256:<hex> of the definition's canonical JSON ('' until computed:
    -- pins made by this migration get theirs when the server starts).
    fingerprint    text NOT NULL,
    -- The member who approved it; NULL = Gatehouse (upgrade, built-in tools).
    approved_by    text,
    approved_at    timestamptz NOT NULL,
    -- Set: not served until an admin reviews the open change.
    quarantined_at timestamptz,
    PRIMARY KEY (connector_id, tool_name),
    FOREIGN KEY (org_id, connector_id) REFERENCES connectors (org_id, id) ON DELETE CASCADE
);
CREATE INDEX tool_pins_org_idx ON tool_pins (org_id);

-- Tools already in packs are pinned as they were last discovered.
INSERT INTO tool_pins (connector_id, org_id, tool_name, definition, fingerprint, approved_by, approved_at)
SELECT DISTINCT t.connector_id, t.org_id, t.name,
       jsonb_strip_nulls(jsonb_build_object('name', t.name, 'title', t.title, 'description', t.description,
           'inputSchema', t.input_schema, 'outputSchema', t.output_schema, 'annotations', t.annotations)),
       '', NULL, now()
FROM connector_tools t
WHERE EXISTS (SELECT 1 FROM tool_pack_tools pt WHERE pt.connector_id = t.connector_id AND pt.tool_name = t.name);

-- Every change an upstream made to a tool. Kept when the connector goes
-- (the history outlives it), hence its name copied and no foreign key.
CREATE TABLE tool_changes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    connector_id    uuid NOT NULL,
    connector_name  text NOT NULL,
    tool_name       text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('changed', 'removed', 'injection', 'appeared')),
    action          text NOT NULL CHECK (action IN ('quarantined', 'alerted', 'recorded')),
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'approved', 'removed', 'superseded', 'reverted', 'closed')),
    detected_at     timestamptz NOT NULL,
    old_definition  jsonb,
    new_definition  jsonb,
    old_fingerprint text,
    new_fingerprint text,
    findings        jsonb NOT NULL DEFAULT '[]',
    resolved_at     timestamptz,
    resolved_by     text
);
CREATE INDEX tool_changes_org_idx ON tool_changes (org_id, detected_at DESC, id);
CREATE INDEX tool_changes_tool_idx ON tool_changes (connector_id, tool_name) WHERE status = 'open';
-- One open change per tool, kind and new definition, however many
-- replicas discover it at once.
CREATE UNIQUE INDEX tool_changes_open_once
    ON tool_changes (connector_id, tool_name, kind, coalesce(new_fingerprint, ''))
    WHERE status = 'open';
