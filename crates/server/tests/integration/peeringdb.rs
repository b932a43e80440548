//! The PeeringDB cache: mirror endpoints, hidden peers, the sync.

use axum::http::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

async fn exec(app: &TestApp, sql: &str) {
    app.db.conn.execute_raw(Statement::from_string(app.db.backend(), sql.to_string())).await.unwrap();
}

/// A few cache rows written the way the sync writes them (no API can).
async fn seed_cache(app: &TestApp) {
    exec(app, "INSERT INTO peeringdb_organization (id, name, name_long, aka, website, notes, address1, address2, city, state, zipcode, country, suite, floor) VALUES (6428, 'RESTENA', '', '', '', '', '', '', 'Luxembourg', '', '', 'LU', '', '')").await;
    exec(app, "INSERT INTO peeringdb_network (id, asn, name, name_long, aka, irr_as_set, website, looking_glass, route_server, notes, notes_private, info_traffic, info_ratio, info_scope, info_type, info_types, info_prefixes4, info_prefixes6, info_unicast, info_multicast, info_ipv6, info_never_via_route_servers, policy_url, policy_general, policy_locations, policy_ratio, policy_contracts, org_id) VALUES (4840, 2602, 'Fondation RESTENA', '', 'RESTENA', 'AS-RESTENA', '', '', '', '', '', '', '', '', 'Educational/Research', 'Educational/Research,NSP', 10, 5, true, false, true, false, '', 'Open', 'Not Required', false, 'Not Required', 6428)").await;
    exec(app, "INSERT INTO peeringdb_internetexchange (id, name, name_long, aka, city, country, notes, media, proto_unicast, proto_multicast, proto_ipv6, website, url_stats, tech_email, tech_phone, policy_email, policy_phone, sales_email, sales_phone, ixf_net_count, service_level, terms, org_id) VALUES (297, 'LU-CIX', '', '', 'Luxembourg', 'LU', '', 'Ethernet', true, false, true, '', '', '', '', '', '', '', '', 0, '', '', 999)").await;
    exec(app, "INSERT INTO peeringdb_ixlan (id, name, descr, mtu, dot1q_support, rs_asn, ixf_ixp_member_list_url_visible, ix_id) VALUES (297, '', '', 1500, false, 0, 'Private', 297)").await;
    exec(app, "INSERT INTO peeringdb_networkixlan (id, asn, ipaddr4, ipaddr6, is_rs_peer, bfd_support, notes, speed, operational, net_id, ixlan_id) VALUES (11709, 2602, '188.93.170.9', '2001:7f8:4c::a2a:1', true, false, '', 100000, true, 4840, 297)").await;
}

both!(mirror_endpoints_are_plain_and_read_only, |backend| {
    let app = TestApp::new(backend).await;
    seed_cache(&app).await;
    let root = app.get("/api/peeringdb/").await.expect(200);
    assert!(root["networks"].is_string() && root["hidden-peers"].is_string());
    assert!(root.get("carriers").is_none(), "carriers have no endpoint: {root}");

    let nets = app.get("/api/peeringdb/networks/?asn=2602").await.expect(200);
    assert_eq!(nets["count"], 1);
    let net = &nets["results"][0];
    assert_eq!(net["id"], 4840);
    assert_eq!(net["display"], "AS2602 - Fondation RESTENA");
    assert_eq!(net["info_types"], json!(["Educational/Research", "NSP"]));
    assert_eq!(net["org"]["name"], "RESTENA", "org nested whole: {net}");
    assert!(net.get("url").is_none() && net.get("created").is_none());

    let netixlan = app.get("/api/peeringdb/network-ixlans/11709/").await.expect(200);
    assert_eq!(netixlan["net"], 4840);
    assert_eq!(netixlan["ixlan"], 297);
    assert_eq!(netixlan["ipaddr4"], "188.93.170.9/32");
    assert_eq!(netixlan["ipaddr6"], "2001:7f8:4c::a2a:1/128");
    assert_eq!(netixlan["net_side"], json!(null));
    assert_eq!(app.count("/api/peeringdb/network-ixlans/?q=188.93.170.9").await, 1);
    assert_eq!(app.count("/api/peeringdb/network-ixlans/?net_asn=2602").await, 1);

    // An IX whose organisation PeeringDB did not send still lists.
    let ix = app.get("/api/peeringdb/internet-exchanges/297/").await.expect(200);
    assert_eq!(ix["org"], json!(null));
    let ixlan = app.get("/api/peeringdb/ixlans/297/").await.expect(200);
    assert_eq!(ixlan["ix"]["name"], "LU-CIX");

    let r = app.post("/api/peeringdb/networks/", json!({"asn": 1, "name": "x"})).await;
    assert_eq!(r.status.as_u16(), 405, "{}", r.text);
    let r = app.request(Method::DELETE, "/api/peeringdb/networks/4840/", None, Some(&app.token)).await;
    assert_eq!(r.status.as_u16(), 405, "{}", r.text);
});

