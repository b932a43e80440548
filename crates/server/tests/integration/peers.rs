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
    insert_into(&app.db.conn, label, records).await
}

pub async fn insert_into(conn: &sea_orm::DatabaseConnection, label: &str, records: &[Json]) {
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
        let q =
            Query::insert().into_table(sea_query::Alias::new(model.table)).columns(cols).values_panic(vals).to_owned();
        conn.execute(&q).await.unwrap_or_else(|e| panic!("{label} {r}: {e}"));
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
        .create(
            "/api/peering/autonomous-systems/",
            json!({"asn": 201281, "name": "Guillaume Mazoyer", "affiliated": true}),
        )
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
    let hp =
        app.create("/api/peeringdb/hidden-peers/", json!({"peeringdb_network": 9200, "peeringdb_ixlan": 297})).await;
    assert_eq!(asns(&app.get(&url).await.expect(200)), vec![300]);
    app.patch(&format!("/api/peeringdb/hidden-peers/{hp}/"), json!({"until": "2999-01-01T00:00:00Z"}))
        .await
        .expect(200);
    assert_eq!(asns(&app.get(&url).await.expect(200)), vec![300]);
    app.patch(&format!("/api/peeringdb/hidden-peers/{hp}/"), json!({"until": "2000-01-01T00:00:00Z"}))
        .await
        .expect(200);
    assert_eq!(asns(&app.get(&url).await.expect(200)), vec![200, 300], "an expired hiding no longer hides");

    // An IXP that is not linked to PeeringDB has no available peers.
    let other = app
        .create(
            "/api/peering/internet-exchanges/",
            json!({"name": "Unlinked", "slug": "unlinked", "local_autonomous_system": local.asys}),
        )
        .await;
    let none = app.get(&format!("/api/peering/internet-exchanges/{other}/available-peers/")).await.expect(200);
    assert_eq!(none, json!([]));
    app.get("/api/peering/internet-exchanges/999/available-peers/").await.expect(404);
    // Reading them needs the view permission on the IXP.
    let token =
        app.user_with("nobody", &[json!({"object_types": ["peering.autonomoussystem"], "actions": ["view"]})]).await;
    let r = app.request(axum::http::Method::GET, &url, None, Some(&token)).await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
});

