//! The binary's commands, run as a user would.

use std::process::Command;

use crate::both;
use crate::harness::fresh_url;

pub(crate) fn pm(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peering-manager"))
        .args(["--database", url])
        .args(args)
        .env("PM_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

both!(commands, |backend| {
    let url = fresh_url(backend).await;
    let (ok, out, err) = pm(&url, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("up to date"));
    let (ok, out, _) =
        pm(&url, &["createsuperuser", "--username", "ops", "--email", "ops@example.net", "--password", "ops-password"]);
    assert!(ok && out.contains("ops"));
    let (ok, key, err) = pm(&url, &["token", "create", "--user", "ops", "--write", "--expires", "2099-01-01"]);
    assert!(ok, "{err}");
    let key = key.trim();
    assert_eq!(key.len(), 40);
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "only the key is printed: {key}");
    let (ok, _, err) = pm(&url, &["token", "create", "--user", "nobody"]);
    assert!(!ok && err.contains("nobody"));

    // Housekeeping removes change-log records past retention, keeps the rest.
    let db = pm_db::Db::connect(&url).await.unwrap();
    use sea_orm::ConnectionTrait;
    let old = chrono::Utc::now() - chrono::Duration::days(100);
    let recent = chrono::Utc::now() - chrono::Duration::days(1);
    for t in [old, recent] {
        let q = sea_query::Query::insert()
            .into_table("core_objectchange")
            .columns([
                "time",
                "user_name",
                "request_id",
                "action",
                "changed_object_type_id",
                "changed_object_id",
                "object_repr",
            ])
            .values_panic([
                t.into(),
                "ops".into(),
                uuid::Uuid::new_v4().to_string().into(),
                "create".into(),
                1i64.into(),
                1i64.into(),
                "x".into(),
            ])
            .to_owned();
        db.conn.execute(&q).await.unwrap();
    }
    db.conn.close().await.unwrap();
    let (ok, out, err) = pm(&url, &["housekeeping"]);
    assert!(ok, "{err}");
    assert!(out.contains("Removed 1 change-log record"), "{out}");
});

#[test]
fn help_explains_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_peering-manager")).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "createsuperuser", "token", "housekeeping"] {
        assert!(text.contains(cmd), "{cmd} in --help");
    }
}

/// The ```sh block following `heading` in the README.
fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = &readme[readme.find(heading).unwrap_or_else(|| panic!("README has {heading}"))..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    section[start..start + section[start..].find("```").unwrap()].to_string()
}

