//! The PeeringDB cache: download what changed since the last sync, apply
//! each namespace whole in one transaction, record what changed, then
//! re-link local objects and refresh autonomous systems.
//!
//! * [`client`]: the HTTP side (timeouts, 429 and 5xx retries, API key).
//! * [`namespaces`]: the thirteen namespaces, in dependency order.
//! * [`apply`]: PeeringDB records → rows, compared in bulk, upserted in batches.
//! * [`sync`]: one synchronisation, its report and its stored diff.
//! * [`link`]: connections, IXPs and hidden peers re-attached to the cache.
//! * [`autonomous`]: autonomous systems refreshed from their network.
//! * [`flush`]: emptying the cache.
//! * [`job`]: the `peeringdb.synchronise` job type.
//! * `fake` (feature `fake`): a PeeringDB speaking the real wire format.

pub mod apply;
pub mod autonomous;
pub mod client;
#[cfg(feature = "fake")]
pub mod dataset;
#[cfg(feature = "fake")]
pub mod fake;
pub mod flush;
pub mod job;
pub mod link;
pub mod namespaces;
pub mod stats;
pub mod sync;

pub use client::{Client, ClientConfig};
pub use sync::{NsReport, Progress, Report, synchronise};

/// Job type name (spec §3.8).
pub const JOB_NAME: &str = "peeringdb.synchronise";

/// The user name change-log entries carry when the sync changes an AS
/// without a user behind it (schedules, the CLI).
pub const SYNC_USER_NAME: &str = "PeeringDB sync";
