#![recursion_limit = "512"]
//! The Gatehouse server: the only crate that performs IO.
//!
//! * [`config`] — typed settings, parsed once.
//! * [`http`] — the router and middleware stack.
//! * [`service`] — business rules; every tenant-bound function takes the
//!   verified tenant context first.
//! * [`db`], [`embedded_pg`] — Postgres.
//! * [`web_backend`] — the dashboard's backend port, implemented.

pub mod access_cache;
pub mod agent_tokens;
pub mod approvals;
pub mod charts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod crypto;
pub mod db;
pub mod egress;
pub mod embedded_pg;
pub mod gateway;
pub mod github;
pub mod http;
pub mod limits;
pub mod master_key;
pub mod mcp;
pub mod metrics;
pub mod postgres;
pub mod recorder;
pub mod scan_cli;
pub mod scanning;
pub mod secret_tokens;
pub mod service;
pub mod session;
pub mod state;
pub mod telemetry;
pub mod tool_policy;
pub mod upstream;
pub mod web_backend;
pub mod webhooks;