/// A fresh folder for a run of the binary (its SQLite database lands there).
fn fresh_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pm-tour-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The README's tour, pasted into a shell in a fresh folder: the only
/// changes are the binary already built (instead of `cargo run`) and a free
/// port instead of 8000 (other tests run at the same time).
#[test]
fn readme_tour_runs_verbatim() {
    use std::os::unix::process::CommandExt;
    let tour = readme_block("## A short tour");
    let first = tour.lines().next().unwrap();
    assert!(first.starts_with("peering-manager() { cargo run"), "the tour starts by naming the binary: {first}");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let script = tour
        .replacen(first, &format!("peering-manager() {{ \"{}\" \"$@\"; }}", env!("CARGO_BIN_EXE_peering-manager")), 1)
        .replace("127.0.0.1:8000", &format!("127.0.0.1:{port}"));
    let dir = fresh_dir();
    let mut child = Command::new("bash")
        .args(["-c", &script])
        .current_dir(&dir)
        .env("PM_BIND", format!("127.0.0.1:{port}"))
        .env("PM_LOG", "warn")
        .env_remove("PM_DATABASE_URL")
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let group = format!("-{}", child.id());
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            panic!("the tour did not finish");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The server the tour started in the background, and anything else of
    // the shell's (they hold its output open).
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Created superuser 'admin' with password: "), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"peering\":"), "the API root: {stdout}\n{stderr}");
    // Created, found by the filter, and in the change log.
    assert!(stdout.matches("\"name\":\"Example Net\"").count() >= 2, "{stdout}\n{stderr}");
    assert!(stdout.contains("\"changed_object_type\":\"peering.autonomoussystem\""), "{stdout}");
    assert!(!stdout.contains("credentials") && !stdout.contains("Invalid token"), "{stdout}");

    // The demo network after the tour: loaded, not "already present".
    let demo = || {
        let out = Command::new(env!("CARGO_BIN_EXE_peering-manager"))
            .arg("demo")
            .current_dir(&dir)
            .env("PM_LOG", "warn")
            .env_remove("PM_DATABASE_URL")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(demo().contains("Demo network loaded (AS64500, routers edge1 and edge2)."));
    // Twice: it says what it skipped and why.
    let again = demo();
    assert!(again.contains("AS64500 (Demo Networks) already exists: the demo network was not loaded"), "{again}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--help` of every command: each option says what it is for.
#[test]
fn every_option_has_help_text() {
    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["worker"],
        &["migrate"],
        &["createsuperuser"],
        &["token", "create"],
        &["housekeeping"],
        &["demo"],
        &["render"],
        &["peeringdb", "sync"],
        &["peeringdb", "flush"],
    ];
    for args in commands {
        let out = Command::new(env!("CARGO_BIN_EXE_peering-manager")).args(*args).arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let options = &text[text.find("Options:").unwrap_or_else(|| panic!("{args:?}: {text}"))..];
        for line in options.lines().skip(1).take_while(|l| !l.trim().is_empty()) {
            let line = line.trim_start();
            if !line.starts_with('-') {
                continue; // a wrapped description
            }
            // `--flag <VALUE>  What it is for`: text after the flag and two spaces.
            assert!(line.split_once("  ").is_some_and(|(_, help)| !help.trim().is_empty()), "{args:?}: {line}");
        }
    }
    let sync = Command::new(env!("CARGO_BIN_EXE_peering-manager")).args(["peeringdb", "sync", "--help"]).output();
    let sync = String::from_utf8_lossy(&sync.unwrap().stdout).to_string();
    assert!(sync.contains("PM_PEERINGDB_URL") && sync.contains("PM_PEERINGDB_API_KEY"), "{sync}");
}

/// Without network access (here: a closed loopback port), `peeringdb sync`
/// stops at the first namespace with one message, and no retries.
#[test]
fn peeringdb_sync_fails_fast_when_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = crate::harness::sqlite_url();
    let out = Command::new(env!("CARGO_BIN_EXE_peering-manager"))
        .args(["--database", &url, "peeringdb", "sync"])
        .env("PM_PEERINGDB_URL", format!("http://127.0.0.1:{closed}/api"))
        .env("PM_LOG", "warn")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success());
    assert!(stdout.is_empty(), "no \"Nothing to synchronise.\": {stdout}");
    assert!(!stderr.contains("retrying") && !stderr.contains("[2/"), "no retries, no other namespace: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("Connection refused")).collect();
    assert_eq!(errors.len(), 1, "one message: {stderr}");
    assert!(errors[0].contains("PeeringDB is unreachable") && errors[0].contains("PM_PEERINGDB_URL"), "{stderr}");
}

/// `render` of every router to stdout: one header per router; a reader that
/// stops early (`| head`) is no crash.
#[test]
fn render_every_router_to_stdout() {
    let url = crate::harness::sqlite_url();
    let (ok, _, err) = pm(&url, &["demo"]);
    assert!(ok, "{err}");
    let (ok, out, err) = pm(&url, &["render"]);
    assert!(ok, "{err}");
    let edge1 = out.find("==> edge1 <==\n").expect("edge1's header");
    let edge2 = out.find("==> edge2 <==\n").expect("edge2's header");
    assert!(edge1 == 0 && edge1 < edge2, "{out}");
    assert_eq!(out.matches("autonomous-system 64500;").count(), 2);
    // One router: just its configuration.
    let (ok, one, _) = pm(&url, &["render", "--router", "edge2"]);
    assert!(ok && !one.contains("==>") && one.contains("autonomous-system 64500;"));

    // The pipe closed before anything is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_peering-manager"))
        .args(["--database", &url, "render"])
        .env("PM_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
}
