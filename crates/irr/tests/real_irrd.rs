//! The native client against a real IRRd 4.5.4 loaded with
//! `tests/testdb.rpsl`, with Debian's bgpq4 as the oracle: for every set,
//! family and argument combination below, our prefix list and AS list
//! equal bgpq4's against the same server.
//!
//! Runs when `PM_TEST_IRRD` is `host:port` of that IRRd (`.ci/irrd-up.sh`
//! starts one and prints the variable); skipped (with a message) otherwise.

use std::process::Command;
use std::time::Duration;

use pm_irr::expand::{Target, as_list, prefix_list};
use pm_irr::{BgpqArgs, Family, IrrError, Limits, WhoisClient};

const NAMES: &[&str] =
    &["AS-TEST", "AS-CUST", "AS-LOOP", "AS-PUBLIC", "AS-AGG", "AS3333", "AS65001", "AS65004", "AS-MISSING"];

const V4_ARGS: &[&str] =
    &["", "-A", "-A -r 8 -R 24", "-R 24", "-r 8", "-r 16", "-A -R 24", "-A -R 20", "-p", "-p -A -r 8 -R 24", "-m 24"];
const V6_ARGS: &[&str] = &["", "-A", "-A -r 16 -R 48", "-R 48", "-A -R 47", "-p -A -r 16 -R 48"];

fn server() -> Option<String> {
    let server = std::env::var("PM_TEST_IRRD").ok().filter(|s| !s.is_empty());
    if server.is_none() {
        eprintln!("PM_TEST_IRRD is not set: skipping the real-IRRd comparison (run .ci/irrd-up.sh)");
    }
    server
}

fn bgpq4(server: &str, words: &[&str]) -> serde_json::Value {
    let output =
        Command::new("bgpq4").args(["-h", server, "-S", "TESTDB"]).args(words).output().expect("bgpq4 is installed");
    assert!(output.status.success(), "bgpq4 {words:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("bgpq4 {words:?}: {e}"))
}

#[tokio::test]
async fn prefix_lists_equal_bgpq4() {
    let Some(server) = server() else { return };
    let limits = Limits { timeout: Duration::from_secs(30), ..Limits::default() };
    let mut client = WhoisClient::connect(&server, "peering-manager-test", limits).await.unwrap();
    assert!(client.supports_a());
    let mut compared = 0;
    for (family, flag, all_args) in [(Family::V4, "-4", V4_ARGS), (Family::V6, "-6", V6_ARGS)] {
        for args in all_args {
            let words: Vec<&str> = args.split_whitespace().collect();
            let parsed = BgpqArgs::parse(family, &words).unwrap();
            for name in NAMES {
                let mut argv = vec![flag];
                argv.extend(&words);
                argv.extend(["-j", "-l", "prefix_list", name]);
                let expected = bgpq4(&server, &argv)["prefix_list"].clone();
                let target = Target { name, sources: "TESTDB" };
                let ours = match prefix_list(&mut client, &target, family, &parsed, 100_000).await {
                    Ok(list) => serde_json::to_value(list).unwrap(),
                    // bgpq4 prints an empty list for a set the server does not know.
                    Err(IrrError::NotFound { .. }) => serde_json::json!([]),
                    Err(e) => panic!("{name} {flag} {args}: {e}"),
                };
                assert_eq!(ours, expected, "bgpq4 {}", argv.join(" "));
                compared += 1;
            }
        }
    }
    assert_eq!(compared, NAMES.len() * (V4_ARGS.len() + V6_ARGS.len()));
}

#[tokio::test]
async fn as_lists_equal_bgpq4() {
    let Some(server) = server() else { return };
    let mut client = WhoisClient::connect(&server, "peering-manager-test", Limits::default()).await.unwrap();
    for private in [false, true] {
        for name in NAMES {
            // PM passes `-f <first AS>`; a public one keeps bgpq4 quiet.
            let mut argv = vec!["-j", "-l", "as_list", "-f", "3333"];
            if private {
                argv.push("-p");
            }
            argv.push(name);
            let expected: Vec<u32> = serde_json::from_value(bgpq4(&server, &argv)["as_list"].clone()).unwrap();
            let args = BgpqArgs { allow_private: private, ..BgpqArgs::default() };
            let target = Target { name, sources: "TESTDB" };
            let ours = match as_list(&mut client, &target, &args).await {
                Ok(list) => list,
                Err(IrrError::NotFound { .. }) => Vec::new(),
                Err(e) => panic!("{name}: {e}"),
            };
            let mut expected = expected;
            expected.sort_unstable();
            assert_eq!(ours, expected, "bgpq4 {}", argv.join(" "));
        }
    }
}

#[tokio::test]
async fn the_refresh_stores_what_bgpq4_prints() {
    let Some(server) = server() else { return };
    let path = std::env::temp_dir().join(format!("pm-irr-real-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = pm_db::Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    db.migrate().await.unwrap();
    let key = pm_irr::cache::CacheKey::prefix_list("AS-AGG", Family::V4, "TESTDB", &["-A", "-r", "8", "-R", "24"]);
    let mut fetcher = pm_irr::refresh::Fetcher::new(&server, Limits::default(), 85_325);
    pm_irr::refresh::refresh(&db, &mut fetcher, std::slice::from_ref(&key), |_, _, _, _| {}).await.unwrap();
    fetcher.close().await;
    let (_, row) = pm_irr::cache::load(&db.conn, &key).await.unwrap().unwrap();
    let expected = bgpq4(&server, &["-4", "-A", "-r", "8", "-R", "24", "-j", "-l", "prefix_list", "AS-AGG"]);
    assert_eq!(serde_json::Value::Array(row.entries), expected["prefix_list"]);
    assert_eq!(row.status, "fetched");
    drop(db);
    let _ = std::fs::remove_file(&path);
}
