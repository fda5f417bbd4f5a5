#![recursion_limit = "256"]
//! The Gatehouse dashboard: a Leptos 0.8 app rendered on the server and
//! hydrated in the browser.
//!
//! * [`app`] — the shell, router and layout.
//! * [`pages`] — one module per page.
//! * [`server_fns`] — the `#[server]` functions. Their bodies are thin: they fetch
//!   the backend port and a verified tenant context and call one method.
//! * [`port`] (SSR only) — the trait the `server` crate implements, so this
//!   crate never depends on the server's IO code.
//! * [`serve`] (SSR only) — the dashboard as an axum router.

pub mod app;
pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod port;
#[cfg(feature = "ssr")]
pub mod serve;
pub mod server_fns;

pub use app::{App, shell};

/// Entry point of the browser build: attach to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
