//! A fresh database per test (SQLite file, or a PostgreSQL database cloned
//! from a migrated template) and requests through the real router.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use pm_db::{Db, Settings};
use pm_web::{AppState, WebConfig};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value as Json, json};
use tower::ServiceExt;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Run a test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($name:ident, |$backend:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($backend: $crate::harness::Backend) $body
            #[tokio::test]
            async fn sqlite() {
                run($crate::harness::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                run($crate::harness::Backend::Postgres).await
            }
        }
    };
}

pub fn postgres_admin_url() -> String {
    std::env::var("PM_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn pg_url(db: &str) -> String {
    let admin = postgres_admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
    format!("{base}/{db}")
}

/// Held while the template is made: an async lock, since making it awaits.
static PG_LOCK: tokio::sync::Mutex<Option<String>> = tokio::sync::Mutex::const_new(None);

/// Create (once per test run) a migrated template, then clone it.
async fn fresh_postgres() -> String {
    let mut template = PG_LOCK.lock().await;
    let admin = sea_orm::Database::connect(postgres_admin_url())
        .await
        .expect("PostgreSQL must be reachable for the test suite (see README: PM_TEST_POSTGRES_URL)");
    let exec = |sql: String| Statement::from_string(DbBackend::Postgres, sql);
    if template.is_none() {
        // Databases left by earlier runs: names carry the owning process id,
        // so those of test runs still going (another engineer's) are kept.
        let rows = admin
            .query_all_raw(exec("SELECT datname FROM pg_database WHERE datname LIKE 'pm_t_%'".into()))
            .await
            .unwrap();
        for r in rows {
            let name: String = r.try_get_by_index(0).unwrap();
            let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
            let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                let _ = admin.execute_raw(exec(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).await;
            }
        }
        let name = format!("pm_t_{}_tpl", std::process::id());
        admin.execute_raw(exec(format!("CREATE DATABASE \"{name}\""))).await.unwrap();
        let db = Db::connect(&pg_url(&name)).await.unwrap();
        db.migrate().await.unwrap();
        db.conn.close().await.unwrap();
        *template = Some(name);
    }
    let name = format!("pm_t_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let tpl = template.as_ref().unwrap();
    admin.execute_raw(exec(format!("CREATE DATABASE \"{name}\" TEMPLATE \"{tpl}\""))).await.unwrap();
    admin.close().await.unwrap();
    pg_url(&name)
}

/// A database with no table at all (the migration and upgrade tests).
pub async fn empty_url(backend: Backend) -> String {
    if backend == Backend::Sqlite {
        return sqlite_url();
    }
    // Named like the others, so the next run's cleanup drops it.
    let admin = sea_orm::Database::connect(postgres_admin_url()).await.unwrap();
    let name = format!("pm_t_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    admin
        .execute_raw(Statement::from_string(DbBackend::Postgres, format!("CREATE DATABASE \"{name}\"")))
        .await
        .unwrap();
    admin.close().await.unwrap();
    pg_url(&name)
}

pub fn sqlite_url() -> String {
    let path = std::env::temp_dir().join(format!("pm-test-{}.sqlite3", uuid::Uuid::new_v4().simple()));
    format!("sqlite://{}?mode=rwc", path.display())
}

pub async fn fresh_url(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => sqlite_url(),
        Backend::Postgres => fresh_postgres().await,
    }
}

pub struct TestApp {
    pub db: Db,
    router: axum::Router,
    /// The admin's write token.
    pub token: String,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub json: Json,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    #[track_caller]
    pub fn expect(self, status: u16) -> Json {
        assert_eq!(self.status.as_u16(), status, "unexpected status, body: {}", self.text);
        self.json
    }
}

pub fn install_crypto() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with(backend, WebConfig::default(), Settings::default()).await
    }

    pub async fn with(backend: Backend, web: WebConfig, settings: Settings) -> TestApp {
        install_crypto();
        let url = fresh_url(backend).await;
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        Self::on(db, web, settings).await
    }

    /// The application on a migrated database of the test's making.
    pub async fn on(db: Db, web: WebConfig, settings: Settings) -> TestApp {
        install_crypto();
        let admin =
            pm_db::auth::create_user(&db.conn, "admin", "admin@example.com", "admin-password", true).await.unwrap();
        let token = pm_db::auth::create_token(&db.conn, admin, true, None, "tests", None).await.unwrap();
        let state = AppState::new(db.clone(), settings, web);
        TestApp { router: pm_web::router(state), db, token }
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<Json>, token: Option<&str>) -> Resp {
        self.raw(method, path, body.map(|b| b.to_string().into_bytes()), token, &[]).await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path).header("host", "testserver");
        if let Some(t) = token {
            req = req.header("authorization", format!("Token {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(body.map(Body::from).unwrap_or_else(Body::empty)).unwrap();
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        Resp { status, json, headers, text }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(Method::GET, path, None, Some(&self.token)).await
    }
    pub async fn post(&self, path: &str, body: Json) -> Resp {
        self.request(Method::POST, path, Some(body), Some(&self.token)).await
    }
    pub async fn patch(&self, path: &str, body: Json) -> Resp {
        self.request(Method::PATCH, path, Some(body), Some(&self.token)).await
    }
    pub async fn put(&self, path: &str, body: Json) -> Resp {
        self.request(Method::PUT, path, Some(body), Some(&self.token)).await
    }
    pub async fn delete(&self, path: &str, body: Option<Json>) -> Resp {
        self.request(Method::DELETE, path, body, Some(&self.token)).await
    }

    /// POST and return the new object's id.
    pub async fn create(&self, path: &str, body: Json) -> i64 {
        let r = self.post(path, body).await;
        r.expect(201)["id"].as_i64().unwrap()
    }

    pub async fn count(&self, path: &str) -> i64 {
        self.get(path).await.expect(200)["count"].as_i64().unwrap()
    }

    /// A non-superuser with the given object permissions; returns a write token.
    pub async fn user_with(&self, username: &str, permissions: &[Json]) -> String {
        let uid = self.create("/api/users/users/", json!({"username": username, "password": "a-long-password"})).await;
        for (i, p) in permissions.iter().enumerate() {
            let mut p = p.clone();
            p["name"] = json!(format!("{username}-{i}"));
            p["users"] = json!([uid]);
            self.create("/api/users/permissions/", p).await;
        }
        pm_db::auth::create_token(&self.db.conn, uid, true, None, "", None).await.unwrap()
    }
}

/// Create objects straight through `pm_db` as the first user, a superuser
/// (seeding benchmarks and browser tests); returns their ids.
pub async fn create_as_admin(db: &Db, label: &str, items: Vec<Json>) -> Vec<i64> {
    let perms = pm_db::auth::Perms::superuser();
    let settings = Settings::default();
    let actor = pm_db::write::Actor {
        user_id: Some(1),
        user_name: "admin".into(),
        request_id: uuid::Uuid::new_v4(),
        perms: &perms,
        settings: &settings,
    };
    let model = pm_db::registry::model(label).unwrap();
    pm_db::ops::create(db, &actor, model, &items, true).await.unwrap()
}

/// A migrated fresh database with the superuser `admin` / `admin-password`
/// (the browser tests and the page benchmarks).
pub async fn db_with_admin(backend: Backend) -> Db {
    install_crypto();
    let db = Db::connect(&fresh_url(backend).await).await.unwrap();
    db.migrate().await.unwrap();
    pm_db::auth::create_user(&db.conn, "admin", "admin@example.com", "admin-password", true).await.unwrap();
    db
}

/// Serve the whole application over real TCP on 127.0.0.1; its base URL.
pub async fn serve_tcp(db: &Db) -> String {
    let state = AppState::new(db.clone(), Settings::default(), WebConfig::default());
    let app = pm_web::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

/// The `p` percentile of sorted latencies, in milliseconds.
pub fn percentile_ms(sorted: &[std::time::Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
