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

    let schema = app.get("/api/schema/").await.expect(200);
    assert!(schema["paths"]["/api/peeringdb/cache/statistics/"].is_object());
    assert!(schema["paths"]["/api/peeringdb/networks/"]["post"].is_null(), "read-only");
    assert!(schema["components"]["schemas"]["PDBInternetExchange"].is_object());

    let r = app.post("/api/peeringdb/networks/", json!({"asn": 1, "name": "x"})).await;
    assert_eq!(r.status.as_u16(), 405, "{}", r.text);
    let r = app.request(Method::DELETE, "/api/peeringdb/networks/4840/", None, Some(&app.token)).await;
    assert_eq!(r.status.as_u16(), 405, "{}", r.text);
});

both!(hidden_peers_keep_their_ids, |backend| {
    let app = TestApp::new(backend).await;
    seed_cache(&app).await;
    let hp = app
        .post(
            "/api/peeringdb/hidden-peers/",
            json!({"peeringdb_network": 4840, "peeringdb_ixlan": 297, "comments": "no"}),
        )
        .await
        .expect(201);
    assert_eq!(hp["display"], "AS2602 - Fondation RESTENA hidden on LU-CIX");
    assert_eq!(hp["is_expired"], false);
    assert!(hp.get("created").is_none());
    let id = hp["id"].as_i64().unwrap();
    let again =
        app.post("/api/peeringdb/hidden-peers/", json!({"peeringdb_network": 4840, "peeringdb_ixlan": 297})).await;
    assert_eq!(again.status.as_u16(), 400, "{}", again.text);
    app.patch(&format!("/api/peeringdb/hidden-peers/{id}/"), json!({"until": "2000-01-01T00:00:00Z"}))
        .await
        .expect(200);
    assert_eq!(app.count("/api/peeringdb/hidden-peers/?is_expired=true").await, 1);
    assert_eq!(app.count("/api/peeringdb/hidden-peers/?peeringdb_network_asn=2602").await, 1);
    let changes = app.count("/api/core/object-changes/?changed_object_type=peeringdb.hiddenpeer").await;
    assert_eq!(changes, 2);

    // Connections and IXPs point at the cache through real foreign keys.
    let asn = app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Us"})).await;
    let ixp = app
        .post(
            "/api/peering/internet-exchanges/",
            json!({"name": "LU-CIX", "slug": "lu-cix", "local_autonomous_system": asn, "peeringdb_ixlan": 297}),
        )
        .await
        .expect(201);
    assert_eq!(ixp["peeringdb_ixlan"], 297);
    let bad = app
        .post(
            "/api/peering/internet-exchanges/",
            json!({"name": "X", "slug": "x", "local_autonomous_system": asn, "peeringdb_ixlan": 1}),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 400, "{}", bad.text);
});

// ---------------------------------------------------------------- the sync

use pm_peeringdb::fake::{FakePeeringDb, Fault};
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
        [
            "org",
            "campus",
            "fac",
            "carrier",
            "carrierfac",
            "net",
            "ix",
            "ixfac",
            "ixlan",
            "ixpfx",
            "netfac",
            "netixlan",
            "poc"
        ]
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

