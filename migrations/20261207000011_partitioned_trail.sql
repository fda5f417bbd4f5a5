-- The decision trail (`tool_calls`, `violations`) partitioned by calendar
-- month (UTC), so that retention drops a month's partitions, which is
-- instant and leaves no dead rows behind, instead of deleting millions of
-- rows (server/src/service/retention.rs).
--
-- A partitioned table's unique keys must hold the partition key, so a call
-- is keyed by (id, created_at) and a violation points at its call by
-- (call_id, created_at): the recorder gives a violation its call's time,
-- so both always live in the same month.
--
-- Violations no longer have a foreign key to their call. On a partitioned
-- table Postgres 15 checks one with a query per inserted row: in a pgbench
-- A/B of the recorder's statements it cost a fifth of their throughput
-- (1,500-1,580 against 1,770-1,830 per second). The recorder writes a call
-- and its violations in one statement, retention deletes a call's
-- violations with it (retention.rs), and both tables still cascade from
-- `orgs`.
--
-- Postgres 15 has no identity columns on partitioned tables: violation ids
-- come from a plain sequence.
--
-- Existing rows are copied over (a young trail is small; the copy runs
-- once, inside this migration's transaction).

-- Set aside (temporary tables: the new ones take the old names, and their
-- constraints and indexes the old names too).
CREATE TEMPORARY TABLE old_calls AS SELECT * FROM tool_calls;
-- A violation takes its call's time: the partition key of both.
CREATE TEMPORARY TABLE old_violations AS
    SELECT v.id, v.call_id, v.org_id, v.pack_id, v.registered_user_id, v.rule_key, v.label,
           v.direction, v.pointer, v.score, v.action, v.enforced, v.snippet, c.created_at
    FROM violations v JOIN tool_calls c ON c.id = v.call_id;
DROP TABLE violations;
DROP TABLE tool_calls;

CREATE TABLE tool_calls (
    id                  uuid NOT NULL,
    org_id              uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pack_id             uuid,
    registered_user_id  uuid,
    agent_key_id        uuid,
    session_id          uuid,
    connector_id        uuid,
    tool                text NOT NULL,
    upstream_tool       text,
    mode                text NOT NULL CHECK (mode IN ('monitor', 'enforce')),
    decision            text NOT NULL,
    reasons             text[] NOT NULL DEFAULT '{}',
    outcome             text NOT NULL,
    arguments_redacted  jsonb,
    error_message       text,
    latency_us          bigint NOT NULL,
    upstream_us         bigint,
    mcp_session_id      text,
    client_name         text,
    client_version      text,
    protocol_version    text,
    created_at          timestamptz NOT NULL,
    approval_id         uuid,
    resource            text,
    upstream_request_id text,
    statement           text,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

CREATE SEQUENCE violation_ids;

CREATE TABLE violations (
    id                 bigint NOT NULL DEFAULT nextval('violation_ids'),
    call_id            uuid NOT NULL,
    org_id             uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pack_id            uuid,
    registered_user_id uuid,
    rule_key           text NOT NULL,
    label              text NOT NULL,
    direction          text NOT NULL CHECK (direction IN ('arguments', 'results')),
    pointer            text,
    score              real NOT NULL,
    action             text NOT NULL CHECK (action IN ('allow', 'redact', 'block')),
    enforced           boolean NOT NULL,
    snippet            text NOT NULL,
    created_at         timestamptz NOT NULL,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
ALTER SEQUENCE violation_ids OWNED BY violations.id;

-- Rows whose month has no partition (a clock that jumped months ahead)
-- land here rather than failing the call's record; the next maintenance
-- moves them into their month's partition when it creates it.
CREATE TABLE tool_calls_default PARTITION OF tool_calls DEFAULT;
CREATE TABLE violations_default PARTITION OF violations DEFAULT;

-- Creates one month's partitions (false: they already exist). Several
-- replicas may call it at once: an advisory lock serialises them.
--
-- The new tables are filled while detached (with any rows of that month
-- waiting in the default partitions) and then attached, which locks the
-- parents only briefly (SHARE UPDATE EXCLUSIVE) and never blocks the
-- recorder's inserts for long.
CREATE FUNCTION gatehouse_trail_month_create(month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    lo timestamptz := date_trunc('month', month::timestamp) AT TIME ZONE 'UTC';
    hi timestamptz := (date_trunc('month', month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
    calls text := 'tool_calls_' || to_char(month, '"y"YYYY"m"MM');
    viols text := 'violations_' || to_char(month, '"y"YYYY"m"MM');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('gatehouse_trail_partitions'));
    IF to_regclass(calls) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE tool_calls INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', calls);
    EXECUTE format('CREATE TABLE %I (LIKE violations INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', viols);
    -- Naming the partitions (not the parents) keeps the roll-up triggers
    -- out of a move.
    EXECUTE format('WITH m AS (DELETE FROM violations_default WHERE created_at >= $1 AND created_at < $2
                    RETURNING *) INSERT INTO %I SELECT * FROM m', viols) USING lo, hi;
    EXECUTE format('WITH m AS (DELETE FROM tool_calls_default WHERE created_at >= $1 AND created_at < $2
                    RETURNING *) INSERT INTO %I SELECT * FROM m', calls) USING lo, hi;
    EXECUTE format('ALTER TABLE tool_calls ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', calls, lo, hi);
    EXECUTE format('ALTER TABLE violations ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', viols, lo, hi);
    RETURN true;
END
$$;

-- Drops one month's partitions and that month's roll-up hours (false:
-- there were none). Detached first, which takes a lighter lock on the
-- parents than dropping an attached partition.
CREATE FUNCTION gatehouse_trail_month_drop(month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    lo timestamptz := date_trunc('month', month::timestamp) AT TIME ZONE 'UTC';
    hi timestamptz := (date_trunc('month', month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
    calls text := 'tool_calls_' || to_char(month, '"y"YYYY"m"MM');
    viols text := 'violations_' || to_char(month, '"y"YYYY"m"MM');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('gatehouse_trail_partitions'));
    IF to_regclass(calls) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE violations DETACH PARTITION %I', viols);
    EXECUTE format('DROP TABLE %I', viols);
    EXECUTE format('ALTER TABLE tool_calls DETACH PARTITION %I', calls);
    EXECUTE format('DROP TABLE %I', calls);
    DELETE FROM violation_hourly WHERE hour >= lo AND hour < hi;
    DELETE FROM violation_user_hourly WHERE hour >= lo AND hour < hi;
    RETURN true;
END
$$;

-- The roll-ups are counted again from the copied rows, by the triggers:
-- a violation's time may have moved to its call's.
CREATE TRIGGER violations_roll_up AFTER INSERT ON violations
    REFERENCING NEW TABLE AS new_violations
    FOR EACH STATEMENT EXECUTE FUNCTION violations_rolled_up();
CREATE TRIGGER violations_unroll AFTER DELETE ON violations
    REFERENCING OLD TABLE AS old_violations
    FOR EACH STATEMENT EXECUTE FUNCTION violations_unrolled();
CREATE TRIGGER violations_no_update BEFORE UPDATE ON violations
    FOR EACH STATEMENT EXECUTE FUNCTION violations_append_only();
TRUNCATE violation_hourly, violation_user_hourly;

-- The months the existing rows span, and the next three: the server keeps
-- creating months ahead (retention.rs), these cover the gap until it runs.
SELECT gatehouse_trail_month_create(m::date)
FROM generate_series(
    date_trunc('month', LEAST((SELECT min(created_at) FROM old_calls), now()) AT TIME ZONE 'UTC'),
    date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months',
    interval '1 month') AS m;

INSERT INTO tool_calls SELECT * FROM old_calls;
INSERT INTO violations SELECT * FROM old_violations;
SELECT setval('violation_ids', COALESCE((SELECT max(id) FROM old_violations), 0) + 1, false);
DROP TABLE old_violations;
DROP TABLE old_calls;

-- Indexes after the copy (a bulk load is faster without them); each is
-- created on every partition, present and future.
CREATE INDEX tool_calls_org_time_idx ON tool_calls (org_id, created_at DESC);
CREATE INDEX tool_calls_session_idx ON tool_calls (session_id, created_at);
CREATE INDEX tool_calls_user_idx ON tool_calls (org_id, registered_user_id, created_at DESC);
CREATE INDEX violations_org_time_idx ON violations (org_id, created_at DESC);
CREATE INDEX violations_call_idx ON violations (call_id, created_at);
CREATE INDEX violations_org_rule_idx ON violations (org_id, rule_key, created_at DESC);

-- Retention per org, in days (NULL: the server's GATEHOUSE_RETENTION_DAYS).
-- An org may keep its trail for less time than the server does, not more.
ALTER TABLE orgs ADD COLUMN retention_days integer CHECK (retention_days > 0);

-- Retention changes are listed with the org's other events.
ALTER TABLE org_events DROP CONSTRAINT org_events_kind_check;
ALTER TABLE org_events ADD CONSTRAINT org_events_kind_check CHECK (kind IN ('mode_changed',
    'plan_changed', 'quota_warning', 'enforce_paused', 'enforce_resumed', 'paused_behaviour_changed',
    'retention_changed'));
