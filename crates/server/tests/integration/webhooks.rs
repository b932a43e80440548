//! Webhooks against real HTTP(S) receivers on 127.0.0.1: payload, signature
//! (checked with an HMAC written here), conditions, templates, retries,
//! bulk events, TLS verification; and `/metrics`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use pm_jobs::{Engine, EngineConfig, Registry, sql};
use serde_json::{Value as Json, json};

use crate::both;
use crate::harness::TestApp;
use crate::jobs::{fast_config, wait_for};

#[derive(Clone, Debug)]
pub struct Hit {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

/// An HTTP receiver answering the scripted statuses in turn (then 200).
#[derive(Clone)]
pub struct Receiver {
    pub hits: Arc<Mutex<Vec<Hit>>>,
    pub url: String,
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.into_iter()));
        let h = hits.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let h = h.clone();
            let script = script.clone();
            async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                h.lock().unwrap().push(Hit {
                    method: parts.method.to_string(),
                    path: parts.uri.path().to_string(),
                    headers: parts.headers,
                    body: String::from_utf8_lossy(&bytes).to_string(),
                });
                let status = script.lock().unwrap().next().unwrap_or(200);
                (axum::http::StatusCode::from_u16(status).unwrap(), format!("answer {status}"))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { hits, url }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    pub async fn wait(&self, n: usize, secs: u64) -> Vec<Hit> {
        let me = self.clone();
        wait_for(secs, &format!("{n} webhook request(s)"), || {
            let me = me.clone();
            async move { me.hits.lock().unwrap().len() >= n }
        })
        .await;
        self.hits()
    }
}

