-- Outgoing webhooks: approval requested / decided, call blocked. The
-- signing secret is sealed under the master key (write-only).
CREATE TABLE webhooks (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    url               text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2000),
    events            text[] NOT NULL CHECK (cardinality(events) > 0),
    format            text NOT NULL CHECK (format IN ('gatehouse', 'slack')),
    secret_ciphertext bytea NOT NULL,
    secret_nonce      bytea NOT NULL,
    secret_key_id     text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE INDEX webhooks_org_idx ON webhooks (org_id);

-- One row per event per webhook: the queue and the delivery log.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL,
    webhook_id      uuid NOT NULL,
    event           text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (org_id, webhook_id, created_at DESC);
