-- Approvals: a call a tool policy holds for a person. The agent waits up
-- to the org's hold time; an approval decided later lets the identical
-- call (same tool, same SHA-256 of the arguments that will be sent)
-- through once.
CREATE TABLE approvals (
    id                 uuid PRIMARY KEY,
    org_id             uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pack_id            uuid NOT NULL,
    registered_user_id uuid NOT NULL,
    agent_key_id       uuid NOT NULL,
    session_id         uuid NOT NULL,
    tool               text NOT NULL,
    -- Redacted evidence only (what the approver reads).
    arguments_redacted jsonb NOT NULL,
    arguments_digest   text NOT NULL CHECK (arguments_digest ~ '^[0-9a-f]{64}$'),
    rule_name          text,
    reasons            text[] NOT NULL DEFAULT '{}',
    status             text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    requested_at       timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    decided_at         timestamptz,
    decided_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_by_email   text,
    comment            text CHECK (char_length(comment) <= 1000),
    used_at            timestamptz,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, pack_id) REFERENCES tool_packs (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, registered_user_id) REFERENCES registered_users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX approvals_inbox_idx ON approvals (org_id, status, requested_at DESC);
CREATE INDEX approvals_retry_idx ON approvals (org_id, registered_user_id, tool, arguments_digest)
    WHERE status = 'approved';

-- The decision trail names the approval a call waited for.
ALTER TABLE tool_calls ADD COLUMN approval_id uuid;

ALTER TABLE orgs
    ADD COLUMN approval_hold_secs integer NOT NULL DEFAULT 60
        CHECK (approval_hold_secs BETWEEN 0 AND 600),
    ADD COLUMN approval_expiry_hours integer NOT NULL DEFAULT 24
        CHECK (approval_expiry_hours BETWEEN 1 AND 720);
