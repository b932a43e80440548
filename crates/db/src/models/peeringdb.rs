//! peeringdb: the local mirror of PeeringDB (ids are PeeringDB's own, rows
//! written only by the sync in `pm-peeringdb`), the record of each sync, and
//! hidden peers.
//!
//! Mirror foreign keys carry no database constraint (`NoConstraint`):
//! PeeringDB hands out objects that refer to rows it does not send (pending
//! or private ones), and a mirror that refused them would refuse whole
//! namespaces. Likewise no UNIQUE constraint is declared on mirror columns:
//! PeeringDB's own rules hold on its side, and a rename swap seen half-way
//! must not fail a sync. Indexes come from the FK columns and orderings.

use crate::hooks::{self, Hooks};
use crate::model::Lookups::*;
use crate::model::OnDelete::*;
use crate::model::{f, *};
use crate::object::View;
use crate::query::custom::CustomFilter as C;

const ASN_MAX: i64 = 4_294_967_295;

const VISIBILITY: &[Choice] = &[c("Private", "Private"), c("Users", "Users"), c("Public", "Public")];

// Every mirror table holds PeeringDB's own timestamps (not in the API).
const CREATED: Field = Field::new("created", Kind::DateTime).null().internal();
const UPDATED: Field = Field::new("updated", Kind::DateTime).null().internal();
const SOCIAL_MEDIA: Field = Field::new("social_media", Kind::Json { object: false }).null().internal();
const SOCIAL_MEDIA_API: Field = Field::new("social_media", Kind::Json { object: false }).null();
const STATUS_DASHBOARD: Field = Field::new("status_dashboard", Kind::Text { max: 255 }).null().internal();

const fn text(name: &'static str, max: usize) -> Field {
    f::text(name, max)
}
const fn ntext(name: &'static str, max: usize) -> Field {
    f::text(name, max).null()
}
const fn flag(name: &'static str) -> Field {
    f::boolean(name, false)
}
/// A mirror foreign key rendered as the target's whole object.
const fn rel(name: &'static str, to: &'static str) -> Field {
    f::fk(name, to, NoConstraint).null()
}
/// A mirror foreign key rendered as the bare id.
const fn rel_id(name: &'static str, to: &'static str) -> Field {
    f::fk_id(name, to, NoConstraint).null()
}
const fn asn(name: &'static str) -> Field {
    f::int(name, 0, ASN_MAX)
}

fn name(v: &View) -> String {
    v.text("name").to_string()
}

/// A field list with the "address" block (Organization, Facility) after `$pre`.
macro_rules! with_address {
    ([$($pre:expr),* $(,)?], [$($post:expr),* $(,)?]) => {
        &[
            $($pre,)*
            text("address1", 255),
            text("address2", 255),
            text("city", 255),
            text("state", 255),
            text("zipcode", 48),
            text("country", 7),
            ntext("latitude", 32),
            ntext("longitude", 32),
            text("suite", 255),
            text("floor", 255),
            $($post,)*
        ]
    };
}

const fn mirror(
    name: &'static str,
    verbose: &'static str,
    verbose_plural: &'static str,
    table: &'static str,
    api: &'static str,
    fields: &'static [Field],
) -> Model {
    Model {
        app: "peeringdb",
        name,
        verbose,
        verbose_plural,
        table,
        api,
        ui: None,
        fields,
        ordering: &["id"],
        brief: &[],
        brief_display_url: false,
        filters: &[],
        search: &[],
        features: Features::SYSTEM,
        access: Access::Mirror,
        display_deps: &[],
        display: |v| format!("#{}", v.obj.id),
        hooks: Hooks::NONE,
        unique_together: &[],
    }
}

/// A mirror model known by its name (ordered, searched and shown by it).
const fn named(
    name_: &'static str,
    verbose: &'static str,
    verbose_plural: &'static str,
    table: &'static str,
    api: &'static str,
    fields: &'static [Field],
) -> Model {
    Model {
        ordering: &["name"],
        search: &[Search::Contains("name")],
        display: name,
        ..mirror(name_, verbose, verbose_plural, table, api, fields)
    }
}

