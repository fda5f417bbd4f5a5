//! The server's implementation of the dashboard's backend port: resolve the
//! session into a verified tenant context, then call the service layer.

use std::net::SocketAddr;

use async_trait::async_trait;
use axum::extract::ConnectInfo;
use http::request::Parts;
use shared::account::{
    Actor, AddMember, Member, OrgName, OrgSettings, Role, SignUp, TenantCtx, Viewer,
};
use shared::error::ApiError;
use tower_sessions::Session;
use uuid::Uuid;
use web::port::Backend;

use crate::service::accounts;
use crate::session::{self, SessionAuth};
use crate::state::AppState;

pub struct WebBackend(pub AppState);

fn session_of(req: &Parts) -> Result<&Session, ApiError> {
    req.extensions.get::<Session>().ok_or_else(|| {
        tracing::error!("session layer missing on a dashboard route");
        ApiError::internal()
    })
}

impl WebBackend {
    /// The signed-in user and current org, repairing the session when the
    /// user was removed from the org (or deleted) since signing in.
    async fn resolve(&self, req: &Parts) -> Result<Option<Viewer>, ApiError> {
        let db = &self.0.db;
        let session = session_of(req)?;
        let Some(auth) = session::read(session).await? else {
            return Ok(None);
        };
        let Some(email) = accounts::user_email(db, auth.user_id).await? else {
            session::sign_out(session).await?;
            return Ok(None);
        };
        let orgs = accounts::user_orgs(db, auth.user_id).await?;
        let current = auth
            .org_id
            .and_then(|id| orgs.iter().find(|o| o.org_id == id))
            .or_else(|| orgs.first())
            .cloned();
        let current_id = current.as_ref().map(|c| c.org_id);
        if current_id != auth.org_id {
            session::set_org(
                session,
                SessionAuth {
                    user_id: auth.user_id,
                    org_id: current_id,
                },
            )
            .await?;
        }
        Ok(Some(Viewer {
            user_id: auth.user_id,
            email,
            current,
            orgs,
        }))
    }
}

#[async_trait]
impl Backend for WebBackend {
    async fn viewer(&self, req: &Parts) -> Result<Option<Viewer>, ApiError> {
        self.resolve(req).await
    }

    async fn tenant(&self, req: &Parts) -> Result<TenantCtx, ApiError> {
        let viewer = self
            .resolve(req)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let current = viewer.current.ok_or_else(ApiError::unauthenticated)?;
        Ok(TenantCtx {
            org_id: current.org_id,
            role: current.role,
            actor: Actor::Member {
                user_id: viewer.user_id,
            },
        })
    }

    async fn needs_setup(&self) -> Result<bool, ApiError> {
        Ok(accounts::needs_setup(&self.0.db).await?)
    }

    async fn sign_up(&self, req: &Parts, input: SignUp) -> Result<(), ApiError> {
        let (user_id, org_id) = accounts::sign_up(&self.0.db, &input).await?;
        session::sign_in(
            session_of(req)?,
            SessionAuth {
                user_id,
                org_id: Some(org_id),
            },
        )
        .await?;
        Ok(())
    }

    async fn sign_in(&self, req: &Parts, email: &str, password: &str) -> Result<(), ApiError> {
        let client = req
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let now = self.0.clock.now();
        let user_id = accounts::authenticate(&self.0.db, now, email, password, client).await?;
        let orgs = accounts::user_orgs(&self.0.db, user_id).await?;
        session::sign_in(
            session_of(req)?,
            SessionAuth {
                user_id,
                org_id: orgs.first().map(|o| o.org_id),
            },
        )
        .await?;
        Ok(())
    }

    async fn sign_out(&self, req: &Parts) -> Result<(), ApiError> {
        Ok(session::sign_out(session_of(req)?).await?)
    }

    async fn switch_org(&self, req: &Parts, org_id: Uuid) -> Result<(), ApiError> {
        let viewer = self
            .resolve(req)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        // Not a member reads exactly like an org that does not exist.
        accounts::role_in(&self.0.db, viewer.user_id, org_id)
            .await?
            .ok_or_else(|| ApiError::not_found("organization"))?;
        session::set_org(
            session_of(req)?,
            SessionAuth {
                user_id: viewer.user_id,
                org_id: Some(org_id),
            },
        )
        .await?;
        Ok(())
    }

    async fn create_org(&self, req: &Parts, name: OrgName) -> Result<(), ApiError> {
        let viewer = self
            .resolve(req)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let org_id = accounts::create_org(&self.0.db, viewer.user_id, &name).await?;
        session::set_org(
            session_of(req)?,
            SessionAuth {
                user_id: viewer.user_id,
                org_id: Some(org_id),
            },
        )
        .await?;
        Ok(())
    }

    async fn list_members(&self, t: &TenantCtx) -> Result<Vec<Member>, ApiError> {
        Ok(accounts::list_members(&self.0.db, t).await?)
    }

    async fn add_member(&self, t: &TenantCtx, input: AddMember) -> Result<Member, ApiError> {
        Ok(accounts::add_member(&self.0.db, t, &input).await?)
    }

    async fn set_member_role(
        &self,
        t: &TenantCtx,
        user_id: Uuid,
        role: Role,
    ) -> Result<(), ApiError> {
        Ok(accounts::set_member_role(&self.0.db, t, user_id, role).await?)
    }

    async fn remove_member(&self, t: &TenantCtx, user_id: Uuid) -> Result<(), ApiError> {
        Ok(accounts::remove_member(&self.0.db, t, user_id).await?)
    }

    async fn org_settings(&self, t: &TenantCtx) -> Result<OrgSettings, ApiError> {
        Ok(accounts::org_settings(&self.0.db, t).await?)
    }

    async fn rename_org(&self, t: &TenantCtx, name: OrgName) -> Result<OrgSettings, ApiError> {
        Ok(accounts::rename_org(&self.0.db, t, &name).await?)
    }
}
