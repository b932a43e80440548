//! A PeeringDB that speaks the real wire format, for tests and the benchmark:
//! `GET /api/<ns>?since=<ts>&depth=0` → `{"data": [...], "meta": {"generated": <float>}}`,
//! records with `status: "deleted"` after a deletion (never to `since=0`),
//! an `Authorization: Api-Key` check (a wrong key is refused, no key hides
//! non-public contacts), and faults on demand: 429 with `Retry-After`, 5xx,
//! a connection dropped half-way through the body.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

/// What the next request for a namespace gets instead of its data.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    TooManyRequests {
        retry_after: u32,
    },
    Status(u16),
    /// Half the body, then the connection is closed.
    DropMidBody,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub ns: String,
    pub since: Option<i64>,
    pub depth: Option<String>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
}

struct Stored {
    updated: i64,
    deleted: bool,
    hidden_without_key: bool,
    json: Box<str>,
}

#[derive(Default)]
struct Inner {
    /// ns → id → record, kept serialized (the benchmark holds ~200k).
    data: HashMap<String, HashMap<i64, Stored>>,
    faults: HashMap<String, VecDeque<Fault>>,
    seen: Vec<Seen>,
    api_key: Option<String>,
}

#[derive(Clone)]
pub struct FakePeeringDb {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
}

