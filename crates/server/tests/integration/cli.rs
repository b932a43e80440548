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
