//! Features that read the PeeringDB cache: available peers, linking,
//! shared IXPs and facilities, session and IXP imports, `exists_in_peeringdb`
//! and `is_abandoned`. The cache is filled directly (the sync lives in
//! `pm-peeringdb`): the fixtures in `shared/fixtures/peeringdb/` read in
//! place, plus generated records.

use std::path::PathBuf;

use pm_db::model::{Init, Kind, Model};
use pm_db::registry;
use sea_orm::ConnectionTrait;
use sea_query::Query;
use serde_json::{Value as Json, json};

use crate::both;
use crate::harness::TestApp;

fn fixture(ns: &str) -> Vec<Json> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../../shared/fixtures/peeringdb/{ns}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Json = serde_json::from_str(&text).unwrap();
    doc["data"].as_array().unwrap().clone()
}

/// Insert PeeringDB API records (`{"id":…, "net_id":…}`) into a cache table
/// the way the sync stores them: keys named after columns, multiple choices
/// comma-joined, JSON as text, missing values at their defaults.
pub async fn insert_records(app: &TestApp, label: &str, records: &[Json]) {
    let model: &'static Model = registry::model(label).unwrap();
    for r in records {
        let mut cols = vec![];
        let mut vals: Vec<sea_query::SimpleExpr> = vec![];
        for f in model.columns() {
            let col = f.column().unwrap();
            let v = r.get(col).or_else(|| r.get(f.name)).cloned().unwrap_or(Json::Null);
            let value: sea_query::Value = match (f.kind, &v) {
                (_, Json::Null) if f.null => pm_db::object::Val::Null.to_sql(&f.kind),
                (Kind::DateTime, Json::Null) => pm_db::object::Val::Null.to_sql(&f.kind),
                (Kind::DateTime, Json::String(s)) => {
                    chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc).into()
                }
                (Kind::Bool, Json::Null) => matches!(f.default, Init::Bool(true)).into(),
                (Kind::Bool, Json::Bool(b)) => (*b).into(),
                (_, Json::Null) if pm_db::object::is_int_kind(&f.kind) => match f.default {
                    Init::Int(i) => i.into(),
                    _ => 0i64.into(),
                },
                (_, Json::Number(n)) if pm_db::object::is_int_kind(&f.kind) => n.as_i64().unwrap().into(),
                (Kind::MultiChoice, Json::Array(items)) => {
                    items.iter().filter_map(Json::as_str).collect::<Vec<_>>().join(",").into()
                }
                (Kind::Json { .. }, v) => v.to_string().into(),
                (_, Json::Null) => match f.default {
                    Init::Text(t) => t.to_string().into(),
                    _ => String::new().into(),
                },
                (_, Json::String(s)) => s.clone().into(),
                (_, other) => other.to_string().into(),
            };
            cols.push(sea_query::Alias::new(col));
            vals.push(value.into());
        }
        let q = Query::insert().into_table(sea_query::Alias::new(model.table)).columns(cols).values_panic(vals).to_owned();
        app.db.conn.execute(&q).await.unwrap_or_else(|e| panic!("{label} {r}: {e}"));
    }
}

/// Every fixture namespace, in the sync's order.
pub async fn load_fixtures(app: &TestApp) {
    for (ns, label) in [
        ("org", "peeringdb.organization"),
        ("campus", "peeringdb.campus"),
        ("fac", "peeringdb.facility"),
        ("carrier", "peeringdb.carrier"),
        ("carrierfac", "peeringdb.carrierfacility"),
        ("net", "peeringdb.network"),
        ("ix", "peeringdb.internetexchange"),
        ("ixfac", "peeringdb.internetexchangefacility"),
        ("ixlan", "peeringdb.ixlan"),
        ("ixpfx", "peeringdb.ixlanprefix"),
        ("netfac", "peeringdb.networkfacility"),
        ("netixlan", "peeringdb.networkixlan"),
        ("poc", "peeringdb.networkcontact"),
    ] {
        insert_records(app, label, &fixture(ns)).await;
    }
}

