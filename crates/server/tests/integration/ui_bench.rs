//! Web UI speed (issue #3): the AS list and IXP-session list pages with 100
//! rows, and global search, against the real server over TCP on a SQLite
//! database of 5,000 ASes and 10,000 IXP sessions. Not part of the normal
//! run; see BENCHMARKS.md:
//!
//! `cargo test --release -p peering-manager --test integration ui_bench -- --ignored --nocapture`

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use crate::harness::Backend;

const AS_COUNT: usize = 5_000;
const SESSION_COUNT: usize = 10_000;

async fn seed(db: &pm_db::Db) {
    let create = |label: &'static str, items: Vec<Json>| crate::harness::create_as_admin(db, label, items);
    let local = create("peering.autonomoussystem", vec![json!({"asn": 64500, "name": "Us", "affiliated": true})]).await;
    let router = create(
        "devices.router",
        vec![json!({"name": "edge1", "hostname": "edge1.example.net", "platform": 2, "local_autonomous_system": local[0]})],
    )
    .await;
    let ixp = create(
        "peering.internetexchange",
        vec![json!({"name": "Big IX", "slug": "big-ix", "local_autonomous_system": local[0]})],
    )
    .await;
    let connections = create(
        "net.connection",
        (0..5)
            .map(
                |i| json!({"internet_exchange_point": ixp[0], "router": router[0], "interface": format!("xe-0/0/{i}")}),
            )
            .collect(),
    )
    .await;
    let mut ases = vec![];
    for chunk in (0..AS_COUNT).collect::<Vec<_>>().chunks(500) {
        let items = chunk
            .iter()
            .map(|i| {
                json!({"asn": 100_000 + i, "name": format!("Network {i} Telecom"), "irr_as_set": format!("AS-NET{i}"),
                            "description": format!("Peer number {i}")})
            })
            .collect();
        ases.extend(create("peering.autonomoussystem", items).await);
    }
    let sessions: Vec<usize> = (0..SESSION_COUNT).collect();
    for chunk in sessions.chunks(500) {
        let items = chunk
            .iter()
            .map(|i| {
                json!({"autonomous_system": ases[i % ases.len()], "ixp_connection": connections[i % connections.len()],
                       "ip_address": format!("10.{}.{}.{}", i % 250, (i / 250) % 250, i / 62_500 + 2)})
            })
            .collect();
        create("peering.internetexchangepeeringsession", items).await;
    }
}

/// Latencies of `workers` clients hammering one URL for `secs` seconds.
async fn load(url: &str, cookie: &str, workers: usize, secs: u64) -> (f64, Vec<Duration>) {
    let http = reqwest::Client::new();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut tasks = vec![];
    for _ in 0..workers {
        let (http, url, cookie) = (http.clone(), url.to_string(), cookie.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = http.get(&url).header("cookie", &cookie).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200);
                r.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with --release -- --ignored --nocapture"]
async fn ui_bench() {
    let db = crate::harness::db_with_admin(Backend::Sqlite).await;
    let t = Instant::now();
    seed(&db).await;
    eprintln!("seeded {AS_COUNT} ASes and {SESSION_COUNT} IXP sessions in {:.1?}", t.elapsed());
    let base = crate::harness::serve_tcp(&db).await;
    // Log in like a browser, and ask for 100 rows per page (remembered).
    let (cookie, uid) = {
        let (value, s) = pm_db::session::create(&db.conn, 1).await.unwrap();
        (format!("pm_session={value}"), s.user_id)
    };
    pm_db::session::save_preferences(&db.conn, uid, &json!({"pagination": {"per_page": 100}})).await.unwrap();
    let http = reqwest::Client::new();
    for page in ["/autonomous-systems/", "/internet-exchange-peering-sessions/"] {
        let html =
            http.get(format!("{base}{page}")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        assert_eq!(html.matches("name=\"pk\"").count(), 100, "{page} shows 100 rows");
    }
    let secs = std::env::var("PM_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    eprintln!("\n| page | pages/s | p50 ms | p99 ms |\n| --- | --- | --- | --- |");
    for page in ["/autonomous-systems/", "/internet-exchange-peering-sessions/"] {
        load(&format!("{base}{page}"), &cookie, 8, 1).await; // warm-up
        let (rate, lat) = load(&format!("{base}{page}"), &cookie, 8, secs).await;
        eprintln!(
            "| {page} (100 rows, 8 clients) | {rate:.0} | {:.1} | {:.1} |",
            crate::harness::percentile_ms(&lat, 0.5),
            crate::harness::percentile_ms(&lat, 0.99)
        );
    }
    for q in ["Network%204242", "AS104242", "104242", "10.42.16.2", "Telecom"] {
        let (rate, lat) = load(&format!("{base}/search/?q={q}"), &cookie, 1, secs / 2).await;
        eprintln!(
            "| /search/?q={q} (1 client) | {rate:.0} | {:.1} | {:.1} |",
            crate::harness::percentile_ms(&lat, 0.5),
            crate::harness::percentile_ms(&lat, 0.99)
        );
    }
}
