//! The server's integration tests: one binary, real Postgres. Database
//! tests use `#[sqlx::test]`, which gives each test a fresh database
//! (from `DATABASE_URL`) with our migrations applied.

// This whole crate is test code: helpers outside `#[test]` fns may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod alerts;
mod api;
mod approvals;
mod embedded_pg;
mod faults;
mod github;
mod hardening;
mod harness;
mod http;
mod integrity;
mod layering;
mod mcp;
mod policies;
mod postgres;
mod quotas;
mod retention;
mod scan_cli;
mod sessions;
mod support;
mod tenancy;
mod tokens;
mod webhooks;
