//! A PeeringDB-sized dataset for the benchmark: every namespace with the
//! fields the real API sends, in realistic proportions, deterministic.

use serde_json::{Value as Json, json};

use crate::fake::FakePeeringDb;

/// Objects per namespace.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub org: i64,
    pub campus: i64,
    pub fac: i64,
    pub carrier: i64,
    pub carrierfac: i64,
    pub net: i64,
    pub ix: i64,
    pub ixfac: i64,
    pub ixlan: i64,
    pub ixpfx: i64,
    pub netfac: i64,
    pub netixlan: i64,
    pub poc: i64,
}

/// About PeeringDB's size in 2025.
pub const FULL: Sizes = Sizes {
    org: 30_000,
    campus: 100,
    fac: 6_000,
    carrier: 500,
    carrierfac: 1_000,
    net: 30_000,
    ix: 1_200,
    ixfac: 3_000,
    ixlan: 1_300,
    ixpfx: 2_000,
    netfac: 40_000,
    netixlan: 60_000,
    poc: 20_000,
};

impl Sizes {
    pub fn total(&self) -> i64 {
        self.org
            + self.campus
            + self.fac
            + self.carrier
            + self.carrierfac
            + self.net
            + self.ix
            + self.ixfac
            + self.ixlan
            + self.ixpfx
            + self.netfac
            + self.netixlan
            + self.poc
    }
}

const CREATED: &str = "2015-06-01T00:00:00Z";

/// Spread `updated` over 2023 so `since` means something.
fn updated(i: i64) -> String {
    let t = chrono::DateTime::from_timestamp(1_672_531_200 + (i * 577) % 31_000_000, 0).unwrap();
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn pick<'a>(options: &[&'a str], i: i64) -> &'a str {
    options[(i as usize * 7 + 3) % options.len()]
}

fn address(i: i64) -> Json {
    json!({
        "address1": format!("{} Example Street", i % 200 + 1), "address2": "", "city": pick(&["Amsterdam", "Frankfurt", "London", "Paris", "Ashburn", "Singapore"], i),
        "state": "", "zipcode": format!("{:05}", i % 99_999), "country": pick(&["NL", "DE", "GB", "FR", "US", "SG"], i),
        "suite": "", "floor": "", "latitude": 48.0 + (i % 1000) as f64 / 1000.0, "longitude": 2.0 + (i % 500) as f64 / 1000.0,
    })
}

fn merge(mut a: Json, b: Json) -> Json {
    if let (Json::Object(a), Json::Object(b)) = (&mut a, b) {
        a.extend(b);
    }
    a
}

fn stamp(id: i64) -> Json {
    json!({"id": id, "status": "ok", "created": CREATED, "updated": updated(id)})
}

