//! The IRR cache on a fresh, migrated SQLite database: statuses, change
//! counts, and a failed refresh that keeps the last good entries.

mod common;

use pm_irr::cache::{CacheKey, load, store};
use pm_irr::refresh::{Fetcher, refresh};
use pm_irr::{Family, IrrError, Limits};
use serde_json::json;

async fn fresh_db(name: &str) -> (pm_db::Db, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("pm-irr-{name}-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = pm_db::Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    db.migrate().await.unwrap();
    (db, path)
}

#[tokio::test]
async fn cache_rows_keep_status_changes_and_last_good_entries() {
    let (db, path) = fresh_db("cache").await;

    let key = CacheKey::prefix_list("AS-TEST", Family::V4, "RIPE,RADB", &["-A", "-r", "8", "-R", "24"]);
    assert_eq!(load(&db.conn, &key).await.unwrap(), None, "never fetched: no row");

    let a = json!({"prefix": "192.0.2.0/24", "exact": true});
    let b = json!({"prefix": "198.51.100.0/24", "exact": false, "greater-equal": 25, "less-equal": 25});
    let c = json!({"prefix": "203.0.113.0/24", "exact": true});
    let first = store(&db, &key, Ok(vec![a.clone(), b.clone()])).await.unwrap();
    assert_eq!((first.status.as_str(), first.added, first.removed), ("fetched", 2, 0));

    let second = store(&db, &key, Ok(vec![b.clone(), c.clone()])).await.unwrap();
    assert_eq!((second.status.as_str(), second.added, second.removed), ("fetched", 1, 1));

    // A failure keeps the entries of the last good fetch.
    let timeout = IrrError::Timeout { server: "rr.example:43".into() };
    let failed = store(&db, &key, Err(timeout)).await.unwrap();
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.error, "IRR server rr.example:43 did not answer in time");
    let (_, stored) = load(&db.conn, &key).await.unwrap().unwrap();
    assert_eq!(stored.entries, vec![b, c]);
    assert_eq!(stored.fetched, second.fetched);

    // The same set with other arguments or for IPv6 is another row.
    let v6 = CacheKey::prefix_list("AS-TEST", Family::V6, "RIPE,RADB", &["-A"]);
    let empty = store(&db, &v6, Ok(vec![])).await.unwrap();
    assert_eq!(empty.status, "empty");
    let as_list = CacheKey::as_list("AS-TEST", "RIPE,RADB", &[] as &[&str]);
    store(&db, &as_list, Ok(vec![json!(3333)])).await.unwrap();
    assert_eq!(load(&db.conn, &as_list).await.unwrap().unwrap().1.entries, vec![json!(3333)]);
    assert_eq!(load(&db.conn, &key).await.unwrap().unwrap().1.status, "failed");

    drop(db);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_refresh_fetches_each_distinct_key_once_on_one_connection() {
    let (db, path) = fresh_db("refresh").await;
    let (addr, connections) = common::Fake::as_test().serve().await;
    let pm_v4 = ["-A", "-r", "8", "-R", "24"];
    let test_v4 = CacheKey::prefix_list("AS-TEST", Family::V4, "TESTDB", &pm_v4);
    let missing = CacheKey::prefix_list("AS-MISSING", Family::V4, "TESTDB", &pm_v4);
    let bad_args = CacheKey::prefix_list("AS-TEST", Family::V4, "TESTDB", &["-Z"]);
    let as_list = CacheKey::as_list("AS-TEST", "TESTDB", &["-p"]);
    // Three ASes sharing AS-TEST ask for the same key: one fetch.
    let keys = [test_v4.clone(), test_v4.clone(), missing.clone(), bad_args.clone(), as_list.clone(), test_v4.clone()];
    let mut fetcher = Fetcher::new(&addr, Limits::default(), 85_325);
    let mut seen = Vec::new();
    let rows = refresh(&db, &mut fetcher, &keys, |i, total, key, row| {
        seen.push((i, total, key.query.clone(), row.status.clone()));
    })
    .await
    .unwrap();
    fetcher.close().await;
    assert_eq!(rows.len(), 4);
    assert_eq!(seen.iter().map(|s| s.1).collect::<Vec<_>>(), [4, 4, 4, 4]);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);

    let (_, row) = load(&db.conn, &test_v4).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.entries.len(), row.added), ("fetched", 5, 5));
    assert_eq!(
        row.entries[2],
        json!({"prefix": "198.51.100.0/24", "exact": false, "greater-equal": 25, "less-equal": 25})
    );
    let (_, row) = load(&db.conn, &missing).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.error.as_str()), ("failed", "IRR object AS-MISSING not found"));
    let (_, row) = load(&db.conn, &bad_args).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.error.as_str()), ("failed", "unsupported bgpq argument \"-Z\""));
    let (_, row) = load(&db.conn, &as_list).await.unwrap().unwrap();
    assert_eq!(row.entries, vec![json!(65001), json!(65002), json!(65003)]);

    // The server goes away: rows turn "failed" and keep their prefixes.
    let mut fetcher = Fetcher::new("127.0.0.1:1", Limits::default(), 85_325);
    refresh(&db, &mut fetcher, std::slice::from_ref(&test_v4), |_, _, _, _| {}).await.unwrap();
    let (_, row) = load(&db.conn, &test_v4).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.entries.len()), ("failed", 5));

    drop(db);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn keys_follow_pm_rules_and_are_shared_between_ases() {
    use pm_irr::job::{IrrConfig, keys_for};
    use sea_orm::ConnectionTrait;
    let (db, path) = fresh_db("keys").await;
    let rows = [
        "(64500, 'AS-TEST', '', '', '', 1, 1)",
        "(64501, 'AS-TEST', '', '', '', 1, 1)", // shares every key with 64500
        "(64502, NULL, '', '', '', 1, 1)",      // no set: AS64502, no AS list
        "(64503, 'RIPE::AS-X AS-Y', 'RADB', '-A', '', 1, 0)", // source prefix, overrides, no AS list
        "(64504, 'AS-OFF', '', '', '', 0, 0)",  // retrieval disabled
    ];
    for values in rows {
        let sql = format!(
            "INSERT INTO peering_autonomoussystem (asn, irr_as_set, irr_sources_override, \
             irr_ipv6_prefixes_args_override, irr_ipv4_prefixes_args_override, retrieve_prefixes, retrieve_as_list) \
             VALUES {values}"
        );
        db.conn.execute_unprepared(&sql).await.unwrap();
    }
    let config = IrrConfig { sources: "RIPE,RADB".into(), ..IrrConfig::from_env() };
    let keys = keys_for(&db, &config, None).await.unwrap();
    let shown: Vec<String> =
        keys.iter().map(|k| format!("{} {} v{} [{}] {}", k.kind, k.query, k.family, k.sources, k.arguments)).collect();
    assert_eq!(
        shown,
        [
            "prefix-list AS-TEST v6 [RIPE,RADB] -A -r 16 -R 48",
            "prefix-list AS-TEST v4 [RIPE,RADB] -A -r 8 -R 24",
            "as-list AS-TEST v0 [RIPE,RADB] ",
            "prefix-list AS64502 v6 [RIPE,RADB] -A -r 16 -R 48",
            "prefix-list AS64502 v4 [RIPE,RADB] -A -r 8 -R 24",
            "prefix-list AS-X v6 [RIPE] -A",
            "prefix-list AS-X v4 [RIPE] -A -r 8 -R 24",
            "prefix-list AS-Y v6 [RADB] -A",
            "prefix-list AS-Y v4 [RADB] -A -r 8 -R 24",
        ]
    );
    assert_eq!(keys_for(&db, &config, Some(&[64502])).await.unwrap().len(), 2);
    drop(db);
    let _ = std::fs::remove_file(&path);
}
