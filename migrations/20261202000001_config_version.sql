-- The column versions every piece of configuration the data path reads
-- (rules, overrides, pack tools, connectors), not only rules: name it so.
ALTER TABLE orgs RENAME COLUMN rules_version TO config_version;