/// A browser for a user holding only these permissions.
async fn browser_with<'a>(app: &'a TestApp, name: &str, permissions: &[Json]) -> crate::ui_support::Browser<'a> {
    app.user_with(name, permissions).await;
    let id =
        app.get(&format!("/api/users/users/?username={name}")).await.expect(200)["results"][0]["id"].as_i64().unwrap();
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
    assert!(
        html.contains("available-peers&#x2f;\" class=\"\">Available peers"),
        "the IXP page links its Available peers tab"
    );
    let html = b.page(&tab).await;
    for needle in
        ["AS100", "Hundred", "2001:7f8:4c::100", "188.93.170.200", "never via RS", "Create sessions", "10 Gbps"]
    {
        assert!(html.contains(needle), "{needle} missing from the tab");
    }
    assert!(!html.contains("\">AS201281</td>"), "our own network is not a peer");
    assert!(
        html.contains("hidden-peers&#x2f;add&#x2f;?peeringdb_network=9100&amp;peeringdb_ixlan=297"),
        "Hide pre-fills a hidden peer"
    );
    // The tab's filter: by ASN, name or address; hidden peers on request.
    let only = b.page(&format!("{tab}?q=AS300")).await;
    assert!(only.contains("\">AS300</td>") && !only.contains("\">AS100</td>"));
    let by_ip = b.page(&format!("{tab}?q=188.93.170.200")).await;
    assert!(by_ip.contains("\">AS200</td>") && !by_ip.contains("\">AS300</td>"));
    app.create("/api/peeringdb/hidden-peers/", json!({"peeringdb_network": 9300, "peeringdb_ixlan": 297})).await;
    assert!(!b.page(&tab).await.contains("\">AS300</td>"), "hidden");
    assert!(b.page(&format!("{tab}?show_hidden=1")).await.contains("\">AS300</td>"), "shown on request");
    let hp = app.get("/api/peeringdb/hidden-peers/?peeringdb_network_id=9300").await.expect(200)["results"][0]["id"]
        .as_i64()
        .unwrap();
    app.delete(&format!("/api/peeringdb/hidden-peers/{hp}/"), None).await.expect(204);
    let form = b.page("/peeringdb/hidden-peers/add/?peeringdb_network=9100&peeringdb_ixlan=297").await;
    assert!(form.contains("AS100 - Hundred") && form.contains("LU-CIX"), "the hidden peer form comes pre-filled");

    // One click: AS100 is created from PeeringDB, then a session per connection and family.
    assert_eq!(app.count("/api/peering/autonomous-systems/?asn=100").await, 0);
    let r = b.post(&tab, &[("peer", &format!("{}:1", local.ixp)), ("return_url", &tab)]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let asys = &app.get("/api/peering/autonomous-systems/?asn=100").await.expect(200)["results"][0];
    assert_eq!(asys["name"], "Hundred");
    assert_eq!(asys["irr_as_set"], "AS-HUNDRED");
    assert_eq!(asys["ipv4_max_prefixes"], 10);
    assert_eq!(asys["ipv6_max_prefixes"], 20);
    let sessions =
        app.get("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=100").await.expect(200);
    assert_eq!(sessions["count"], 4, "{sessions}");
    let mut ips: Vec<&str> =
        sessions["results"].as_array().unwrap().iter().map(|s| s["ip_address"].as_str().unwrap()).collect();
    ips.sort();
    assert_eq!(ips, ["188.93.170.100", "188.93.170.100", "2001:7f8:4c::100", "2001:7f8:4c::100"]);
    let logged =
        app.count("/api/core/object-changes/?changed_object_type=peering.internetexchangepeeringsession").await;
    assert_eq!(logged, 4, "each session is in the change log");
    // AS100 is configured everywhere now; a second click creates nothing.
    assert!(!b.page(&tab).await.contains("\">AS100</td>"));
    b.post(&tab, &[("peer", &format!("{}:1", local.ixp))]).await;
    assert_eq!(app.count("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=100").await, 4);
    // An IPv4-only record gets IPv4 sessions only.
    b.post(&tab, &[("peer", &format!("{}:2", local.ixp))]).await;
    assert_eq!(app.count("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=200").await, 2);

    // The provisioning page: every IXP, filtered by ASN.
    let all = b.page("/peeringdb/available-ixp-peers/").await;
    assert!(all.contains("AS300") && all.contains("AS2602") && all.contains("LU-CIX"));
    let one = b.page("/peeringdb/available-ixp-peers/?asn=AS300").await;
    assert!(one.contains("AS300") && !one.contains("AS2602"));
    let nav = b.page("/").await;
    assert!(nav.contains("Available IXP Peers"), "the sidebar links the page");
    // Several at once from the selection, in one transaction.
    let (a, c) = (format!("{}:3", local.ixp), format!("{}:11709", local.ixp));
    let r = b.post("/peeringdb/available-ixp-peers/", &[("bulk", "1"), ("pk", &a), ("pk", &c)]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    assert_eq!(
        app.count("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=300").await,
        2,
        "IPv6 only"
    );
    assert_eq!(app.count("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=2602").await, 4);
    assert!(b.page("/").await.contains("Created 6 session(s)."));
    let r = b.post("/peeringdb/available-ixp-peers/", &[("bulk", "1")]).await;
    assert_eq!(r.status.as_u16(), 400, "an empty selection is refused");

    // Without the add permission on sessions: no button, and the POST is refused.
    let mut v = browser_with(&app, "viewer", &[json!({"object_types": ["peering.internetexchange", "peering.internetexchangepeeringsession"], "actions": ["view"]})]).await;
    netixlan(&app, 8, 9100, 100, 297, Some("188.93.170.108"), None).await; // AS100's second port
    let html = v.page(&tab).await;
    assert!(html.contains("188.93.170.108") && !html.contains("Create sessions"));
    let r = v.post(&tab, &[("peer", &format!("{}:8", local.ixp))]).await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    assert_eq!(
        app.count("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=100").await,
        4,
        "nothing created"
    );
});

