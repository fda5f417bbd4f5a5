-- A held call answered as an MCP task (the client declared the tasks
-- extension): the exact arguments wait, sealed under the master key, until
-- the approved call runs once (then they are erased).
ALTER TABLE approvals
    ADD COLUMN task_state text CHECK (task_state IN ('waiting', 'running', 'done')),
    ADD COLUMN task_args_ciphertext bytea,
    ADD COLUMN task_args_nonce bytea,
    ADD COLUMN task_args_key_id text;
