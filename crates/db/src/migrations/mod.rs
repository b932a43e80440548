//! Versioned migrations: numbered SQL files, one per backend, applied in
//! order and recorded in `seaql_migrations` (the table release 0.1.0 already
//! wrote `m0001_initial` into, so its databases are recognised as version 1).
//!
//! A migration is frozen once released: never edit one, add the next. The
//! recipe is in `docs/changing-the-schema.md`.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DbBackend, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait};

use crate::{AppError, AppResult, Db};

/// Where applied migrations are recorded (name kept from release 0.1.0).
pub const TABLE: &str = "seaql_migrations";

/// A migration: its name (recorded once applied) and its SQL per backend.
pub struct Migration {
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    pub fn sql(&self, backend: DbBackend) -> &'static str {
        match backend {
            DbBackend::Postgres => self.postgres,
            _ => self.sqlite,
        }
    }
}

macro_rules! migration {
    ($name:literal) => {
        Migration {
            name: $name,
            sqlite: include_str!(concat!("sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("postgres/", $name, ".sql")),
        }
    };
}

/// Every migration, in the order they apply. Append only.
pub static MIGRATIONS: &[Migration] = &[migration!("m0001_initial"), migration!("m0002_arista_eos_type7")];

/// Bring the database to the newest version. Concurrent first starts are
/// safe: the whole run is one transaction that holds the database's write
/// lock (`BEGIN EXCLUSIVE` on SQLite, an advisory lock on PostgreSQL), and the
/// applied versions are read inside it, so a second process waits for the
/// first and then finds nothing left to do.
pub async fn migrate(db: &Db) -> AppResult<()> {
    let backend = db.backend();
    let opts =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Exclusive), ..Default::default() };
    let txn = db.conn.begin_with_options(opts).await?;
    if backend == DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(4242001)").await?;
    }
    txn.execute_unprepared(&format!(
        "CREATE TABLE IF NOT EXISTS \"{TABLE}\" (\"version\" varchar NOT NULL PRIMARY KEY, \"applied_at\" bigint NOT NULL)"
    ))
    .await?;
    let applied: HashSet<String> = txn
        .query_all_raw(Statement::from_string(backend, format!("SELECT version FROM \"{TABLE}\"")))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect();
    if let Some(unknown) = applied.iter().find(|v| !MIGRATIONS.iter().any(|m| m.name == v.as_str())) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the database was migrated by a newer release (migration {unknown} is unknown to this one); \
             run the newer release or restore a backup"
        )));
    }
    let pending: Vec<&Migration> = MIGRATIONS.iter().filter(|m| !applied.contains(m.name)).collect();
    if !pending.is_empty() {
        let names: Vec<&str> = pending.iter().map(|m| m.name).collect();
        tracing::info!("applying database migrations: {}", names.join(", "));
    }
    for m in pending {
        txn.execute_unprepared(m.sql(backend))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("migration {} failed: {e}", m.name)))?;
        let record = sea_query::Query::insert()
            .into_table(TABLE)
            .columns(["version", "applied_at"])
            .values_panic([m.name.into(), chrono::Utc::now().timestamp().into()])
            .to_owned();
        txn.execute(&record).await?;
    }
    // Models declared since the database was created get their content type.
    crate::registry::sync_content_types(&txn).await?;
    txn.commit().await?;
    crate::registry::load_content_types(&db.conn).await
}