/// Fill `fake` with a dataset of these sizes.
pub fn generate(fake: &FakePeeringDb, s: &Sizes) {
    for i in 1..=s.org {
        fake.put("org", merge(merge(stamp(i), address(i)), json!({
            "name": format!("Organisation {i}"), "aka": "", "name_long": "", "website": format!("https://org{i}.example.net"),
            "social_media": [{"service": "website", "identifier": format!("https://org{i}.example.net")}], "notes": "",
            "net_set": [], "fac_set": [], "ix_set": [], "carrier_set": [], "campus_set": [],
        })));
    }
    for i in 1..=s.campus {
        fake.put("campus", merge(stamp(i), json!({
            "org_id": i, "org_name": format!("Organisation {i}"), "name": format!("Campus {i}"), "name_long": null, "aka": null,
            "website": "", "social_media": [], "notes": "", "country": "NL", "city": "Amsterdam", "zipcode": "", "state": "", "fac_set": [],
        })));
    }
    for i in 1..=s.fac {
        fake.put("fac", merge(merge(stamp(i), address(i)), json!({
            "org_id": i % s.org + 1, "org_name": "x", "campus_id": null, "name": format!("Facility {i}"), "aka": "", "name_long": "",
            "website": "https://fac.example.net", "social_media": [], "clli": "", "rencode": "", "npanxx": "", "notes": "",
            "net_count": 10, "ix_count": 1, "carrier_count": 0, "sales_email": "", "sales_phone": "", "tech_email": "noc@fac.example.net",
            "tech_phone": "", "available_voltage_services": ["48 VDC", "230 VAC"], "diverse_serving_substations": null,
            "property": pick(&["Owner", "Lessee", ""], i), "region_continent": "Europe", "status_dashboard": null,
        })));
    }
    for i in 1..=s.carrier {
        fake.put("carrier", merge(stamp(i), json!({
            "org_id": i % s.org + 1, "org_name": "x", "name": format!("Carrier {i}"), "aka": "", "name_long": "",
            "website": "", "social_media": [], "notes": "", "fac_count": 2,
        })));
    }
    for i in 1..=s.carrierfac {
        fake.put(
            "carrierfac",
            merge(stamp(i), json!({"carrier_id": i % s.carrier + 1, "fac_id": i % s.fac + 1, "name": "x"})),
        );
    }
    for i in 1..=s.net {
        fake.put("net", merge(stamp(i), json!({
            "org_id": i % s.org + 1, "name": format!("Network {i}"), "aka": format!("Net{i}"), "name_long": "",
            "website": format!("https://as{}.example.net", 64_000 + i), "social_media": [], "asn": 100_000 + i,
            "looking_glass": "", "route_server": "", "irr_as_set": format!("AS-NET{i}"),
            "info_type": pick(&["NSP", "Content", "Cable/DSL/ISP", "Enterprise"], i), "info_types": ["NSP", "Content"],
            "info_prefixes4": i % 500, "info_prefixes6": i % 100, "info_traffic": "1-5Gbps", "info_ratio": "Balanced",
            "info_scope": "Europe", "info_unicast": true, "info_multicast": false, "info_ipv6": true,
            "info_never_via_route_servers": false, "ix_count": 2, "fac_count": 1, "notes": "A network.", "notes_private": "",
            "netixlan_updated": null, "netfac_updated": null, "poc_updated": null, "policy_url": "",
            "policy_general": pick(&["Open", "Selective", "Restrictive"], i), "policy_locations": "Not Required",
            "policy_ratio": false, "policy_contracts": "Not Required", "allow_ixp_update": false,
            "status_dashboard": null, "rir_status": "ok", "rir_status_updated": "2023-01-01T00:00:00Z",
        })));
    }
    for i in 1..=s.ix {
        fake.put("ix", merge(stamp(i), json!({
            "org_id": i % s.org + 1, "name": format!("IX {i}"), "aka": "", "name_long": format!("Internet Exchange {i}"),
            "city": "Amsterdam", "country": "NL", "region_continent": "Europe", "media": "Ethernet", "notes": "",
            "proto_unicast": true, "proto_multicast": false, "proto_ipv6": true, "website": "https://ix.example.net",
            "social_media": [], "url_stats": "", "tech_email": "noc@ix.example.net", "tech_phone": "", "policy_email": "",
            "policy_phone": "", "sales_email": "", "sales_phone": "", "net_count": 50, "fac_count": 2, "ixf_net_count": 0,
            "ixf_last_import": null, "ixf_import_request": null, "ixf_import_request_status": "queued",
            "service_level": "Not Disclosed", "terms": "Not Disclosed", "status_dashboard": null,
        })));
    }
    for i in 1..=s.ixfac {
        fake.put(
            "ixfac",
            merge(
                stamp(i),
                json!({"ix_id": i % s.ix + 1, "fac_id": i % s.fac + 1, "name": "x", "city": "x", "country": "NL"}),
            ),
        );
    }
    for i in 1..=s.ixlan {
        fake.put(
            "ixlan",
            merge(
                stamp(i),
                json!({
                    "ix_id": i % s.ix + 1, "name": "", "descr": "", "mtu": 1500, "dot1q_support": false, "rs_asn": 0,
                    "arp_sponge": null, "ixf_ixp_member_list_url_visible": "Private", "ixf_ixp_import_enabled": false,
                }),
            ),
        );
    }
    for i in 1..=s.ixpfx {
        let prefix = if i % 2 == 0 {
            format!("2001:7f8:{:x}::/64", i)
        } else {
            format!("10.{}.{}.0/23", (i / 128) % 256, (i * 2) % 256)
        };
        fake.put(
            "ixpfx",
            merge(
                stamp(i),
                json!({
                    "ixlan_id": i % s.ixlan + 1, "protocol": if i % 2 == 0 { "IPv6" } else { "IPv4" }, "prefix": prefix,
                    "in_dfz": true, "notes": "",
                }),
            ),
        );
    }
    for i in 1..=s.netfac {
        fake.put("netfac", merge(stamp(i), json!({
            "net_id": i % s.net + 1, "fac_id": i % s.fac + 1, "local_asn": 100_000 + i % s.net + 1, "name": "x",
            "city": "Amsterdam", "country": "NL", "avail_sonet": false, "avail_ethernet": true, "avail_atm": false,
        })));
    }
    for i in 1..=s.netixlan {
        let net = i % s.net + 1;
        fake.put("netixlan", merge(stamp(i), json!({
            "net_id": net, "ix_id": i % s.ix + 1, "name": "x", "ixlan_id": i % s.ixlan + 1, "notes": "", "speed": 10_000,
            "asn": 100_000 + net, "ipaddr4": format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
            "ipaddr6": format!("2001:7f8:{:x}::{:x}", i >> 16, i & 0xffff), "is_rs_peer": i % 3 == 0,
            "bfd_support": false, "operational": true, "net_side_id": null, "ix_side_id": null,
        })));
    }
    for i in 1..=s.poc {
        fake.put(
            "poc",
            merge(
                stamp(i),
                json!({
                    "net_id": i % s.net + 1, "role": pick(&["NOC", "Policy", "Technical", "Abuse"], i),
                    "visible": "Public", "name": format!("Contact {i}"), "phone": "+31 20 000 0000",
                    "email": format!("noc{i}@example.net"), "url": "",
                }),
            ),
        );
    }
}