both!(ixps_and_connections_link_to_peeringdb, |backend| {
    let app = TestApp::new(backend).await;
    load_fixtures(&app).await;
    let asys =
        app.create("/api/peering/autonomous-systems/", json!({"asn": 201281, "name": "Us", "affiliated": true})).await;
    let new_ixp = |slug: &'static str| {
        let app = &app;
        async move {
            app.create(
                "/api/peering/internet-exchanges/",
                json!({"name": slug, "slug": slug, "local_autonomous_system": asys}),
            )
            .await
        }
    };
    let conn = |ixp: i64, v4: Option<&str>, v6: Option<&str>| {
        let app = &app;
        let body = json!({"internet_exchange_point": ixp, "router": null, "ipv4_address": v4, "ipv6_address": v6});
        async move { app.create("/api/net/connections/", body).await }
    };
    // Both addresses of the fixture record: linked, and the IXP with it.
    let lucix = new_ixp("lu-cix").await;
    let c = conn(lucix, Some("188.93.170.9/23"), Some("2001:7f8:4c::a2a:1/64")).await;
    app.post(&format!("/api/peering/internet-exchanges/{lucix}/link-to-peeringdb/"), json!({})).await.expect(200);
    let ixp = app.get(&format!("/api/peering/internet-exchanges/{lucix}/")).await.expect(200);
    assert_eq!(ixp["peeringdb_ixlan"], 297);
    assert_eq!(ixp["peeringdb_prefixes"], json!({"ipv6": ["2001:7f8:4c::/64"], "ipv4": ["188.93.170.0/23"]}));
    assert_eq!(app.get(&format!("/api/net/connections/{c}/")).await.expect(200)["peeringdb_netixlan"], 11709);
    let prefixes = app.get(&format!("/api/peering/internet-exchanges/{lucix}/prefixes/")).await.expect(200);
    assert_eq!(prefixes, ixp["peeringdb_prefixes"]);

    // A connection on another IXLan: the IXP's connections disagree, it is unlinked.
    insert_records(&app, "peeringdb.internetexchange", &[json!({"id": 500, "name": "Elsewhere-IX"})]).await;
    insert_records(&app, "peeringdb.ixlan", &[json!({"id": 500, "ix_id": 500})]).await;
    netixlan(&app, 73, 4840, 2602, 500, Some("10.0.0.73"), None).await;
    let other = conn(lucix, Some("10.0.0.73/24"), None).await;
    app.post(&format!("/api/peering/internet-exchanges/{lucix}/link-to-peeringdb/"), json!({})).await.expect(503);
    assert_eq!(
        app.get(&format!("/api/peering/internet-exchanges/{lucix}/")).await.expect(200)["peeringdb_ixlan"],
        json!(null)
    );
    app.delete(&format!("/api/net/connections/{other}/"), None).await;
    app.post(&format!("/api/peering/internet-exchanges/{lucix}/link-to-peeringdb/"), json!({})).await.expect(200);

    // Only one of the two addresses matching is no match (a missing address matches a missing one).
    let half = new_ixp("half").await;
    conn(half, Some("188.93.170.9/23"), None).await;
    app.post(&format!("/api/peering/internet-exchanges/{half}/link-to-peeringdb/"), json!({})).await.expect(503);
    let unlinked = app.get(&format!("/api/peering/internet-exchanges/{half}/")).await.expect(200);
    assert_eq!(unlinked["peeringdb_ixlan"], json!(null));
    assert_eq!(unlinked["peeringdb_prefixes"], json!({}));
    assert_eq!(app.get(&format!("/api/peering/internet-exchanges/{half}/prefixes/")).await.expect(200), json!({}));

    // Two records with the same addresses: ambiguous, left alone, no crash.
    netixlan(&app, 70, 4840, 2602, 297, Some("188.93.170.70"), None).await;
    netixlan(&app, 71, 4840, 2602, 297, Some("188.93.170.70/32"), None).await;
    let twice = new_ixp("twice").await;
    let c2 = conn(twice, Some("188.93.170.70/23"), None).await;
    app.post(&format!("/api/peering/internet-exchanges/{twice}/link-to-peeringdb/"), json!({})).await.expect(503);
    assert_eq!(app.get(&format!("/api/net/connections/{c2}/")).await.expect(200)["peeringdb_netixlan"], json!(null));

    // Needs the change permission.
    let token =
        app.user_with("reader", &[json!({"object_types": ["peering.internetexchange"], "actions": ["view"]})]).await;
    let r = app
        .request(
            axum::http::Method::POST,
            &format!("/api/peering/internet-exchanges/{half}/link-to-peeringdb/"),
            Some(json!({})),
            Some(&token),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    app.post("/api/peering/internet-exchanges/999/link-to-peeringdb/", json!({})).await.expect(404);

    // After a sync: everything relinked in one call, hidden peers re-attached by their kept ids.
    let later = new_ixp("later").await;
    netixlan(&app, 72, 4840, 2602, 297, Some("188.93.170.72"), Some("2001:7f8:4c::72")).await;
    let c3 = conn(later, Some("188.93.170.72/23"), Some("2001:7f8:4c::72/64")).await;
    let hp =
        app.create("/api/peeringdb/hidden-peers/", json!({"peeringdb_network": 4840, "peeringdb_ixlan": 297})).await;
    app.db
        .conn
        .execute_unprepared("UPDATE peeringdb_hiddenpeer SET peeringdb_network_id = NULL, peeringdb_ixlan_id = NULL")
        .await
        .unwrap();
    pm_db::peeringdb::link_all(&app.db).await.unwrap();
    assert_eq!(app.get(&format!("/api/peering/internet-exchanges/{later}/")).await.expect(200)["peeringdb_ixlan"], 297);
    assert_eq!(app.get(&format!("/api/net/connections/{c3}/")).await.expect(200)["peeringdb_netixlan"], 72);
    let hp = app.get(&format!("/api/peeringdb/hidden-peers/{hp}/")).await.expect(200);
    assert_eq!((hp["peeringdb_network"].clone(), hp["peeringdb_ixlan"].clone()), (json!(4840), json!(297)));
});

