-- Plans and enforce quotas. The plan's quota comes from the server's
-- configuration (built-in plans); NULL plan = the configured default plan.
-- An operator may give one org its own quota instead of the plan's.
ALTER TABLE orgs
    ADD COLUMN plan text CHECK (plan IN ('free', 'team', 'enterprise')),
    ADD COLUMN enforce_quota_override bigint CHECK (enforce_quota_override >= 0),
    -- While enforce is paused: false = decide as in monitor mode,
    -- true = block every call (strict).
    ADD COLUMN paused_blocks_calls boolean NOT NULL DEFAULT false;

-- Calls decided in enforce mode, per org and calendar month (UTC). Counted
-- by the recorder in the same statement that writes the calls' records, so
-- the count is exact across replicas and costs no extra round trip.
CREATE TABLE enforce_usage (
    org_id  uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    period  date NOT NULL CHECK (extract(day FROM period) = 1),
    used    bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (org_id, period)
);

-- What happened to an org's enforcement, for the Settings event list:
-- mode switches (who, when), plan changes, the 80 % warning, enforce
-- paused and resumed (with the limit and period).
CREATE TABLE org_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('mode_changed', 'plan_changed', 'quota_warning',
                    'enforce_paused', 'enforce_resumed', 'paused_behaviour_changed')),
    -- The member who acted (NULL: the operator or Gatehouse itself).
    actor_email text,
    period      date,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX org_events_org_idx ON org_events (org_id, at DESC, id DESC);
-- One warning per period, however many replicas see the crossing.
CREATE UNIQUE INDEX org_events_warning_once ON org_events (org_id, period) WHERE kind = 'quota_warning';

-- Runtime sessions become first-class: how the session was identified,
-- the name a stateless client gave it, and counts for the list filters.
ALTER TABLE runtime_sessions
    ADD COLUMN kind text NOT NULL DEFAULT 'token' CHECK (kind IN ('mcp', 'named', 'token')),
    ADD COLUMN name text CHECK (char_length(name) <= 128),
    ADD COLUMN blocked_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN approval_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN violation_count bigint NOT NULL DEFAULT 0;

UPDATE runtime_sessions s SET kind = CASE WHEN s.mcp_session_id IS NULL THEN 'token' ELSE 'mcp' END;
UPDATE runtime_sessions s SET
    blocked_count = x.blocked, approval_count = x.approvals, violation_count = x.violations
FROM (
    SELECT c.session_id,
           count(*) FILTER (WHERE c.decision = 'block') AS blocked,
           count(*) FILTER (WHERE c.approval_id IS NOT NULL) AS approvals,
           coalesce(sum((SELECT count(*) FROM violations v WHERE v.call_id = c.id)), 0) AS violations
    FROM tool_calls c WHERE c.outcome <> 'in_flight' GROUP BY c.session_id
) x
WHERE x.session_id = s.id;

CREATE INDEX runtime_sessions_org_start_idx ON runtime_sessions (org_id, started_at DESC, id DESC);
CREATE INDEX runtime_sessions_user_idx ON runtime_sessions (org_id, registered_user_id, started_at DESC);
