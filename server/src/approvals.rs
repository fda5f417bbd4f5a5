//! Waking the calls that wait for an approval, on every replica.
//!
//! A decision is written to Postgres and announced with `NOTIFY` on
//! [`CHANNEL`] (payload: the approval id). Each server process listens once
//! and fans the ids out to its waiting calls. Notifications can be missed
//! (a reconnect, a restarted listener), so a waiting call also re-reads
//! its approval every [`POLL`]: a decision reaches the agent within about a
//! second on any replica, with or without the notification.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::broadcast;
use uuid::Uuid;

/// The notification channel for approval decisions.
pub const CHANNEL: &str = "gatehouse_approvals";

/// How often a waiting call re-reads its approval regardless.
pub const POLL: Duration = Duration::from_secs(1);

/// Decisions announced to this process.
#[derive(Clone)]
pub struct Signals {
    tx: broadcast::Sender<Uuid>,
}

impl Default for Signals {
    fn default() -> Self {
        Self::new()
    }
}

impl Signals {
    pub fn new() -> Self {
        // Waiters re-read the database anyway, so a slow receiver that lags
        // behind loses nothing but latency.
        let (tx, _) = broadcast::channel(256);
        Self { tx }
    }

    /// Listens for decisions until the pool closes (server shutdown).
    pub fn spawn_listener(&self, db: PgPool) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            while !db.is_closed() {
                let mut listener = match sqlx::postgres::PgListener::connect_with(&db).await {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, "approval notifications unavailable; waiting calls poll");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        continue;
                    }
                };
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "approval notifications unavailable; waiting calls poll");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
                loop {
                    match listener.recv().await {
                        Ok(n) => {
                            if let Ok(id) = n.payload().parse::<Uuid>() {
                                // No receivers is fine: nobody waits here.
                                let _ = tx.send(id);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "approval notifications interrupted");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            break;
                        }
                    }
                }
            }
        });
    }

    /// A subscription for one waiting call; see [`Waiter::next`].
    pub fn subscribe(&self) -> Waiter {
        Waiter {
            rx: self.tx.subscribe(),
        }
    }
}

pub struct Waiter {
    rx: broadcast::Receiver<Uuid>,
}

impl Waiter {
    /// Returns when `id` was announced or [`POLL`] has passed, whichever
    /// comes first: either way the caller re-reads the approval.
    pub async fn next(&mut self, id: Uuid) {
        let _ = tokio::time::timeout(POLL, async {
            loop {
                match self.rx.recv().await {
                    Ok(got) if got == id => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    // The listener is gone: the poll still works.
                    Err(broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await;
                    }
                }
            }
        })
        .await;
    }
}