const BY_ORG: &[Filter] = &[path("org_id", "org_id", Exact)];

pub static ORGANIZATION: Model = named(
    "organization",
    "organization",
    "organizations",
    "peeringdb_organization",
    "organizations",
    with_address!(
        [f::ID],
        [
            text("name", 255).filter(Exact),
            text("name_long", 255),
            text("aka", 255),
            text("website", 255),
            SOCIAL_MEDIA,
            f::long_text("notes"),
            CREATED,
            UPDATED,
        ]
    ),
);

// Campuses keep their `id` in the API (Peering Manager's serializer leaves
// it out by accident; an object without its id cannot be referred to).
pub static CAMPUS: Model = Model {
    filters: BY_ORG,
    ..named(
        "campus",
        "campus",
        "campuses",
        "peeringdb_campus",
        "campuses",
        &[
            f::ID,
            text("name", 255).filter(Exact),
            ntext("name_long", 255),
            ntext("aka", 255),
            ntext("website", 255),
            SOCIAL_MEDIA_API,
            f::long_text("notes"),
            rel("org", "peeringdb.organization"),
            CREATED,
            UPDATED,
        ],
    )
};

pub static FACILITY: Model = Model {
    filters: BY_ORG,
    ..named(
        "facility",
        "facility",
        "facilities",
        "peeringdb_facility",
        "facilities",
        with_address!(
            [f::ID],
            [
                text("name", 255).filter(Exact),
                text("name_long", 255),
                text("aka", 255),
                text("website", 255),
                SOCIAL_MEDIA,
                text("clli", 18),
                text("rencode", 18),
                text("npanxx", 21),
                text("tech_email", 254),
                text("tech_phone", 192),
                text("sales_email", 254),
                text("sales_phone", 192),
                ntext("property", 27),
                Field::new("diverse_serving_substations", Kind::Bool).null(),
                Field::new("available_voltage_services", Kind::MultiChoice).null(),
                f::long_text("notes"),
                ntext("region_continent", 255).internal(),
                STATUS_DASHBOARD,
                rel("org", "peeringdb.organization"),
                // Never filled: the sync ignores `campus` on facilities (spec §4.1).
                rel("campus", "peeringdb.campus").internal(),
                CREATED,
                UPDATED,
            ]
        ),
    )
};

/// Cached for completeness; Peering Manager gives carriers no endpoint.
pub static CARRIER: Model = named(
    "carrier",
    "carrier",
    "carriers",
    "peeringdb_carrier",
    "",
    &[
        f::ID,
        text("name", 255),
        text("aka", 255),
        text("name_long", 255),
        ntext("website", 255),
        SOCIAL_MEDIA,
        f::long_text("notes"),
        rel("org", "peeringdb.organization"),
        CREATED,
        UPDATED,
    ],
);

pub static CARRIER_FACILITY: Model = mirror(
    "carrierfacility",
    "carrier facility",
    "carrier facilities",
    "peeringdb_carrierfacility",
    "",
    &[
        f::ID,
        rel("carrier", "peeringdb.carrier"),
        rel("fac", "peeringdb.facility"),
        rel("campus", "peeringdb.campus"),
        CREATED,
        UPDATED,
    ],
);

