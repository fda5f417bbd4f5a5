-- Organizations (tenants), dashboard users and their memberships.

CREATE TABLE orgs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    mode        text NOT NULL DEFAULT 'monitor' CHECK (mode IN ('monitor', 'enforce')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stored normalised (lower-case) so the unique index is case-insensitive.
    email          text NOT NULL UNIQUE CHECK (email = lower(email)),
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    org_id      uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'approver', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- Failed sign-in counters, shared by every server process. Keys are SHA-256
-- hashes of the account email or client address, so no addresses are kept.
CREATE TABLE signin_throttle (
    scope         text NOT NULL CHECK (scope IN ('account', 'address')),
    key_hash      text NOT NULL,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
