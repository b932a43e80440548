//! A small but complete demo network: an affiliated AS with two routers,
//! two IXPs, transit and private peering, communities, policies with config
//! contexts, tags and cached IRR data, so every kind of template loop has
//! something to walk. Loaded through the normal write path (validated and
//! change-logged); running it twice changes nothing.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;
use sea_query::{Expr, ExprTrait, Query};
use serde_json::{Value as Json, json};

use crate::write::{self, Actor};
use crate::{AppResult, Db, registry};

pub const DEMO_ASN: i64 = 64500;

/// An example Junos-style template of our own, so a newcomer sees rendering at once.
pub const DEMO_TEMPLATE: &str = r#"{#- Demo configuration: BGP groups per IXP and per direct-peering group -#}
routing-options {
    autonomous-system {{ local_as.asn }};
}
protocols {
    bgp {
{%- for ixp in internet_exchange_points %}
  {%- for family in (6, 4) %}
        group {{ ixp.slug }}-v{{ family }} {
            type external;
    {%- for session in router | ixp_sessions(family=family, ixp=ixp) %}
            neighbor {{ session | ip }} {
                description "AS{{ session.autonomous_system.asn }} {{ session.autonomous_system.name | safe_string }}";
                peer-as {{ session.autonomous_system.asn }};
      {%- if session | max_prefix %}
                family inet{% if family == 6 %}6{% endif %} unicast prefix-limit maximum {{ session | max_prefix }};
      {%- endif %}
      {%- if session.encrypted_password %}
                authentication-key "{{ session.encrypted_password }}";
      {%- endif %}
      {%- set imports = session | merge_import_policies %}
      {%- if imports %}
                import [ {{ imports | iterate('slug') | join(' ') }} ];
      {%- endif %}
            }
    {%- endfor %}
        }
  {%- endfor %}
{%- endfor %}
{%- for group in bgp_groups %}
        group {{ group.slug }} {
    {%- for session in router | direct_sessions(group=group) %}
            neighbor {{ session | ip }} peer-as {{ session.autonomous_system.asn }};
    {%- endfor %}
        }
{%- endfor %}
    }
}
policy-options {
{%- for community in communities %}
    community {{ community.slug }} members {{ community.value }};
{%- endfor %}
}
"#;

pub const DEMO_EMAIL_SUBJECT: &str = "Peering request from AS{{ (affiliated_autonomous_systems | first).asn }}";
pub const DEMO_EMAIL_BODY: &str = r#"Hello {{ autonomous_system.name }},

We are AS{{ (affiliated_autonomous_systems | first).asn }} and would like to peer with AS{{ autonomous_system.asn }}.
{%- for ixp in autonomous_system | ixps((affiliated_autonomous_systems | first)) %}
We already meet at {{ ixp.name }}.
{%- endfor %}

Best regards"#;

struct Seeder<'a> {
    txn: &'a sea_orm::DatabaseTransaction,
    actor: Actor<'a>,
    ids: HashMap<String, i64>,
}

impl Seeder<'_> {
    async fn add(&mut self, key: &str, path: &str, body: Json) -> AppResult<i64> {
        let parts: Vec<&str> = path.split('/').collect();
        let model = registry::by_api(parts[0], parts[1]).expect("demo model");
        let p = write::prepare(self.txn, model, &body, None, &self.actor).await?;
        p.errors.clone().into_result().map_err(|e| match e {
            crate::AppError::Validation(f) => anyhow::anyhow!("demo {key}: {}", Json::Object(f.0)).into(),
            other => other,
        })?;
        let id = write::insert(self.txn, &self.actor, p).await?;
        self.ids.insert(key.to_string(), id);
        Ok(id)
    }
    fn id(&self, key: &str) -> i64 {
        self.ids[key]
    }
}

