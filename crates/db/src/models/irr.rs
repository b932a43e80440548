//! The IRR cache (issue 15): one row per distinct IRR expansion — an AS-SET
//! or ASN, for one family (or the AS list), from given sources with given
//! bgpq arguments — shared by every AS, router and template that needs it.
//!
//! Kept out of the AS row (PM stores megabytes of prefixes there and sends
//! them in every AS payload) and out of the API: it has no endpoint of its
//! own; readers ask for one expansion by its key.

use crate::hooks::Hooks;
use crate::model::{c, f, *};

/// What a row holds: a prefix list (bgpq4 `-l prefix_list` items) or an
/// AS list (ASNs).
pub const IRR_CACHE_KIND: &[Choice] = &[c("prefix-list", "Prefix list"), c("as-list", "AS list")];

/// Where a row stands. "empty" is a successful fetch with no entries,
/// distinct from "never fetched" and from "failed" (which keeps the
/// previous entries, so a broken IRR never empties a router's filter).
pub const IRR_CACHE_STATUS: &[Choice] =
    &[c("pending", "Never fetched"), c("fetched", "Fetched"), c("empty", "Empty"), c("failed", "Failed")];

pub static IRR_CACHE: Model = Model {
    app: "peering",
    name: "irrcache",
    verbose: "IRR cache entry",
    verbose_plural: "IRR cache entries",
    table: "peering_irrcache",
    api: "",
    ui: None,
    fields: &[
        f::ID,
        f::choice("kind", IRR_CACHE_KIND, "prefix-list"),
        // `AS-FOO`, `AS65535:AS-FOO` or `AS65001`, as queried.
        f::text("query", 255).required(),
        // 4 or 6 for prefix lists, 0 for AS lists.
        f::int("family", 0, 6).default(Init::Int(0)),
        // Comma-separated IRR sources in priority order; "" = server default.
        f::text("sources", 512),
        // The bgpq arguments, normalised (e.g. "-A -r 8 -R 24").
        f::text("arguments", 255),
        f::choice("status", IRR_CACHE_STATUS, "pending"),
        // When the entries were last fetched successfully.
        f::datetime("fetched"),
        // When the last attempt ended (success or failure).
        f::datetime("attempted"),
        f::text("error", 1000),
        // bgpq4 `-j` items for prefix lists, ASNs for AS lists.
        f::json("entries"),
        f::uint("entry_count").default(Init::Int(0)),
        // What the last fetch changed: counts shown on the AS ("+3 −1").
        f::uint("added").default(Init::Int(0)),
        f::uint("removed").default(Init::Int(0)),
    ],
    ordering: &["query", "kind", "family"],
    brief: &[],
    brief_display_url: false,
    filters: &[],
    search: &[],
    features: Features::SYSTEM,
    access: Access::Mirror,
    display_deps: &[],
    display: |v| v.text("query").to_string(),
    hooks: Hooks::NONE,
    unique_together: &[(
        &["kind", "query", "family", "sources", "arguments"],
        "IRR cache entry with this kind, query, family, sources and arguments already exists.",
    )],
};
