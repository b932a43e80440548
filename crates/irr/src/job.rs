//! The `irr.refresh` job (Peering Manager's `get_irr_data`): builds the
//! cache keys of every AS (or of the ASNs in the payload's `asns`) by PM's
//! rules, then refreshes each distinct key once.
//!
//! Settings, read when the job runs (PM's equivalents in brackets):
//! `PM_IRR_HOST` [`BGPQ3_HOST`, default `rr.ntt.net`; port 43 unless given],
//! `PM_IRR_SOURCES` [`BGPQ3_SOURCES`], `PM_IRR_ARGS_V4` / `PM_IRR_ARGS_V6`
//! [`BGPQ3_ARGS`], `PM_IRR_MAX_ENTRIES` (default 100,000).

use pm_db::Db;
use pm_domain::as_set::{DEFAULT_SOURCES, parse_irr_as_set};
use pm_jobs::{JobCtx, Registry};
use sea_orm::ConnectionTrait;
use sea_query::{Expr, ExprTrait, Query};

use crate::cache::CacheKey;
use crate::refresh::{Fetcher, refresh};
use crate::{Family, Limits};

pub const JOB_NAME: &str = "irr.refresh";

/// Where and how to query, PM's `BGPQ3_*` settings.
#[derive(Debug, Clone)]
pub struct IrrConfig {
    pub host: String,
    pub sources: String,
    pub args_v4: String,
    pub args_v6: String,
    pub max_entries: usize,
    pub limits: Limits,
}

impl IrrConfig {
    pub fn from_env() -> IrrConfig {
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        let mut host = var("PM_IRR_HOST", "rr.ntt.net");
        if !host.contains(':') || host.starts_with('[') && !host.contains("]:") {
            host.push_str(":43");
        }
        IrrConfig {
            host,
            sources: var("PM_IRR_SOURCES", &DEFAULT_SOURCES.join(",")),
            args_v4: var("PM_IRR_ARGS_V4", "-A -r 8 -R 24"),
            args_v6: var("PM_IRR_ARGS_V6", "-A -r 16 -R 48"),
            max_entries: var("PM_IRR_MAX_ENTRIES", "100000").parse().unwrap_or(100_000),
            limits: Limits::default(),
        }
    }
}

/// The job reads `PM_IRR_*` when it runs.
pub fn register(r: &mut Registry) {
    register_with(r, None);
}

/// With a fixed configuration (tests point it at a fake IRR).
pub fn register_with(r: &mut Registry, config: Option<IrrConfig>) {
    r.add(JOB_NAME, move |ctx| run(ctx, config.clone()));
    r.set_timeout(JOB_NAME, std::time::Duration::from_secs(3600));
}

/// The AS's override when it has one, else the setting (PM's rule).
fn pick<'a>(override_: &'a str, setting: &'a str) -> Vec<&'a str> {
    let chosen = if override_.trim().is_empty() { setting } else { override_ };
    chosen.split_whitespace().collect()
}

/// The distinct cache keys the ASes need (all ASes, or those in `asns`).
pub async fn keys_for(db: &Db, config: &IrrConfig, asns: Option<&[i64]>) -> anyhow::Result<Vec<CacheKey>> {
    let mut q = Query::select()
        .from("peering_autonomoussystem")
        .columns([
            "asn",
            "irr_as_set",
            "irr_sources_override",
            "irr_ipv6_prefixes_args_override",
            "irr_ipv4_prefixes_args_override",
            "retrieve_prefixes",
            "retrieve_as_list",
        ])
        .order_by("asn", sea_query::Order::Asc)
        .to_owned();
    if let Some(asns) = asns {
        q.and_where(Expr::col("asn").is_in(asns.iter().copied()));
    }
    let known: Vec<&str> = config.sources.split(',').filter(|s| !s.is_empty()).collect();
    let mut keys = Vec::new();
    for row in db.conn.query_all(&q).await? {
        let asn: i64 = row.try_get_by_index(0)?;
        let as_set: Option<String> = row.try_get_by_index(1)?;
        let sources_override: String = row.try_get_by_index(2)?;
        let v6_override: String = row.try_get_by_index(3)?;
        let v4_override: String = row.try_get_by_index(4)?;
        let retrieve_prefixes: bool = row.try_get_by_index(5)?;
        let retrieve_as_list: bool = row.try_get_by_index(6)?;
        let default_sources = if sources_override.trim().is_empty() { &config.sources } else { &sources_override };
        let v4_args = pick(&v4_override, &config.args_v4);
        let v6_args = pick(&v6_override, &config.args_v6);
        for (source, name) in parse_irr_as_set(asn, as_set.as_deref(), &known) {
            if name.is_empty() {
                continue;
            }
            // A set written `SOURCE::SET` is looked up in that source only.
            let sources = if source.is_empty() { default_sources.as_str() } else { source.as_str() };
            if retrieve_prefixes {
                keys.push(CacheKey::prefix_list(&name, Family::V6, sources, &v6_args));
                keys.push(CacheKey::prefix_list(&name, Family::V4, sources, &v4_args));
            }
            if retrieve_as_list && as_set.as_deref().is_some_and(|s| !s.trim().is_empty()) {
                keys.push(CacheKey::as_list(&name, sources, &[] as &[&str]));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    Ok(keys)
}

async fn run(ctx: JobCtx, config: Option<IrrConfig>) -> anyhow::Result<()> {
    let config = config.unwrap_or_else(IrrConfig::from_env);
    let asns: Option<Vec<i64>> = ctx.payload.get("asns").and_then(|v| serde_json::from_value(v.clone()).ok());
    let keys = keys_for(&ctx.db, &config, asns.as_deref()).await?;
    ctx.info(&format!("Refreshing {} IRR expansions from {}.", keys.len(), config.host));
    let mut fetcher = Fetcher::new(&config.host, config.limits, config.max_entries);
    let mut failed = 0;
    refresh(&ctx.db, &mut fetcher, &keys, |index, total, key, row| {
        ctx.progress(index as u64 + 1, total as u64);
        let what = match key.family {
            0 => format!("{} AS list", key.query),
            f => format!("{} IPv{f}", key.query),
        };
        if row.status == "failed" {
            failed += 1;
            ctx.failure(&format!("{what}: {}", row.error));
        } else if row.added > 0 || row.removed > 0 {
            ctx.info(&format!("{what}: +{} \u{2212}{} ({} entries)", row.added, row.removed, row.entries.len()));
        }
    })
    .await?;
    fetcher.close().await;
    ctx.output(&format!("{} expansions refreshed, {failed} failed.", keys.len()));
    Ok(())
}
