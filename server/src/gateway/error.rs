//! What can end a `tools/call` (or `tools/list`) without a tool result.
//! Mapped to JSON-RPC in one place, [`crate::mcp`]'s `error` module.
//!
//! Everything Gatehouse decides about a call (blocked, held, failed
//! upstream) is a *tool result* with `isError`, so the agent's model reads
//! it; these are the cases where there is no result to give.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The middleware did not attach a verified agent (a wiring fault).
    #[error("request not authenticated")]
    NotAuthenticated,
    /// Not in the agent's Tool Pack: reads exactly like a tool that does
    /// not exist, never as forbidden.
    #[error("Unknown tool: {0}")]
    UnknownTool(String),
    /// Gatehouse could not evaluate or record the call, so it did not run
    /// (or its result is withheld): fail closed.
    #[error(
        "Gatehouse could not evaluate this call right now, so it was not run. Try again shortly."
    )]
    CannotDecide,
    /// Listing the pack's tools failed.
    #[error("Gatehouse could not list tools right now.")]
    ListUnavailable,
}
