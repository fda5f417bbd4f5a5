//! The wire types of the admin API, the dashboard's server functions and
//! the CLI, one file per resource. Input types (`…Input`) are what a form or
//! JSON body carries; their `parse` turns them into domain types (`New…`) or
//! field-level [`crate::error::ApiError`]s. Everything is re-exported here,
//! so callers write `shared::api::Connector`.

pub mod alerts;
pub mod approvals;
pub mod connectors;
pub mod databases;
pub mod enforcement;
pub mod github;
pub mod integrity;
pub mod keys;
pub mod packs;
pub mod records;
pub mod retention;
pub mod rules;
pub mod sessions;
pub mod tool_policies;
pub mod users;
pub mod webhooks;

pub use alerts::*;
pub use approvals::*;
pub use connectors::*;
pub use databases::*;
pub use enforcement::*;
pub use github::*;
pub use integrity::*;
pub use keys::*;
pub use packs::*;
pub use records::*;
pub use retention::*;
pub use rules::*;
pub use sessions::*;
pub use tool_policies::*;
pub use users::*;
pub use webhooks::*;
