//! Gatehouse's pure core: the detection engine and the wire types shared by
//! the server, the dashboard (SSR and the browser) and the CLI.
//!
//! Nothing here performs IO, reads the clock or spawns tasks, so the crate
//! builds for `wasm32-unknown-unknown` and every function is deterministic.

pub mod account;
pub mod api;
pub mod decision;
pub mod detect;
pub mod error;
pub mod mcp;
pub mod policy;
#[cfg(feature = "schema")]
mod schema;
