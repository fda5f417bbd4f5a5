-- The Postgres connector: a tenant's database reached through governed
-- database tools, and what each Tool Pack may reach in it.

ALTER TABLE connectors DROP CONSTRAINT connectors_kind_check,
    ADD CONSTRAINT connectors_kind_check CHECK (kind IN ('mcp', 'github', 'postgres'));

-- The target (host, port, database, role, password, TLS mode, CA bundle)
-- sealed as one JSON document under the master key; the AAD binds it to
-- its org and connector. `connectors.url` holds only `user@host:port/db`.
CREATE TABLE postgres_connectors (
    id               uuid PRIMARY KEY REFERENCES connectors (id) ON DELETE CASCADE,
    org_id           uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    ssl_mode         text NOT NULL CHECK (ssl_mode IN ('disable', 'require', 'verify-full')),
    ca_bundle_set    boolean NOT NULL DEFAULT false,
    dsn_ciphertext   bytea NOT NULL,
    dsn_nonce        bytea NOT NULL,
    dsn_key_id       text NOT NULL,
    -- The last connection test (the report as shown; never the DSN).
    last_test        jsonb
);
CREATE INDEX postgres_connectors_org ON postgres_connectors (org_id);

-- What one Tool Pack may reach in one Postgres connector.
CREATE TABLE tool_pack_databases (
    pack_id          uuid NOT NULL REFERENCES tool_packs (id) ON DELETE CASCADE,
    connector_id     uuid NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    org_id           uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    -- `schema.table` or `schema.*`
    tables           text[] NOT NULL DEFAULT '{}',
    -- `schema.table.column`
    masked_columns   text[] NOT NULL DEFAULT '{}',
    sensitive_tables text[] NOT NULL DEFAULT '{}',
    risk_threshold   smallint NOT NULL DEFAULT 50 CHECK (risk_threshold BETWEEN 0 AND 100),
    allow_analyze    boolean NOT NULL DEFAULT false,
    max_rows         integer NOT NULL DEFAULT 100 CHECK (max_rows BETWEEN 1 AND 10000),
    max_write_rows   integer NOT NULL DEFAULT 10 CHECK (max_write_rows BETWEEN 1 AND 100000),
    PRIMARY KEY (pack_id, connector_id)
);
CREATE INDEX tool_pack_databases_connector ON tool_pack_databases (connector_id);

-- A database call's statement with every detected value redacted: shown in
-- the call drill-down only (compact surfaces show `resource`: the kind,
-- tables and fingerprint).
ALTER TABLE tool_calls ADD COLUMN statement text;
