//! Storage for Peering Manager: the model declarations, the schema they
//! produce, and the generic machinery (filters, loading, serialization,
//! writes, change log, permissions) that serves every model alike.

pub mod auth;
pub mod changelog;
pub mod choices;
pub mod demo;
pub mod error;
pub mod hooks;
pub mod load;
pub mod migrations;
pub mod model;
pub mod models;
pub mod object;
pub mod ops;
pub mod peeringdb;
pub mod query;
pub mod registry;
pub mod schema;
pub mod serialize;
pub mod session;
pub mod webhooks;
pub mod write;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use error::{AppError, AppResult, FieldErrors};

/// Settings that change how data is validated and kept.
#[derive(Debug, Clone)]
pub struct Settings {
    pub validate_bgp_community: bool,
    pub changelog_retention_days: i64,
    pub job_retention_days: i64,
    pub paginate_count: u64,
    pub max_page_size: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            validate_bgp_community: true,
            changelog_retention_days: 90,
            job_retention_days: 90,
            paginate_count: 20,
            max_page_size: 1000,
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pub conn: DatabaseConnection,
    pub url: String,
    /// SQLite allows one writer: writes queue here instead of failing with
    /// "database is locked". PostgreSQL needs no gate.
    write_gate: Option<Arc<Mutex<()>>>,
}

/// A write transaction (and, on SQLite, the writer's turn).
pub struct WriteTxn {
    pub txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    pub async fn commit(self) -> AppResult<()> {
        self.txn.commit().await?;
        Ok(())
    }
}

impl Db {
    pub async fn connect(url: &str) -> AppResult<Db> {
        let mut opts = ConnectOptions::new(url.to_string());
        opts.sqlx_logging(false).acquire_timeout(Duration::from_secs(30));
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            // Each SQLite connection is an OS thread in sqlx; more than a few only add switching.
            opts.max_connections(4).min_connections(1);
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
            });
        } else {
            opts.max_connections(16).min_connections(1);
        }
        let conn = Database::connect(opts).await?;
        Ok(Db { conn, url: url.to_string(), write_gate: sqlite.then(|| Arc::new(Mutex::new(()))) })
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// A write transaction. On SQLite it waits for this process's turn (the
    /// gate) and then takes the database's write lock at `BEGIN IMMEDIATE`
    /// (waiting up to the busy timeout for other processes): a deferred
    /// transaction that read first could not get the lock later once another
    /// connection wrote, and would fail with "database is locked".
    pub async fn begin_write(&self) -> AppResult<WriteTxn> {
        let turn = match &self.write_gate {
            Some(g) => Some(g.clone().lock_owned().await),
            None => None,
        };
        let opts = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(WriteTxn { txn: self.conn.begin_with_options(opts).await?, _turn: turn })
    }

    pub async fn migrate(&self) -> AppResult<()> {
        migrations::migrate(self).await
    }
}