both!(sessions_know_whether_peeringdb_lists_them, |backend| {
    let app = TestApp::new(backend).await;
    let local = peering_lan(&app).await;
    let ixp_sessions = "/api/peering/internet-exchange-peering-sessions/";
    // Connection 1 holds the addresses of our own record: linking links it (connection 2 stays unlinked).
    app.post(&format!("/api/peering/internet-exchanges/{}/link-to-peeringdb/", local.ixp), json!({})).await.expect(200);
    let hundred = app.create("/api/peering/autonomous-systems/", json!({"asn": 100, "name": "Hundred"})).await;
    let private = app.create("/api/peering/autonomous-systems/", json!({"asn": 64512, "name": "Private"})).await;
    let state = |id: i64, s: &'static str| {
        let app = &app;
        async move {
            app.patch(&format!("/api/peering/internet-exchange-peering-sessions/{id}/"), json!({"bgp_state": s}))
                .await
                .expect(200)
        }
    };
    let listed = session(&app, hundred, local.conns[0], "2001:7f8:4c::100").await;
    state(listed, "idle").await;
    let gone = session(&app, hundred, local.conns[0], "188.93.170.99").await;
    state(gone, "active").await;
    let gone_up = session(&app, hundred, local.conns[0], "188.93.170.98").await;
    state(gone_up, "established").await;
    let unknown_as = session(&app, private, local.conns[0], "188.93.170.97").await;
    state(unknown_as, "idle").await;
    let unlinked_conn = session(&app, hundred, local.conns[1], "188.93.170.96").await;
    state(unlinked_conn, "idle").await;

    let get = |id: i64| {
        let app = &app;
        async move { app.get(&format!("/api/peering/internet-exchange-peering-sessions/{id}/")).await.expect(200) }
    };
    let s = get(listed).await;
    assert_eq!((s["exists_in_peeringdb"].clone(), s["is_abandoned"].clone()), (json!(true), json!(false)));
    let s = get(gone).await;
    assert_eq!((s["exists_in_peeringdb"].clone(), s["is_abandoned"].clone()), (json!(false), json!(true)));
    for id in [gone_up, unknown_as, unlinked_conn] {
        let s = get(id).await;
        assert_eq!(
            (s["exists_in_peeringdb"].clone(), s["is_abandoned"].clone()),
            (json!(false), json!(false)),
            "session {id}"
        );
    }
    let ids = |path: String| {
        let app = &app;
        async move {
            let r = app.get(&path).await.expect(200);
            let mut v: Vec<i64> = r["results"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
            v.sort();
            v
        }
    };
    assert_eq!(ids(format!("{ixp_sessions}?exists_in_peeringdb=true")).await, vec![listed]);
    assert_eq!(
        ids(format!("{ixp_sessions}?exists_in_peeringdb=false")).await,
        vec![gone, gone_up, unknown_as, unlinked_conn]
    );
    assert_eq!(ids(format!("{ixp_sessions}?is_abandoned=true")).await, vec![gone]);
    assert_eq!(ids(format!("{ixp_sessions}?is_abandoned=false")).await.len(), 4);
    app.get(&format!("{ixp_sessions}?is_abandoned=maybe")).await.expect(400);
    // The web list filters the same way.
    let mut b = crate::ui_support::admin(&app).await;
    let html = b.page("/internet-exchange-peering-sessions/?is_abandoned=true").await;
    assert!(html.contains("1 internet exchange peering session matching"), "UI filter");

    // A router that is not polled does not call its sessions abandoned.
    let platform = app.create("/api/devices/platforms/", json!({"name": "Junos", "slug": "junos"})).await;
    let router = app
        .create("/api/devices/routers/", json!({"name": "r1", "hostname": "r1", "platform": platform, "local_autonomous_system": local.asys, "poll_bgp_sessions_state": false}))
        .await;
    app.patch(&format!("/api/net/connections/{}/", local.conns[0]), json!({"router": router})).await.expect(200);
    assert_eq!(get(gone).await["is_abandoned"], false);
    assert_eq!(app.count(&format!("{ixp_sessions}?is_abandoned=true")).await, 0);
    app.patch(&format!("/api/devices/routers/{router}/"), json!({"poll_bgp_sessions_state": true})).await.expect(200);
    assert_eq!(get(gone).await["is_abandoned"], true);
    assert_eq!(app.count(&format!("{ixp_sessions}?is_abandoned=true")).await, 1);
});

