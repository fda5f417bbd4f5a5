-- Sign-in throttling per (account, client address) pair, per address, per
-- account (a high ceiling), and sign-up throttling per address.
ALTER TABLE signin_throttle DROP CONSTRAINT signin_throttle_scope_check;
ALTER TABLE signin_throttle ADD CONSTRAINT signin_throttle_scope_check
    CHECK (scope IN ('account_address', 'address', 'account', 'signup'));
-- Old per-account counters meant "failures from anywhere": start afresh.
DELETE FROM signin_throttle WHERE scope = 'account';

-- Sign-in lands on the organization the person used last.
ALTER TABLE users ADD COLUMN last_org_id uuid REFERENCES orgs (id) ON DELETE SET NULL;
