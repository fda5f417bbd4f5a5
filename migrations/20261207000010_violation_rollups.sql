-- Hourly roll-ups of violations, for the alerts page at millions of rows
-- (server/src/service/records.rs, `aggregate`).
--
-- The chart and its breakdowns used to count the raw rows of the chosen
-- range: fine for a day, about a second for a month of a million
-- violations. These tables hold the same counts per hour, so a month is a
-- few tens of thousands of rows whatever the traffic was.
--
-- They are kept by triggers on `violations`, in the transaction that
-- inserts (or deletes) the rows: every writer (the recorder's batches, an
-- import, a benchmark's generator) keeps them exact, and nothing can see
-- a violation without its count. Statement-level triggers with
-- transition tables: one aggregate per statement, not per row, so a
-- batch of 256 calls adds one upsert per table.
--
-- Violations are append-only (an audit trail): an UPDATE is refused,
-- which also keeps the roll-ups from drifting.

-- The nil uuid stands for "no pack" / "no Registered User": a primary key
-- cannot hold NULL.
CREATE TABLE violation_hourly (
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    hour       timestamptz NOT NULL,
    pack_id    uuid NOT NULL,
    rule_key   text NOT NULL,
    label      text NOT NULL,
    action     text NOT NULL,
    direction  text NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (org_id, hour, pack_id, rule_key, label, action, direction)
);

-- Per Registered User: the top-users breakdown, when no other filter is
-- set (with one, that breakdown counts the raw rows).
CREATE TABLE violation_user_hourly (
    org_id             uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    hour               timestamptz NOT NULL,
    registered_user_id uuid NOT NULL,
    n                  bigint NOT NULL,
    PRIMARY KEY (org_id, hour, registered_user_id)
);

-- Hours are binned in absolute time (not the session's time zone, which
-- `date_trunc` would use). Rows are upserted in key order, so two
-- concurrent statements lock shared roll-up rows in the same order and
-- cannot deadlock on them.
CREATE FUNCTION violations_rolled_up() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO violation_hourly AS h (org_id, hour, pack_id, rule_key, label, action, direction, n)
    SELECT org_id, date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           COALESCE(pack_id, '00000000-0000-0000-0000-000000000000'), rule_key, label, action,
           direction, count(*)
    FROM new_violations
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (org_id, hour, pack_id, rule_key, label, action, direction)
    DO UPDATE SET n = h.n + EXCLUDED.n;

    INSERT INTO violation_user_hourly AS u (org_id, hour, registered_user_id, n)
    SELECT org_id, date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           COALESCE(registered_user_id, '00000000-0000-0000-0000-000000000000'), count(*)
    FROM new_violations
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (org_id, hour, registered_user_id) DO UPDATE SET n = u.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION violations_unrolled() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE violation_hourly h SET n = h.n - d.n
    FROM (SELECT org_id, date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour,
                 COALESCE(pack_id, '00000000-0000-0000-0000-000000000000') AS pack_id, rule_key,
                 label, action, direction, count(*) AS n
          FROM old_violations GROUP BY 1, 2, 3, 4, 5, 6, 7) d
    WHERE h.org_id = d.org_id AND h.hour = d.hour AND h.pack_id = d.pack_id
      AND h.rule_key = d.rule_key AND h.label = d.label AND h.action = d.action
      AND h.direction = d.direction;
    DELETE FROM violation_hourly h
    WHERE h.n <= 0 AND (h.org_id, h.hour) IN (SELECT org_id, date_bin('1 hour', created_at,
                 TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM old_violations);

    UPDATE violation_user_hourly u SET n = u.n - d.n
    FROM (SELECT org_id, date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour,
                 COALESCE(registered_user_id, '00000000-0000-0000-0000-000000000000') AS registered_user_id,
                 count(*) AS n
          FROM old_violations GROUP BY 1, 2, 3) d
    WHERE u.org_id = d.org_id AND u.hour = d.hour AND u.registered_user_id = d.registered_user_id;
    DELETE FROM violation_user_hourly u
    WHERE u.n <= 0 AND (u.org_id, u.hour) IN (SELECT org_id, date_bin('1 hour', created_at,
                 TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM old_violations);
    RETURN NULL;
END
$$;

CREATE FUNCTION violations_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'violations are append-only';
END
$$;

CREATE TRIGGER violations_roll_up AFTER INSERT ON violations
    REFERENCING NEW TABLE AS new_violations
    FOR EACH STATEMENT EXECUTE FUNCTION violations_rolled_up();

CREATE TRIGGER violations_unroll AFTER DELETE ON violations
    REFERENCING OLD TABLE AS old_violations
    FOR EACH STATEMENT EXECUTE FUNCTION violations_unrolled();

CREATE TRIGGER violations_no_update BEFORE UPDATE ON violations
    FOR EACH STATEMENT EXECUTE FUNCTION violations_append_only();

-- What is already there.
INSERT INTO violation_hourly (org_id, hour, pack_id, rule_key, label, action, direction, n)
SELECT org_id, date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       COALESCE(pack_id, '00000000-0000-0000-0000-000000000000'), rule_key, label, action,
       direction, count(*)
FROM violations
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO violation_user_hourly (org_id, hour, registered_user_id, n)
SELECT org_id, date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       COALESCE(registered_user_id, '00000000-0000-0000-0000-000000000000'), count(*)
FROM violations
GROUP BY 1, 2, 3;