/// Change `n` distinct records (updates, creations and deletions across
/// namespaces) stamped `at`, as a day of PeeringDB activity would; each
/// `round` changes other values and objects than the previous ones.
pub fn change(fake: &FakePeeringDb, s: &Sizes, n: i64, at: &str, round: i64) {
    let quarter = n / 4;
    for k in 0..quarter {
        let name = format!("Renamed network {k} ({round})");
        fake.update("net", 1 + k * 97 % s.net, json!({"name": name, "info_prefixes4": 900 + round}), at);
        fake.update("netixlan", 1 + k * 89 % s.netixlan, json!({"speed": 100_000 + round}), at);
        fake.update("poc", 1 + k * 83 % s.poc, json!({"email": format!("new{k}-{round}@example.net")}), at);
    }
    let rest = n - 3 * quarter;
    for k in 0..rest {
        if k % 2 == 0 {
            let id = s.netixlan + 1 + round * rest + k;
            fake.put("netixlan", json!({
                "id": id, "status": "ok", "created": at, "updated": at, "net_id": 1, "ix_id": 1, "ixlan_id": 1,
                "name": "x", "notes": "", "speed": 1000, "asn": 100_001, "ipaddr4": null,
                "ipaddr6": format!("2001:db8::{:x}", id), "is_rs_peer": false, "bfd_support": false, "operational": true,
            }));
        } else {
            // Far from the updated ones (ids below 100 × 89).
            fake.delete("netixlan", s.netixlan / 2 + round * rest + k, at);
        }
    }
}

