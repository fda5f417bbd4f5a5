//! Server functions: the dashboard's only way to reach the server.
//!
//! Each is a public HTTP endpoint, so each authenticates (via
//! [`crate::port::tenant`]) and the service behind the port checks the
//! caller's role; hiding a button is never the only protection.

use leptos::prelude::*;
use shared::account::{Member, OrgSettings, Viewer};
use uuid::Uuid;

use crate::error::AppError;

/// Who is signed in (None when signed out).
#[server(prefix = "/api/ui", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Viewer>, AppError> {
    let (backend, parts) = crate::port::request()?;
    Ok(backend.viewer(&parts).await?)
}

/// Whether this installation still needs its first organization.
#[server(prefix = "/api/ui", endpoint = "needs_setup")]
pub async fn needs_setup() -> Result<bool, AppError> {
    let (backend, _) = crate::port::request()?;
    Ok(backend.needs_setup().await?)
}

/// Creates an organization and its owner account, and signs the owner in.
#[server(prefix = "/api/ui", endpoint = "sign_up")]
pub async fn sign_up(org_name: String, email: String, password: String) -> Result<(), AppError> {
    let input = shared::account::SignUpInput {
        org_name,
        email,
        password,
    }
    .parse()?;
    let (backend, parts) = crate::port::request()?;
    backend.sign_up(&parts, input).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend.sign_in(&parts, &email, &password).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend.sign_out(&parts).await?;
    leptos_axum::redirect("/signin");
    Ok(())
}

/// Makes another of the user's organizations the current one.
#[server(prefix = "/api/ui", endpoint = "switch_org")]
pub async fn switch_org(org_id: Uuid) -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend.switch_org(&parts, org_id).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Creates another organization owned by the signed-in user.
#[server(prefix = "/api/ui", endpoint = "create_org")]
pub async fn create_org(name: String) -> Result<(), AppError> {
    let name = shared::account::OrgName::parse(&name)
        .map_err(|e| shared::error::ApiError::invalid("name", e.to_string()))?;
    let (backend, parts) = crate::port::request()?;
    backend.create_org(&parts, name).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<Member>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.list_members(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "add_member")]
pub async fn add_member(email: String, role: String, password: String) -> Result<Member, AppError> {
    let input = shared::account::AddMemberInput {
        email,
        role,
        password,
    }
    .parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.add_member(&t, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_member_role")]
pub async fn set_member_role(user_id: Uuid, role: String) -> Result<(), AppError> {
    let role = role.parse().map_err(|e: shared::account::UnknownRole| {
        shared::error::ApiError::invalid("role", e.to_string())
    })?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_member_role(&t, user_id, role).await?)
}

#[server(prefix = "/api/ui", endpoint = "remove_member")]
pub async fn remove_member(user_id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.remove_member(&t, user_id).await?)
}

#[server(prefix = "/api/ui", endpoint = "get_org_settings")]
pub async fn get_org_settings() -> Result<OrgSettings, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.org_settings(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "rename_org")]
pub async fn rename_org(name: String) -> Result<OrgSettings, AppError> {
    let name = shared::account::OrgName::parse(&name)
        .map_err(|e| shared::error::ApiError::invalid("name", e.to_string()))?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.rename_org(&t, name).await?)
}