pub async fn net(app: &TestApp, id: i64, asn: i64, name: &str) {
    let rec = json!({"id": id, "asn": asn, "name": name, "irr_as_set": format!("AS-{}", name.to_uppercase()),
        "info_prefixes4": 10, "info_prefixes6": 20, "policy_general": "Open"});
    insert_records(app, "peeringdb.network", &[rec]).await;
}

pub async fn netixlan(app: &TestApp, id: i64, net: i64, asn: i64, ixlan: i64, v4: Option<&str>, v6: Option<&str>) {
    let rec = json!({"id": id, "net_id": net, "asn": asn, "ixlan_id": ixlan, "ipaddr4": v4, "ipaddr6": v6,
        "speed": 10000, "is_rs_peer": id % 2 == 0});
    insert_records(app, "peeringdb.networkixlan", &[rec]).await;
}

/// The local side: AS201281 (in the fixtures, net 17293) affiliated, an IXP
/// on LU-CIX (IXLan 297) with two connections.
pub struct Local {
    pub asys: i64,
    pub ixp: i64,
    pub conns: [i64; 2],
}

pub async fn local_side(app: &TestApp) -> Local {
    let asys = app
        .create("/api/peering/autonomous-systems/", json!({"asn": 201281, "name": "Guillaume Mazoyer", "affiliated": true}))
        .await;
    let ixp = app
        .create(
            "/api/peering/internet-exchanges/",
            json!({"name": "LU-CIX", "slug": "lu-cix", "local_autonomous_system": asys, "peeringdb_ixlan": 297}),
        )
        .await;
    let mut conns = [0; 2];
    for (i, c) in conns.iter_mut().enumerate() {
        *c = app
            .create(
                "/api/net/connections/",
                json!({"internet_exchange_point": ixp, "router": null,
                    "ipv4_address": format!("188.93.170.{}/23", i + 1), "ipv6_address": format!("2001:7f8:4c::{}/64", i + 1)}),
            )
            .await;
    }
    Local { asys, ixp, conns }
}

pub async fn session(app: &TestApp, asys: i64, conn: i64, ip: &str) -> i64 {
    app.create(
        "/api/peering/internet-exchange-peering-sessions/",
        json!({"autonomous_system": asys, "ixp_connection": conn, "ip_address": ip}),
    )
    .await
}

/// Cache + local side of the available-peers tests:
/// AS2602 (fixture) fully configured, AS100 (v4 + v6), AS200 (v4 only),
/// AS300 (v6 only), our own AS on the IXLan, AS100 on another IXLan.
async fn peering_lan(app: &TestApp) -> Local {
    load_fixtures(app).await;
    for (id, asn, name) in [(9100, 100, "Hundred"), (9200, 200, "Twohundred"), (9300, 300, "Threehundred")] {
        net(app, id, asn, name).await;
    }
    insert_records(app, "peeringdb.internetexchange", &[json!({"id": 500, "name": "Elsewhere-IX"})]).await;
    insert_records(app, "peeringdb.ixlan", &[json!({"id": 500, "ix_id": 500})]).await;
    netixlan(app, 1, 9100, 100, 297, Some("188.93.170.100"), Some("2001:7f8:4c::100")).await;
    netixlan(app, 2, 9200, 200, 297, Some("188.93.170.200"), None).await;
    netixlan(app, 3, 9300, 300, 297, None, Some("2001:7f8:4c::300")).await;
    netixlan(app, 4, 17293, 201281, 297, Some("188.93.170.1"), Some("2001:7f8:4c::1")).await;
    netixlan(app, 5, 9100, 100, 500, Some("10.0.0.100"), None).await;
    local_side(app).await
}

fn asns(peers: &Json) -> Vec<i64> {
    peers.as_array().unwrap().iter().map(|p| p["asn"].as_i64().unwrap()).collect()
}

