//! net: IXP connections and BFD profiles.

use crate::choices::*;
use crate::hooks::{self, Hooks};
use crate::model::Lookups::*;
use crate::model::OnDelete::*;
use crate::model::{f, *};

pub static BFD: Model = Model {
    app: "net",
    name: "bfd",
    verbose: "BFD configuration",
    verbose_plural: "BFD configurations",
    table: "net_bfd",
    api: "bfd",
    ui: Some("/net/bfd/"),
    fields: &[
        f::ID,
        f::text("name", 100).required().unique("BFD configuration with this name already exists.").filter(Str),
        f::text("slug", 100).required().unique("BFD configuration with this slug already exists.").filter(Str),
        f::DESCRIPTION,
        f::int("minimum_transmit_interval", 1, 255_000).default(Init::Int(300)).filter(Num),
        f::int("minimum_receive_interval", 1, 255_000).default(Init::Int(300)).filter(Num),
        f::int("detection_multiplier", 1, 255).default(Init::Int(3)).filter(Num),
        f::int("hold_time", 0, 255_000).default(Init::Int(0)).filter(Num),
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["name"],
    brief: &["name", "slug"],
    brief_display_url: true,
    filters: &[],
    search: &[Search::Contains("name"), Search::Contains("slug"), Search::Contains("description")],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &[],
    display: |v| v.text("name").to_string(),
    hooks: Hooks::NONE,
    unique_together: &[],
};

pub static CONNECTION: Model = Model {
    app: "net",
    name: "connection",
    verbose: "connection",
    verbose_plural: "connections",
    table: "net_connection",
    api: "connections",
    ui: Some("/net/connections/"),
    fields: &[
        f::ID,
        f::computed("name", Computed::Display),
        f::fk_id("peeringdb_netixlan", "peeringdb.networkixlan", SetNull).null().label("PeeringDB NetIXLAN"),
        f::choice("status", GROUP_STATUS, "enabled").obj(),
        f::int("vlan", 1, 4094).null().filter(Num).label("VLAN"),
        Field::new("mac_address", Kind::Mac).null().label("MAC address"),
        Field::new("ipv6_address", Kind::Inet { prefix: true }).null().label("IPv6 address"),
        Field::new("ipv4_address", Kind::Inet { prefix: true }).null().label("IPv4 address"),
        f::fk("internet_exchange_point", "peering.internetexchange", Cascade).null().key_required(),
        f::fk("router", "devices.router", SetNull).null().key_required(),
        f::text("interface", 200),
        f::DESCRIPTION_NOFILTER,
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        f::COMMENTS,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["internet_exchange_point_id", "router_id"],
    brief: &["name", "mac_address", "ipv6_address", "ipv4_address"],
    brief_display_url: true,
    filters: &[
        path("internet_exchange_point_id", "internet_exchange_point_id", Rel),
        path("internet_exchange_point", "internet_exchange_point.name", Rel),
        path("router_id", "router_id", Rel),
        path("router_name", "router.name", Rel),
        path("router", "router.hostname", Rel),
    ],
    search: &[
        Search::Contains("interface"),
        Search::Contains("description"),
        Search::Contains("router.name"),
        Search::Contains("router.hostname"),
        Search::IpHost("ipv6_address"),
        Search::IpHost("ipv4_address"),
    ],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &["internet_exchange_point", "router"],
    display: |v| {
        let ix = v.related("internet_exchange_point").map(|x| x.text("name").to_string());
        let router = v.related("router").map(|r| r.text("name").to_string());
        let iface = v.text("interface");
        let mut s = match (ix, router) {
            (Some(ix), Some(r)) => format!("{ix} on {r}"),
            (Some(ix), None) => ix,
            (None, Some(r)) => r,
            (None, None) if iface.is_empty() => return format!("Connection #{}", v.obj.id),
            (None, None) => String::new(),
        };
        if !iface.is_empty() {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(iface);
        }
        s
    },
    hooks: Hooks { clean: Some(hooks::connection) },
    unique_together: &[],
};