pub static NETWORK: Model = Model {
    ordering: &["asn"],
    filters: BY_ORG,
    search: &[Search::Contains("name"), Search::Contains("irr_as_set"), Search::NumEquals("asn")],
    display: |v| format!("AS{} - {}", v.int("asn").unwrap_or(0), v.text("name")),
    ..mirror(
        "network",
        "network",
        "networks",
        "peeringdb_network",
        "networks",
        &[
            f::ID,
            f::computed("display", Computed::Display),
            asn("asn").default(Init::Int(0)).filter(Exact),
            text("name", 255).filter(Exact),
            text("name_long", 255),
            text("aka", 255),
            text("irr_as_set", 255),
            text("website", 255),
            SOCIAL_MEDIA,
            text("looking_glass", 255),
            text("route_server", 255),
            f::long_text("notes"),
            f::long_text("notes_private"),
            text("info_traffic", 39),
            text("info_ratio", 45),
            text("info_scope", 39),
            text("info_type", 60),
            Field::new("info_types", Kind::MultiChoice).null(),
            f::uint("info_prefixes4").null(),
            f::uint("info_prefixes6").null(),
            flag("info_unicast"),
            flag("info_multicast"),
            flag("info_ipv6"),
            flag("info_never_via_route_servers"),
            text("policy_url", 255),
            text("policy_general", 72),
            text("policy_locations", 72),
            flag("policy_ratio"),
            text("policy_contracts", 36),
            STATUS_DASHBOARD,
            ntext("rir_status", 255).internal(),
            f::datetime("rir_status_updated").internal(),
            rel("org", "peeringdb.organization"),
            CREATED,
            UPDATED,
        ],
    )
};

pub static NETWORK_CONTACT: Model = Model {
    filters: &[path("net_id", "net_id", Exact), path("net_asn", "net.asn", Exact)],
    display: |v| match v.text("email") {
        "" => v.text("name").to_string(),
        email => format!("{} <{email}>", v.text("name")),
    },
    ..mirror(
        "networkcontact",
        "network contact",
        "network contacts",
        "peeringdb_networkcontact",
        "network-contacts",
        &[
            f::ID,
            f::computed("display", Computed::Display),
            text("role", 27).filter(Exact),
            // The one mirror field Peering Manager renders `{value, label}`.
            Field::new("visible", Kind::Choice(VISIBILITY)).default(Init::Text("Public")).obj(),
            text("name", 254).filter(Exact),
            text("phone", 100),
            text("email", 254).filter(Exact),
            text("url", 255),
            rel("net", "peeringdb.network"),
            CREATED,
            UPDATED,
        ],
    )
};

pub static NETWORK_FACILITY: Model = Model {
    filters: &[path("fac_id", "fac_id", Exact), path("net_id", "net_id", Exact)],
    ..mirror(
        "networkfacility",
        "network facility",
        "network facilities",
        "peeringdb_networkfacility",
        "network-facilities",
        &[
            f::ID,
            asn("local_asn").null().filter(Exact),
            flag("avail_sonet"),
            flag("avail_ethernet"),
            flag("avail_atm"),
            rel("net", "peeringdb.network"),
            rel("fac", "peeringdb.facility"),
            CREATED,
            UPDATED,
        ],
    )
};

pub static INTERNET_EXCHANGE: Model = Model {
    filters: BY_ORG,
    ..named(
        "internetexchange",
        "internet exchange",
        "internet exchanges",
        "peeringdb_internetexchange",
        "internet-exchanges",
        &[
            f::ID,
            text("name", 64).filter(Exact),
            text("name_long", 254),
            text("aka", 254),
            text("city", 192),
            text("country", 7),
            f::long_text("notes"),
            ntext("region_continent", 255),
            text("media", 128),
            flag("proto_unicast"),
            flag("proto_multicast"),
            flag("proto_ipv6"),
            text("website", 255),
            SOCIAL_MEDIA,
            text("url_stats", 255),
            text("tech_email", 254),
            text("tech_phone", 192),
            text("policy_email", 254),
            text("policy_phone", 192),
            text("sales_email", 254),
            text("sales_phone", 192),
            f::uint("ixf_net_count").default(Init::Int(0)),
            f::datetime("ixf_last_import"),
            text("service_level", 60),
            text("terms", 60),
            STATUS_DASHBOARD,
            rel("org", "peeringdb.organization"),
            CREATED,
            UPDATED,
        ],
    )
};

