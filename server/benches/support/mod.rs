//! The database every benchmark runs against: a fresh, migrated database
//! on `DATABASE_URL`'s server, or on an embedded cluster in a temp dir when
//! it is unset; removed again by [`BenchDb::finish`].

use std::path::PathBuf;
use std::str::FromStr;

use server::embedded_pg::EmbeddedPostgres;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

pub struct BenchDb {
    pub db: PgPool,
    admin: PgPool,
    name: String,
    embedded: Option<EmbeddedPostgres>,
    dir: PathBuf,
}

impl BenchDb {
    /// A fresh database named `<prefix>_<pid>` with a pool of `pool` connections.
    pub async fn create(prefix: &str, pool: u32) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        let (opts, embedded) = match std::env::var("DATABASE_URL") {
            Ok(u) => (PgConnectOptions::from_str(&u).unwrap(), None),
            Err(_) => {
                let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
                (pg.connect_options(), Some(pg))
            }
        };
        let admin = server::db::connect(opts.clone(), 2).await.unwrap();
        let name = format!("{prefix}_{}", std::process::id());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let db = server::db::connect(opts.database(&name), pool)
            .await
            .unwrap();
        server::db::migrate(&db).await.unwrap();
        BenchDb {
            db,
            admin,
            name,
            embedded,
            dir,
        }
    }

    /// The database's URL for another process, when it is on the server
    /// `DATABASE_URL` names (an embedded cluster's is private).
    #[allow(dead_code)] // not every benchmark starts other processes
    pub fn url(&self) -> Option<String> {
        let mut url = url::Url::parse(&std::env::var("DATABASE_URL").ok()?).ok()?;
        url.set_path(&format!("/{}", self.name));
        Some(url.to_string())
    }

    /// Drops the database and stops an embedded cluster.
    pub async fn finish(self) {
        self.db.close().await;
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await
            .unwrap();
        self.admin.close().await;
        if let Some(pg) = self.embedded {
            pg.stop().await.unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