both!(hidden_peers_keep_their_ids, |backend| {
    let app = TestApp::new(backend).await;
    seed_cache(&app).await;
    let hp = app
        .post("/api/peeringdb/hidden-peers/", json!({"peeringdb_network": 4840, "peeringdb_ixlan": 297, "comments": "no"}))
        .await
        .expect(201);
    assert_eq!(hp["display"], "AS2602 - Fondation RESTENA hidden on LU-CIX");
    assert_eq!(hp["is_expired"], false);
    assert!(hp.get("created").is_none());
    let id = hp["id"].as_i64().unwrap();
    let again = app.post("/api/peeringdb/hidden-peers/", json!({"peeringdb_network": 4840, "peeringdb_ixlan": 297})).await;
    assert_eq!(again.status.as_u16(), 400, "{}", again.text);
    app.patch(&format!("/api/peeringdb/hidden-peers/{id}/"), json!({"until": "2000-01-01T00:00:00Z"})).await.expect(200);
    assert_eq!(app.count("/api/peeringdb/hidden-peers/?is_expired=true").await, 1);
    assert_eq!(app.count("/api/peeringdb/hidden-peers/?peeringdb_network_asn=2602").await, 1);
    let changes = app.count("/api/core/object-changes/?changed_object_type=peeringdb.hiddenpeer").await;
    assert_eq!(changes, 2);

    // Connections and IXPs point at the cache through real foreign keys.
    let asn = app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Us"})).await;
    let ixp = app
        .post("/api/peering/internet-exchanges/", json!({"name": "LU-CIX", "slug": "lu-cix", "local_autonomous_system": asn, "peeringdb_ixlan": 297}))
        .await
        .expect(201);
    assert_eq!(ixp["peeringdb_ixlan"], 297);
    let bad = app
        .post("/api/peering/internet-exchanges/", json!({"name": "X", "slug": "x", "local_autonomous_system": asn, "peeringdb_ixlan": 1}))
        .await;
    assert_eq!(bad.status.as_u16(), 400, "{}", bad.text);
});

// ---------------------------------------------------------------- the sync

use pm_peeringdb::fake::{Fault, FakePeeringDb};
use pm_peeringdb::{Client, ClientConfig};

const KEY: &str = "test-api-key";

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/peeringdb")
}

/// A fake PeeringDB serving the fixtures (24 objects).
async fn fake() -> FakePeeringDb {
    let fake = FakePeeringDb::start(Some(KEY)).await;
    assert_eq!(fake.load_dir(&fixtures()).unwrap(), 24);
    fake
}

fn config(fake: &FakePeeringDb) -> ClientConfig {
    ClientConfig {
        base_url: fake.url(),
        api_key: Some(KEY.into()),
        attempts: 3,
        backoff: std::time::Duration::from_millis(10),
        ..ClientConfig::default()
    }
}

async fn sync(app: &TestApp, fake: &FakePeeringDb) -> pm_peeringdb::Report {
    let client = Client::new(config(fake)).unwrap();
    pm_peeringdb::synchronise(&app.db, &client, &pm_peeringdb::sync::Quiet).await.unwrap()
}

fn counts(r: &pm_peeringdb::Report) -> (u64, u64, u64) {
    let t = r.totals();
    (t.created, t.updated, t.deleted)
}

both!(first_sync_fills_the_cache, |backend| {
    let app = TestApp::new(backend).await;
    let fake = fake().await;
    let report = sync(&app, &fake).await;
    assert_eq!(counts(&report), (24, 0, 0));
    assert!(report.failed().is_empty());
    // The wire: every namespace once, in order, everything since 0, with the key.
    let seen = fake.seen();
    let order: Vec<&str> = seen.iter().map(|s| s.ns.as_str()).collect();
    assert_eq!(
        order,
        ["org", "campus", "fac", "carrier", "carrierfac", "net", "ix", "ixfac", "ixlan", "ixpfx", "netfac", "netixlan", "poc"]
    );
    assert!(seen.iter().all(|s| s.since == Some(0) && s.depth.as_deref() == Some("0")));
    assert!(seen.iter().all(|s| s.authorization.as_deref() == Some("Api-Key test-api-key")));
    assert!(seen[0].user_agent.as_deref().unwrap_or("").starts_with("peering-manager"));

    let stats = app.get("/api/peeringdb/cache/statistics/").await.expect(200);
    assert_eq!(stats["org-count"], 5);
    assert_eq!(stats["net-count"], 2);
    assert_eq!(stats["carrierfac-count"], 2);
    assert_eq!(stats["sync-count"], 1);
    let net = &app.get("/api/peeringdb/networks/?asn=2602").await.expect(200)["results"][0];
    assert_eq!(net["name"], "Fondation RESTENA");
    assert_eq!(net["irr_as_set"], "AS-RESTENA");
    assert_eq!(net["org"]["id"], 6428);
    let netixlan = app.get("/api/peeringdb/network-ixlans/11709/").await.expect(200);
    assert_eq!((netixlan["net"].clone(), netixlan["ixlan"].clone()), (json!(4840), json!(297)));
    assert_eq!(netixlan["ipaddr6"], "2001:7f8:4c::a2a:1/128");
    let pfx = app.get("/api/peeringdb/ixlan-prefixes/?ixlan_id=297").await.expect(200);
    assert_eq!(pfx["count"], 2);
    assert_eq!(pfx["results"][0]["ixlan"]["ix"]["name"], "LU-CIX", "nested ixlan with its ix");
    let syncs = app.get("/api/peeringdb/synchronisations/").await.expect(200);
    assert_eq!(syncs["results"][0]["created"], 24);
    assert!(syncs["results"][0]["time"].is_string());

    // Nothing changed since: nothing recorded.
    let again = sync(&app, &fake).await;
    assert_eq!(counts(&again), (0, 0, 0));
    assert_eq!(app.count("/api/peeringdb/synchronisations/").await, 1);
});