pub static INTERNET_EXCHANGE_FACILITY: Model = Model {
    filters: &[path("fac_id", "fac_id", Exact), path("ix_id", "ix_id", Exact)],
    ..mirror(
        "internetexchangefacility",
        "internet exchange facility",
        "internet exchange facilities",
        "peeringdb_internetexchangefacility",
        "internet-exchange-facilities",
        &[f::ID, rel("ix", "peeringdb.internetexchange"), rel("fac", "peeringdb.facility"), CREATED, UPDATED],
    )
};

pub static IXLAN: Model = Model {
    filters: &[path("ix_id", "ix_id", Exact)],
    display_deps: &["ix"],
    display: |v| {
        let ix = v.related("ix").map(|x| x.text("name").to_string()).unwrap_or_else(|| format!("IX #{}", v.obj.id));
        match v.text("name") {
            "" => ix,
            n => format!("{ix} - {n}"),
        }
    },
    ..mirror(
        "ixlan",
        "IX LAN",
        "IX LANs",
        "peeringdb_ixlan",
        "ixlans",
        &[
            f::ID,
            text("name", 255),
            f::long_text("descr"),
            f::uint("mtu").null(),
            f::uint("vlan").null().filter(Exact),
            flag("dot1q_support"),
            asn("rs_asn").null().default(Init::Int(0)).filter(Exact),
            ntext("arp_sponge", 17),
            ntext("ixf_ixp_member_list_url", 255),
            text("ixf_ixp_member_list_url_visible", 64).default(Init::Text("Private")),
            rel("ix", "peeringdb.internetexchange"),
            CREATED,
            UPDATED,
        ],
    )
};

pub static IXLAN_PREFIX: Model = Model {
    filters: &[path("ixlan_id", "ixlan_id", Exact), path("in_dfz", "in_dfz", Exact)],
    // Peering Manager matches the exact network; a host match on the
    // prefix column finds the same rows for a prefix typed in full.
    search: &[Search::IpHost("prefix")],
    display: |v| v.text("prefix").to_string(),
    ..mirror(
        "ixlanprefix",
        "IX LAN prefix",
        "IX LAN prefixes",
        "peeringdb_ixlanprefix",
        "ixlan-prefixes",
        &[
            f::ID,
            text("notes", 255),
            text("protocol", 64),
            text("prefix", 43),
            flag("in_dfz"),
            rel("ixlan", "peeringdb.ixlan"),
            CREATED,
            UPDATED,
        ],
    )
};

pub static NETWORK_IXLAN: Model = Model {
    ordering: &["asn"],
    filters: &[
        path("is_rs_peer", "is_rs_peer", Exact),
        path("bfd_support", "bfd_support", Exact),
        path("net__info_traffic", "net.info_traffic", Exact),
        path("net__info_scope", "net.info_scope", Exact),
        path("net__info_type", "net.info_type", Exact),
        path("net__policy_general", "net.policy_general", Exact),
        path("net__policy_locations", "net.policy_locations", Exact),
        path("net__policy_ratio", "net.policy_ratio", Exact),
        path("net__policy_contracts", "net.policy_contracts", Exact),
        path("net_id", "net_id", Exact),
        path("net_asn", "net.asn", Exact),
        path("ixlan_id", "ixlan_id", Exact),
    ],
    search: &[
        Search::Contains("net.name"),
        Search::NumEquals("asn"),
        Search::IpHost("ipaddr4"),
        Search::IpHost("ipaddr6"),
    ],
    display_deps: &["net"],
    display: |v| match v.related("net") {
        Some(n) => format!("AS{} - {}", n.int("asn").unwrap_or(0), n.text("name")),
        None => format!("AS{}", v.int("asn").unwrap_or(0)),
    },
    ..mirror(
        "networkixlan",
        "network IX LAN",
        "network IX LANs",
        "peeringdb_networkixlan",
        "network-ixlans",
        &[
            f::ID,
            asn("asn").default(Init::Int(0)).filter(Exact),
            // Kept as PeeringDB sends them (bare hosts); rendered `/32`, `/128`.
            Field::new("ipaddr4", Kind::Inet { prefix: true }).null(),
            Field::new("ipaddr6", Kind::Inet { prefix: true }).null(),
            flag("is_rs_peer"),
            flag("bfd_support"),
            text("notes", 255),
            f::uint("speed").default(Init::Int(0)),
            f::boolean("operational", true),
            rel_id("net", "peeringdb.network"),
            rel_id("ixlan", "peeringdb.ixlan"),
            rel("net_side", "peeringdb.facility"),
            rel("ix_side", "peeringdb.facility"),
            CREATED,
            UPDATED,
        ],
    )
};