/// Our PeeringDB network shares facility 220 with AS2602's.
async fn shared_facility(app: &TestApp) {
    insert_records(app, "peeringdb.networkfacility", &[json!({"id": 99, "net_id": 17293, "fac_id": 220})]).await;
}

both!(shared_ixps_and_facilities_need_a_context_as, |backend| {
    let app = TestApp::new(backend).await;
    let local = peering_lan(&app).await;
    shared_facility(&app).await;
    let restena = app.create("/api/peering/autonomous-systems/", json!({"asn": 2602, "name": "RESTENA"})).await;
    let ixps = format!("/api/peering/autonomous-systems/{restena}/shared-ixps/");
    let facs = format!("/api/peering/autonomous-systems/{restena}/shared-facilities/");
    app.get(&ixps).await.expect(503);
    app.get(&facs).await.expect(503);
    app.patch("/api/users/userpref/", json!({"context": {"as": local.asys}})).await.expect(200);
    let shared = app.get(&ixps).await.expect(200);
    assert_eq!(shared.as_array().unwrap().len(), 1, "{shared}");
    assert_eq!((shared[0]["id"].clone(), shared[0]["name"].clone()), (json!(local.ixp), json!("LU-CIX")));
    let facilities = app.get(&facs).await.expect(200);
    assert_eq!(facilities.as_array().unwrap().len(), 1, "{facilities}");
    assert_eq!(facilities[0]["name"], "BCE Colocation Luxembourg");
    // Our own AS shares nothing with itself; an AS unknown to PeeringDB neither.
    assert_eq!(
        app.get(&format!("/api/peering/autonomous-systems/{}/shared-ixps/", local.asys)).await.expect(200),
        json!([])
    );
    let private = app.create("/api/peering/autonomous-systems/", json!({"asn": 64512, "name": "Private"})).await;
    assert_eq!(
        app.get(&format!("/api/peering/autonomous-systems/{private}/shared-facilities/")).await.expect(200),
        json!([])
    );
    app.get("/api/peering/autonomous-systems/999/shared-ixps/").await.expect(404);
});