both!(available_peers_follow_every_rule, |backend| {
    let app = TestApp::new(backend).await;
    let local = peering_lan(&app).await;
    let url = format!("/api/peering/internet-exchanges/{}/available-peers/", local.ixp);

    // Nothing configured yet: everyone but ourselves, by ASN, only this IXLan.
    let peers = app.get(&url).await.expect(200);
    assert_eq!(asns(&peers), vec![100, 200, 300, 2602], "{peers}");
    let first = &peers[0];
    assert_eq!(first["id"], 1);
    assert_eq!(first["ipaddr4"], "188.93.170.100/32");
    assert_eq!(first["ixlan"], 297);

    // AS2602 configured on both connections in both families: gone.
    let restena = app.create("/api/peering/autonomous-systems/", json!({"asn": 2602, "name": "RESTENA"})).await;
    for conn in local.conns {
        session(&app, restena, conn, "188.93.170.9").await;
        session(&app, restena, conn, "2001:7f8:4c::a2a:1").await;
    }
    // AS100: IPv4 on both connections, IPv6 on one only: still available.
    let hundred = app.create("/api/peering/autonomous-systems/", json!({"asn": 100, "name": "Hundred"})).await;
    for conn in local.conns {
        session(&app, hundred, conn, "188.93.170.100").await;
    }
    session(&app, hundred, local.conns[0], "2001:7f8:4c::100").await;
    assert_eq!(asns(&app.get(&url).await.expect(200)), vec![100, 200, 300]);
    // The IPv6 session on the second connection completes it.
    session(&app, hundred, local.conns[1], "2001:7f8:4c::100").await;
    assert_eq!(asns(&app.get(&url).await.expect(200)), vec![200, 300]);

    // Hidden peers are left out while the hiding lasts.
    let hp = app.create("/api/peeringdb/hidden-peers/", json!({"peeringdb_network": 9200, "peeringdb_ixlan": 297})).await;
    assert_eq!(asns(&app.get(&url).await.expect(200)), vec![300]);
    app.patch(&format!("/api/peeringdb/hidden-peers/{hp}/"), json!({"until": "2999-01-01T00:00:00Z"})).await.expect(200);
    assert_eq!(asns(&app.get(&url).await.expect(200)), vec![300]);
    app.patch(&format!("/api/peeringdb/hidden-peers/{hp}/"), json!({"until": "2000-01-01T00:00:00Z"})).await.expect(200);
    assert_eq!(asns(&app.get(&url).await.expect(200)), vec![200, 300], "an expired hiding no longer hides");

    // An IXP that is not linked to PeeringDB has no available peers.
    let other = app
        .create("/api/peering/internet-exchanges/", json!({"name": "Unlinked", "slug": "unlinked", "local_autonomous_system": local.asys}))
        .await;
    let none = app.get(&format!("/api/peering/internet-exchanges/{other}/available-peers/")).await.expect(200);
    assert_eq!(none, json!([]));
    app.get("/api/peering/internet-exchanges/999/available-peers/").await.expect(404);
});

/// A browser for a user holding only these permissions.
async fn browser_with<'a>(app: &'a TestApp, name: &str, permissions: &[Json]) -> crate::ui_support::Browser<'a> {
    app.user_with(name, permissions).await;
    let id = app.get(&format!("/api/users/users/?username={name}")).await.expect(200)["results"][0]["id"].as_i64().unwrap();
    app.patch(&format!("/api/users/users/{id}/"), json!({"password": "a-long-password-1"})).await.expect(200);
    let mut b = crate::ui_support::Browser::new(app);
    b.login(name, "a-long-password-1").await;
    b
}