async fn last_changes(app: &TestApp) -> serde_json::Value {
    let row = app
        .db
        .conn
        .query_one_raw(Statement::from_string(
            app.db.backend(),
            "SELECT changes FROM peeringdb_synchronisation ORDER BY time DESC, id DESC LIMIT 1".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    let text: String = row.try_get_by_index(0).unwrap();
    serde_json::from_str(&text).unwrap()
}

both!(incremental_sync_records_what_changed, |backend| {
    let app = TestApp::new(backend).await;
    let fake = fake().await;
    sync(&app, &fake).await;
    let first = last_changes(&app).await;
    assert_eq!(first["namespaces"]["org"]["created"], 5);
    assert_eq!(first["objects"], json!([]), "a first sync records counts, not every object");

    fake.update("net", 4840, json!({"name": "RESTENA", "info_prefixes4": 20}), "2024-03-01T10:00:00Z");
    fake.delete("netixlan", 11709, "2024-03-01T10:00:00Z");
    fake.put(
        "poc",
        json!({"id": 2, "net_id": 4840, "role": "NOC", "visible": "Public", "name": "NOC", "phone": "",
               "email": "noc@restena.lu", "url": "", "status": "ok",
               "created": "2024-03-01T10:00:00Z", "updated": "2024-03-01T10:00:00Z"}),
    );
    let before = fake.seen().len();
    let report = sync(&app, &fake).await;
    assert_eq!(counts(&report), (1, 1, 1));
    // `since` is the newest local `updated` of each namespace.
    let seen = fake.seen();
    let since = |ns: &str| seen[before..].iter().find(|s| s.ns == ns).unwrap().since.unwrap();
    assert_eq!(since("net"), 1658900152, "2022-07-27T05:35:52Z");
    assert_eq!(since("poc"), 1674638330, "2023-01-25T09:18:50Z");

    let net = app.get("/api/peeringdb/networks/4840/").await.expect(200);
    assert_eq!((net["name"].clone(), net["info_prefixes4"].clone()), (json!("RESTENA"), json!(20)));
    app.get("/api/peeringdb/network-ixlans/11709/").await.expect(404);
    let contacts = app.get("/api/peeringdb/network-contacts/?net_asn=2602").await.expect(200);
    assert_eq!(contacts["count"], 2);
    assert_eq!(contacts["results"][0]["visible"], json!({"value": "Public", "label": "Public"}));
    assert_eq!(contacts["results"][0]["net"]["asn"], 2602);

    let diff = last_changes(&app).await;
    let objects = diff["objects"].as_array().unwrap();
    let updated = objects.iter().find(|o| o["action"] == "updated").unwrap();
    assert_eq!(updated["type"], "net");
    assert_eq!(updated["label"], "AS2602 RESTENA");
    let changes = updated["changes"].as_array().unwrap();
    assert!(changes.contains(&json!({"field": "name", "old": "Fondation RESTENA", "new": "RESTENA"})), "{changes:?}");
    assert!(changes.contains(&json!({"field": "info_prefixes4", "old": 10, "new": 20})));
    assert!(objects.iter().any(|o| o["action"] == "deleted" && o["type"] == "netixlan" && o["id"] == 11709));
    assert!(objects.iter().any(|o| o["action"] == "created" && o["type"] == "poc" && o["label"] == "NOC"));
    let syncs = app.get("/api/peeringdb/synchronisations/").await.expect(200);
    assert_eq!(syncs["count"], 2);
    assert_eq!(
        (
            syncs["results"][0]["created"].clone(),
            syncs["results"][0]["updated"].clone(),
            syncs["results"][0]["deleted"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
});

both!(rate_limits_and_server_errors_are_retried, |backend| {
    let app = TestApp::new(backend).await;
    let fake = fake().await;
    fake.fail_next("net", Fault::TooManyRequests { retry_after: 1 });
    fake.fail_next("ix", Fault::Status(503));
    fake.fail_next("ix", Fault::Status(502));
    let started = std::time::Instant::now();
    let report = sync(&app, &fake).await;
    assert_eq!(counts(&report), (24, 0, 0));
    assert!(report.failed().is_empty());
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was honoured");
    assert_eq!(fake.seen().iter().filter(|s| s.ns == "ix").count(), 3);

    // Beyond the attempts allowed, the namespace fails and the others still apply.
    let app = TestApp::new(backend).await;
    for _ in 0..3 {
        fake.fail_next("poc", Fault::Status(500));
    }
    let report = sync(&app, &fake).await;
    assert_eq!(report.failed(), ["poc"]);
    assert_eq!(counts(&report), (23, 0, 0));
    assert!(report.summary().contains("Not synchronised: poc"));
});

both!(a_dropped_download_leaves_its_namespace_unchanged, |backend| {
    let app = TestApp::new(backend).await;
    let fake = fake().await;
    for _ in 0..3 {
        fake.fail_next("netixlan", Fault::DropMidBody);
    }
    let report = sync(&app, &fake).await;
    assert_eq!(report.failed(), ["netixlan"]);
    let why = report.namespaces.iter().find(|n| n.tag == "netixlan").unwrap().error.clone().unwrap();
    assert!(why.contains("cut short"), "{why}");
    assert_eq!(app.count("/api/peeringdb/network-ixlans/").await, 0);
    assert_eq!(app.count("/api/peeringdb/network-contacts/").await, 1, "later namespaces applied");

    // Once complete, then cut short in the middle of an update: nothing of it is applied.
    sync(&app, &fake).await;
    assert_eq!(app.count("/api/peeringdb/network-ixlans/").await, 1);
    fake.update("netixlan", 11709, json!({"speed": 1}), "2024-03-01T10:00:00Z");
    fake.put(
        "netixlan",
        json!({"id": 99, "net_id": 17293, "ixlan_id": 297, "asn": 201281, "ipaddr4": null,
        "ipaddr6": "2001:7f8:4c::1", "is_rs_peer": false, "bfd_support": false, "operational": true, "notes": "",
        "speed": 10000, "status": "ok", "created": "2024-03-01T10:00:00Z", "updated": "2024-03-01T10:00:00Z"}),
    );
    fake.update("net", 17293, json!({"name": "Mazoyer"}), "2024-03-01T10:00:00Z");
    for _ in 0..3 {
        fake.fail_next("netixlan", Fault::DropMidBody);
    }
    let report = sync(&app, &fake).await;
    assert_eq!(report.failed(), ["netixlan"]);
    assert_eq!(app.get("/api/peeringdb/network-ixlans/11709/").await.expect(200)["speed"], 100000);
    assert_eq!(app.count("/api/peeringdb/network-ixlans/").await, 1);
    assert_eq!(app.get("/api/peeringdb/networks/17293/").await.expect(200)["name"], "Mazoyer");
});

both!(flush_unlinks_and_a_resync_links_again, |backend| {
    let app = TestApp::new(backend).await;
    let fake = fake().await;
    let local = app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Us"})).await;
    let ixp = app
        .create(
            "/api/peering/internet-exchanges/",
            json!({"name": "LU-CIX", "slug": "lu-cix", "local_autonomous_system": local}),
        )
        .await;
    let conn = app
        .create(
            "/api/net/connections/",
            json!({"internet_exchange_point": ixp, "router": null, "ipv4_address": "188.93.170.9/23",
                   "ipv6_address": "2001:7f8:4c::a2a:1/64"}),
        )
        .await;
    sync(&app, &fake).await;
    // Linked by the sync: the connection by its two addresses, the IXP through it.
    assert_eq!(app.get(&format!("/api/net/connections/{conn}/")).await.expect(200)["peeringdb_netixlan"], 11709);
    assert_eq!(app.get(&format!("/api/peering/internet-exchanges/{ixp}/")).await.expect(200)["peeringdb_ixlan"], 297);
    let hp =
        app.create("/api/peeringdb/hidden-peers/", json!({"peeringdb_network": 17293, "peeringdb_ixlan": 297})).await;

    // Only staff may flush.
    let viewer = app.user_with("viewer", &[json!({"object_types": ["peeringdb.network"], "actions": ["view"]})]).await;
    let r = app.request(Method::POST, "/api/peeringdb/cache/clear-local/", None, Some(&viewer)).await;
    assert_eq!(r.status.as_u16(), 403);
    let r = app.request(Method::GET, "/api/peeringdb/cache/statistics/", None, Some(&viewer)).await;
    assert_eq!(r.status.as_u16(), 403);
    let r = app.request(Method::POST, "/api/peeringdb/cache/clear-local/", None, None).await;
    assert_eq!(r.status.as_u16(), 401);

    let r = app.post("/api/peeringdb/cache/clear-local/", json!({})).await.expect(200);
    assert_eq!(r, json!({"status": "success"}));
    let stats = app.get("/api/peeringdb/cache/statistics/").await.expect(200);
    assert!(stats.as_object().unwrap().values().all(|v| v == 0), "{stats}");
    assert_eq!(app.get(&format!("/api/net/connections/{conn}/")).await.expect(200)["peeringdb_netixlan"], json!(null));
    assert_eq!(
        app.get(&format!("/api/peering/internet-exchanges/{ixp}/")).await.expect(200)["peeringdb_ixlan"],
        json!(null)
    );
    let hidden = app.get(&format!("/api/peeringdb/hidden-peers/{hp}/")).await.expect(200);
    assert_eq!((hidden["peeringdb_network"].clone(), hidden["peeringdb_ixlan"].clone()), (json!(null), json!(null)));
    assert_eq!(hidden["display"], "Network ID 17293 hidden on IX LAN ID 297");

    // A full download again re-attaches everything.
    let report = sync(&app, &fake).await;
    assert_eq!(counts(&report), (24, 0, 0));
    assert_eq!(app.get(&format!("/api/net/connections/{conn}/")).await.expect(200)["peeringdb_netixlan"], 11709);
    assert_eq!(app.get(&format!("/api/peering/internet-exchanges/{ixp}/")).await.expect(200)["peeringdb_ixlan"], 297);
    let hidden = app.get(&format!("/api/peeringdb/hidden-peers/{hp}/")).await.expect(200);
    assert_eq!((hidden["peeringdb_network"].clone(), hidden["peeringdb_ixlan"].clone()), (json!(17293), json!(297)));
});

both!(the_job_refreshes_autonomous_systems_in_the_change_log, |backend| {
    use crate::jobs::{fast_config, status_of, wait_for};
    let app = TestApp::new(backend).await;
    let fake = fake().await;
    let restena = app
        .create(
            "/api/peering/autonomous-systems/",
            json!({"asn": 2602, "name": "old name", "irr_as_set": "AS-LOCAL", "irr_as_set_peeringdb_sync": false}),
        )
        .await;
    let private = app.create("/api/peering/autonomous-systems/", json!({"asn": 64512, "name": "Private"})).await;
    // Before the cache exists: no record → 204.
    let r = app.post(&format!("/api/peering/autonomous-systems/{restena}/sync-with-peeringdb/"), json!({})).await;
    assert_eq!(r.status.as_u16(), 204);

    let job = app.post("/api/peeringdb/cache/update-local/", json!({})).await.expect(202);
    assert_eq!(job["name"], "peeringdb.synchronise");
    assert_eq!(job["object_type"], "peeringdb.synchronisation");
    let id = job["id"].as_i64().unwrap();
    let mut registry = pm_jobs::Registry::builtin();
    pm_peeringdb::job::register_with(&mut registry, Some(config(&fake)));
    let engine = pm_jobs::Engine::start(app.db.clone(), fast_config(), registry, false).await.unwrap();
    let db = app.db.clone();
    wait_for(60, "the sync job", || {
        let db = db.clone();
        async move { status_of(&db, id).await == "completed" }
    })
    .await;
    engine.stop().await;
    let job = app.get(&format!("/api/core/jobs/{id}/")).await.expect(200);
    let log = job.to_string();
    for line in
        ["Created 24 objects", "Updated 0 objects", "Deleted 0 objects", "Updating values for 1 autonomous systems"]
    {
        assert!(log.contains(line), "{line} in {log}");
    }

    let a = app.get(&format!("/api/peering/autonomous-systems/{restena}/")).await.expect(200);
    assert_eq!(a["name"], "Fondation RESTENA");
    assert_eq!(a["irr_as_set"], "AS-LOCAL", "its sync flag is off");
    assert_eq!((a["ipv4_max_prefixes"].clone(), a["ipv6_max_prefixes"].clone()), (json!(10), json!(5)));
    let changes = app
        .get(&format!("/api/core/object-changes/?changed_object_type=peering.autonomoussystem&changed_object_id={restena}&action=update"))
        .await
        .expect(200);
    assert_eq!(changes["count"], 1);
    assert_eq!(changes["results"][0]["user_name"], "admin", "the user who started the sync");
    assert_eq!(changes["results"][0]["postchange_data"]["name"], "Fondation RESTENA");
    assert_eq!(app.get(&format!("/api/peering/autonomous-systems/{private}/")).await.expect(200)["name"], "Private");

    // One AS by hand, and all of them in bulk.
    app.patch(&format!("/api/peering/autonomous-systems/{restena}/"), json!({"name": "renamed"})).await.expect(200);
    let r = app.post(&format!("/api/peering/autonomous-systems/{restena}/sync-with-peeringdb/"), json!({})).await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(
        app.get(&format!("/api/peering/autonomous-systems/{restena}/")).await.expect(200)["name"],
        "Fondation RESTENA"
    );
    let r = app.post(&format!("/api/peering/autonomous-systems/{private}/sync-with-peeringdb/"), json!({})).await;
    assert_eq!(r.status.as_u16(), 200, "private ASNs are a success without lookup");
    app.patch(&format!("/api/peering/autonomous-systems/{restena}/"), json!({"name": "renamed"})).await.expect(200);
    let tally = app.post("/api/peering/autonomous-systems/sync-with-peeringdb/", json!([])).await.expect(200);
    assert_eq!(tally["updated"], 0, "an empty list selects nothing");
    let tally = app
        .request(Method::POST, "/api/peering/autonomous-systems/sync-with-peeringdb/", None, Some(&app.token))
        .await
        .expect(200);
    assert_eq!((tally["updated"].clone(), tally["private"].clone()), (json!(1), json!(1)));
    let viewer =
        app.user_with("viewer", &[json!({"object_types": ["peering.autonomoussystem"], "actions": ["view"]})]).await;
    let r = app
        .request(
            Method::POST,
            &format!("/api/peering/autonomous-systems/{restena}/sync-with-peeringdb/"),
            None,
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403);
    let r = app.request(Method::POST, "/api/peeringdb/cache/update-local/", None, Some(&viewer)).await;
    assert_eq!(r.status.as_u16(), 403);
});

both!(cli_sync_reports_and_fails_loudly, |backend| {
    let url = crate::harness::fresh_url(backend).await;
    let fake = fake().await;
    let run = |args: &'static [&'static str], base: String| {
        let url = url.clone();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_peering-manager"))
                .args(["--database", &url])
                .args(args)
                .env("PM_LOG", "error")
                .env("PM_PEERINGDB_URL", base)
                .env("PM_PEERINGDB_API_KEY", KEY)
                .env("PM_PEERINGDB_ATTEMPTS", "1")
                .output()
                .await
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        }
    };
    let (ok, out, err) = run(&["peeringdb", "sync"], fake.url()).await;
    assert!(ok, "{err}");
    assert!(out.contains("Created 24 objects"), "{out}");
    assert!(err.contains("[6/13] net: 2 received, 2 created"), "{err}");
    let (ok, out, _) = run(&["peeringdb", "sync"], fake.url()).await;
    assert!(ok && out.contains("Nothing to synchronise."), "{out}");

    fake.fail_next("poc", Fault::Status(500));
    fake.update("net", 4840, json!({"name": "RESTENA"}), "2024-03-01T10:00:00Z");
    let (ok, out, err) = run(&["peeringdb", "sync"], fake.url()).await;
    assert!(!ok, "a failed namespace fails the command: {out}");
    assert!(err.contains("poc: FAILED") && err.contains("not synchronised: poc"), "{err}");
    assert!(out.contains("updated 1"), "the rest was applied: {out}");

    let (ok, _, err) = run(&["peeringdb", "sync", "--flush"], "http://127.0.0.1:9/api".into()).await;
    assert!(!ok, "nobody listening");
    assert!(err.contains("PeeringDB is unreachable, nothing synchronised"), "one message, at once: {err}");
    let db = pm_db::Db::connect(&url).await.unwrap();
    let stats = pm_peeringdb::stats::statistics(&db).await.unwrap();
    assert_eq!(stats["net-count"], 0, "flushed");
});

both!(ui_page_updates_clears_and_shows_the_diff, |backend| {
    use crate::ui_support::{admin, location};
    let app = TestApp::new(backend).await;
    let fake = fake().await;
    let mut b = admin(&app).await;
    let html = b.page("/peeringdb/").await;
    assert!(html.contains("Never synchronised") && html.contains("Update local cache"), "{html}");
    assert!(b.page("/").await.contains(">PeeringDB</a>"), "in the sidebar");

    sync(&app, &fake).await;
    fake.update("net", 4840, json!({"name": "RESTENA"}), "2024-03-01T10:00:00Z");
    sync(&app, &fake).await;
    let html = b.page("/peeringdb/").await;
    assert!(html.contains("Last synchronised"));
    let syncs = app.get("/api/peeringdb/synchronisations/").await.expect(200);
    let latest = syncs["results"][0]["id"].as_i64().unwrap();
    assert!(html.contains(&format!("/peeringdb/synchronisations/{latest}/")));
    let diff = b.page(&format!("/peeringdb/synchronisations/{latest}/")).await;
    assert!(diff.contains("AS2602 RESTENA") && diff.contains("Fondation RESTENA"), "{diff}");

    // The Update button queues the job; Clear empties the cache.
    let r = b.post("/peeringdb/", &[("_action", "update")]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    assert_eq!(app.count("/api/core/jobs/?name=peeringdb.synchronise").await, 1);
    // No worker runs in this test: the page says the job would wait forever.
    let html = b.page("/peeringdb/").await;
    assert!(html.contains("No job worker is running"), "{html}");
    let r = b.post("/peeringdb/", &[("_action", "clear")]).await;
    assert_eq!(location(&r), "/peeringdb/");
    assert_eq!(app.count("/api/peeringdb/networks/").await, 0);

    // The AS list's bulk action refreshes the selected ASes.
    sync(&app, &fake).await;
    let id = app.create("/api/peering/autonomous-systems/", json!({"asn": 2602, "name": "old"})).await;
    assert!(b.page("/autonomous-systems/").await.contains("Synchronise with PeeringDB"));
    let sid = id.to_string();
    let r = b
        .post(
            "/autonomous-systems/sync-with-peeringdb/",
            &[("pk", sid.as_str()), ("return_url", "/autonomous-systems/")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    assert_eq!(app.get(&format!("/api/peering/autonomous-systems/{id}/")).await.expect(200)["name"], "RESTENA");
});

both!(relinking_copes_with_missing_and_ambiguous_records, |backend| {
    let app = TestApp::new(backend).await;
    let fake = fake().await;
    let netixlan = |id: i64, ixlan: i64, v6: &str| {
        json!({"id": id, "net_id": 17293, "ixlan_id": ixlan, "asn": 201281, "ipaddr4": null, "ipaddr6": v6,
               "is_rs_peer": false, "bfd_support": false, "operational": true, "notes": "", "speed": 1000,
               "status": "ok", "created": "2023-01-01T00:00:00Z", "updated": "2023-01-01T00:00:00Z"})
    };
    // An IX LAN PeeringDB does not send (private, pending…), and two records with the same address.
    fake.put("netixlan", netixlan(500, 777, "2001:db8:777::1"));
    fake.put("netixlan", netixlan(501, 297, "2001:db8:297::9"));
    fake.put("netixlan", netixlan(502, 297, "2001:db8:297::9"));
    let local = app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Us"})).await;
    let ixp = |name: &str| json!({"name": name, "slug": name.to_lowercase(), "local_autonomous_system": local});
    let ghost = app.create("/api/peering/internet-exchanges/", ixp("Ghost")).await;
    let twins = app.create("/api/peering/internet-exchanges/", ixp("Twins")).await;
    let conn = |ixp: i64, v6: &str| json!({"internet_exchange_point": ixp, "router": null, "ipv6_address": v6});
    let c1 = app.create("/api/net/connections/", conn(ghost, "2001:db8:777::1/64")).await;
    let c2 = app.create("/api/net/connections/", conn(twins, "2001:db8:297::9/64")).await;

    let report = sync(&app, &fake).await;
    assert!(report.failed().is_empty());
    assert_eq!(counts(&report), (27, 0, 0));
    assert_eq!(app.get(&format!("/api/net/connections/{c1}/")).await.expect(200)["peeringdb_netixlan"], 500);
    let ghost_ixp = app.get(&format!("/api/peering/internet-exchanges/{ghost}/")).await.expect(200);
    assert_eq!(ghost_ixp["peeringdb_ixlan"], json!(null), "its IX LAN is not in the cache");
    assert_eq!(app.get(&format!("/api/net/connections/{c2}/")).await.expect(200)["peeringdb_netixlan"], json!(null));
    assert_eq!(app.get("/api/peeringdb/network-ixlans/500/").await.expect(200)["ixlan"], 777);
});