both!(as_peeringdb_tab_shows_network_contacts_and_divergence, |backend| {
    let app = TestApp::new(backend).await;
    let local = peering_lan(&app).await;
    shared_facility(&app).await;
    let restena = app
        .create(
            "/api/peering/autonomous-systems/",
            json!({"asn": 2602, "name": "RESTENA", "irr_as_set": "AS-RESTENA",
            "ipv6_max_prefixes": 5, "ipv4_max_prefixes": 100}),
        )
        .await;
    let mut b = crate::ui_support::admin(&app).await;
    let main = b.page(&format!("/autonomous-systems/{restena}/")).await;
    assert!(main.contains("Differs from PeeringDB: Name, IPv4 max prefixes"), "the main tab warns");
    let page = format!("/autonomous-systems/{restena}/peeringdb/");
    let html = b.page(&page).await;
    assert!(html.contains("Differences with PeeringDB"));
    let rows: Vec<&str> = html.split("<tr class=\"divergence\">").skip(1).collect();
    assert_eq!(rows.len(), 2, "name and IPv4 max prefixes differ, nothing else");
    assert!(rows[0].contains("<th>Name</th><td>RESTENA</td><td>Fondation RESTENA</td>"), "{}", rows[0]);
    assert!(rows[1].contains("<th>IPv4 max prefixes</th><td>100</td><td>10</td>"), "{}", rows[1]);
    assert!(rows[1].contains("data-apply=\"{&quot;ipv4_max_prefixes&quot;:10}\""), "{}", rows[1]);
    assert!(html.contains("John Doe") && html.contains("jdoe@restena.lu"), "PeeringDB contacts");
    assert!(html.contains("Choose a context AS"), "no shared facilities without a context AS");
    b.api(axum::http::Method::PATCH, "/api/users/userpref/", Some(json!({"context": {"as": local.asys}})), true).await;
    assert!(b.page(&page).await.contains("BCE Colocation Luxembourg"), "shared facility with the context AS");
    // With a context AS, its missing sessions with this AS, one click away.
    let sessions_tab = format!("/autonomous-systems/{restena}/available-sessions/");
    let html = b.page(&sessions_tab).await;
    assert!(html.contains("188.93.170.9") && html.contains("2001:7f8:4c::a2a:1") && html.contains("LU-CIX"), "{html}");
    b.post(&sessions_tab, &[("peer", &format!("{}:11709", local.ixp))]).await;
    assert_eq!(app.count("/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=2602").await, 4);
    assert!(!b.page(&sessions_tab).await.contains("Create sessions"), "nothing missing any more");
    // What "Apply" sends makes the difference go away.
    b.api(
        axum::http::Method::PATCH,
        &format!("/api/peering/autonomous-systems/{restena}/"),
        Some(json!({"ipv4_max_prefixes": 10})),
        true,
    )
    .await;
    assert_eq!(b.page(&page).await.split("<tr class=\"divergence\">").count(), 2);

    // Private ASes are never looked up: no tab.
    let private = app.create("/api/peering/autonomous-systems/", json!({"asn": 64512, "name": "Private"})).await;
    // (HTML escapes `/`; the tab's link is the one to `…/peeringdb/`.)
    let tab = |id: i64| format!("&#x2f;autonomous-systems&#x2f;{id}&#x2f;peeringdb&#x2f;\"");
    assert!(main.contains(&tab(restena)), "public ASes have the tab");
    assert!(!b.page(&format!("/autonomous-systems/{private}/")).await.contains(&tab(private)));
    assert_eq!(b.get(&format!("/autonomous-systems/{private}/peeringdb/")).await.status.as_u16(), 404);
    // The add form asks the cache's API, which answers by ASN.
    assert!(b.page("/autonomous-systems/add/").await.contains("id=\"id_asn\""));
    let found = app.get("/api/peeringdb/networks/?asn=2602").await.expect(200);
    assert_eq!(found["results"][0]["irr_as_set"], "AS-RESTENA");
});