/// One row per sync that changed something; `changes` holds the per-object
/// diff shown in the UI (counts per namespace, and the changed objects
/// unless the sync was a first download).
pub static SYNCHRONISATION: Model = Model {
    ordering: &["-time"],
    display: |v| match v.get("time") {
        crate::object::Val::Time(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        _ => format!("Synchronisation #{}", v.obj.id),
    },
    ..mirror(
        "synchronisation",
        "synchronisation",
        "synchronisations",
        "peeringdb_synchronisation",
        "synchronisations",
        &[
            f::ID,
            f::datetime("time").filter(Exact),
            f::uint("created").default(Init::Int(0)).filter(Exact),
            f::uint("updated").default(Init::Int(0)).filter(Exact),
            f::uint("deleted").default(Init::Int(0)).filter(Exact),
            Field::new("changes", Kind::Json { object: true }).null().internal(),
        ],
    )
};

pub static HIDDEN_PEER: Model = Model {
    app: "peeringdb",
    name: "hiddenpeer",
    verbose: "hidden peer",
    verbose_plural: "hidden peers",
    table: "peeringdb_hiddenpeer",
    api: "hidden-peers",
    ui: Some("/peeringdb/hidden-peers/"),
    fields: &[
        f::ID,
        f::fk_id("peeringdb_network", "peeringdb.network", SetNull).null().label("Network"),
        f::uint("peeringdb_network_id_copy").null().internal(),
        f::fk_id("peeringdb_ixlan", "peeringdb.ixlan", SetNull).null().label("IX LAN"),
        f::uint("peeringdb_ixlan_id_copy").null().internal(),
        f::datetime("until").filter(Exact),
        f::COMMENTS,
        f::computed("is_expired", Computed::IsExpired),
        f::CREATED.internal(),
        f::UPDATED.internal(),
    ],
    ordering: &["until", "peeringdb_network_id", "peeringdb_ixlan_id"],
    brief: &["peeringdb_network", "peeringdb_ixlan", "until"],
    brief_display_url: true,
    filters: &[
        path("peeringdb_network_id", "peeringdb_network_id", Rel),
        path("peeringdb_network_asn", "peeringdb_network.asn", Rel),
        path("peeringdb_ixlan_id", "peeringdb_ixlan_id", Rel),
        custom("is_expired", C::IsExpired("until")),
    ],
    search: &[
        Search::Contains("peeringdb_network.name"),
        Search::Contains("peeringdb_ixlan.name"),
        Search::Contains("comments"),
        Search::NumStartsWith("peeringdb_network.asn"),
    ],
    features: Features::LOGGED,
    access: Access::ReadWrite,
    display_deps: &["peeringdb_network", "peeringdb_ixlan.ix"],
    display: |v| {
        let net = match v.related("peeringdb_network") {
            Some(n) => (NETWORK.display)(&n),
            None => format!("Network ID {}", v.int("peeringdb_network_id_copy").unwrap_or(0)),
        };
        let ixlan = match v.related("peeringdb_ixlan") {
            Some(l) => (IXLAN.display)(&l),
            None => format!("IX LAN ID {}", v.int("peeringdb_ixlan_id_copy").unwrap_or(0)),
        };
        format!("{net} hidden on {ixlan}")
    },
    hooks: Hooks { clean: Some(hooks::hidden_peer) },
    unique_together: &[(
        &["peeringdb_network_id_copy", "peeringdb_ixlan_id_copy"],
        "Hidden peer with this Peeringdb network id copy and Peeringdb ixlan id copy already exists.",
    )],
};
