//! End to end in a real headless Chromium (Debian's `chromium` +
//! `chromium-driver`), driven over the WebDriver protocol: log in, create an
//! AS through the form, find it through global search, edit it, see the edit
//! in its change log, bulk-delete it; a job page following its job live; the
//! template editor previewing as one types. A screenshot of each main page type is
//! written to `screenshots/` at the workspace root (or `PM_SCREENSHOT_DIR`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use crate::harness::Backend;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    http: reqwest::Client,
    session: String,
    base: String,
    shots: PathBuf,
}

impl Drop for Driver {
    /// chromedriver runs in a process group of its own, with the browser it
    /// starts: end the whole group, also when a test step panicked.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| PathBuf::from(d).join(name)).find(|p| p.exists())
}

impl Driver {
    async fn start(base: String) -> Option<Driver> {
        let (Some(driver), Some(chromium)) = (which("chromedriver"), which("chromium")) else {
            assert!(
                std::env::var("CI").is_err(),
                "chromium and chromium-driver must be installed in CI (.ci/run installs them)"
            );
            eprintln!("SKIPPED: chromium / chromedriver not installed (apt-get install chromium chromium-driver)");
            return None;
        };
        let port = free_port();
        use std::os::unix::process::CommandExt;
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{url}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,900"]
        }}}});
        let resp: Json = http.post(format!("{url}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let id = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {resp}"));
        let shots = std::env::var_os("PM_SCREENSHOT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../screenshots"));
        std::fs::create_dir_all(&shots).unwrap();
        Some(Driver { child, http, session: format!("{url}/session/{id}"), base, shots })
    }

    async fn try_call(&self, method: reqwest::Method, path: &str, body: Option<Json>) -> Result<Json, String> {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp: Json = req.send().await.unwrap().json().await.unwrap();
        match resp["value"].get("error") {
            Some(err) => Err(format!("WebDriver {path}: {err} {}", resp["value"]["message"])),
            None => Ok(resp["value"].clone()),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Json>) -> Json {
        self.try_call(method, path, body).await.unwrap_or_else(|e| panic!("{e}"))
    }

    async fn goto(&self, path: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": format!("{}{path}", self.base)}))).await;
        self.check_js().await;
    }

    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let resp: Json = self
                .http
                .post(format!("{}/element", self.session))
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(id) = resp["value"][ELEMENT].as_str() {
                return id.to_string();
            }
            if Instant::now() > deadline {
                panic!("no element matches {css}: {resp} on {}", self.source().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Click, again if the element was re-rendered meanwhile (pickers refresh their menu).
    async fn click(&self, css: &str) {
        for attempt in 0..20 {
            let el = self.find(css).await;
            match self.try_call(reqwest::Method::POST, &format!("/element/{el}/click"), Some(json!({}))).await {
                Ok(_) => return,
                Err(e) if e.contains("stale element") && attempt < 19 => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/value"), Some(json!({"text": text}))).await;
    }

    async fn path(&self) -> String {
        let url = self.call(reqwest::Method::GET, "/url", None).await;
        url.as_str().unwrap().trim_start_matches(&self.base).to_string()
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap().to_string()
    }

    async fn script(&self, js: &str) -> Json {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": js, "args": []}))).await
    }

    /// Wait until the page's text contains `text`.
    async fn wait_text(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.source().await.contains(text) {
            assert!(Instant::now() < deadline, "page never showed {text:?}: {}", self.source().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.check_js().await;
    }

    /// Our script ran to the end and no uncaught error happened on the page.
    async fn check_js(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state =
                self.script("return [document.readyState, window.__pmReady === true, window.__pmErrors || []];").await;
            if state[0] == "complete" && state[1] == true {
                assert_eq!(state[2], json!([]), "JavaScript errors on {}", self.path().await);
                return;
            }
            let login = self.path().await.starts_with("/login/");
            if state[0] == "complete" && login {
                return; // the login page has no script
            }
            assert!(Instant::now() < deadline, "page script did not finish on {}: {state}", self.path().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        use std::io::Write;
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = decode_base64(b64.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        let mut f = std::fs::File::create(self.shots.join(format!("{name}.png"))).unwrap();
        f.write_all(&png).unwrap();
    }

    async fn quit(&self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let v = T.iter().position(|t| *t == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The real server on a random local port.
async fn serve() -> String {
    serve_with_db().await.0
}

async fn serve_with_db() -> (String, pm_db::Db) {
    let db = crate::harness::db_with_admin(Backend::Sqlite).await;
    (crate::harness::serve_tcp(&db).await, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_login_create_search_edit_changelog_bulk_delete() {
    let base = serve().await;
    let Some(d) = Driver::start(base).await else { return };

    // Log in.
    d.goto("/autonomous-systems/").await;
    assert!(d.path().await.starts_with("/login/?next="), "login first");
    d.fill("#id_username", "admin").await;
    d.fill("#id_password", "admin-password").await;
    d.screenshot("login").await;
    d.click("button[type=submit]").await;
    d.wait_text("Autonomous systems").await;
    assert_eq!(d.path().await, "/autonomous-systems/");

    // Create an AS through the form; a tag is picked by searching for it.
    d.goto("/extras/tags/add/").await;
    d.fill("#id_name", "Peering").await;
    assert_eq!(d.script("return document.getElementById('id_slug').value").await, "peering", "slug follows name");
    d.click("button[name=_save]").await;
    d.wait_text("Created tag").await;
    d.goto("/autonomous-systems/add/").await;
    d.fill("#id_asn", "64999").await;
    d.fill("#id_name", "E2E Networks").await;
    d.fill("#id_irr_as_set", "AS-E2E").await;
    d.fill("#id_tags_search", "peer").await;
    d.click(".picker-menu div:not(.none)").await;
    d.screenshot("form").await;
    d.click("button[name=_save]").await;
    d.wait_text("Created autonomous system").await;
    let detail = d.path().await;
    assert!(detail.starts_with("/autonomous-systems/"), "{detail}");
    assert!(d.source().await.contains("AS64999 - E2E Networks"));
    assert!(d.source().await.contains("data-slug=\"peering\""), "the tag picked in the form");
    d.screenshot("detail").await;

    // Find it through global search, by ASN.
    d.goto("/").await;
    d.screenshot("home").await;
    d.fill("#global-search", "AS64999\u{E007}").await;
    d.wait_text("result for").await;
    d.screenshot("search").await;
    d.click(".results a").await;
    d.wait_text("E2E Networks").await;
    assert_eq!(d.path().await, detail);

    // Edit it.
    d.click(".page-head a.btn.primary").await;
    d.wait_text("Editing AS64999").await;
    d.fill("#id_name", "E2E Networks Renamed").await;
    d.click("button[name=_save]").await;
    d.wait_text("Modified autonomous system").await;
    assert!(d.source().await.contains("AS64999 - E2E Networks Renamed"));

    // The change log tab shows the edit as a diff.
    d.click(".tabs a[href$='/changelog/']").await;
    d.wait_text("class=\"new\"").await;
    let src = d.source().await;
    assert!(src.contains(">E2E Networks</td>") && src.contains(">E2E Networks Renamed</td>"), "diff shows both names");
    d.screenshot("changelog").await;

    // Bulk delete from the list.
    d.goto("/autonomous-systems/?q=E2E").await;
    d.screenshot("list").await;
    d.click("input[data-select-all]").await;
    d.click("button[formaction$='/delete/']").await;
    d.wait_text("Delete 1 autonomous system?").await;
    d.screenshot("bulk-delete").await;
    d.click("button[name=_confirm]").await;
    d.wait_text("Deleted 1 autonomous system").await;
    assert!(!d.source().await.contains("AS64999"));

    // Dark theme, from the top bar.
    d.click("button[name=toggle_theme]").await;
    d.wait_text("data-theme=\"dark\"").await;
    d.goto("/core/changelog/").await;
    d.screenshot("changelog-list-dark").await;
    d.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_live_job_page_and_template_editor() {
    use pm_jobs::{Engine, JobQueue, NewJob, SqlQueue};
    let (base, db) = serve_with_db().await;
    let Some(d) = Driver::start(base).await else { return };
    d.goto("/login/").await;
    d.fill("#id_username", "admin").await;
    d.fill("#id_password", "admin-password").await;
    d.click("button[type=submit]").await;
    d.wait_text("Welcome, admin").await;

    // A pending job: the page follows it without being reloaded, then shows the result.
    let job = SqlQueue::new(db.clone()).enqueue(NewJob::new(crate::jobs::HOLD, json!({}))).await.unwrap();
    d.goto(&format!("/core/jobs/{job}/")).await;
    d.wait_text(">Pending</span>").await;
    d.script("window.__sameDocument = true; return 1;").await;
    let (registry, hold) = crate::jobs::Hold::registry();
    let engine = Engine::start(db.clone(), crate::jobs::fast_config(), registry, false).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = d
            .script(
                "return [window.__sameDocument === true, document.getElementById('job-status').textContent, \
                 document.querySelector('#job-progress .label').textContent];",
            )
            .await;
        if s[0] == true && s[1] == "Running" && s[2].as_str().is_some_and(|p| p.ends_with("/ 3")) {
            break;
        }
        assert!(Instant::now() < deadline, "the job page never showed the running job live: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.screenshot("job-running").await;
    hold.release();
    d.wait_text("Released.").await;
    d.wait_text(">Completed</span>").await;
    assert!(d.source().await.contains("/rerun/"), "re-run offered once finished");
    engine.stop().await;

    // The template editor previews what is typed, and marks an error's line.
    assert!(pm_db::demo::load(&db, &pm_db::Settings::default()).await.unwrap());
    let row = pm_jobs::sql::query_one(
        &db.conn,
        "SELECT configuration_template_id FROM devices_router WHERE name = 'edge1'",
        vec![],
    )
    .await
    .unwrap()
    .unwrap();
    let config: i64 = row.try_get_by_index(0).unwrap();
    d.goto(&format!("/devices/configurations/{config}/editor/")).await;
    d.wait_text("autonomous-system 64500;").await;
    d.fill("#tpl-text", "host {{ router.name }}").await;
    d.wait_text("<pre class=\"json\" id=\"tpl-preview\">host edge1</pre>").await;
    d.fill("#tpl-text", "one\ntwo\n{% if %}").await;
    d.wait_text("<span class=\"err\">3</span>").await;
    let error = d.script("var e = document.getElementById('tpl-error'); return [e.hidden, e.textContent];").await;
    assert_eq!(error[0], false);
    assert!(error[1].as_str().unwrap().contains(", line 3: "), "{error}");
    d.screenshot("template-editor").await;
    d.quit().await;
}

/// The AS add form fills itself from the PeeringDB cache once the ASN is
/// typed; the new AS then has a PeeringDB tab.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_as_form_fills_from_peeringdb() {
    let (base, db) = serve_with_db().await;
    let net = json!({"id": 4840, "asn": 2602, "name": "Fondation RESTENA", "irr_as_set": "AS-RESTENA",
        "info_prefixes4": 10, "info_prefixes6": 5, "policy_general": "Open"});
    crate::peers::insert_into(&db.conn, "peeringdb.network", &[net]).await;
    let Some(d) = Driver::start(base).await else { return };
    d.goto("/login/").await;
    d.fill("#id_username", "admin").await;
    d.fill("#id_password", "admin-password").await;
    d.click("button[type=submit]").await;
    d.wait_text("Peering").await;
    d.goto("/autonomous-systems/add/").await;
    d.check_js().await;
    d.fill("#id_asn", "2602").await;
    d.click("#id_description").await; // leaving the field asks the cache
    let deadline = Instant::now() + Duration::from_secs(10);
    let value = |id: &'static str| {
        let d = &d;
        async move { d.script(&format!("return document.getElementById('{id}').value")).await }
    };
    while value("id_name").await != "Fondation RESTENA" {
        assert!(Instant::now() < deadline, "the name was never filled in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(value("id_irr_as_set").await, "AS-RESTENA");
    assert_eq!(value("id_ipv4_max_prefixes").await, "10");
    assert_eq!(value("id_ipv6_max_prefixes").await, "5");
    d.screenshot("as-add-from-peeringdb").await;
    d.click("button[name=_save]").await;
    d.wait_text("Created autonomous system").await;
    d.click(".tabs a[href$='/peeringdb/']").await;
    d.wait_text("PeeringDB network").await;
    d.screenshot("as-peeringdb").await;

    // An IXP on that LAN: its available peers, and sessions in one click.
    let c = &db.conn;
    crate::peers::insert_into(c, "peeringdb.internetexchange", &[json!({"id": 297, "name": "LU-CIX"})]).await;
    crate::peers::insert_into(c, "peeringdb.ixlan", &[json!({"id": 297, "ix_id": 297})]).await;
    let more = [(4841, 64496, "Example One", true), (4842, 15169, "Example Two", false)];
    for (id, asn, name, never) in more {
        let net = json!({"id": id, "asn": asn, "name": name, "irr_as_set": format!("AS-{id}"), "policy_general": "Selective",
            "info_never_via_route_servers": never});
        crate::peers::insert_into(c, "peeringdb.network", &[net]).await;
    }
    let records = [(1, 4840, 2602, 9), (2, 4841, 64496, 20), (3, 4842, 15169, 30)].map(|(id, net, asn, host)| {
        json!({"id": id, "net_id": net, "asn": asn, "ixlan_id": 297, "ipaddr4": format!("188.93.170.{host}"),
            "ipaddr6": format!("2001:7f8:4c::{host:x}"), "speed": 10_000 * id, "is_rs_peer": id != 2})
    });
    crate::peers::insert_into(c, "peeringdb.networkixlan", &records).await;
    let create = |label: &'static str, item: Json| {
        let db = &db;
        async move { crate::harness::create_as_admin(db, label, vec![item]).await[0] }
    };
    let us = create("peering.autonomoussystem", json!({"asn": 201281, "name": "Us", "affiliated": true})).await;
    let ixp = create(
        "peering.internetexchange",
        json!({"name": "LU-CIX", "slug": "lu-cix", "local_autonomous_system": us, "peeringdb_ixlan": 297}),
    )
    .await;
    create("net.connection", json!({"internet_exchange_point": ixp, "router": null, "ipv4_address": "188.93.170.1/23", "ipv6_address": "2001:7f8:4c::1/64"})).await;
    d.goto(&format!("/internet-exchanges/{ixp}/available-peers/")).await;
    d.wait_text("never via RS").await;
    d.screenshot("ixp-available-peers").await;
    d.click("button[name=peer]").await;
    d.wait_text("Created 2 session(s).").await;
    d.screenshot("ixp-available-peers-created").await;
    d.quit().await;
}

/// In a 1,400 px window the tables get the width: the filter panel folds
/// above them, and no column (the change log's Changed object, the sessions'
/// row actions) is cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_tables_fit_a_1400_pixel_window() {
    let (base, db) = serve_with_db().await;
    assert!(pm_db::demo::load(&db, &pm_db::Settings::default()).await.unwrap());
    let Some(d) = Driver::start(base).await else { return };
    d.call(reqwest::Method::POST, "/window/rect", Some(json!({"width": 1400, "height": 900}))).await;
    d.goto("/login/").await;
    d.fill("#id_username", "admin").await;
    d.fill("#id_password", "admin-password").await;
    d.click("button[type=submit]").await;
    d.wait_text("Welcome, admin").await;
    for (path, shot) in
        [("/internet-exchange-peering-sessions/", "ixp-sessions-1400"), ("/core/changelog/", "changelog-1400")]
    {
        d.goto(path).await;
        let s = d
            .script(
                "var w = document.querySelector('.table-wrap'); \
                 var last = document.querySelector('.table tbody tr td:last-child').getBoundingClientRect(); \
                 return [window.innerWidth, w.scrollWidth, w.clientWidth, Math.ceil(last.right), \
                 Math.floor(w.getBoundingClientRect().right), document.querySelector('details.filters').open];",
            )
            .await;
        assert!(s[0].as_i64().unwrap() <= 1400, "{s}");
        assert!(s[1].as_i64() <= s[2].as_i64(), "{path}: the table is wider than its card: {s}");
        assert!(s[3].as_i64() <= s[4].as_i64(), "{path}: the last column is cut off: {s}");
        assert_eq!(s[5], false, "{path}: the filter panel is folded");
        d.screenshot(shot).await;
    }
    d.quit().await;
}
