//! `pm-bench --webhooks`: the issue #5 webhook target. A server (with its
//! embedded worker) on a fresh database, 1,000 autonomous systems, one webhook
//! on their updates pointing at a receiver started here; then one bulk PATCH of
//! all 1,000 on the list URL. Reports how long the request took (target
//! ≤ 2 s) and when the 1,000th delivery arrived, counted from the start of the
//! request (target ≤ 10 s).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::Api;

const OBJECTS: usize = 1_000;

/// Counts POSTs; remembers when the last one arrived.
struct Receiver {
    hits: Arc<AtomicUsize>,
    url: String,
}

async fn start_receiver() -> anyhow::Result<Receiver> {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Receiver { hits, url })
}

pub async fn run(api: &Api, backend: &str) -> anyhow::Result<bool> {
    let rx = start_receiver().await?;
    let ases: Vec<Value> =
        (0..OBJECTS).map(|i| json!({"asn": 4_100_000_000u64 + i as u64, "name": format!("Hooked AS{i}")})).collect();
    let ids = api.bulk("/api/peering/autonomous-systems/", &ases, "asn").await?;
    let resp = api
        .post("/api/extras/webhooks/")
        .json(&json!({"name": "bench", "content_types": ["peering.autonomoussystem"], "type_update": true,
                      "payload_url": rx.url}))
        .send()
        .await?;
    if resp.status() != reqwest::StatusCode::CREATED {
        bail!("creating the webhook answered {}: {}", resp.status(), resp.text().await?);
    }
    let patch: Vec<Value> = ids.values().map(|id| json!({"id": id, "description": "bulk updated"})).collect();
    let started = Instant::now();
    let resp = api
        .http
        .patch(format!("{}/api/peering/autonomous-systems/", api.base))
        .header("Authorization", &api.auth)
        .json(&patch)
        .send()
        .await
        .context("bulk PATCH")?;
    let status = resp.status();
    resp.bytes().await?;
    let request = started.elapsed();
    if status != reqwest::StatusCode::OK {
        bail!("bulk PATCH answered {status}");
    }
    let deadline = started + Duration::from_secs(60);
    while rx.hits.load(Ordering::SeqCst) < OBJECTS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all = started.elapsed();
    let got = rx.hits.load(Ordering::SeqCst);
    println!("\n### Webhooks, {backend}: bulk PATCH of {OBJECTS} autonomous systems, one webhook\n");
    println!("| measure | figure | target | met |");
    println!("|---|---:|---|---|");
    let ok_req = request <= Duration::from_secs(2);
    println!(
        "| bulk PATCH answered | {:.2} s | ≤ 2 s | {} |",
        request.as_secs_f64(),
        if ok_req { "yes" } else { "**no**" }
    );
    let ok_all = got >= OBJECTS && all <= Duration::from_secs(10);
    println!(
        "| {got} deliveries received | {:.2} s after the request started | all {OBJECTS} ≤ 10 s | {} |",
        all.as_secs_f64(),
        if ok_all { "yes" } else { "**no**" }
    );
    // A few more arrivals would mean duplicates.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let final_count = rx.hits.load(Ordering::SeqCst);
    if final_count != OBJECTS {
        println!("\n{final_count} deliveries in total (expected exactly {OBJECTS})");
    }
    Ok(got == OBJECTS && final_count == OBJECTS)
}
