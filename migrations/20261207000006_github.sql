-- The GitHub connector: one GitHub App per deployment, installations
-- connected to orgs, and the repositories each Tool Pack may reach.

-- The deployment's GitHub App (set by the operator with
-- `gatehouse github-app set`). The private key and the webhook secret are
-- sealed under the master key (AAD names the secret) and never shown again.
CREATE TABLE github_app (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    app_id             bigint NOT NULL CHECK (app_id > 0),
    slug               text NOT NULL CHECK (char_length(slug) BETWEEN 1 AND 100),
    api_url            text NOT NULL,
    web_url            text NOT NULL,
    key_ciphertext     bytea NOT NULL,
    key_nonce          bytea NOT NULL,
    key_key_id         text NOT NULL,
    webhook_ciphertext bytea,
    webhook_nonce      bytea,
    webhook_key_id     text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- What kind of connector a row is: an upstream MCP server, or a GitHub
-- installation (whose tools are Gatehouse's own governed GitHub tools).
ALTER TABLE connectors DROP CONSTRAINT connectors_kind_check,
    ADD CONSTRAINT connectors_kind_check CHECK (kind IN ('mcp', 'github'));

-- A GitHub App installation connected to an org (through its connector).
-- An installation belongs to at most one org.
CREATE TABLE github_installations (
    connector_id         uuid PRIMARY KEY REFERENCES connectors (id) ON DELETE CASCADE,
    org_id               uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    installation_id      bigint NOT NULL UNIQUE,
    account_login        text NOT NULL,
    account_type         text NOT NULL,
    repository_selection text NOT NULL,
    -- Full names (`owner/name`) the installation can reach.
    repositories         text[] NOT NULL DEFAULT '{}',
    permissions          jsonb NOT NULL DEFAULT '{}',
    status               text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'suspended', 'deleted')),
    connected_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    connected_at         timestamptz NOT NULL,
    refreshed_at         timestamptz NOT NULL
);
CREATE INDEX github_installations_org_idx ON github_installations (org_id);

-- "Connect GitHub" in progress: the `state` sent to GitHub (stored hashed),
-- bound to the org, the admin and their dashboard session; used once.
CREATE TABLE github_connect_states (
    state_hash    bytea PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash  bytea NOT NULL,
    account_login text NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX github_connect_states_expiry_idx ON github_connect_states (expires_at);

-- The repositories (full names) of a GitHub connector a Tool Pack may
-- reach: none chosen means none reachable.
CREATE TABLE tool_pack_repositories (
    pack_id      uuid NOT NULL REFERENCES tool_packs (id) ON DELETE CASCADE,
    org_id       uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    connector_id uuid NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    repository   text NOT NULL,
    PRIMARY KEY (pack_id, connector_id, repository)
);

-- What a call touched at the connector (a repository) and the connector's
-- own request id (GitHub's X-GitHub-Request-Id), for support and audit.
ALTER TABLE tool_calls ADD COLUMN resource text, ADD COLUMN upstream_request_id text;

-- GitHub webhook deliveries already applied (`X-GitHub-Delivery`): a
-- captured delivery replayed later is ignored. Pruned after 30 days.
CREATE TABLE github_webhook_deliveries (
    delivery_id text PRIMARY KEY,
    received_at timestamptz NOT NULL
);
