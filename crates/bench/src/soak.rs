//! `pm-bench --soak`: many writers and readers at once (issue #11: SQLite
//! answered "database is locked" under concurrency). Half the clients write
//! (create an AS, then rename it and edit its comments, over and over), half
//! read (lists and single objects); each client has its own token, so the
//! server also writes every token's `last_used`. Reports 5xx answers and lost
//! writes (an acknowledged write missing afterwards); both must be 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Api;

const FIRST_ASN: u64 = 4_100_000_000;

#[derive(Default)]
struct Tally {
    requests: u64,
    server_errors: u64,
    other_errors: u64,
    first_error: Option<String>,
    /// Writes the server acknowledged.
    writes: u64,
    /// (object id, name and comments last acknowledged).
    written: Vec<(i64, String, String)>,
}

impl Tally {
    fn note(&mut self, what: &str, status: reqwest::StatusCode, body: &str) -> bool {
        self.requests += 1;
        if status.is_success() {
            return true;
        }
        if status.is_server_error() {
            self.server_errors += 1;
        } else {
            self.other_errors += 1;
        }
        self.first_error.get_or_insert_with(|| format!("{what}: {status} {}", crate::truncate(body)));
        false
    }
}

async fn send(t: &mut Tally, what: &str, req: reqwest::RequestBuilder) -> Option<Value> {
    match req.send().await {
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            t.note(what, status, &body).then(|| serde_json::from_str(&body).unwrap_or(Value::Null))
        }
        Err(e) => {
            t.requests += 1;
            t.other_errors += 1;
            t.first_error.get_or_insert_with(|| format!("{what}: {e}"));
            None
        }
    }
}

/// `tokens`: one `Token …` header value per client.
pub async fn run(api: &Api, backend: &str, tokens: Vec<String>, duration: Duration) -> anyhow::Result<bool> {
    let clients = tokens.len();
    let deadline = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for (c, auth) in tokens.into_iter().enumerate() {
        let api = Arc::new(Api { http: api.http.clone(), base: api.base.clone(), auth });
        let writer = c % 2 == 0;
        tasks.spawn(async move {
            let mut t = Tally::default();
            let mut n = 0u64;
            let mut mine: Option<(i64, String, String)> = None;
            while Instant::now() < deadline {
                n += 1;
                if !writer {
                    let path = if n.is_multiple_of(2) {
                        "/api/peering/autonomous-systems/?limit=50".to_string()
                    } else {
                        "/api/extras/tags/?limit=10".to_string()
                    };
                    send(&mut t, "read", api.get(&path)).await;
                    continue;
                }
                match &mut mine {
                    None => {
                        let asn = FIRST_ASN + c as u64 * 1_000_000 + n;
                        let name = format!("Soak AS{asn}");
                        let req = api.post("/api/peering/autonomous-systems/").json(&json!({"asn": asn, "name": name}));
                        if let Some(o) = send(&mut t, "create", req).await {
                            t.writes += 1;
                            mine = Some((o["id"].as_i64().unwrap_or(0), name, String::new()));
                        }
                    }
                    Some((id, name, comments)) => {
                        let path = format!("/api/peering/autonomous-systems/{id}/");
                        let (field, value) = if n.is_multiple_of(2) {
                            ("name", format!("Soak {c} {n}"))
                        } else {
                            ("comments", format!("round {n}"))
                        };
                        let req = api
                            .http
                            .patch(format!("{}{path}", api.base))
                            .header("Authorization", &api.auth)
                            .json(&json!({field: value}));
                        if send(&mut t, "update", req).await.is_some() {
                            t.writes += 1;
                            if field == "name" { *name = value } else { *comments = value }
                        }
                        // A new object now and then, so inserts keep coming too.
                        if n.is_multiple_of(20) {
                            t.written.extend(mine.take());
                        }
                    }
                }
            }
            t.written.extend(mine);
            t
        });
    }
    let mut total = Tally::default();
    for t in tasks.join_all().await {
        total.requests += t.requests;
        total.server_errors += t.server_errors;
        total.other_errors += t.other_errors;
        total.first_error = total.first_error.or(t.first_error);
        total.writes += t.writes;
        total.written.extend(t.written);
    }
    // Every acknowledged write must be there.
    let mut lost = 0;
    for (id, name, comments) in &total.written {
        let o: Value = api.get(&format!("/api/peering/autonomous-systems/{id}/")).send().await?.json().await?;
        if o["name"].as_str() != Some(name) || o["comments"].as_str() != Some(comments) {
            lost += 1;
        }
    }
    println!(
        "\n### Soak ({backend}): {clients} clients ({} writers, {} readers), {} s\n",
        clients.div_ceil(2),
        clients / 2,
        duration.as_secs()
    );
    println!("| requests | req/s | 5xx | other errors | writes acknowledged | objects checked | lost writes |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {} | {} | {} | {} | {} |",
        total.requests,
        total.requests as f64 / duration.as_secs_f64(),
        total.server_errors,
        total.other_errors,
        total.writes,
        total.written.len(),
        lost
    );
    if let Some(e) = &total.first_error {
        eprintln!("first failure: {e}");
    }
    Ok(total.server_errors == 0 && total.other_errors == 0 && lost == 0)
}
