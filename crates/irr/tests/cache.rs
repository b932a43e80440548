//! The IRR cache on a fresh, migrated SQLite database: statuses, change
//! counts, and a failed refresh that keeps the last good entries.

use pm_irr::cache::{CacheKey, load, store};
use pm_irr::{Family, IrrError};
use serde_json::json;

#[tokio::test]
async fn cache_rows_keep_status_changes_and_last_good_entries() {
    let path = std::env::temp_dir().join(format!("pm-irr-cache-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = pm_db::Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    db.migrate().await.unwrap();

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
