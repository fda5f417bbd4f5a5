-- Defence in depth for tenancy and token lifecycles.

-- A child row can only point at a parent of its own org: every parent
-- exposes (org_id, id) as a key, and every child references that pair.
-- A bug (or an injected id) that pairs one org's row with another org's
-- parent is refused by Postgres, whatever the code does.
ALTER TABLE connectors ADD CONSTRAINT connectors_org_id_key UNIQUE (org_id, id);
ALTER TABLE tool_packs ADD CONSTRAINT tool_packs_org_id_key UNIQUE (org_id, id);
ALTER TABLE registered_users ADD CONSTRAINT registered_users_org_id_key UNIQUE (org_id, id);

ALTER TABLE connector_tools
    DROP CONSTRAINT connector_tools_connector_id_fkey,
    ADD CONSTRAINT connector_tools_connector_fkey FOREIGN KEY (org_id, connector_id)
        REFERENCES connectors (org_id, id) ON DELETE CASCADE;

ALTER TABLE tool_pack_tools
    DROP CONSTRAINT tool_pack_tools_pack_id_fkey,
    DROP CONSTRAINT tool_pack_tools_connector_id_fkey,
    ADD CONSTRAINT tool_pack_tools_pack_fkey FOREIGN KEY (org_id, pack_id)
        REFERENCES tool_packs (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT tool_pack_tools_connector_fkey FOREIGN KEY (org_id, connector_id)
        REFERENCES connectors (org_id, id) ON DELETE CASCADE;

ALTER TABLE rule_overrides
    DROP CONSTRAINT rule_overrides_pack_id_fkey,
    ADD CONSTRAINT rule_overrides_pack_fkey FOREIGN KEY (org_id, pack_id)
        REFERENCES tool_packs (org_id, id) ON DELETE CASCADE;

ALTER TABLE agent_keys
    DROP CONSTRAINT agent_keys_pack_id_fkey,
    DROP CONSTRAINT agent_keys_registered_user_id_fkey,
    ADD CONSTRAINT agent_keys_pack_fkey FOREIGN KEY (org_id, pack_id)
        REFERENCES tool_packs (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT agent_keys_registered_user_fkey FOREIGN KEY (org_id, registered_user_id)
        REFERENCES registered_users (org_id, id) ON DELETE CASCADE;

-- Admin API tokens expire (existing ones 90 days after creation, the
-- default for new ones) and act with at most their creator's current role.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
UPDATE api_tokens SET expires_at = created_at + interval '90 days';
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
-- Tokens whose creator already left the org stop working now.
UPDATE api_tokens t SET revoked_at = now()
 WHERE revoked_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = t.org_id AND m.user_id = t.created_by);