both!(ixp_import_creates_ixps_and_connections_for_the_context_as, |backend| {
    let app = TestApp::new(backend).await;
    load_fixtures(&app).await;
    insert_records(&app, "peeringdb.internetexchange", &[json!({"id": 500, "name": "Elsewhere-IX"})]).await;
    insert_records(&app, "peeringdb.ixlan", &[json!({"id": 500, "ix_id": 500})]).await;
    insert_records(
        &app,
        "peeringdb.ixlanprefix",
        &[json!({"id": 501, "ixlan_id": 500, "protocol": "IPv4", "prefix": "10.0.0.0/24"})],
    )
    .await;
    netixlan(&app, 4, 17293, 201281, 297, Some("188.93.170.1"), Some("2001:7f8:4c::1")).await;
    netixlan(&app, 6, 17293, 201281, 500, Some("10.0.0.1"), None).await;
    netixlan(&app, 7, 17293, 201281, 500, None, None).await;
    let us =
        app.create("/api/peering/autonomous-systems/", json!({"asn": 201281, "name": "Us", "affiliated": true})).await;
    let mut b = crate::ui_support::admin(&app).await;
    let page = "/internet-exchanges/peeringdb-import/";
    assert!(b.page("/internet-exchanges/").await.contains("Import from PeeringDB"));
    assert!(b.page(page).await.contains("Choose an affiliated autonomous system"));
    b.api(axum::http::Method::PATCH, "/api/users/userpref/", Some(json!({"context": {"as": us}})), true).await;

    // A name taken by another IXP: the whole import is refused, nothing written.
    let clash = app
        .create(
            "/api/peering/internet-exchanges/",
            json!({"name": "Elsewhere-IX", "slug": "taken", "local_autonomous_system": us}),
        )
        .await;
    let html = b.page(page).await.replace("&#x2f;", "/");
    assert!(html.contains("LU-CIX") && html.contains("188.93.170.1/23") && html.contains("2001:7f8:4c::1/64"));
    assert!(html.contains("10.0.0.1/24"), "the IXLan prefix gives the length");
    let r = b.post(page, &[]).await;
    assert_eq!(r.status.as_u16(), 200, "the preview comes back with the error");
    assert!(r.text.contains("Nothing was imported"), "{}", r.text);
    assert_eq!(app.count("/api/peering/internet-exchanges/").await, 1);
    assert_eq!(app.count("/api/net/connections/").await, 0);
    app.delete(&format!("/api/peering/internet-exchanges/{clash}/"), None).await;

    let r = b.post(page, &[]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let ixps = app.get("/api/peering/internet-exchanges/?ordering=name").await.expect(200);
    let got: Vec<(Json, Json, Json)> = ixps["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].clone(), i["slug"].clone(), i["peeringdb_ixlan"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("Elsewhere-IX"), json!("elsewhere-ix-500"), json!(500)),
            (json!("LU-CIX"), json!("lu-cix-297"), json!(297))
        ]
    );
    let conns = app.get("/api/net/connections/?ordering=id").await.expect(200);
    assert_eq!(conns["count"], 2, "records without an address are skipped: {conns}");
    let linked: Vec<Json> =
        conns["results"].as_array().unwrap().iter().map(|c| c["peeringdb_netixlan"].clone()).collect();
    assert!(linked.contains(&json!(4)) && linked.contains(&json!(6)));
    assert_eq!(app.count("/api/core/object-changes/?changed_object_type=net.connection").await, 2);
    assert!(b.page(page).await.contains("Nothing to import"));

    // Without the add permissions: refused.
    let mut v =
        browser_with(&app, "viewer", &[json!({"object_types": ["peering.internetexchange"], "actions": ["view"]})])
            .await;
    assert_eq!(v.get(page).await.status.as_u16(), 403);
});

