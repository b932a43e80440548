//! The thirteen namespaces, in the order the sync walks them: a record's
//! references are (usually) in the cache before the record arrives.

use pm_db::model::Model;
use pm_db::models::peeringdb as m;

pub struct Namespace {
    /// PeeringDB's tag: `net`, `netixlan`, …
    pub tag: &'static str,
    pub model: &'static Model,
    /// Columns the sync never sets, whatever PeeringDB sends.
    pub ignored: &'static [&'static str],
}

pub static NAMESPACES: [Namespace; 13] = [
    Namespace { tag: "org", model: &m::ORGANIZATION, ignored: &[] },
    Namespace { tag: "campus", model: &m::CAMPUS, ignored: &[] },
    // Peering Manager never fills a facility's campus (spec §4.1).
    Namespace { tag: "fac", model: &m::FACILITY, ignored: &["campus"] },
    Namespace { tag: "carrier", model: &m::CARRIER, ignored: &[] },
    Namespace { tag: "carrierfac", model: &m::CARRIER_FACILITY, ignored: &[] },
    Namespace { tag: "net", model: &m::NETWORK, ignored: &[] },
    Namespace { tag: "ix", model: &m::INTERNET_EXCHANGE, ignored: &[] },
    Namespace { tag: "ixfac", model: &m::INTERNET_EXCHANGE_FACILITY, ignored: &[] },
    Namespace { tag: "ixlan", model: &m::IXLAN, ignored: &[] },
    Namespace { tag: "ixpfx", model: &m::IXLAN_PREFIX, ignored: &[] },
    Namespace { tag: "netfac", model: &m::NETWORK_FACILITY, ignored: &[] },
    Namespace { tag: "netixlan", model: &m::NETWORK_IXLAN, ignored: &[] },
    Namespace { tag: "poc", model: &m::NETWORK_CONTACT, ignored: &[] },
];

pub fn by_tag(tag: &str) -> Option<&'static Namespace> {
    NAMESPACES.iter().find(|n| n.tag == tag)
}
