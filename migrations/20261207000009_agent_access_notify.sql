-- Agent-access cache invalidation (server/src/access_cache.rs).
--
-- Each server keeps the answer of the per-request authorisation query
-- (agent key live? the org's mode, configuration version, plan, approval
-- settings; the pack's and Registered User's names) for at most a second.
-- When a row that query reads changes, every server is told at once
-- through NOTIFY, with the org's id, and drops that org's answers.
-- Postgres delivers a notification only when the transaction commits, and
-- folds identical ones within a transaction into one.

CREATE FUNCTION gatehouse_agent_access_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'orgs' THEN
        PERFORM pg_notify('gatehouse_agent_access', OLD.id::text);
    ELSE
        PERFORM pg_notify('gatehouse_agent_access', OLD.org_id::text);
    END IF;
    RETURN NULL;
END
$$;

-- Every column of an org can matter (mode, config_version on any rules or
-- routes change, plan, quota, approval settings…).
CREATE TRIGGER orgs_agent_access AFTER UPDATE OR DELETE ON orgs
    FOR EACH ROW EXECUTE FUNCTION gatehouse_agent_access_changed();

-- Not `last_used_at`, which every token exchange stamps.
CREATE TRIGGER agent_keys_agent_access
    AFTER UPDATE OF revoked_at, org_id, pack_id, registered_user_id OR DELETE ON agent_keys
    FOR EACH ROW EXECUTE FUNCTION gatehouse_agent_access_changed();

CREATE TRIGGER tool_packs_agent_access AFTER UPDATE OR DELETE ON tool_packs
    FOR EACH ROW EXECUTE FUNCTION gatehouse_agent_access_changed();

CREATE TRIGGER registered_users_agent_access AFTER UPDATE OR DELETE ON registered_users
    FOR EACH ROW EXECUTE FUNCTION gatehouse_agent_access_changed();

-- The enforce usage the recorder counts (`used`) moves on every call and
-- is not notified: the recorder notifies when a quota runs out. Moving or
-- deleting usage rows by hand (an operator's correction) is.
CREATE TRIGGER enforce_usage_agent_access
    AFTER UPDATE OF org_id, period OR DELETE ON enforce_usage
    FOR EACH ROW EXECUTE FUNCTION gatehouse_agent_access_changed();
