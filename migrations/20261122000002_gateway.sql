-- The MCP data path: connectors, Tool Packs, Registered Users, agent keys,
-- rules, overrides, signing keys, API tokens, and the decision records.

-- Bumped on every change that affects scanning (rules, custom rules,
-- overrides, regions). Servers cache compiled rules per (org, pack, version)
-- and read the version on every call, so a change is in force on the next
-- call on every process sharing the database.
ALTER TABLE orgs ADD COLUMN rules_version bigint NOT NULL DEFAULT 1;
ALTER TABLE orgs ADD COLUMN regions text[] NOT NULL DEFAULT ARRAY['US'];

CREATE TABLE connectors (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    -- Used as the tool namespace: <name>__<tool>.
    name             text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_-]{0,39}$'),
    kind             text NOT NULL DEFAULT 'mcp' CHECK (kind IN ('mcp')),
    url              text NOT NULL,
    -- Optional auth header sent to the upstream. The value is encrypted
    -- (AES-256-GCM-SIV, AAD = org id + connector id); never returned.
    auth_header_name text,
    auth_ciphertext  bytea,
    auth_nonce       bytea,
    auth_key_id      text,
    discovered_at    timestamptz,
    discovery_error  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name),
    CHECK ((auth_ciphertext IS NULL) = (auth_header_name IS NULL))
);

CREATE TABLE connector_tools (
    connector_id  uuid NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    org_id        uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name          text NOT NULL,
    title         text,
    description   text,
    input_schema  jsonb NOT NULL,
    output_schema jsonb,
    annotations   jsonb,
    PRIMARY KEY (connector_id, name)
);

CREATE TABLE tool_packs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);

-- Which connector tools a pack exposes. A tool removed upstream stays listed
-- here until the admin removes it, but is not served.
CREATE TABLE tool_pack_tools (
    pack_id      uuid NOT NULL REFERENCES tool_packs (id) ON DELETE CASCADE,
    org_id       uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    connector_id uuid NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    tool_name    text NOT NULL,
    PRIMARY KEY (pack_id, connector_id, tool_name)
);

CREATE TABLE registered_users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    external_id  text NOT NULL CHECK (char_length(external_id) BETWEEN 1 AND 200),
    display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 200),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, external_id)
);

CREATE TABLE agent_keys (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id             uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pack_id            uuid NOT NULL REFERENCES tool_packs (id) ON DELETE CASCADE,
    registered_user_id uuid NOT NULL REFERENCES registered_users (id) ON DELETE CASCADE,
    name               text NOT NULL DEFAULT '',
    -- The first characters of the key, shown in lists.
    prefix             text NOT NULL,
    -- SHA-256 of the whole key (keys are 256-bit random, so a fast hash is
    -- enough: there is nothing to brute-force).
    secret_hash        bytea NOT NULL UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_used_at       timestamptz,
    revoked_at         timestamptz
);
CREATE INDEX agent_keys_org_idx ON agent_keys (org_id, created_at DESC);

-- Org-wide admin API tokens.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    role         text NOT NULL CHECK (role IN ('admin', 'approver', 'viewer')),
    prefix       text NOT NULL,
    secret_hash  bytea NOT NULL UNIQUE,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- JWT signing keys for agent tokens (HS256), encrypted under the master key.
-- The newest active key signs; every unretired key verifies, so rotation
-- never breaks tokens in flight.
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    ciphertext  bytea NOT NULL,
    nonce       bytea NOT NULL,
    key_id      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

-- Stored only when an org changes a rule from its default.
CREATE TABLE entity_rules (
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    entity     text NOT NULL,
    enabled    boolean NOT NULL,
    threshold  real NOT NULL CHECK (threshold BETWEEN 0 AND 1),
    context    text[] NOT NULL DEFAULT '{}',
    arguments  text NOT NULL CHECK (arguments IN ('allow', 'redact', 'block')),
    results    text NOT NULL CHECK (results IN ('allow', 'redact', 'block')),
    PRIMARY KEY (org_id, entity)
);

CREATE TABLE custom_rules (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       text NOT NULL,
    label      text NOT NULL,
    pattern    text NOT NULL,
    score      real NOT NULL CHECK (score BETWEEN 0 AND 1),
    context    text[] NOT NULL DEFAULT '{}',
    enabled    boolean NOT NULL DEFAULT true,
    threshold  real NOT NULL DEFAULT 0.5 CHECK (threshold BETWEEN 0 AND 1),
    arguments  text NOT NULL CHECK (arguments IN ('allow', 'redact', 'block')),
    results    text NOT NULL CHECK (results IN ('allow', 'redact', 'block')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX custom_rules_org_idx ON custom_rules (org_id);

CREATE TABLE rule_overrides (
    pack_id    uuid NOT NULL REFERENCES tool_packs (id) ON DELETE CASCADE,
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    -- Entity name or custom:<uuid>.
    rule_key   text NOT NULL,
    enabled    boolean,
    threshold  real CHECK (threshold BETWEEN 0 AND 1),
    arguments  text CHECK (arguments IN ('allow', 'redact', 'block')),
    results    text CHECK (results IN ('allow', 'redact', 'block')),
    PRIMARY KEY (pack_id, rule_key)
);

-- One agent run: an MCP session, or the token's client session.
CREATE TABLE runtime_sessions (
    id                 uuid PRIMARY KEY,
    org_id             uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pack_id            uuid,
    registered_user_id uuid,
    agent_key_id       uuid,
    mcp_session_id     text,
    client_name        text,
    client_version     text,
    started_at         timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL,
    call_count         bigint NOT NULL DEFAULT 0
);
CREATE INDEX runtime_sessions_org_idx ON runtime_sessions (org_id, last_seen_at DESC);

-- The decision trail: one row per tools/call, written before the agent gets
-- its answer. Arguments are stored redacted (every detected value replaced).
CREATE TABLE tool_calls (
    id                 uuid PRIMARY KEY,
    org_id             uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pack_id            uuid,
    registered_user_id uuid,
    agent_key_id       uuid,
    session_id         uuid,
    connector_id       uuid,
    tool               text NOT NULL,
    upstream_tool      text,
    mode               text NOT NULL CHECK (mode IN ('monitor', 'enforce')),
    -- What happened (allow / redact / block / error) and why.
    decision           text NOT NULL,
    reasons            text[] NOT NULL DEFAULT '{}',
    outcome            text NOT NULL,
    arguments_redacted jsonb,
    error_message      text,
    latency_us         bigint NOT NULL,
    upstream_us        bigint,
    mcp_session_id     text,
    client_name        text,
    client_version     text,
    protocol_version   text,
    created_at         timestamptz NOT NULL
);
CREATE INDEX tool_calls_org_time_idx ON tool_calls (org_id, created_at DESC);
CREATE INDEX tool_calls_session_idx ON tool_calls (session_id, created_at);
CREATE INDEX tool_calls_user_idx ON tool_calls (org_id, registered_user_id, created_at DESC);

-- One row per detection. Never the raw value: the snippet has every detected
-- value replaced by its placeholder.
CREATE TABLE violations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id            uuid NOT NULL REFERENCES tool_calls (id) ON DELETE CASCADE,
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
    created_at         timestamptz NOT NULL
);
CREATE INDEX violations_org_time_idx ON violations (org_id, created_at DESC);
CREATE INDEX violations_call_idx ON violations (call_id);
CREATE INDEX violations_org_rule_idx ON violations (org_id, rule_key, created_at DESC);
