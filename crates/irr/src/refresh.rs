//! Refreshing cache rows from one IRR server: one connection for the whole
//! run (reopened only after a failure that leaves it unusable), one fetch
//! per distinct key however many ASes share it.

use pm_db::{AppResult, Db};
use serde_json::Value as Json;

use crate::cache::{self, CacheKey, Cached};
use crate::expand::{Target, as_list, prefix_list};
use crate::{BgpqArgs, Family, IrrError, Limits, WhoisClient};

/// Fetches expansions from one server.
pub struct Fetcher {
    server: String,
    limits: Limits,
    /// Largest list accepted (e.g. Junos' 85,325-entry prefix-list cap).
    max_entries: usize,
    client: Option<WhoisClient>,
}

impl Fetcher {
    pub fn new(server: &str, limits: Limits, max_entries: usize) -> Fetcher {
        Fetcher { server: server.to_owned(), limits, max_entries, client: None }
    }

    /// The entries of `key`: bgpq4 `-j` items for prefix lists, ASNs for AS
    /// lists.
    pub async fn fetch(&mut self, key: &CacheKey) -> Result<Vec<Json>, IrrError> {
        let family = if key.family == 6 { Family::V6 } else { Family::V4 };
        let words: Vec<&str> = key.arguments.split_whitespace().collect();
        let args = BgpqArgs::parse(family, &words)?;
        let client = match &mut self.client {
            Some(client) => client,
            slot => slot.insert(WhoisClient::connect(&self.server, "peering-manager", self.limits).await?),
        };
        let target = Target { name: &key.query, sources: &key.sources };
        let result = if key.kind == "as-list" {
            as_list(client, &target, &args).await.map(|asns| asns.into_iter().map(Json::from).collect())
        } else {
            prefix_list(client, &target, family, &args, self.max_entries)
                .await
                .map(|list| list.iter().map(|entry| serde_json::to_value(entry).expect("plain data")).collect())
        };
        if matches!(
            result,
            Err(IrrError::Timeout { .. } | IrrError::Io { .. } | IrrError::Protocol { .. } | IrrError::TooLarge { .. })
        ) {
            // Answers may still be in flight: this connection is out of step.
            self.client = None;
        }
        result
    }

    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            client.close().await;
        }
    }
}

/// Fetches and stores every key (duplicates once), reporting each stored
/// row to `progress` (index, total, key, row). A key that cannot be fetched
/// is stored as failed (its last good entries kept); the run goes on.
pub async fn refresh(
    db: &Db,
    fetcher: &mut Fetcher,
    keys: &[CacheKey],
    mut progress: impl FnMut(usize, usize, &CacheKey, &Cached),
) -> AppResult<Vec<Cached>> {
    let mut seen = std::collections::HashSet::new();
    let keys: Vec<&CacheKey> = keys.iter().filter(|key| seen.insert(*key)).collect();
    let mut out = Vec::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        let outcome = fetcher.fetch(key).await;
        let stored = cache::store(db, key, outcome).await?;
        progress(index, keys.len(), key, &stored);
        out.push(stored);
    }
    Ok(out)
}