both!(available_peers_tab_creates_sessions_in_one_click, |backend| {
    let app = TestApp::new(backend).await;
    let local = peering_lan(&app).await;
    // AS300 says it never peers via route servers.
    app.db
        .conn
        .execute_unprepared("UPDATE peeringdb_network SET info_never_via_route_servers = TRUE WHERE id = 9300")
        .await
        .unwrap();
    let mut b = crate::ui_support::admin(&app).await;
    let tab = format!("/internet-exchanges/{}/available-peers/", local.ixp);
    let html = b.page(&format!("/internet-exchanges/{}/", local.ixp)).await;
    assert!(html.contains("available-peers&#x2f;\" class=\"\">Available peers"), "the IXP page links its Available peers tab");
    let html = b.page(&tab).await;
    for needle in ["AS100", "Hundred", "2001:7f8:4c::100", "188.93.170.200", "never via RS", "Create sessions", "10 Gbps"] {
        assert!(html.contains(needle), "{needle} missing from the tab");
    }
    assert!(!html.contains("\">AS201281</td>"), "our own network is not a peer");
    assert!(html.contains("hidden-peers&#x2f;add&#x2f;?peeringdb_network=9100&amp;peeringdb_ixlan=297"), "Hide pre-fills a hidden peer");

    // One click: AS100 is created from PeeringDB, then a session per connection and family.
    assert_eq!(app.count("/api/peering/autonomous-systems/?asn=100").await, 0);
    let r = b.post(&tab, &[("ixp", &local.ixp.to_string()), ("netixlan", "1"), ("return_url", &tab)]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let asys = &app.get("/api/peering/autonomous-systems/?asn=100").await.expect(200)["results"][0];
    assert_eq!(asys["name"], "Hundred");
    assert_eq!(asys["irr_as_set"], "AS-HUNDRED");
    assert_eq!(asys["ipv4_max_prefixes"], 10);
    assert_eq!(asys["ipv6_max_prefixes"], 20);
    let sessions = app.get("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=100").await.expect(200);
    assert_eq!(sessions["count"], 4, "{sessions}");
    let mut ips: Vec<&str> = sessions["results"].as_array().unwrap().iter().map(|s| s["ip_address"].as_str().unwrap()).collect();
    ips.sort();
    assert_eq!(ips, ["188.93.170.100", "188.93.170.100", "2001:7f8:4c::100", "2001:7f8:4c::100"]);
    let logged = app.count("/api/core/object-changes/?changed_object_type=peering.internetexchangepeeringsession").await;
    assert_eq!(logged, 4, "each session is in the change log");
    // AS100 is configured everywhere now; a second click creates nothing.
    assert!(!b.page(&tab).await.contains("\">AS100</td>"));
    b.post(&tab, &[("ixp", &local.ixp.to_string()), ("netixlan", "1")]).await;
    assert_eq!(app.count("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=100").await, 4);
    // An IPv4-only record gets IPv4 sessions only.
    b.post(&tab, &[("ixp", &local.ixp.to_string()), ("netixlan", "2")]).await;
    assert_eq!(app.count("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=200").await, 2);

    // The provisioning page: every IXP, filtered by ASN.
    let all = b.page("/peeringdb/available-ixp-peers/").await;
    assert!(all.contains("AS300") && all.contains("AS2602") && all.contains("LU-CIX"));
    let one = b.page("/peeringdb/available-ixp-peers/?asn=AS300").await;
    assert!(one.contains("AS300") && !one.contains("AS2602"));
    let nav = b.page("/").await;
    assert!(nav.contains("Available IXP Peers"), "the sidebar links the page");

    // Without the add permission on sessions: no button, and the POST is refused.
    let mut v = browser_with(&app, "viewer", &[json!({"object_types": ["peering.internetexchange", "peering.internetexchangepeeringsession"], "actions": ["view"]})]).await;
    let html = v.page(&tab).await;
    assert!(html.contains("AS300") && !html.contains("Create sessions"));
    let r = v.post(&tab, &[("ixp", &local.ixp.to_string()), ("netixlan", "3")]).await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    assert_eq!(app.count("/api/peering/autonomous-systems/?asn=300").await, 0, "nothing was created");
});
