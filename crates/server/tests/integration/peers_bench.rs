//! Available peers of an IXP with 1,000 members (issue #6: ≤ 100 ms): the
//! IXP's "Available peers" tab and `GET …/available-peers/`, against the real
//! server over TCP, on SQLite and PostgreSQL. Not part of the normal run; see
//! BENCHMARKS.md:
//!
//! `cargo test --release -p peering-manager --test integration peers_bench -- --ignored --nocapture`

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use crate::harness::Backend;
use crate::peers::insert_into;

const MEMBERS: usize = 1_000;
/// Members already configured on both connections in IPv4 (still listed: IPv6 is free).
const CONFIGURED: usize = 300;

async fn seed(db: &pm_db::Db) -> i64 {
    let c = &db.conn;
    insert_into(c, "peeringdb.internetexchange", &[json!({"id": 1, "name": "Big IX"})]).await;
    insert_into(c, "peeringdb.ixlan", &[json!({"id": 1, "ix_id": 1})]).await;
    let nets: Vec<Json> = (0..MEMBERS)
        .map(|i| {
            json!({"id": i + 1, "asn": 10_000 + i, "name": format!("Network {i}"), "irr_as_set": format!("AS-NET{i}"),
            "policy_general": "Open", "info_never_via_route_servers": i % 7 == 0})
        })
        .collect();
    insert_into(c, "peeringdb.network", &nets).await;
    let records: Vec<Json> = (0..MEMBERS)
        .map(|i| json!({"id": i + 1, "net_id": i + 1, "ixlan_id": 1, "asn": 10_000 + i, "speed": 10_000, "is_rs_peer": i % 2 == 0,
            "ipaddr4": format!("10.0.{}.{}", i / 250, i % 250 + 1), "ipaddr6": format!("2001:db8::{:x}", i + 1)}))
        .collect();
    insert_into(c, "peeringdb.networkixlan", &records).await;

    let create = |label: &'static str, items: Vec<Json>| crate::harness::create_as_admin(db, label, items);
    let local = create("peering.autonomoussystem", vec![json!({"asn": 64500, "name": "Us", "affiliated": true})]).await;
    let ixp = create(
        "peering.internetexchange",
        vec![json!({"name": "Big IX", "slug": "big-ix", "local_autonomous_system": local[0], "peeringdb_ixlan": 1})],
    )
    .await;
    let conns = create(
        "net.connection",
        (1..=2)
            .map(|i| {
                json!({"internet_exchange_point": ixp[0], "router": null, "ipv4_address": format!("10.0.9.{i}/16"),
                "ipv6_address": format!("2001:db8::ff:{i}/64")})
            })
            .collect(),
    )
    .await;
    let ases = create(
        "peering.autonomoussystem",
        (0..CONFIGURED).map(|i| json!({"asn": 10_000 + i, "name": format!("Network {i}")})).collect(),
    )
    .await;
    let sessions = (0..CONFIGURED)
        .flat_map(|i| {
            conns.iter().map(move |c| (i, *c)).collect::<Vec<_>>()
        })
        .map(|(i, c)| json!({"autonomous_system": ases[i], "ixp_connection": c, "ip_address": format!("10.0.{}.{}", i / 250, i % 250 + 1)}))
        .collect();
    create("peering.internetexchangepeeringsession", sessions).await;
    ixp[0]
}

/// Sequential latencies of one client asking for `url` for `secs` seconds.
async fn timed(http: &reqwest::Client, url: &str, cookie: &str, secs: u64) -> Vec<Duration> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut lat = vec![];
    while Instant::now() < deadline {
        let t = Instant::now();
        let r = http.get(url).header("cookie", cookie).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().await.unwrap();
        lat.push(t.elapsed());
    }
    lat.sort();
    lat
}

async fn run(backend: Backend) {
    let db = crate::harness::db_with_admin(backend).await;
    let t = Instant::now();
    let ixp = seed(&db).await;
    eprintln!("{backend:?}: seeded {MEMBERS} members in {:.1?}", t.elapsed());
    let base = crate::harness::serve_tcp(&db).await;
    let (value, _) = pm_db::session::create(&db.conn, 1).await.unwrap();
    let cookie = format!("pm_session={value}");
    let http = reqwest::Client::new();
    let api = format!("{base}/api/peering/internet-exchanges/{ixp}/available-peers/");
    let peers: Json = http.get(&api).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(peers.as_array().unwrap().len(), MEMBERS, "every member has a free address");
    let page = format!("{base}/internet-exchanges/{ixp}/available-peers/");
    let html = http.get(&page).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("name=\"peer\"").count(), MEMBERS, "one Create sessions button per member");
    let secs = std::env::var("PM_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    for (what, url) in [("UI tab", &page), ("API", &api)] {
        timed(&http, url, &cookie, 1).await; // warm-up
        let lat = timed(&http, url, &cookie, secs).await;
        eprintln!(
            "| {backend:?} | {what} | {} | {:.1} | {:.1} | {:.1} |",
            lat.len(),
            crate::harness::percentile_ms(&lat, 0.5),
            crate::harness::percentile_ms(&lat, 0.99),
            lat.last().unwrap().as_secs_f64() * 1000.0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with --release -- --ignored --nocapture"]
async fn peers_bench() {
    eprintln!("\n| database | page | requests | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- | --- |");
    run(Backend::Sqlite).await;
    run(Backend::Postgres).await;
}