/// PeeringDB records that match `peering-manager demo`'s network, so a
/// newcomer can try the PeeringDB features against the fake: Demo-IX and
/// Metro-IX with their LANs and prefixes, AS64500's ports on both (which
/// link the demo connections and IXPs after a sync), the networks the demo
/// already peers with, and `peers` new networks on Demo-IX to peer with.
pub fn demo(fake: &FakePeeringDb, peers: i64) {
    let org = |id: i64, name: &str| {
        json!({"id": id, "status": "ok", "created": CREATED, "updated": CREATED, "name": name,
        "aka": "", "name_long": "", "website": "", "social_media": [], "notes": "", "address1": "", "address2": "",
        "city": "Amsterdam", "state": "", "zipcode": "", "country": "NL", "suite": "", "floor": "",
        "latitude": null, "longitude": null})
    };
    fake.put("org", org(9001, "Demo-IX Association"));
    fake.put("org", org(9002, "Metro-IX B.V."));
    fake.put("org", org(9003, "Demo Networks"));
    let base = |id: i64| json!({"id": id, "status": "ok", "created": CREATED, "updated": CREATED});
    fake.put("fac", merge(merge(base(9001), address(9001)), json!({"org_id": 9003, "campus_id": null, "name": "Demo Data Centre",
        "aka": "", "name_long": "", "website": "", "social_media": [], "clli": "", "rencode": "", "npanxx": "", "notes": "",
        "sales_email": "", "sales_phone": "", "tech_email": "", "tech_phone": "", "available_voltage_services": [],
        "diverse_serving_substations": null, "property": "", "region_continent": "Europe", "status_dashboard": null})));
    // (ix id, org, name, v4 LAN, v6 LAN)
    let ixps =
        [(9001, 9001, "Demo-IX", "192.0.2", "2001:db8:ae"), (9002, 9002, "Metro-IX", "198.51.100", "2001:db8:be")];
    for (id, org_id, name, v4, v6) in ixps {
        fake.put(
            "ix",
            merge(
                base(id),
                json!({"org_id": org_id, "name": name, "aka": "", "name_long": format!("{name} Internet Exchange"),
            "city": "Amsterdam", "country": "NL", "region_continent": "Europe", "media": "Ethernet", "notes": "",
            "proto_unicast": true, "proto_multicast": false, "proto_ipv6": true, "website": "", "social_media": [],
            "url_stats": "", "tech_email": "noc@ix.example", "tech_phone": "", "policy_email": "", "policy_phone": "",
            "sales_email": "", "sales_phone": "", "ixf_net_count": 0, "ixf_last_import": null,
            "service_level": "Not Disclosed", "terms": "Not Disclosed", "status_dashboard": null}),
            ),
        );
        fake.put("ixfac", merge(base(id), json!({"ix_id": id, "fac_id": 9001})));
        fake.put(
            "ixlan",
            merge(
                base(id),
                json!({"ix_id": id, "name": "", "descr": "", "mtu": 1500, "dot1q_support": false,
            "rs_asn": 65050, "arp_sponge": null, "ixf_ixp_member_list_url_visible": "Private"}),
            ),
        );
        fake.put("ixpfx", merge(base(id * 10 + 4), json!({"ixlan_id": id, "protocol": "IPv4", "prefix": format!("{v4}.0/24"), "in_dfz": true, "notes": ""})));
        fake.put("ixpfx", merge(base(id * 10 + 6), json!({"ixlan_id": id, "protocol": "IPv6", "prefix": format!("{v6}::/64"), "in_dfz": true, "notes": ""})));
    }
    let net = |id: i64, asn: i64, name: &str, irr: &str, v4: i64, v6: i64, policy: &str| {
        merge(
            base(id),
            json!({"org_id": 9003, "asn": asn, "name": name, "aka": "", "name_long": "", "website": "",
            "social_media": [], "looking_glass": "", "route_server": "", "irr_as_set": irr, "info_type": "NSP",
            "info_types": ["NSP"], "info_prefixes4": v4, "info_prefixes6": v6, "info_traffic": "1-5Gbps",
            "info_ratio": "Balanced", "info_scope": "Europe", "info_unicast": true, "info_multicast": false,
            "info_ipv6": true, "info_never_via_route_servers": false, "notes": "", "notes_private": "", "policy_url": "",
            "policy_general": policy, "policy_locations": "Not Required", "policy_ratio": false,
            "policy_contracts": "Not Required", "status_dashboard": null, "rir_status": "ok", "rir_status_updated": null}),
        )
    };
    let mut netixlan = 9000;
    let mut port = |fake: &FakePeeringDb, net_id: i64, asn: i64, ix: i64, v4: String, v6: String, rs: bool| {
        netixlan += 1;
        fake.put(
            "netixlan",
            merge(
                base(netixlan),
                json!({"net_id": net_id, "ix_id": ix, "ixlan_id": ix, "asn": asn,
            "ipaddr4": v4, "ipaddr6": v6, "is_rs_peer": rs, "bfd_support": false, "operational": true,
            "speed": 10_000, "notes": "", "net_side_id": null, "ix_side_id": null}),
            ),
        );
    };
    // The demo's own ports: .10 on both IXPs (edge1) and .11 on Demo-IX (edge2).
    fake.put("net", net(9000, 64500, "Demo Networks", "AS-DEMO", 100, 20, "Open"));
    for (ix, v4, v6) in [(9001, "192.0.2", "2001:db8:ae"), (9002, "198.51.100", "2001:db8:be")] {
        port(fake, 9000, 64500, ix, format!("{v4}.10"), format!("{v6}::10"), true);
    }
    port(fake, 9000, 64500, 9001, "192.0.2.11".into(), "2001:db8:ae::11".into(), true);
    for i in 1..=peers {
        let asn = 210_000 + i;
        fake.put(
            "net",
            net(
                9000 + i,
                asn,
                &format!("Example Peer {i}"),
                &format!("AS-PEER{i}"),
                10 * i,
                2 * i,
                pick(&["Open", "Open", "Selective", "Restrictive"], i),
            ),
        );
        fake.put(
            "poc",
            merge(
                base(9000 + i),
                json!({"net_id": 9000 + i, "role": "Policy", "visible": "Public",
            "name": format!("Peering desk {i}"), "phone": "", "email": format!("peering@as{asn}.example"), "url": ""}),
            ),
        );
        let host = 100 + i;
        port(fake, 9000 + i, asn, 9001, format!("192.0.2.{host}"), format!("2001:db8:ae::{host:x}"), i % 3 != 0);
    }
}
