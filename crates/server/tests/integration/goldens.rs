//! The Peering Manager 1.10 rendering goldens (`shared/fixtures/pm-goldens`):
//! the real server, started from the built binary on a loopback port against
//! a fresh database, loaded through its REST API by the fixture's own loader,
//! must render every template byte for byte as Peering Manager 1.10.4 did.
//! Run with `PM_MERGE_INACTIVE_CONFIG_CONTEXTS=true`: the goldens come from
//! Peering Manager, which merges inactive config contexts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::both;
use crate::harness::fresh_url;

const BIN: &str = env!("CARGO_BIN_EXE_peering-manager");

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/pm-goldens")
}

/// The server process, stopped when the test ends (pass or fail).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `serve` on 127.0.0.1, port chosen by the system; its base URL once
/// it listens (read from its log line).
fn start(url: &str) -> (Server, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--database", url, "--bind", "127.0.0.1:0"])
        .env("PM_MERGE_INACTIVE_CONFIG_CONTEXTS", "true")
        .env("PM_SUPERUSER_PASSWORD", "goldens-admin")
        .env("PM_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let (tx, rx) = std::sync::mpsc::channel();
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
    }
    let server = Server(child);
    let base = rx.recv_timeout(Duration::from_secs(120)).expect("the server says where it listens");
    (server, base)
}

both!(peering_manager_goldens, |backend| {
    let url = fresh_url(backend).await;
    let (_server, base) = start(&url);
    // The admin is created by `serve` on the empty database; wait for it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let token = loop {
        let out = Command::new(BIN)
            .args(["--database", &url, "token", "create", "--user", "admin", "--write"])
            .output()
            .unwrap();
        if out.status.success() {
            break String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        assert!(Instant::now() < deadline, "no admin user: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(200));
    };
    let dir = fixture_dir();
    let out = Command::new("python3")
        .arg(dir.join("check.py"))
        .args(["--url", &base, "--token", &token, "--load"])
        // Nothing may be written into the fixture directory.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs check.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> =
        stdout.lines().filter_map(|l| l.strip_prefix("FAIL ")).map(|l| l.trim_end_matches(':')).collect();
    let passed = stdout.lines().filter(|l| l.starts_with("PASS ")).count();
    let unexpected: Vec<&&str> = failed.iter().filter(|f| !KNOWN_GAPS.iter().any(|g| f.starts_with(g))).collect();
    assert!(
        passed > 0 && unexpected.is_empty(),
        "pm-goldens renderings differ from Peering Manager on {backend:?}: {unexpected:?}\n{stdout}\n{stderr}"
    );
    // A gap closed must leave the list, so the check stays complete.
    for gap in KNOWN_GAPS {
        assert!(
            failed.iter().any(|f| f.starts_with(gap)),
            "{gap} renders like Peering Manager now: drop it from KNOWN_GAPS"
        );
    }
});

/// Renderings that still differ, and why (none: every golden must pass).
const KNOWN_GAPS: &[&str] = &[];

// The template editor previews with the template's own whitespace flags:
// the page hands them to the preview script as `true`/`false`, which it
// sends back with every keystroke (it once read Python's `True` and never
// trimmed).
both!(editor_preview_uses_the_templates_flags, |backend| {
    use crate::harness::TestApp;
    let app = TestApp::new(backend).await;
    let text = "{% if true %}\n  x\n{% endif %}\nend";
    let trimmed = app
        .post(
            "/api/devices/configurations/",
            serde_json::json!({"name": "trimmed", "template": text, "jinja2_trim": true, "jinja2_lstrip": true}),
        )
        .await
        .expect(201);
    let plain = app
        .post("/api/devices/configurations/", serde_json::json!({"name": "plain", "template": text}))
        .await
        .expect(201);
    let mut b = crate::ui_support::admin(&app).await;
    let page = b.page(&format!("/devices/configurations/{}/editor/", trimmed["id"])).await;
    assert!(page.contains(r#"data-trim="true" data-lstrip="true""#), "{page}");
    let page = b.page(&format!("/devices/configurations/{}/editor/", plain["id"])).await;
    assert!(page.contains(r#"data-trim="false" data-lstrip="false""#), "{page}");
});