fn template(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../../shared/fixtures/templates/{name}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

both!(template_filters_read_the_cache, |backend| {
    let app = TestApp::new(backend).await;
    let local = peering_lan(&app).await;
    shared_facility(&app).await;
    let hundred = app.create("/api/peering/autonomous-systems/", json!({"asn": 100, "name": "Hundred"})).await;
    let render = |tpl: &'static str, asys: i64| {
        let app = &app;
        async move {
            let email = app
                .create(
                    "/api/messaging/emails/",
                    json!({"name": format!("t{}", uuid::Uuid::new_v4().simple()), "subject": "s", "template": tpl}),
                )
                .await;
            let r = app
                .post(&format!("/api/peering/autonomous-systems/{asys}/generate-email/"), json!({"email": email}))
                .await;
            (r.status.as_u16(), r.json["body"].as_str().unwrap_or(&r.text).to_string())
        }
    };
    let us = "{% set us = affiliated_autonomous_systems | first %}";
    let ok = |r: (u16, String)| {
        assert_eq!(r.0, 200, "{}", r.1);
        r.1
    };
    assert_eq!(
        ok(render(
            Box::leak(format!("{us}{{{{ autonomous_system | shared_ixps(us) | join(',') }}}}").into_boxed_str()),
            hundred
        )
        .await),
        "LU-CIX"
    );
    // With an AS as `other`, only IXPs whose local AS is `other` count: AS100 has none.
    assert_eq!(
        ok(render(
            Box::leak(format!("{us}{{{{ us | shared_ixps(autonomous_system) | length }}}}").into_boxed_str()),
            hundred
        )
        .await),
        "0"
    );
    assert_eq!(
        ok(render("{% set us = affiliated_autonomous_systems | first %}{{ autonomous_system.peeringdb_network | shared_facilities(us) | join(',') }}", hundred).await),
        "",
        "AS100 has no facility in PeeringDB"
    );
    let restena = app.create("/api/peering/autonomous-systems/", json!({"asn": 2602, "name": "RESTENA"})).await;
    assert_eq!(
        ok(render("{% set us = affiliated_autonomous_systems | first %}{{ autonomous_system | shared_facilities(us) | join(',') }}", restena).await),
        "BCE Colocation Luxembourg"
    );
    let missing = "{% set us = affiliated_autonomous_systems | first %}{% for s in autonomous_system | missing_sessions(us) %}{{ s.ipaddr4 }} {{ s.ipaddr6 }} {{ s.cidr4 }};{% endfor %}";
    assert_eq!(ok(render(missing, hundred).await), "188.93.170.100/32 2001:7f8:4c::100/128 188.93.170.100/23;");
    session(&app, hundred, local.conns[0], "188.93.170.100").await;
    assert_eq!(
        ok(render(missing, hundred).await),
        "188.93.170.100/32 2001:7f8:4c::100/128 188.93.170.100/23;",
        "IPv6 still free"
    );
    session(&app, hundred, local.conns[0], "2001:7f8:4c::100").await;
    assert_eq!(ok(render(missing, hundred).await), "", "both addresses in use");
    let with_ixp = "{% set us = affiliated_autonomous_systems | first %}{% for ixp in autonomous_system | shared_ixps(us) %}{{ autonomous_system | missing_sessions(us, ixp) | length }}{% endfor %}";
    assert_eq!(ok(render(with_ixp, restena).await), "1");
    assert_eq!(
        ok(render("{{ autonomous_system.peeringdb_network.name }}|{{ autonomous_system.general_policy }}|{{ autonomous_system.peeringdb_contacts | join(',') }}", restena).await),
        "Fondation RESTENA|Open|John Doe <jdoe@restena.lu>"
    );
    let private = app.create("/api/peering/autonomous-systems/", json!({"asn": 64512, "name": "Private"})).await;
    assert_eq!(ok(render("{% if autonomous_system.peeringdb_network is none %}None{% endif %}{% set us = affiliated_autonomous_systems | first %}{{ autonomous_system | shared_ixps(us) | length }}", private).await), "None0");
    // IXPs: their PeeringDB prefixes.
    assert_eq!(
        ok(render("{% set us = affiliated_autonomous_systems | first %}{% for ixp in autonomous_system | shared_ixps(us) %}{{ ixp | prefix_list(6) | join(',') }}|{{ ixp.peeringdb_prefixes.ipv4 | join(',') }}{% endfor %}", restena).await),
        "2001:7f8:4c::/64|188.93.170.0/23"
    );
    // Wrong types are template errors.
    let (status, _) = render("{{ 5 | shared_ixps(autonomous_system) }}", restena).await;
    assert_eq!(status, 400);
});

both!(new_network_email_renders_from_the_cache, |backend| {
    let app = TestApp::new(backend).await;
    let local = peering_lan(&app).await;
    shared_facility(&app).await;
    let email = app
        .create(
            "/api/messaging/emails/",
            json!({"name": "New network", "subject": template("new-network-email-subject.j2"), "template": template("new-network-email-body.j2")}),
        )
        .await;
    let url = "/api/peeringdb/networks/render-email/";
    let mail =
        app.post(url, json!({"email": email, "autonomous_system": local.asys, "network": 4840})).await.expect(200);
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/integration/golden/new-network-email.txt");
    let actual = format!("Subject: {}\n\n{}", mail["subject"].as_str().unwrap(), mail["body"].as_str().unwrap());
    if std::env::var("PM_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&golden, &actual).unwrap();
    }
    assert_eq!(actual, std::fs::read_to_string(&golden).unwrap());
    assert!(actual.contains("- BCE Colocation Luxembourg") && actual.contains("- LU-CIX"), "{actual}");
    // Missing pieces are named.
    let r = app.post(url, json!({"email": email, "autonomous_system": local.asys})).await.expect(400);
    assert!(r["network"].is_array(), "{r}");
    app.post(url, json!({"email": 999, "autonomous_system": local.asys, "network": 4840})).await.expect(404);
    app.post(url, json!({"email": email, "autonomous_system": local.asys, "network": 1})).await.expect(404);
});
