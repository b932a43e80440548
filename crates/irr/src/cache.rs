//! Reading and writing the IRR cache (`peering_irrcache`, declared in
//! `pm_db::models::irr`): one row per distinct expansion, shared by every
//! AS that needs it.
//!
//! A failed refresh keeps the previous entries (marked "failed" with the
//! error): a broken IRR must never empty a router's filter. A successful
//! one records how many entries were added and removed.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use pm_db::{AppResult, Db};
use sea_orm::ConnectionTrait;
use sea_query::{Expr, ExprTrait, Query};
use serde_json::Value as Json;

use crate::{Family, IrrError};

const TABLE: &str = "peering_irrcache";

/// Identifies one expansion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// `prefix-list` or `as-list`.
    pub kind: &'static str,
    pub query: String,
    /// 4 or 6 for prefix lists, 0 for AS lists.
    pub family: u8,
    pub sources: String,
    pub arguments: String,
}

impl CacheKey {
    pub fn prefix_list(query: &str, family: Family, sources: &str, arguments: &[impl AsRef<str>]) -> CacheKey {
        CacheKey {
            kind: "prefix-list",
            query: query.to_owned(),
            family: family.number(),
            sources: sources.to_owned(),
            arguments: arguments.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" "),
        }
    }
    pub fn as_list(query: &str, sources: &str, arguments: &[impl AsRef<str>]) -> CacheKey {
        CacheKey { kind: "as-list", family: 0, ..CacheKey::prefix_list(query, Family::V4, sources, arguments) }
    }
}

/// A cache row as readers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    /// `pending` (never fetched), `fetched`, `empty` or `failed`.
    pub status: String,
    pub fetched: Option<DateTime<Utc>>,
    pub error: String,
    /// The last successfully fetched entries (bgpq4 `-j` items or ASNs).
    pub entries: Vec<Json>,
    pub added: i64,
    pub removed: i64,
}

fn key_condition(key: &CacheKey) -> sea_query::Condition {
    sea_query::Condition::all()
        .add(Expr::col("kind").eq(key.kind))
        .add(Expr::col("query").eq(key.query.as_str()))
        .add(Expr::col("family").eq(i64::from(key.family)))
        .add(Expr::col("sources").eq(key.sources.as_str()))
        .add(Expr::col("arguments").eq(key.arguments.as_str()))
}

/// The row of `key`, if any.
pub async fn load(conn: &impl ConnectionTrait, key: &CacheKey) -> AppResult<Option<(i64, Cached)>> {
    let q = Query::select()
        .from(TABLE)
        .columns(["id", "status", "fetched", "error", "entries", "added", "removed"])
        .cond_where(key_condition(key))
        .to_owned();
    let Some(row) = conn.query_one(&q).await? else { return Ok(None) };
    let entries: Option<String> = row.try_get_by_index(4)?;
    let entries = entries.and_then(|text| serde_json::from_str::<Vec<Json>>(&text).ok()).unwrap_or_default();
    Ok(Some((
        row.try_get_by_index(0)?,
        Cached {
            status: row.try_get_by_index(1)?,
            fetched: row.try_get_by_index(2)?,
            error: row.try_get_by_index(3)?,
            entries,
            added: row.try_get_by_index(5)?,
            removed: row.try_get_by_index(6)?,
        },
    )))
}

/// Records the outcome of one fetch of `key` and returns the row as
/// stored.
pub async fn store(db: &Db, key: &CacheKey, outcome: Result<Vec<Json>, IrrError>) -> AppResult<Cached> {
    let now = Utc::now();
    let w = db.begin_write().await?;
    let previous = load(&w.txn, key).await?;
    let mut cached = previous.as_ref().map(|(_, c)| c.clone()).unwrap_or(Cached {
        status: "pending".into(),
        fetched: None,
        error: String::new(),
        entries: Vec::new(),
        added: 0,
        removed: 0,
    });
    match outcome {
        Ok(entries) => {
            let text = |v: &Json| v.to_string();
            let old: HashSet<String> = cached.entries.iter().map(text).collect();
            let new: HashSet<String> = entries.iter().map(text).collect();
            cached.added = new.difference(&old).count() as i64;
            cached.removed = old.difference(&new).count() as i64;
            cached.status = if entries.is_empty() { "empty" } else { "fetched" }.into();
            cached.fetched = Some(now);
            cached.error = String::new();
            cached.entries = entries;
        }
        Err(error) => {
            cached.status = "failed".into();
            cached.error = error.to_string().chars().take(1000).collect();
        }
    }
    let entries = Json::Array(cached.entries.clone()).to_string();
    let values: Vec<(&str, sea_query::SimpleExpr)> = vec![
        ("status", cached.status.clone().into()),
        ("fetched", cached.fetched.into()),
        ("attempted", now.into()),
        ("error", cached.error.clone().into()),
        ("entries", entries.into()),
        ("entry_count", (cached.entries.len() as i64).into()),
        ("added", cached.added.into()),
        ("removed", cached.removed.into()),
    ];
    match previous {
        Some((id, _)) => {
            let q = Query::update().table(TABLE).values(values).and_where(Expr::col("id").eq(id)).to_owned();
            w.txn.execute(&q).await?;
        }
        None => {
            let (mut columns, mut exprs): (Vec<&str>, Vec<sea_query::SimpleExpr>) = values.into_iter().unzip();
            columns.extend(["kind", "query", "family", "sources", "arguments"]);
            exprs.extend([
                key.kind.into(),
                key.query.clone().into(),
                i64::from(key.family).into(),
                key.sources.clone().into(),
                key.arguments.clone().into(),
            ]);
            let q = Query::insert().into_table(TABLE).columns(columns).values_panic(exprs).to_owned();
            w.txn.execute(&q).await?;
        }
    }
    w.commit().await?;
    Ok(cached)
}
