//! One synchronisation: every namespace in order, each downloaded (the next
//! one already downloading while this one is applied), applied whole or not
//! at all; then the record of what changed and the re-linking.

use chrono::{DateTime, TimeZone, Utc};
use pm_db::{AppResult, Db};
use sea_orm::ConnectionTrait;
use sea_query::Query;
use serde_json::{Map, Value as Json, json};

use crate::apply::{self, Counts, Diff, Plan};
use crate::client::Client;
use crate::namespaces::{NAMESPACES, Namespace};

/// Objects listed one by one in a stored diff; beyond that, counts only.
pub const DIFF_CAP: usize = 2000;

/// What happened to one namespace.
#[derive(Debug, Clone)]
pub struct NsReport {
    pub tag: &'static str,
    pub since: i64,
    pub received: usize,
    pub counts: Counts,
    /// Why the namespace was not applied.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub namespaces: Vec<NsReport>,
    /// The Synchronisation row, when something changed.
    pub synchronisation: Option<i64>,
    /// PeeringDB could not be reached at all: the sync stopped there.
    pub unreachable: Option<String>,
}

impl Report {
    pub fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for n in &self.namespaces {
            t.created += n.counts.created;
            t.updated += n.counts.updated;
            t.deleted += n.counts.deleted;
        }
        t
    }

    pub fn failed(&self) -> Vec<&'static str> {
        self.namespaces.iter().filter(|n| n.error.is_some()).map(|n| n.tag).collect()
    }

    /// "Created 3 objects, updated 1, deleted 0" and the failures, for logs.
    pub fn summary(&self) -> String {
        let t = self.totals();
        let mut s = format!("Created {} objects, updated {}, deleted {}.", t.created, t.updated, t.deleted);
        let failed = self.failed();
        if !failed.is_empty() {
            s.push_str(&format!(" Not synchronised: {}.", failed.join(", ")));
        }
        s
    }
}

/// Where a sync reports as it goes (CLI: stderr; job: its log and progress).
pub trait Progress: Send + Sync {
    fn started(&self, index: usize, total: usize, tag: &str, since: i64);
    fn finished(&self, index: usize, total: usize, report: &NsReport);
}

/// No reporting (tests, library callers).
pub struct Quiet;

impl Progress for Quiet {
    fn started(&self, _: usize, _: usize, _: &str, _: i64) {}
    fn finished(&self, _: usize, _: usize, _: &NsReport) {}
}

type Download = tokio::task::JoinHandle<Result<Vec<u8>, crate::client::FetchError>>;

fn download(client: &Client, ns: &'static Namespace, since: i64) -> Download {
    let client = client.clone();
    tokio::spawn(async move { client.fetch(ns.tag, since).await })
}

/// Synchronise the whole cache. A namespace that cannot be downloaded or
/// stored is reported and left as it was; the others are applied.
pub async fn synchronise(db: &Db, client: &Client, progress: &dyn Progress) -> AppResult<Report> {
    let mut report = Report::default();
    let mut diff = Diff::new(DIFF_CAP);
    let mut generated: Option<f64> = None;
    let mut breakdown = Map::new();
    let total = NAMESPACES.len();
    // `since` of every namespace is read before anything is written: the
    // next download starts while the current namespace is applied.
    let mut sinces = Vec::with_capacity(total);
    for ns in &NAMESPACES {
        sinces.push(apply::since(&db.conn, ns).await?);
    }
    let mut next = Some(download(client, &NAMESPACES[0], sinces[0]));
    for (i, ns) in NAMESPACES.iter().enumerate() {
        let since = sinces[i];
        progress.started(i, total, ns.tag, since);
        let fetched = next.take().expect("download started").await;
        if i + 1 < total {
            next = Some(download(client, &NAMESPACES[i + 1], sinces[i + 1]));
        }
        let mut ns_report = NsReport { tag: ns.tag, since, received: 0, counts: Counts::default(), error: None };
        let body = match fetched {
            Ok(Ok(body)) => Some(body),
            // Every other namespace would fail the same way: stop here.
            Ok(Err(e)) if e.unreachable => {
                report.unreachable = Some(e.message);
                break;
            }
            Ok(Err(e)) => {
                ns_report.error = Some(e.message);
                None
            }
            Err(e) => {
                ns_report.error = Some(format!("download task failed: {e}"));
                None
            }
        };
        if let Some(body) = body {
            let plan = Plan::new(ns);
            match plan.parse(&body) {
                Ok(batch) => {
                    drop(body);
                    ns_report.received = batch.records.len();
                    if batch.truncated > 0 {
                        tracing::warn!(
                            ns = ns.tag,
                            "PeeringDB {}: {} values cut to their column length",
                            ns.tag,
                            batch.truncated
                        );
                    }
                    let first = since == 0;
                    match apply::apply(db, &plan, batch.records, first, &mut diff).await {
                        Ok(c) => {
                            ns_report.counts = c;
                            if let Some(g) = batch.generated {
                                generated = Some(generated.map_or(g, |o: f64| o.min(g)));
                            }
                        }
                        Err(e) => ns_report.error = Some(format!("could not be stored: {e}")),
                    }
                }
                Err(e) => ns_report.error = Some(e),
            }
        }
        if let Some(e) = &ns_report.error {
            // `progress` reports it to the user (stderr, the job's log).
            tracing::debug!(ns = ns.tag, "PeeringDB {}: {e}; namespace left unchanged", ns.tag);
        }
        let c = ns_report.counts;
        breakdown.insert(ns.tag.into(), json!({"created": c.created, "updated": c.updated, "deleted": c.deleted}));
        progress.finished(i, total, &ns_report);
        report.namespaces.push(ns_report);
    }
    if let Some(next) = next {
        next.abort();
    }
    pm_db::peeringdb::link_all(db).await?;
    let totals = report.totals();
    if totals.total() > 0 {
        let time =
            generated.and_then(|g| Utc.timestamp_millis_opt((g * 1000.0) as i64).single()).unwrap_or_else(Utc::now);
        let changes = json!({
            "namespaces": breakdown,
            "objects": diff.objects,
            "omitted": diff.omitted,
            "failed": report.failed(),
        });
        report.synchronisation = Some(store(db, time, totals, changes).await?);
    }
    Ok(report)
}

async fn store(db: &Db, time: DateTime<Utc>, c: Counts, changes: Json) -> AppResult<i64> {
    let q = Query::insert()
        .into_table("peeringdb_synchronisation")
        .columns(["time", "created", "updated", "deleted", "changes"])
        .values_panic([
            time.into(),
            (c.created as i64).into(),
            (c.updated as i64).into(),
            (c.deleted as i64).into(),
            changes.to_string().into(),
        ])
        .returning_col("id")
        .to_owned();
    let w = db.begin_write().await?;
    let row = w.txn.query_one(&q).await?.ok_or_else(|| anyhow::anyhow!("no id returned"))?;
    let id: i64 = row.try_get_by_index(0)?;
    w.commit().await?;
    Ok(id)
}
