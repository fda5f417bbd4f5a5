//! The dashboard as an axum router: pages, server functions (`/api/ui/*`)
//! and static assets, with the backend port in every request's context.
//!
//! Built here, not in the `server` crate, and with concrete types, so the
//! Leptos views are monomorphised once, in this crate: the server's own
//! compile (and its unit-test and benchmark builds) no longer instantiate
//! every page's rendering code again.

use std::sync::Arc;

use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};

use crate::port::Backend;
use crate::{App, shell};

/// Every dashboard route; unknown paths are served from the site root
/// (wasm, js, css) or render the app's not-found page.
pub fn router(options: LeptosOptions, backend: Arc<dyn Backend>) -> Router {
    let context = move || provide_context(backend.clone());
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<LeptosOptions, _>(
            context, shell,
        ))
        .with_state(options)
}

/// The Content-Security-Policy of every response. Pages pass the nonce
/// Leptos put on this response's inline hydration scripts; everything else
/// (API, assets) gets the same policy without one. `'wasm-unsafe-eval'`
/// lets the browser compile the app's WebAssembly (nothing else);
/// inline `style` attributes (the server-rendered charts) are allowed,
/// inline scripts only with the nonce.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(n) => format!("'self' 'wasm-unsafe-eval' 'nonce-{n}'"),
        None => "'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; \
         form-action 'self'; object-src 'none'"
    )
}
