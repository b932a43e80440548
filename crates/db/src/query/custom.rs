//! Filters that are predicates rather than field lookups.

/// Every hand-written filter; `query::filter` turns each into SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomFilter {
    /// `4` or `6`: IP version of the named address column.
    AddressFamily(&'static str),
    /// Objects created/updated by the request with this id (change log).
    CreatedByRequest,
    UpdatedByRequest,
    /// IXP sessions present in the PeeringDB cache (needs the cache tables).
    ExistsInPeeringdb,
    IsAbandoned,
    /// Routing policies of a type; import-export policies always match (PM behaviour).
    RoutingPolicyType,
    /// Tags used by at least one object of a content type (`app.model` or id).
    TagContentType,
    TagContentTypeId,
    /// `time >= value` / `time <= value` on the named column.
    After(&'static str),
    Before(&'static str),
    /// Content type as `app.model` on the named FK column.
    ContentTypeLabel(&'static str),
    /// Tokens / hidden peers whose expiry passed.
    IsExpired(&'static str),
}