/// HMAC-SHA512 from its definition (RFC 2104), independent of the `hmac` crate.
fn hmac_sha512(key: &[u8], msg: &[u8]) -> String {
    use sha2::{Digest, Sha512};
    let mut k = [0u8; 128];
    if key.len() > 128 {
        k[..64].copy_from_slice(&Sha512::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha512::new().chain_update(&ipad).chain_update(msg).finalize();
    hex::encode(Sha512::new().chain_update(&opad).chain_update(inner).finalize())
}

async fn job_count(db: &pm_db::Db, name: &str, status: &str) -> i64 {
    let r = sql::query_one(
        &db.conn,
        "SELECT COUNT(*) FROM core_job WHERE name = ? AND status = ?",
        vec![name.into(), status.into()],
    )
    .await
    .unwrap()
    .unwrap();
    r.try_get_by_index(0).unwrap()
}

pub async fn idle(db: &pm_db::Db) {
    let db = db.clone();
    wait_for(60, "the queue to empty", || {
        let db = db.clone();
        async move {
            let r = sql::query_one(
                &db.conn,
                "SELECT COUNT(*) FROM core_job WHERE status IN ('pending', 'scheduled', 'running')",
                vec![],
            )
            .await
            .unwrap()
            .unwrap();
            r.try_get_by_index::<i64>(0).unwrap() == 0
        }
    })
    .await;
}

fn engine_config() -> EngineConfig {
    EngineConfig { webhook_attempts: 3, ..fast_config() }
}

both!(payload_signature_conditions, |backend| {
    let app = TestApp::new(backend).await;
    let rx = Receiver::start(vec![]).await;
    let secret = "s3cr3t-κey";
    let hook = app
        .post(
            "/api/extras/webhooks/",
            json!({
                "name": "AS hook",
                "content_types": ["peering.autonomoussystem"],
                "type_create": true,
                "type_update": true,
                "payload_url": format!("{}/hook/{{{{ data.asn }}}}", rx.url),
                "additional_headers": "X-Event: {{ event }}\nX-Model: {{ model }}",
                "secret": secret,
                "conditions": {"and": [{"attr": "asn", "value": 64000, "op": "gte"}, {"attr": "name", "value": "skip", "op": "contains", "negate": true}]},
            }),
        )
        .await
        .expect(201);
    assert_eq!(hook["content_types"], json!(["peering.autonomoussystem"]));
    // Validation: bad conditions, no trigger.
    let bad = app
        .post(
            "/api/extras/webhooks/",
            json!({"name": "bad", "content_types": ["peering.autonomoussystem"], "payload_url": "http://x/",
                   "conditions": {"xor": []}}),
        )
        .await
        .expect(400);
    assert!(bad["conditions"].is_array() && bad["type_create"].is_array(), "{bad}");

    let engine = Engine::start(app.db.clone(), engine_config(), Registry::builtin(), false).await.unwrap();
    let asn = app.create("/api/peering/autonomous-systems/", json!({"asn": 64501, "name": "Éxample"})).await;
    app.create("/api/peering/autonomous-systems/", json!({"asn": 100, "name": "Low"})).await;
    app.create("/api/peering/autonomous-systems/", json!({"asn": 64999, "name": "please skip me"})).await;
    let hits = rx.wait(1, 60).await;
    idle(&app.db).await;
    let hits2 = rx.hits();
    assert_eq!(hits2.len(), 1, "conditions false → no request: {hits2:?}");
    let h = &hits[0];
    assert_eq!(h.method, "POST");
    assert_eq!(h.path, "/hook/64501");
    assert_eq!(h.headers["x-event"], "create");
    assert_eq!(h.headers["x-model"], "autonomoussystem");
    assert_eq!(h.headers["content-type"], "application/json");
    assert_eq!(h.headers["user-agent"], "PeeringManager/1.1");
    let sig = h.headers["x-hook-signature"].to_str().unwrap();
    assert_eq!(sig, hmac_sha512(secret.as_bytes(), h.body.as_bytes()));
    assert!(h.body.contains("\\u00c9xample"), "non-ASCII escaped like Python: {}", h.body);
    assert!(h.body.contains("\"event\": \"create\", \"timestamp\": "), "Python separators: {}", h.body);
    let body: Json = serde_json::from_str(&h.body).unwrap();
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["event", "timestamp", "model", "username", "request_id", "data", "snapshots"]);
    assert_eq!(body["model"], "autonomoussystem");
    assert_eq!(body["username"], "admin");
    assert_eq!(body["data"]["id"], asn);
    assert_eq!(body["data"]["asn"], 64501);
    assert_eq!(body["data"]["url"], format!("/api/peering/autonomous-systems/{asn}/"));
    assert_eq!(body["snapshots"]["prechange"], Json::Null);
    assert_eq!(body["snapshots"]["postchange"]["asn"], 64501);
    assert!(body["timestamp"].as_str().unwrap().ends_with("+00:00"));

    // An update carries both snapshots; deletes do not trigger this hook.
    app.patch(&format!("/api/peering/autonomous-systems/{asn}/"), json!({"name": "Renamed"})).await.expect(200);
    let hits = rx.wait(2, 60).await;
    let body: Json = serde_json::from_str(&hits[1].body).unwrap();
    assert_eq!(body["event"], "update");
    assert_eq!(body["snapshots"]["prechange"]["name"], "Éxample");
    assert_eq!(body["snapshots"]["postchange"]["name"], "Renamed");
    assert_eq!(body["data"]["name"], "Renamed");
    app.delete(&format!("/api/peering/autonomous-systems/{asn}/"), None).await.expect(204);
    idle(&app.db).await;
    assert_eq!(rx.hits().len(), 2);
    // Deliveries are visible as jobs with the response.
    let jobs = app.get("/api/core/jobs/?name=extras.webhook.deliver").await.expect(200);
    assert_eq!(jobs["count"], 2);
    assert!(jobs["results"][0]["output"].as_str().unwrap().starts_with("200 answer 200"), "{jobs}");
    engine.stop().await;
});

both!(templates_retries_delete_bulk, |backend| {
    let app = TestApp::new(backend).await;
    let rx = Receiver::start(vec![500, 503]).await;
    app.post(
        "/api/extras/webhooks/",
        json!({
            "name": "templated",
            "content_types": ["peering.autonomoussystem", "bgp.community"],
            "type_update": true,
            "type_delete": true,
            "payload_url": format!("{}/t", rx.url),
            "http_method": "PUT",
            "http_content_type": "text/plain",
            "body_template": "{{ event }} {{ data.name }} by {{ username }}",
        }),
    )
    .await
    .expect(201);
    let engine = Engine::start(app.db.clone(), engine_config(), Registry::builtin(), false).await.unwrap();
    let asn = app.create("/api/peering/autonomous-systems/", json!({"asn": 64510, "name": "One"})).await;
    app.patch(&format!("/api/peering/autonomous-systems/{asn}/"), json!({"name": "Two"})).await.expect(200);
    // 500, 503, then 200: three requests, one delivery job, completed.
    let hits = rx.wait(3, 60).await;
    assert!(hits.iter().all(|h| h.body == "update Two by admin" && h.method == "PUT"), "{hits:?}");
    assert_eq!(hits[0].headers["content-type"], "text/plain");
    assert!(hits[0].headers.get("x-hook-signature").is_none());
    idle(&app.db).await;
    let j = app.get("/api/core/jobs/?name=extras.webhook.deliver").await.expect(200);
    assert_eq!(j["count"], 1);
    let job = &j["results"][0];
    assert_eq!(job["status"]["value"], "completed");
    let log = job["data"].to_string();
    assert!(log.contains("Attempt 1 of 3 failed: HTTP 500: answer 500"), "{log}");
    assert!(log.contains("Attempt 2 of 3 failed: HTTP 503"), "{log}");
    assert!(job["output"].as_str().unwrap().contains("500 answer 500"));

    // Delete: the deleted object's representation is in the event.
    app.delete(&format!("/api/peering/autonomous-systems/{asn}/"), None).await.expect(204);
    let hits = rx.wait(4, 60).await;
    assert_eq!(hits[3].body, "delete Two by admin");

    // Bulk: N objects → N events, in order per object.
    let items: Vec<Json> = (0..40)
        .map(|i| json!({"name": format!("c{i}"), "slug": format!("c{i}"), "value": format!("64500:{i}")}))
        .collect();
    let created = app.post("/api/bgp/communities/", Json::Array(items)).await.expect(201);
    let ids: Vec<i64> = created.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let patch: Vec<Json> = ids.iter().map(|id| json!({"id": id, "name": format!("n{id}")})).collect();
    app.request(axum::http::Method::PATCH, "/api/bgp/communities/", Some(Json::Array(patch)), Some(&app.token))
        .await
        .expect(200);
    let patch: Vec<Json> = ids.iter().map(|id| json!({"id": id, "name": format!("m{id}")})).collect();
    app.request(axum::http::Method::PATCH, "/api/bgp/communities/", Some(Json::Array(patch)), Some(&app.token))
        .await
        .expect(200);
    let hits = rx.wait(4 + 80, 60).await;
    for id in &ids {
        let mine: Vec<&str> = hits
            .iter()
            .map(|h| h.body.as_str())
            .filter(|b| *b == format!("update n{id} by admin") || *b == format!("update m{id} by admin"))
            .collect();
        // Each event carries the object as it was at that change, in order.
        assert_eq!(mine, [format!("update n{id} by admin"), format!("update m{id} by admin")], "{id}");
    }
    engine.stop().await;
});

both!(failures_stay_visible_and_test_button, |backend| {
    let app = TestApp::new(backend).await;
    let rx = Receiver::start(vec![500, 500, 500, 500]).await;
    let hook = app
        .create(
            "/api/extras/webhooks/",
            json!({"name": "down", "content_types": ["bgp.relationship"], "type_create": true, "payload_url": format!("{}/down", rx.url)}),
        )
        .await;
    let engine = Engine::start(
        app.db.clone(),
        EngineConfig { webhook_attempts: 2, ..fast_config() },
        Registry::builtin(),
        false,
    )
    .await
    .unwrap();
    app.create("/api/bgp/relationships/", json!({"name": "Peer", "slug": "peer"})).await;
    rx.wait(2, 60).await;
    idle(&app.db).await;
    assert_eq!(job_count(&app.db, "extras.webhook.deliver", "failed").await, 1);
    let j = app.get("/api/core/jobs/?name=extras.webhook.deliver&status=failed").await.expect(200);
    let log = j["results"][0]["data"]["main"]["log"].to_string();
    assert!(log.contains("HTTP 500: answer 500"), "{log}");
    // "Test": a sample event, 202 with the job.
    let t = app.post(&format!("/api/extras/webhooks/{hook}/test/"), json!({})).await.expect(202);
    assert_eq!(t["name"], "extras.webhook.deliver");
    let hits = rx.wait(3, 60).await;
    let body: Json = serde_json::from_str(&hits[2].body).unwrap();
    assert_eq!(body["event"], "test");
    assert_eq!(body["data"]["name"], "down");
    engine.stop().await;
});

both!(metrics_endpoint, |backend| {
    let app = TestApp::new(backend).await;
    pm_jobs::metrics::set_enabled(true);
    app.get("/api/status/").await.expect(200);
    let r = app.raw(axum::http::Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(
        r.text.contains("pm_http_requests_total{route=\"/api/status/\",method=\"GET\",status=\"200\"}"),
        "{}",
        r.text
    );
    assert!(r.text.contains("pm_http_request_duration_seconds_bucket{route=\"/api/status/\",le=\"+Inf\"}"));
    assert!(r.text.contains("pm_job_queue_depth"));
    assert!(r.text.contains("pm_db_pool_connections{state=\"open\"}"));
});

// --- TLS: a local HTTPS receiver with a certificate from a test CA ---

struct Tls {
    url: String,
    ca_path: std::path::PathBuf,
    hits: Arc<Mutex<usize>>,
}

async fn tls_receiver() -> Tls {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "PM test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer).unwrap();
    let ca_path = std::env::temp_dir().join(format!("pm-test-ca-{}.pem", uuid::Uuid::new_v4().simple()));
    std::fs::write(&ca_path, ca.pem()).unwrap();
    crate::harness::install_crypto();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/tls", listener.local_addr().unwrap());
    let hits: Arc<Mutex<usize>> = Arc::default();
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let h = h.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(sock).await else { return };
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                // Read headers and the body (Content-Length).
                loop {
                    let Ok(n) = s.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if got.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                *h.lock().unwrap() += 1;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
                let _ = s.shutdown().await;
            });
        }
    });
    Tls { url, ca_path, hits }
}

