//! Versioned migrations: numbered SQL files, one per backend, applied in
//! order and recorded in `seaql_migrations` (the table release 0.1.0 already
//! wrote `m0001_initial` into, so its databases are recognised as version 1).
//!
//! A migration is frozen once released: never edit one, add the next. The
//! recipe is in `docs/changing-the-schema.md`.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

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
pub static MIGRATIONS: &[Migration] = &[
    migration!("m0001_initial"),
    migration!("m0002_arista_eos_type7"),
    migration!("m0003_nullable_text_no_default"),
    migration!("m0004_irr_cache"),
];

/// Bring the database to the newest version. Concurrent first starts are
/// safe: the whole run is one transaction that holds the database's write
/// lock (`BEGIN EXCLUSIVE` on SQLite, an advisory lock on PostgreSQL), and the
/// applied versions are read inside it, so a second process waits for the
/// first and then finds nothing left to do.
pub async fn migrate(db: &Db) -> AppResult<()> {
    let backend = db.backend();
    if backend == DbBackend::Sqlite {
        sqlite::migrate(db).await?;
        // Models declared since the database was created get their content type.
        let txn = db.begin_write().await?;
        crate::registry::sync_content_types(&txn.txn).await?;
        txn.commit().await?;
    } else {
        let txn = db.conn.begin().await?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(4242001)").await?;
        txn.execute_unprepared(CREATE_TABLE).await?;
        let applied: Vec<String> = txn
            .query_all_raw(Statement::from_string(backend, SELECT_APPLIED))
            .await?
            .iter()
            .filter_map(|r| r.try_get_by_index::<String>(0).ok())
            .collect();
        for m in pending(&applied)? {
            txn.execute_unprepared(m.sql(backend)).await.map_err(|e| failed(m, e))?;
            let record = sea_query::Query::insert()
                .into_table(TABLE)
                .columns(["version", "applied_at"])
                .values_panic([m.name.into(), chrono::Utc::now().timestamp().into()])
                .to_owned();
            txn.execute(&record).await?;
        }
        crate::registry::sync_content_types(&txn).await?;
        txn.commit().await?;
    }
    crate::registry::load_content_types(&db.conn).await
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS \"seaql_migrations\" (\"version\" varchar NOT NULL PRIMARY KEY, \"applied_at\" bigint NOT NULL)";
const SELECT_APPLIED: &str = "SELECT version FROM \"seaql_migrations\"";

/// The migrations still to apply, given the names the database recorded;
/// refuses a database that a newer release migrated.
fn pending(applied: &[String]) -> AppResult<Vec<&'static Migration>> {
    if let Some(unknown) = applied.iter().find(|v| !MIGRATIONS.iter().any(|m| m.name == v.as_str())) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the database was migrated by a newer release (migration {unknown} is unknown to this one); \
             run the newer release or restore a backup"
        )));
    }
    let applied: HashSet<&str> = applied.iter().map(String::as_str).collect();
    let pending: Vec<&Migration> = MIGRATIONS.iter().filter(|m| !applied.contains(m.name)).collect();
    if !pending.is_empty() {
        let names: Vec<&str> = pending.iter().map(|m| m.name).collect();
        tracing::info!("applying database migrations: {}", names.join(", "));
    }
    Ok(pending)
}

fn failed(m: &Migration, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("migration {} failed: {e}", m.name))
}

/// SQLite migrations run on one connection with foreign keys off, as SQLite's
/// own recipe for rebuilding a table requires (the pragma is ignored inside a
/// transaction, and with it on, dropping a rebuilt table's old copy would
/// cascade into the tables that point at it); the keys are checked before
/// commit instead.
mod sqlite {
    use sea_orm::sqlx::{self, Row};

    use super::*;

    pub async fn migrate(db: &Db) -> AppResult<()> {
        let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("migrating the SQLite database: {e}"));
        let mut conn = db.conn.get_sqlite_connection_pool().acquire().await.map_err(err)?;
        sqlx::raw_sql("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.map_err(err)?;
        let result = apply(&mut conn).await;
        if result.is_err() {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
        }
        sqlx::raw_sql("PRAGMA foreign_keys = ON").execute(&mut *conn).await.map_err(err)?;
        result
    }

    async fn apply(conn: &mut sqlx::SqliteConnection) -> AppResult<()> {
        let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("migrating the SQLite database: {e}"));
        sqlx::raw_sql("BEGIN EXCLUSIVE").execute(&mut *conn).await.map_err(err)?;
        sqlx::raw_sql(CREATE_TABLE).execute(&mut *conn).await.map_err(err)?;
        let applied: Vec<String> = sqlx::query_scalar(SELECT_APPLIED).fetch_all(&mut *conn).await.map_err(err)?;
        for m in pending(&applied)? {
            sqlx::raw_sql(m.sqlite).execute(&mut *conn).await.map_err(|e| failed(m, e))?;
            sqlx::query("INSERT INTO \"seaql_migrations\" (\"version\", \"applied_at\") VALUES ($1, $2)")
                .bind(m.name)
                .bind(chrono::Utc::now().timestamp())
                .execute(&mut *conn)
                .await
                .map_err(err)?;
        }
        let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *conn).await.map_err(err)?;
        if let Some(row) = broken.first() {
            let table: String = row.try_get(0).unwrap_or_default();
            return Err(AppError::Internal(anyhow::anyhow!(
                "migrating the SQLite database left {} rows with a broken foreign key (first in {table})",
                broken.len()
            )));
        }
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await.map_err(err)?;
        Ok(())
    }
}
