//! IRR prefix lists and AS lists, fetched natively from an IRRd-compatible
//! whois server and shaped like bgpq4's output (spec:
//! templating-and-integrations.md §6, real-parts.md §3).
//!
//! * [`whois`]: one persistent, pipelined connection speaking IRRd's `!`
//!   query language, with timeouts and bounded answers.
//! * [`aggregate`]: bgpq4's `-R`/`-r`/`-A` shaping, pure.
//! * [`expand`]: what PM asks bgpq4 for: the prefix list of an AS-SET or
//!   ASN per family, and the AS list of a set.
//! * [`args`]: PM's bgpq argument strings (`BGPQ3_ARGS`, per-AS overrides).

pub mod aggregate;
pub mod args;
pub mod cache;
pub mod expand;
pub mod job;
pub mod refresh;
pub mod whois;

pub use aggregate::{Family, PrefixEntry, Shaping};
pub use args::BgpqArgs;
pub use whois::{Answer, Limits, WhoisClient};

/// Everything that can go wrong fetching IRR data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IrrError {
    #[error("IRR object {name} not found")]
    NotFound { name: String },
    #[error("IRR server {server} answered {query:?} with an error: {message}")]
    Server { server: String, query: String, message: String },
    #[error("IRR server {server} did not answer in time")]
    Timeout { server: String },
    #[error("IRR server {server}: {error}")]
    Io { server: String, error: String },
    #[error("IRR server {server} broke the whois protocol: {what}")]
    Protocol { server: String, what: String },
    #[error("IRR server {server}: the answer to {query:?} is larger than {limit} bytes")]
    TooLarge { server: String, query: String, limit: usize },
    #[error("the expansion has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("invalid IRR query {0:?}")]
    BadQuery(String),
    #[error("unsupported bgpq argument {0:?}")]
    BadArgument(String),
}