both!(tls_verification, |backend| {
    let app = TestApp::new(backend).await;
    let tls = tls_receiver().await;
    let engine = Engine::start(
        app.db.clone(),
        EngineConfig { webhook_attempts: 1, ..fast_config() },
        Registry::builtin(),
        false,
    )
    .await
    .unwrap();
    let mk = |name: &str, verify: bool, ca: Option<&std::path::Path>| {
        json!({"name": name, "content_types": ["bgp.relationship"], "type_delete": true,
               "payload_url": format!("{}/{name}", tls.url), "ssl_verification": verify,
               "ca_file_path": ca.map(|p| p.display().to_string())})
    };
    // A CA file with verification off is refused.
    app.post("/api/extras/webhooks/", mk("x", false, Some(&tls.ca_path))).await.expect(400);
    let with_ca = app.create("/api/extras/webhooks/", mk("with-ca", true, Some(&tls.ca_path))).await;
    let system = app.create("/api/extras/webhooks/", mk("system-roots", true, None)).await;
    let off = app.create("/api/extras/webhooks/", mk("no-verify", false, None)).await;
    let mut status = std::collections::HashMap::new();
    for id in [with_ca, system, off] {
        let j = app.post(&format!("/api/extras/webhooks/{id}/test/"), json!({})).await.expect(202);
        status.insert(id, j["id"].as_i64().unwrap());
    }
    idle(&app.db).await;
    let st = |id: i64| {
        let app = &app;
        let job = status[&id];
        async move { app.get(&format!("/api/core/jobs/{job}/")).await.expect(200) }
    };
    assert_eq!(st(with_ca).await["status"]["value"], "completed", "{}", st(with_ca).await);
    assert_eq!(st(off).await["status"]["value"], "completed", "{}", st(off).await);
    let j = st(system).await;
    assert_eq!(j["status"]["value"], "failed", "self-signed CA is not trusted by default: {j}");
    assert!(j["data"].to_string().to_lowercase().contains("certificate"), "{j}");
    assert_eq!(*tls.hits.lock().unwrap(), 2);
    engine.stop().await;
    let _ = Duration::from_secs(0);
});