fn updated_ts(record: &Json) -> i64 {
    record
        .get("updated")
        .and_then(Json::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

impl FakePeeringDb {
    /// Listen on 127.0.0.1 (a free port); `api_key` is the only key accepted.
    pub async fn start(api_key: Option<&str>) -> FakePeeringDb {
        Self::start_on("127.0.0.1:0".parse().unwrap(), api_key).await.expect("bind 127.0.0.1")
    }

    /// Listen on `addr` (the standalone `pm-peeringdb-fake`).
    pub async fn start_on(addr: SocketAddr, api_key: Option<&str>) -> std::io::Result<FakePeeringDb> {
        let inner = Arc::new(Mutex::new(Inner { api_key: api_key.map(str::to_string), ..Inner::default() }));
        let app = axum::Router::new().route("/api/{ns}", axum::routing::get(serve)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakePeeringDb { inner, addr })
    }

    /// The base URL to give the client (`PM_PEERINGDB_URL`).
    pub fn url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Load API answers saved as `<ns>.json` files (the test fixtures).
    pub fn load_dir(&self, dir: &Path) -> std::io::Result<usize> {
        let mut n = 0;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let ns = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let doc: Json = serde_json::from_slice(&std::fs::read(&path)?)?;
            for record in doc["data"].as_array().cloned().unwrap_or_default() {
                self.put(&ns, record);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Create or replace a record (by its `id`).
    pub fn put(&self, ns: &str, record: Json) {
        let id = record["id"].as_i64().expect("record id");
        let deleted = record.get("status").and_then(Json::as_str) == Some("deleted");
        let hidden_without_key = ns == "poc" && record.get("visible").and_then(Json::as_str) != Some("Public");
        let stored =
            Stored { updated: updated_ts(&record), deleted, hidden_without_key, json: record.to_string().into() };
        self.inner.lock().unwrap().data.entry(ns.to_string()).or_default().insert(id, stored);
    }

    /// A record as currently served.
    pub fn get(&self, ns: &str, id: i64) -> Option<Json> {
        let inner = self.inner.lock().unwrap();
        inner.data.get(ns)?.get(&id).and_then(|s| serde_json::from_str(&s.json).ok())
    }

    /// Change fields of a record and stamp it updated at `updated`.
    pub fn update(&self, ns: &str, id: i64, changes: Json, updated: &str) {
        let mut record = self.get(ns, id).expect("record to update");
        if let (Json::Object(r), Json::Object(c)) = (&mut record, changes) {
            r.extend(c);
            r.insert("updated".into(), json!(updated));
        }
        self.put(ns, record);
    }

    /// PeeringDB keeps deleted objects with `status: "deleted"`.
    pub fn delete(&self, ns: &str, id: i64, updated: &str) {
        self.update(ns, id, json!({"status": "deleted"}), updated);
    }

    pub fn count(&self, ns: &str) -> usize {
        self.inner.lock().unwrap().data.get(ns).map(|d| d.values().filter(|s| !s.deleted).count()).unwrap_or(0)
    }

    /// The next request(s) for `ns` get this fault, one per request, in order.
    pub fn fail_next(&self, ns: &str, fault: Fault) {
        self.inner.lock().unwrap().faults.entry(ns.to_string()).or_default().push_back(fault);
    }

    pub fn clear_faults(&self) {
        self.inner.lock().unwrap().faults.clear();
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }
}

async fn serve(
    State(inner): State<Arc<Mutex<Inner>>>,
    UrlPath(ns): UrlPath<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let since = params.get("since").and_then(|s| s.parse::<i64>().ok());
    let (body, drop_mid_body) = {
        let mut inner = inner.lock().unwrap();
        inner.seen.push(Seen {
            ns: ns.clone(),
            since,
            depth: params.get("depth").cloned(),
            authorization: header("authorization"),
            user_agent: header("user-agent"),
        });
        let authorized = match (&inner.api_key, header("authorization")) {
            (_, None) => false,
            (Some(key), Some(given)) if given == format!("Api-Key {key}") => true,
            _ => {
                let body = json!({"meta": {"error": "Invalid API key"}}).to_string();
                return (StatusCode::UNAUTHORIZED, body).into_response();
            }
        };
        let mut drop_mid_body = false;
        if let Some(f) = inner.faults.get_mut(&ns).and_then(VecDeque::pop_front) {
            match f {
                Fault::TooManyRequests { retry_after } => {
                    return (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", retry_after.to_string())],
                        json!({"message": "Request was throttled."}).to_string(),
                    )
                        .into_response();
                }
                Fault::Status(code) => {
                    return (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "error")
                        .into_response();
                }
                Fault::DropMidBody => drop_mid_body = true,
            }
        }
        // Every namespace PeeringDB has answers, with no records if need be.
        let empty = HashMap::new();
        let records = match inner.data.get(&ns) {
            Some(records) => records,
            None if crate::namespaces::by_tag(&ns).is_some() => &empty,
            None => {
                return (StatusCode::NOT_FOUND, json!({"meta": {"error": "Unknown namespace"}}).to_string())
                    .into_response();
            }
        };
        let since = since.unwrap_or(0);
        let mut picked: Vec<(&i64, &Stored)> = records
            .iter()
            .filter(|(_, s)| s.updated >= since && !(since == 0 && s.deleted) && (authorized || !s.hidden_without_key))
            .collect();
        picked.sort_by_key(|(id, _)| **id);
        let mut body = String::with_capacity(picked.iter().map(|(_, s)| s.json.len() + 1).sum::<usize>() + 64);
        body.push_str("{\"data\": [");
        for (i, (_, s)) in picked.iter().enumerate() {
            if i > 0 {
                body.push_str(", ");
            }
            body.push_str(&s.json);
        }
        let generated = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        body.push_str(&format!("], \"meta\": {{\"generated\": {generated}}}}}"));
        (body, drop_mid_body)
    };
    if drop_mid_body {
        // Half the body, then an error: the server closes the connection
        // before the chunked body is complete.
        use futures::StreamExt;
        let half = body.as_bytes()[..body.len() / 2].to_vec();
        // The pause lets the headers and the first half reach the client.
        let stream =
            futures::stream::once(async move { Ok::<_, std::io::Error>(half) }).chain(futures::stream::once(async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped on purpose"))
            }));
        return ([("content-type", "application/json")], Body::from_stream(stream)).into_response();
    }
    ([("content-type", "application/json")], Body::from(body)).into_response()
}