/// What keeps the demo from loading, for the user: the AS it is built
/// around already exists ("AS64500 (Demo Networks)"), from an earlier demo or
/// entered by hand. `None` when the demo can load.
pub async fn already_present(db: &Db) -> AppResult<Option<String>> {
    let q = Query::select()
        .column("name")
        .from("peering_autonomoussystem")
        .and_where(Expr::col("asn").eq(DEMO_ASN))
        .to_owned();
    let row = db.conn.query_one(&q).await?;
    Ok(match row {
        Some(r) => Some(format!("AS{DEMO_ASN} ({})", r.try_get_by_index::<String>(0)?)),
        None => None,
    })
}

/// Load the demo data unless AS64500 already exists. Returns whether it loaded.
pub async fn load(db: &Db, settings: &crate::Settings) -> AppResult<bool> {
    if already_present(db).await?.is_some() {
        return Ok(false);
    }
    let actor = Actor::system("demo", settings);
    // All or nothing: a failed load leaves the database as it was.
    let w = db.begin_write().await?;
    let mut s = Seeder { txn: &w.txn, actor, ids: HashMap::new() };

    for t in [
        "filter-prefixes",
        "filter-prefixes-v4",
        "filter-prefixes-v6",
        "origin-validation",
        "router-policy",
        "dont-export",
        "large-community",
        "extended-community",
        "normal-community",
        "soft-reconfiguration",
        "no-enforce-first-as",
    ] {
        s.add(t, "extras/tags", json!({"name": t, "slug": t})).await?;
    }
    for (k, name, color) in [
        ("transit", "Transit Provider", "f44336"),
        ("pni", "Private Peering", "2196f3"),
        ("customer", "Customer", "4caf50"),
    ] {
        s.add(k, "bgp/relationships", json!({"name": name, "slug": k, "color": color})).await?;
    }
    for (k, name, value, kind, tag) in [
        ("c-transit", "Transit learnt", "64500:1", "ingress", "normal-community"),
        ("c-peering", "Peering learnt", "64500:2", "ingress", "normal-community"),
        ("c-customer", "Customer learnt", "64500:3", "ingress", "normal-community"),
        ("c-noexport", "Do not export", "64500:666", "egress", "normal-community"),
        ("c-large", "Large peering", "64500:1:100", "ingress", "large-community"),
        ("c-ext", "Route target", "target:64500:100", "egress", "extended-community"),
    ] {
        let tag = s.id(tag);
        s.add(k, "bgp/communities", json!({"name": name, "slug": k, "value": value, "type": kind, "tags": [tag]}))
            .await?;
    }
    let policy_ctx = |pref: i64| {
        json!({
            "cisco-ios": [{"match": ["community peering"], "set": [format!("local-preference {pref}")], "result": "permit"}],
            "cisco-iosxr": [format!("set local-preference {pref}"), "pass"],
            "policy-variables": {"local-preference": pref, "med": 0}
        })
    };
    for (k, name, kind, weight, af, ctx, comm) in [
        ("p-peering-in", "Accept peering", "import-policy", 100, 0, policy_ctx(200), "c-peering"),
        ("p-transit-in", "Accept transit", "import-policy", 50, 0, policy_ctx(100), "c-transit"),
        ("p-bogons-v6", "Reject IPv6 bogons", "import-policy", 300, 6, policy_ctx(0), "c-noexport"),
        (
            "p-own-out",
            "Announce own prefixes",
            "export-policy",
            100,
            0,
            json!({"policy-variables": {"asprepend": 0, "med": 0}}),
            "c-customer",
        ),
        ("p-default", "Default", "import-export-policy", 0, 0, json!({}), "c-large"),
    ] {
        let c = s.id(comm);
        s.add(
            k,
            "peering/routing-policies",
            json!({"name": name, "slug": k, "type": kind, "weight": weight,
            "address_family": af, "local_context_data": ctx, "communities": [c]}),
        )
        .await?;
    }
    s.add(
        "bfd",
        "net/bfd",
        json!({"name": "Fast", "slug": "fast", "minimum_transmit_interval": 100, "minimum_receive_interval": 100}),
    )
    .await?;

    let (fp, ov) = (s.id("filter-prefixes"), s.id("origin-validation"));
    let (pin, pout) = (s.id("p-peering-in"), s.id("p-own-out"));
    s.add(
        "local",
        "peering/autonomous-systems",
        json!({"asn": DEMO_ASN, "name": "Demo Networks", "affiliated": true,
        "irr_as_set": "AS-DEMO", "communities": [s.id("c-customer")]}),
    )
    .await?;
    let peers = [
        ("as-transit", 65010, "Transit One", "AS-TRANSITONE", 900000, 200000),
        ("as-cdn", 65020, "CDN Example", "RIPE::AS-CDNEX", 50, 100),
        ("as-isp", 65030, "Régional ISP", "AS-REGIONAL", 20, 40),
        ("as-hosting", 65040, "Hosting Co", "", 10, 30),
        ("as-rs", 65050, "Demo-IX Route Servers", "AS-DEMOIX", 5000, 2000),
    ];
    for (k, asn, name, irr, v4, v6) in peers {
        s.add(
            k,
            "peering/autonomous-systems",
            json!({"asn": asn, "name": name, "irr_as_set": irr,
            "ipv4_max_prefixes": v4, "ipv6_max_prefixes": v6, "tags": [fp, ov],
            "import_routing_policies": [pin], "export_routing_policies": [pout],
            "communities": [s.id("c-peering")]}),
        )
        .await?;
    }
    // Cached IRR data is read-only through the API; the demo sets it directly.
    for (k, asn, ..) in peers {
        let prefixes = json!({
            "ipv6": [{"prefix": format!("2001:db8:{:x}::/48", asn - 64000), "exact": true}],
            "ipv4": [{"prefix": format!("198.18.{}.0/24", asn % 250), "exact": false, "greater-equal": 24, "less-equal": 24}],
        });
        let q = Query::update()
            .table("peering_autonomoussystem")
            .value("prefixes", prefixes.to_string())
            .value("as_list", json!([asn]).to_string())
            .and_where(Expr::col("id").eq(s.id(k)))
            .to_owned();
        s.txn.execute(&q).await?;
    }
    let local = s.id("local");
    s.add("tpl", "devices/configurations", json!({"name": "Demo Junos", "template": DEMO_TEMPLATE})).await?;
    s.add(
        "email",
        "messaging/emails",
        json!({"name": "Peering request", "subject": DEMO_EMAIL_SUBJECT, "template": DEMO_EMAIL_BODY}),
    )
    .await?;
    s.add(
        "edge1",
        "devices/routers",
        json!({"name": "edge1", "hostname": "edge1.demo.example", "platform": 2,
        "local_autonomous_system": local, "configuration_template": s.id("tpl"), "encrypt_passwords": true,
        "communities": [s.id("c-noexport")],
        "local_context_data": {"policy-variables": {"comm-deny-to": "64500:666", "comm-depref-to": "64500:80"}}}),
    )
    .await?;
    s.add(
        "edge2",
        "devices/routers",
        json!({"name": "edge2", "hostname": "edge2.demo.example", "platform": 3,
        "local_autonomous_system": local, "configuration_template": s.id("tpl")}),
    )
    .await?;
    for (k, name, slug, comm) in
        [("ix1", "Demo-IX", "demo-ix", "c-peering"), ("ix2", "Metro-IX", "metro-ix", "c-large")]
    {
        s.add(
            k,
            "peering/internet-exchanges",
            json!({"name": name, "slug": slug, "local_autonomous_system": local,
            "import_routing_policies": [pin], "export_routing_policies": [pout], "communities": [s.id(comm)],
            "local_context_data": {"timers": {"hold": 90}}}),
        )
        .await?;
    }
    for (k, ixp, router, v4, v6, iface) in [
        ("cx1", "ix1", "edge1", "192.0.2.10/24", "2001:db8:ae::10/64", "et-0/0/0"),
        ("cx2", "ix2", "edge1", "198.51.100.10/24", "2001:db8:be::10/64", "et-0/0/1"),
        ("cx3", "ix1", "edge2", "192.0.2.11/24", "2001:db8:ae::11/64", "Hu0/0/0/0"),
    ] {
        s.add(
            k,
            "net/connections",
            json!({"internet_exchange_point": s.id(ixp), "router": s.id(router),
            "ipv4_address": v4, "ipv6_address": v6, "interface": iface, "vlan": 100,
            "mac_address": "00:1b:77:49:54:fd"}),
        )
        .await?;
    }
    let mut n = 0;
    for (cx, prefix4, prefix6) in
        [("cx1", "192.0.2", "2001:db8:ae"), ("cx2", "198.51.100", "2001:db8:be"), ("cx3", "192.0.2", "2001:db8:ae")]
    {
        for (i, (k, ..)) in peers.iter().enumerate() {
            let host = 20 + i;
            let rs = *k == "as-rs";
            let status = if *k == "as-hosting" && cx == "cx2" { "disabled" } else { "enabled" };
            for ip in [format!("{prefix4}.{host}"), format!("{prefix6}::{host}")] {
                n += 1;
                s.add(&format!("ixs{n}"), "peering/internet-exchange-peering-sessions", json!({
                    "autonomous_system": s.id(k), "ixp_connection": s.id(cx), "ip_address": ip,
                    "is_route_server": rs, "status": status,
                    "password": if *k == "as-cdn" { Json::from("peering-secret") } else { Json::Null },
                    "import_routing_policies": if *k == "as-isp" && ip.contains(':') { json!([s.id("p-bogons-v6")]) } else { json!([]) },
                    "tags": [s.id("soft-reconfiguration")]
                })).await?;
            }
        }
    }
    for (k, name, slug) in [("g-transit", "Transit", "transit"), ("g-pni", "Private peering", "private-peering")] {
        s.add(k, "peering/bgp-groups", json!({"name": name, "slug": slug, "import_routing_policies": [s.id("p-transit-in")],
            "export_routing_policies": [pout], "communities": [s.id("c-transit")], "local_context_data": {"timers": {"hold": 30}}})).await?;
    }
    for (asn_key, group, rel, ip, local_ip, router) in [
        ("as-transit", "g-transit", "transit", "203.0.113.1/31", "203.0.113.0/31", "edge1"),
        ("as-transit", "g-transit", "transit", "2001:db8:ff::1/127", "2001:db8:ff::/127", "edge1"),
        ("as-isp", "g-pni", "pni", "203.0.113.3/31", "203.0.113.2/31", "edge1"),
        ("as-isp", "g-pni", "pni", "203.0.113.5/31", "203.0.113.4/31", "edge2"),
    ] {
        n += 1;
        s.add(&format!("ds{n}"), "peering/direct-peering-sessions", json!({
            "local_autonomous_system": local, "autonomous_system": s.id(asn_key), "bgp_group": s.id(group),
            "relationship": s.id(rel), "ip_address": ip, "local_ip_address": local_ip, "router": s.id(router),
            "bfd": s.id("bfd"), "import_routing_policies": [s.id("p-transit-in")], "communities": [s.id("c-transit")]
        })).await?;
    }
    let ctx = s
        .add(
            "cc",
            "extras/config-contexts",
            json!({"name": "NTP", "data": {"ntp": ["192.0.2.123"], "timers": {"hold": 180}}}),
        )
        .await?;
    s.add(
        "cca",
        "extras/config-context-assignments",
        json!({"content_type": "devices.router", "object_id": s.id("edge1"), "config_context": ctx}),
    )
    .await?;
    let contact = s
        .add("noc", "messaging/contacts", json!({"name": "Transit One NOC", "email": "noc@transit-one.example"}))
        .await?;
    let role = s.add("role", "messaging/contact-roles", json!({"name": "NOC", "slug": "noc"})).await?;
    s.add(
        "ca",
        "messaging/contact-assignments",
        json!({"content_type": "peering.autonomoussystem",
        "object_id": s.id("as-transit"), "contact": contact, "role": role}),
    )
    .await?;
    drop(s);
    w.commit().await?;
    Ok(true)
}