both!(cascaded_deletions_send_their_delete_events, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let rx = Receiver::start(vec![]).await;
    app.post(
        "/api/extras/webhooks/",
        json!({"name": "Deletions", "content_types": ["peering.autonomoussystem", "peering.directpeeringsession"],
               "type_delete": true, "payload_url": format!("{}/deleted", rx.url)}),
    )
    .await
    .expect(201);
    let mut sessions = vec![];
    for n in 0..3 {
        let id = app
            .create(
                "/api/peering/direct-peering-sessions/",
                json!({"local_autonomous_system": fx.local_as, "autonomous_system": fx.peer_as,
                       "relationship": fx.relationship, "ip_address": format!("198.51.100.{}/31", 2 * n + 1)}),
            )
            .await;
        sessions.push(id);
    }
    // Deleting the peer AS deletes its sessions: one event for the AS, then one per session.
    app.delete(&format!("/api/peering/autonomous-systems/{}/", fx.peer_as), None).await.expect(204);
    app.get(&format!("/api/peering/direct-peering-sessions/{}/", sessions[0])).await.expect(404);
    let engine = Engine::start(app.db.clone(), engine_config(), Registry::builtin(), false).await.unwrap();
    let hits = rx.wait(4, 60).await;
    idle(&app.db).await;
    engine.stop().await;
    let bodies: Vec<Json> = rx.hits().iter().map(|h| serde_json::from_str(&h.body).unwrap()).collect();
    assert_eq!(hits.len(), 4, "{bodies:?}");
    let as_event = bodies.iter().find(|b| b["model"] == "autonomoussystem").expect("the AS's event");
    assert_eq!(as_event["event"], "delete");
    assert_eq!(as_event["data"]["asn"], 65001);
    let mut seen: Vec<i64> = bodies
        .iter()
        .filter(|b| b["model"] == "directpeeringsession")
        .map(|b| {
            assert_eq!(b["event"], "delete");
            assert_eq!(b["data"]["autonomous_system"]["id"], fx.peer_as, "data taken before the delete");
            assert_eq!(b["username"], "admin");
            b["data"]["id"].as_i64().unwrap()
        })
        .collect();
    seen.sort();
    assert_eq!(seen, sessions);
});
