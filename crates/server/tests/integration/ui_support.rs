//! A browser-like client for the web UI tests: cookies, CSRF tokens, forms.

use axum::http::Method;
use serde_json::{Value as Json, json};

use crate::harness::{Resp, TestApp};

pub struct Browser<'a> {
    pub app: &'a TestApp,
    cookies: Vec<(String, String)>,
    /// The CSRF token of the current session (read from the last page).
    pub csrf: String,
}

pub fn form_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

/// The value of the first `name="..." value="..."` hidden input.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser { app, cookies: vec![], csrf: String::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn remember(&mut self, r: &Resp) {
        for v in r.headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !val.is_empty() && !v.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
        if let Some(t) = input_value(&r.text, "csrfmiddlewaretoken") {
            self.csrf = t;
        }
    }

    pub async fn send(&mut self, method: Method, path: &str, body: Option<Vec<u8>>, headers: &[(&str, &str)]) -> Resp {
        let cookie = self.cookie_header();
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        if !cookie.is_empty() {
            h.push(("cookie", &cookie));
        }
        if std::env::var("UI_TRACE").is_ok() {
            eprintln!("{method} {path}");
        }
        let r = self.app.raw(method, path, body, None, &h).await;
        self.remember(&r);
        r
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }

    /// GET and demand a 200 page.
    pub async fn page(&mut self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status.as_u16(), 200, "GET {path}: {}", r.text);
        r.text
    }

    /// POST a form with the session's CSRF token.
    pub async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let csrf = self.csrf.clone();
        let mut all: Vec<(&str, &str)> = vec![("csrfmiddlewaretoken", &csrf)];
        all.extend_from_slice(pairs);
        self.send(Method::POST, path, Some(form_body(&all)), &[("content-type", "application/x-www-form-urlencoded")])
            .await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Resp {
        self.get("/login/").await;
        self.post("/login/", &[("username", username), ("password", password), ("next", "/")]).await
    }

    pub fn has_session(&self) -> bool {
        self.cookies.iter().any(|(k, _)| k == "pm_session")
    }

    /// An API call with the session cookie (and the CSRF header on writes).
    pub async fn api(&mut self, method: Method, path: &str, body: Option<Json>, with_csrf: bool) -> Resp {
        let csrf = self.csrf.clone();
        let mut headers = vec![("content-type", "application/json")];
        if with_csrf {
            headers.push(("x-csrftoken", &csrf));
        }
        self.send(method, path, body.map(|b| b.to_string().into_bytes()), &headers).await
    }
}

pub fn location(r: &Resp) -> String {
    r.headers.get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

/// A superuser browser, logged in.
pub async fn admin(app: &TestApp) -> Browser<'_> {
    let mut b = Browser::new(app);
    let r = b.login("admin", "admin-password").await;
    assert_eq!(r.status.as_u16(), 303, "login failed: {}", r.text);
    b.page("/").await;
    b
}

/// One object of every model that has pages, ids by UI path.
pub async fn every_model(app: &TestApp) -> Vec<(&'static str, i64)> {
    let f = crate::crud::fixtures(app).await;
    let bgp_group = app.create("/api/peering/bgp-groups/", json!({"name": "Transit", "slug": "transit"})).await;
    let direct = app
        .create(
            "/api/peering/direct-peering-sessions/",
            json!({"local_autonomous_system": f.local_as, "autonomous_system": f.peer_as, "relationship": f.relationship,
                   "ip_address": "198.51.100.1/31", "router": f.router, "bgp_group": bgp_group, "tags": [f.tag]}),
        )
        .await;
    let ixp_session = app
        .create(
            "/api/peering/internet-exchange-peering-sessions/",
            json!({"autonomous_system": f.peer_as, "ixp_connection": f.connection, "ip_address": "192.0.2.77"}),
        )
        .await;
    let bfd = app.create("/api/net/bfd/", json!({"name": "Fast", "slug": "fast"})).await;
    let configuration =
        app.create("/api/devices/configurations/", json!({"name": "Junos", "template": "{{ router.name }}"})).await;
    let email = app
        .create("/api/messaging/emails/", json!({"name": "Hello", "subject": "Peering", "template": "Hello {{ a }}"}))
        .await;
    let export = app
        .create(
            "/api/extras/export-templates/",
            json!({"name": "CSV", "content_type": "peering.autonomoussystem", "template": "{% for a in dataset %}{% endfor %}"}),
        )
        .await;
    let ixapi = app
        .create(
            "/api/extras/ix-api/",
            json!({"name": "IX-API", "api_url": "https://ixapi.example.net/api/v2", "api_key": "k", "api_secret": "s", "identity": "1"}),
        )
        .await;
    let journal = app
        .create(
            "/api/extras/journal-entries/",
            json!({"assigned_object_type": "peering.autonomoussystem", "assigned_object_id": f.peer_as, "kind": "info", "comments": "Called their NOC"}),
        )
        .await;
    let contact_assignment = app
        .create(
            "/api/messaging/contact-assignments/",
            json!({"content_type": "peering.autonomoussystem", "object_id": f.peer_as, "contact": f.contact, "role": f.role}),
        )
        .await;
    let cc_assignment = app
        .create(
            "/api/extras/config-context-assignments/",
            json!({"content_type": "devices.router", "object_id": f.router, "config_context": f.context}),
        )
        .await;
    let change = app.get("/api/core/object-changes/?limit=1").await.expect(200)["results"][0]["id"].as_i64().unwrap();
    let job = insert_job(app).await;
    vec![
        ("/autonomous-systems/", f.peer_as),
        ("/bgp-groups/", bgp_group),
        ("/direct-peering-sessions/", direct),
        ("/internet-exchanges/", f.ixp),
        ("/internet-exchange-peering-sessions/", ixp_session),
        ("/routing-policies/", f.policy),
        ("/bgp/communities/", f.community),
        ("/bgp/relationships/", f.relationship),
        ("/net/bfd/", bfd),
        ("/net/connections/", f.connection),
        ("/devices/configurations/", configuration),
        ("/devices/platforms/", 2),
        ("/devices/routers/", f.router),
        ("/messaging/contacts/", f.contact),
        ("/messaging/contact-assignments/", contact_assignment),
        ("/messaging/contact-roles/", f.role),
        ("/messaging/emails/", email),
        ("/extras/config-contexts/", f.context),
        ("/extras/config-context-assignments/", cc_assignment),
        ("/extras/export-templates/", export),
        ("/extras/ix-api/", ixapi),
        ("/extras/journal-entries/", journal),
        ("/extras/tags/", f.tag),
        ("/core/jobs/", job),
        ("/core/changelog/", change),
    ]
}

/// Jobs are written by the system only: put one in the table directly.
async fn insert_job(app: &TestApp) -> i64 {
    use sea_orm::ConnectionTrait;
    let q = sea_query::Query::insert()
        .into_table("core_job")
        .columns(["name", "status", "created", "job_id", "data"])
        .values_panic([
            "peeringdb.synchronise".into(),
            "completed".into(),
            chrono::Utc::now().into(),
            uuid::Uuid::new_v4().to_string().into(),
            "{}".into(),
        ])
        .returning_col("id")
        .to_owned();
    let row = app.db.conn.query_one(&q).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

/// Tab links of a detail page (`href="/P/<id>/<tab>/"`).
pub fn tab_links(html: &str) -> Vec<String> {
    let Some(start) = html.find("<nav class=\"tabs\">") else { return vec![] };
    let end = html[start..].find("</nav>").map(|e| e + start).unwrap_or(html.len());
    html[start..end]
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&#x2f;", "/").replace("&amp;", "&"))
        .collect()
}
