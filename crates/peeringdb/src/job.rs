//! The `peeringdb.synchronise` job type: sync, then refresh autonomous
//! systems, logging as Peering Manager does ("Created N objects", …).

use pm_jobs::{JobCtx, Registry};

use crate::autonomous::{self, Who};
use crate::sync::{NsReport, Progress};
use crate::{Client, ClientConfig, JOB_NAME};

/// The job reads `PM_PEERINGDB_*` when it runs.
pub fn register(r: &mut Registry) {
    register_with(r, None);
}

/// With a fixed client configuration (tests point it at a fake PeeringDB).
pub fn register_with(r: &mut Registry, config: Option<ClientConfig>) {
    r.add(JOB_NAME, move |ctx| run(ctx, config.clone()));
    // A first download of the whole of PeeringDB from a slow link takes a
    // while; Peering Manager allows it 90 minutes, so do we.
    r.set_timeout(JOB_NAME, std::time::Duration::from_secs(5400));
}

struct JobProgress(JobCtx);

impl Progress for JobProgress {
    fn started(&self, index: usize, total: usize, tag: &str, since: i64) {
        self.0.progress(index as u64, total as u64);
        self.0.info(&format!("Synchronising {tag} (changes since {since})."));
    }
    fn finished(&self, index: usize, total: usize, r: &NsReport) {
        self.0.progress(index as u64 + 1, total as u64);
        match &r.error {
            Some(e) => self.0.failure(&format!("{}: {e}; left unchanged.", r.tag)),
            None => self.0.info(&format!(
                "{}: {} received, {} created, {} updated, {} deleted.",
                r.tag, r.received, r.counts.created, r.counts.updated, r.counts.deleted
            )),
        }
    }
}

async fn run(ctx: JobCtx, config: Option<ClientConfig>) -> anyhow::Result<()> {
    let client = Client::new(config.unwrap_or_else(ClientConfig::from_env))?;
    ctx.info(&format!("Synchronising the PeeringDB cache from {}.", client.config.base_url));
    let report = crate::synchronise(&ctx.db, &client, &JobProgress(ctx.clone())).await?;
    if let Some(e) = &report.unreachable {
        ctx.fail(&format!("PeeringDB is unreachable, nothing synchronised: {e}."));
        return Ok(());
    }
    let t = report.totals();
    if t.total() == 0 {
        ctx.info("Nothing to synchronise.");
    } else {
        ctx.success(&format!("Created {} objects", t.created));
        ctx.success(&format!("Updated {} objects", t.updated));
        ctx.success(&format!("Deleted {} objects", t.deleted));
        let user_name = match ctx.user_id {
            Some(id) => pm_db::auth::user_by_id(&ctx.db.conn, id).await?.map(|u| u.username),
            None => None,
        };
        let who = Who {
            user_id: ctx.user_id,
            user_name: user_name.unwrap_or_else(|| crate::SYNC_USER_NAME.into()),
            request_id: uuid::Uuid::new_v4(),
        };
        let outcomes = autonomous::synchronise(&ctx.db, &ctx.config.settings, &who, None).await?;
        let tally = autonomous::tally(&outcomes);
        ctx.info(&format!("Updating values for {} autonomous systems", tally.updated));
    }
    ctx.output(&report.summary());
    let failed = report.failed();
    if !failed.is_empty() {
        ctx.fail(&format!("Namespaces not synchronised: {}.", failed.join(", ")));
    }
    Ok(())
}
