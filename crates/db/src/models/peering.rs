//! peering: autonomous systems, groups, IXPs, sessions, routing policies.

use crate::choices::*;
use crate::hooks::{self, Hooks};
use crate::model::Lookups::*;
use crate::model::OnDelete::*;
use crate::model::{f, *};
use crate::object::View;
use crate::query::custom::CustomFilter as C;

const ASN_MAX: i64 = 4_294_967_295;

fn name(v: &View) -> String {
    v.text("name").to_string()
}

pub static AUTONOMOUS_SYSTEM: Model = Model {
    app: "peering",
    name: "autonomoussystem",
    verbose: "autonomous system",
    verbose_plural: "autonomous systems",
    table: "peering_autonomoussystem",
    api: "autonomous-systems",
    ui: Some("/autonomous-systems/"),
    fields: &[
        f::ID,
        f::int("asn", 1, ASN_MAX)
            .required()
            .unique("Autonomous system with this ASN already exists.")
            .filter(Num)
            .label("ASN"),
        f::text("name", 200).required().filter(Str),
        f::boolean("name_peeringdb_sync", true),
        f::DESCRIPTION_NOFILTER,
        f::COMMENTS,
        f::text("irr_as_set", 255).null().filter(Str).label("IRR AS-SET"),
        f::boolean("irr_as_set_peeringdb_sync", true),
        f::uint("ipv6_max_prefixes").null().default(Init::Int(0)).filter(Num).label("IPv6 max prefixes"),
        f::boolean("ipv6_max_prefixes_peeringdb_sync", true),
        f::uint("ipv4_max_prefixes").null().default(Init::Int(0)).filter(Num).label("IPv4 max prefixes"),
        f::boolean("ipv4_max_prefixes_peeringdb_sync", true),
        f::m2m(
            "import_routing_policies",
            "peering.routingpolicy",
            "peering_autonomoussystem_import_routing_policies",
            "autonomoussystem_id",
            "routingpolicy_id",
        ),
        f::m2m(
            "export_routing_policies",
            "peering.routingpolicy",
            "peering_autonomoussystem_export_routing_policies",
            "autonomoussystem_id",
            "routingpolicy_id",
        ),
        f::m2m(
            "communities",
            "bgp.community",
            "peering_autonomoussystem_communities",
            "autonomoussystem_id",
            "community_id",
        ),
        f::json("prefixes").ro(),
        f::boolean("retrieve_prefixes", true),
        Field::new("as_list", Kind::IntList).ro().default(Init::Json("[]")).label("AS list"),
        f::boolean("retrieve_as_list", true),
        f::text("irr_sources_override", 255),
        f::text("irr_ipv6_prefixes_args_override", 255),
        f::text("irr_ipv4_prefixes_args_override", 255),
        f::boolean("affiliated", false).filter(Exact),
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["asn", "affiliated"],
    brief: &["asn", "name", "ipv6_max_prefixes", "ipv4_max_prefixes"],
    brief_display_url: true,
    filters: &[],
    search: &[
        Search::Contains("name"),
        Search::Contains("description"),
        Search::Contains("irr_as_set"),
        Search::NumStartsWith("asn"),
    ],
    features: Features::PRIMARY.with_journal(),
    access: Access::ReadWrite,
    display_deps: &[],
    display: |v| format!("AS{} - {}", v.int("asn").unwrap_or(0), v.text("name")),
    hooks: Hooks::NONE,
    unique_together: &[],
};

pub static BGP_GROUP: Model = Model {
    app: "peering",
    name: "bgpgroup",
    verbose: "BGP group",
    verbose_plural: "BGP groups",
    table: "peering_bgpgroup",
    api: "bgp-groups",
    ui: Some("/bgp-groups/"),
    fields: &[
        f::ID,
        f::text("name", 100).required().unique("BGP group with this name already exists.").filter(Str),
        f::text("slug", 100).required().unique("BGP group with this slug already exists.").filter(Str),
        f::DESCRIPTION,
        f::choice("status", GROUP_STATUS, "enabled").obj(),
        f::m2m(
            "import_routing_policies",
            "peering.routingpolicy",
            "peering_bgpgroup_import_routing_policies",
            "bgpgroup_id",
            "routingpolicy_id",
        ),
        f::m2m(
            "export_routing_policies",
            "peering.routingpolicy",
            "peering_bgpgroup_export_routing_policies",
            "bgpgroup_id",
            "routingpolicy_id",
        ),
        f::m2m("communities", "bgp.community", "peering_bgpgroup_communities", "bgpgroup_id", "community_id"),
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["name", "slug"],
    brief: &["name", "slug", "status"],
    brief_display_url: true,
    filters: &[],
    search: &[Search::Contains("name"), Search::Contains("slug"), Search::Contains("description")],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &[],
    display: name,
    hooks: Hooks::NONE,
    unique_together: &[],
};

pub static INTERNET_EXCHANGE: Model = Model {
    app: "peering",
    name: "internetexchange",
    verbose: "internet exchange",
    verbose_plural: "internet exchanges",
    table: "peering_internetexchange",
    api: "internet-exchanges",
    ui: Some("/internet-exchanges/"),
    fields: &[
        f::ID,
        f::fk_id("peeringdb_ixlan", "peeringdb.ixlan", SetNull).null().label("PeeringDB IXLAN"),
        f::computed("peeringdb_prefixes", Computed::PeeringdbPrefixes),
        Field::new("ixapi_endpoint", Kind::Fk { to: "extras.ixapi", nested: true, on_delete: SetNull }).null(),
        f::text("name", 100).required().unique("Internet exchange with this name already exists.").filter(Str),
        f::text("slug", 100).required().unique("Internet exchange with this slug already exists.").filter(Str),
        f::DESCRIPTION,
        f::choice("status", GROUP_STATUS, "enabled").obj(),
        f::fk("local_autonomous_system", "peering.autonomoussystem", Cascade).null().required(),
        f::m2m(
            "import_routing_policies",
            "peering.routingpolicy",
            "peering_internetexchange_import_routing_policies",
            "internetexchange_id",
            "routingpolicy_id",
        ),
        f::m2m(
            "export_routing_policies",
            "peering.routingpolicy",
            "peering_internetexchange_export_routing_policies",
            "internetexchange_id",
            "routingpolicy_id",
        ),
        f::m2m(
            "communities",
            "bgp.community",
            "peering_internetexchange_communities",
            "internetexchange_id",
            "community_id",
        ),
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["local_autonomous_system_id", "name", "slug"],
    brief: &["name", "slug", "status"],
    brief_display_url: true,
    filters: &[
        path("local_autonomous_system_id", "local_autonomous_system_id", Rel),
        path("local_autonomous_system_asn", "local_autonomous_system.asn", Rel),
        path("local_autonomous_system", "local_autonomous_system.name", Rel),
    ],
    search: &[
        Search::Contains("name"),
        Search::Contains("slug"),
        Search::Contains("local_autonomous_system.name"),
        Search::NumEquals("local_autonomous_system.asn"),
    ],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &[],
    display: name,
    hooks: Hooks::NONE,
    unique_together: &[],
};

/// Fields both session models share, in Peering Manager's API order.
macro_rules! session_policy_fields {
    ($model:literal) => {
        [
            f::m2m(
                "import_routing_policies",
                "peering.routingpolicy",
                concat!("peering_", $model, "_import_routing_policies"),
                concat!($model, "_id"),
                "routingpolicy_id",
            ),
            f::m2m(
                "export_routing_policies",
                "peering.routingpolicy",
                concat!("peering_", $model, "_export_routing_policies"),
                concat!($model, "_id"),
                "routingpolicy_id",
            ),
            f::m2m(
                "communities",
                "bgp.community",
                concat!("peering_", $model, "_communities"),
                concat!($model, "_id"),
                "community_id",
            ),
        ]
    };
}

const DIRECT_POLICIES: [Field; 3] = session_policy_fields!("directpeeringsession");
const IXP_POLICIES: [Field; 3] = session_policy_fields!("internetexchangepeeringsession");

const SERVICE_REFERENCE: Field = f::text("service_reference", 255).null();
const SESSION_STATUS_FIELD: Field = f::choice("status", SESSION_STATUS, "enabled").obj();
const PASSWORD: Field = f::text("password", 255).null().secret();
const ENCRYPTED_PASSWORD: Field = f::text("encrypted_password", 255).null().secret();
const MULTIHOP_TTL: Field = f::int("multihop_ttl", 1, 255).default(Init::Int(1)).filter(Num);
const PASSIVE: Field = f::boolean("passive", false).filter(Exact);
const BFD: Field = f::fk("bfd", "net.bfd", SetNull).null().label("BFD");
const BGP_STATE_FIELD: Field = Field::new("bgp_state", Kind::Choice(BGP_STATE)).null().filter(Rel).label("BGP state");
const RECEIVED: Field = f::uint("received_prefix_count").default(Init::Int(0));
const ACCEPTED: Field = f::uint("accepted_prefix_count").default(Init::Int(0));
const ADVERTISED: Field = f::uint("advertised_prefix_count").default(Init::Int(0));
const LAST_ESTABLISHED: Field = f::datetime("last_established_state");

pub static DIRECT_PEERING_SESSION: Model = Model {
    app: "peering",
    name: "directpeeringsession",
    verbose: "direct peering session",
    verbose_plural: "direct peering sessions",
    table: "peering_directpeeringsession",
    api: "direct-peering-sessions",
    ui: Some("/direct-peering-sessions/"),
    fields: &[
        f::ID,
        SERVICE_REFERENCE,
        f::fk("local_autonomous_system", "peering.autonomoussystem", Cascade).null().required(),
        Field::new("local_ip_address", Kind::Inet { prefix: true }).null().label("Local IP address"),
        f::fk("autonomous_system", "peering.autonomoussystem", Cascade).required(),
        f::fk("bgp_group", "peering.bgpgroup", SetNull).null().label("BGP group"),
        Field::new("ip_address", Kind::Inet { prefix: true }).required().label("IP address"),
        SESSION_STATUS_FIELD,
        f::fk("relationship", "bgp.relationship", Protect).required(),
        PASSWORD,
        ENCRYPTED_PASSWORD,
        MULTIHOP_TTL,
        PASSIVE,
        DIRECT_POLICIES[0],
        DIRECT_POLICIES[1],
        DIRECT_POLICIES[2],
        BFD,
        f::fk("router", "devices.router", SetNull).null(),
        f::fk("connection", "net.connection", SetNull).null(),
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        BGP_STATE_FIELD,
        RECEIVED,
        ACCEPTED,
        ADVERTISED,
        LAST_ESTABLISHED,
        f::COMMENTS,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["service_reference", "local_autonomous_system_id", "autonomous_system_id", "ip_address"],
    brief: &["ip_address", "status"],
    brief_display_url: true,
    filters: &[
        path("local_autonomous_system_id", "local_autonomous_system_id", Rel),
        path("local_autonomous_system_asn", "local_autonomous_system.asn", Rel),
        path("local_autonomous_system", "local_autonomous_system.name", Rel),
        path("autonomous_system_id", "autonomous_system_id", Rel),
        path("autonomous_system_asn", "autonomous_system.asn", Rel),
        path("autonomous_system", "autonomous_system.name", Rel),
        path("bgp_group_id", "bgp_group_id", Rel),
        path("bgp_group", "bgp_group.name", Rel),
        custom("address_family", C::AddressFamily("ip_address")),
        path("bfd_id", "bfd_id", Rel),
        path("bfd", "bfd.name", Rel),
        path("relationship_id", "relationship_id", Rel),
        path("relationship", "relationship.name", Rel),
        path("router_id", "router_id", Rel),
        path("router_name", "router.name", Rel),
        path("router", "router.hostname", Rel),
        path("connection_id", "connection_id", Rel),
    ],
    search: &[
        Search::Contains("service_reference"),
        Search::Contains("comments"),
        Search::Contains("autonomous_system.name"),
        Search::Contains("bgp_group.name"),
        Search::Contains("bgp_group.slug"),
        Search::Contains("router.name"),
        Search::Contains("router.hostname"),
        Search::IpHost("ip_address"),
        Search::IpHost("local_ip_address"),
    ],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &["relationship", "autonomous_system"],
    display: |v| {
        format!(
            "{} - AS{} - IP {}",
            v.related("relationship").map(|r| r.text("name")).unwrap_or(""),
            v.related("autonomous_system").and_then(|a| a.int("asn")).unwrap_or(0),
            v.text("ip_address")
        )
    },
    hooks: Hooks { clean: Some(hooks::direct_session) },
    unique_together: &[],
};

pub static IXP_PEERING_SESSION: Model = Model {
    app: "peering",
    name: "internetexchangepeeringsession",
    verbose: "internet exchange peering session",
    verbose_plural: "internet exchange peering sessions",
    table: "peering_internetexchangepeeringsession",
    api: "internet-exchange-peering-sessions",
    ui: Some("/internet-exchange-peering-sessions/"),
    fields: &[
        f::ID,
        SERVICE_REFERENCE,
        f::fk("autonomous_system", "peering.autonomoussystem", Cascade).required(),
        f::fk("ixp_connection", "net.connection", Cascade).null().required().label("IXP connection"),
        Field::new("ip_address", Kind::Inet { prefix: false }).required().label("IP address"),
        SESSION_STATUS_FIELD,
        PASSWORD,
        ENCRYPTED_PASSWORD,
        MULTIHOP_TTL,
        PASSIVE,
        f::boolean("is_route_server", false).filter(Exact),
        IXP_POLICIES[0],
        IXP_POLICIES[1],
        IXP_POLICIES[2],
        BFD,
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        f::computed("exists_in_peeringdb", Computed::ExistsInPeeringdb),
        f::computed("is_abandoned", Computed::IsAbandoned),
        BGP_STATE_FIELD,
        RECEIVED,
        ACCEPTED,
        ADVERTISED,
        LAST_ESTABLISHED,
        f::COMMENTS,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["service_reference", "autonomous_system_id", "ixp_connection_id", "ip_address"],
    brief: &["ip_address", "status", "is_route_server"],
    brief_display_url: true,
    filters: &[
        path("autonomous_system_id", "autonomous_system_id", Rel),
        path("autonomous_system_asn", "autonomous_system.asn", Rel),
        path("autonomous_system", "autonomous_system.name", Rel),
        path("ixp_connection_id", "ixp_connection_id", Rel),
        path("internet_exchange_id", "ixp_connection.internet_exchange_point_id", Rel),
        path("internet_exchange", "ixp_connection.internet_exchange_point.name", Rel),
        path("bfd_id", "bfd_id", Rel),
        path("bfd", "bfd.name", Rel),
        custom("address_family", C::AddressFamily("ip_address")),
        custom("exists_in_peeringdb", C::ExistsInPeeringdb),
        custom("is_abandoned", C::IsAbandoned),
    ],
    search: &[
        Search::Contains("service_reference"),
        Search::Contains("comments"),
        Search::Contains("autonomous_system.name"),
        Search::Contains("ixp_connection.router.name"),
        Search::Contains("ixp_connection.router.hostname"),
        Search::Contains("ixp_connection.internet_exchange_point.name"),
        Search::Contains("ixp_connection.internet_exchange_point.slug"),
        Search::IpHost("ip_address"),
    ],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &["autonomous_system", "ixp_connection.internet_exchange_point"],
    display: |v| {
        let asn = v.related("autonomous_system").and_then(|a| a.int("asn")).unwrap_or(0);
        let ip = v.text("ip_address");
        match v.related("ixp_connection").and_then(|c| c.related("internet_exchange_point")) {
            Some(ix) => format!("{} - AS{asn} - IP {ip}", ix.text("name")),
            None => format!("AS{asn} - IP {ip}"),
        }
    },
    hooks: Hooks { clean: Some(hooks::ixp_session) },
    unique_together: &[(
        &["ixp_connection_id", "ip_address"],
        "Internet exchange peering session with this IXP connection and IP address already exists.",
    )],
};

pub static ROUTING_POLICY: Model = Model {
    app: "peering",
    name: "routingpolicy",
    verbose: "routing policy",
    verbose_plural: "routing policies",
    table: "peering_routingpolicy",
    api: "routing-policies",
    ui: Some("/routing-policies/"),
    fields: &[
        f::ID,
        f::text("name", 100).required().unique("Routing policy with this name already exists.").filter(Str),
        f::text("slug", 100).required().unique("Routing policy with this slug already exists.").filter(Str),
        f::DESCRIPTION,
        f::choice("type", ROUTING_POLICY_TYPE, "import-policy").filter(Lookups::Off),
        f::int("weight", 0, 32767).default(Init::Int(0)).filter(Num),
        Field::new("address_family", Kind::IntChoice(IP_FAMILY)).default(Init::Int(0)).filter(Rel),
        f::m2m("communities", "bgp.community", "peering_routingpolicy_communities", "routingpolicy_id", "community_id"),
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["-weight", "name"],
    brief: &["name", "slug", "type"],
    brief_display_url: true,
    filters: &[custom("type", C::RoutingPolicyType)],
    search: &[Search::Contains("name"), Search::Contains("slug"), Search::Contains("description")],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &[],
    display: name,
    hooks: Hooks::NONE,
    unique_together: &[],
};
