//! The backend port: everything the dashboard's server functions need from
//! the server, as one trait. The `server` crate implements it and provides
//! an `Arc<dyn Backend>` through Leptos context; this keeps the dependency
//! arrow pointing `server → web` and the server-fn bodies one line long.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;
use leptos::prelude::*;
use shared::account::{AddMember, Member, OrgName, OrgSettings, Role, SignUp, TenantCtx, Viewer};
use shared::error::ApiError;
use uuid::Uuid;

use crate::error::AppError;

/// What the dashboard needs from the server. Request-bound methods take the
/// request parts (the session lives in their extensions); tenant-bound
/// methods take a [`TenantCtx`] that [`Backend::tenant`] verified.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The signed-in user and their current org, or `None` when signed out.
    async fn viewer(&self, req: &Parts) -> Result<Option<Viewer>, ApiError>;
    /// The verified tenant context of the request (signed in, member of the
    /// current org), or `Unauthenticated`.
    async fn tenant(&self, req: &Parts) -> Result<TenantCtx, ApiError>;
    /// True until the first organization exists.
    async fn needs_setup(&self) -> Result<bool, ApiError>;

    async fn sign_up(&self, req: &Parts, input: SignUp) -> Result<(), ApiError>;
    async fn sign_in(&self, req: &Parts, email: &str, password: &str) -> Result<(), ApiError>;
    async fn sign_out(&self, req: &Parts) -> Result<(), ApiError>;
    async fn switch_org(&self, req: &Parts, org_id: Uuid) -> Result<(), ApiError>;
    async fn create_org(&self, req: &Parts, name: OrgName) -> Result<(), ApiError>;

    async fn list_members(&self, t: &TenantCtx) -> Result<Vec<Member>, ApiError>;
    async fn add_member(&self, t: &TenantCtx, input: AddMember) -> Result<Member, ApiError>;
    async fn set_member_role(
        &self,
        t: &TenantCtx,
        user_id: Uuid,
        role: Role,
    ) -> Result<(), ApiError>;
    async fn remove_member(&self, t: &TenantCtx, user_id: Uuid) -> Result<(), ApiError>;

    async fn org_settings(&self, t: &TenantCtx) -> Result<OrgSettings, ApiError>;
    async fn rename_org(&self, t: &TenantCtx, name: OrgName) -> Result<OrgSettings, ApiError>;
}

/// The backend and this request's parts, from Leptos context.
pub fn request() -> Result<(Arc<dyn Backend>, Parts), AppError> {
    let backend = use_context::<Arc<dyn Backend>>();
    let parts = use_context::<Parts>();
    match (backend, parts) {
        (Some(b), Some(p)) => Ok((b, p)),
        // Only reachable if the server forgot to provide context: a bug.
        _ => Err(AppError(ApiError::internal())),
    }
}

/// The backend and the caller's verified tenant context.
pub async fn tenant() -> Result<(Arc<dyn Backend>, TenantCtx), AppError> {
    let (backend, parts) = request()?;
    let ctx = backend.tenant(&parts).await?;
    Ok((backend, ctx))
}
