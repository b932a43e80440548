//! The schema is built by the migrations, and must be what the model
//! declarations imply; databases of earlier releases upgrade in place.

use std::collections::BTreeMap;

use pm_db::schema::{self, TableShape};
use pm_db::{Db, Settings};
use pm_web::WebConfig;
use sea_orm::{ConnectionTrait, DbBackend};

use crate::both;
use crate::harness::{Backend, TestApp, empty_url};

fn db_backend(backend: Backend) -> DbBackend {
    match backend {
        Backend::Sqlite => DbBackend::Sqlite,
        Backend::Postgres => DbBackend::Postgres,
    }
}

/// The schema the declarations imply, built in an empty database.
async fn declared(backend: Backend) -> BTreeMap<String, TableShape> {
    let db = Db::connect(&empty_url(backend).await).await.unwrap();
    for sql in schema::declared_sql(db_backend(backend)) {
        db.conn.execute_unprepared(&sql).await.unwrap();
    }
    let shape = schema::describe(&db.conn).await.unwrap();
    db.conn.close().await.unwrap();
    shape
}

/// Fail, saying what differs and what to do, unless `db` has the declared schema.
async fn assert_declared_schema(db: &Db, backend: Backend) {
    let migrated = schema::describe(&db.conn).await.unwrap();
    let problems = schema::diff(&migrated, &declared(backend).await);
    if problems.is_empty() {
        return;
    }
    let tables: Vec<&str> =
        problems.iter().filter_map(|p| p.strip_prefix("table ")?.split([' ', ':']).next()).collect();
    let wanted: Vec<String> = schema::declared_sql(db_backend(backend))
        .into_iter()
        .filter(|s| tables.iter().any(|t| s.contains(&format!("TABLE \"{t}\"")) || s.contains(&format!("ON \"{t}\""))))
        .collect();
    panic!(
        "the migrations do not build the schema the model declarations imply ({backend:?}):\n  {}\n\n\
         A declaration changed without its migration. Add the next numbered migration \
         (crates/db/src/migrations/{{sqlite,postgres}}/mNNNN_what.sql and one line in \
         crates/db/src/migrations/mod.rs) that alters the tables; see docs/changing-the-schema.md.\n\
         The declarations imply these statements for the tables concerned:\n{}",
        problems.join("\n  "),
        wanted.join(";\n")
    );
}

both!(migrations_build_the_declared_schema, |backend| {
    let db = Db::connect(&empty_url(backend).await).await.unwrap();
    db.migrate().await.unwrap();
    assert_declared_schema(&db, backend).await;
    // Running again finds nothing to do and changes nothing.
    db.migrate().await.unwrap();
    assert_declared_schema(&db, backend).await;
});

/// A database as release 0.1.0 left it, loaded from its SQL dump.
async fn release_database(backend: Backend, release: &str) -> Db {
    let url = empty_url(backend).await;
    let file = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let path = format!("{}/tests/releases/{release}.{file}.sql", env!("CARGO_MANIFEST_DIR"));
    let dump = std::fs::read_to_string(&path).unwrap();
    // Its own connection: the dump sets session state (foreign keys off,
    // an empty search path) that must not leak into the pool under test.
    let loader = sea_orm::Database::connect(&url).await.unwrap();
    loader.execute_unprepared(&dump).await.unwrap();
    loader.close().await.unwrap();
    Db::connect(&url).await.unwrap()
}

both!(release_0_1_0_database_upgrades_with_data_intact, |backend| {
    let db = release_database(backend, "0.1.0").await;
    let count = |table: &'static str| {
        let db = db.clone();
        async move {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let row = db.conn.query_one_raw(sea_orm::Statement::from_string(db.backend(), sql)).await.unwrap().unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let labels = || {
        let db = db.clone();
        async move {
            let sql = "SELECT app_label || '.' || model FROM django_content_type";
            let rows = db.conn.query_all_raw(sea_orm::Statement::from_string(db.backend(), sql)).await.unwrap();
            rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect::<std::collections::BTreeSet<_>>()
        }
    };
    let before = (count("core_objectchange").await, count("devices_router").await);
    let types_before = labels().await;
    db.migrate().await.unwrap();
    assert_declared_schema(&db, backend).await;
    assert_eq!((count("core_objectchange").await, count("devices_router").await), before);
    // Content types: none lost, and one more for each model declared since the release.
    let declared_since: Vec<String> =
        pm_db::registry::MODELS.iter().map(|m| m.label()).filter(|l| !types_before.contains(l)).collect();
    let types_after = labels().await;
    assert!(types_before.is_subset(&types_after));
    assert_eq!(types_after.len(), types_before.len() + declared_since.len(), "new: {declared_since:?}");

    // The upgraded database serves what release 0.1.0 stored.
    let app = TestApp::on(db.clone(), WebConfig::default(), Settings::default()).await;
    let ases = app.get("/api/peering/autonomous-systems/?asn=64500").await.expect(200);
    assert_eq!(ases["count"], 1, "{ases}");
    let routers = app.get("/api/devices/routers/").await.expect(200);
    assert_eq!(routers["count"], 2, "{routers}");
    let changes = app.get("/api/core/object-changes/?limit=1").await.expect(200);
    assert_eq!(changes["count"].as_i64(), Some(before.0));
    let ct = &changes["results"][0]["changed_object_type"];
    assert!(ct.is_string() && ct.as_str().unwrap().contains('.'), "change log still names its model: {changes}");
    // The release's user can still sign in with the password it was given.
    assert!(pm_db::auth::login(&db.conn, "release", "release-password").await.unwrap().is_some());
    // And new writes work on the upgraded tables.
    app.create("/api/peering/autonomous-systems/", serde_json::json!({"asn": 64999, "name": "After upgrade"})).await;
});

/// `(id, app_label.model)` of every content type, by id.
async fn content_types(url: &str) -> Vec<(i64, String)> {
    let conn = sea_orm::Database::connect(url).await.unwrap();
    let sql = "SELECT id, app_label, model FROM django_content_type ORDER BY id";
    let rows = conn.query_all_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
    let out = rows
        .iter()
        .map(|r| {
            let label =
                format!("{}.{}", r.try_get_by_index::<String>(1).unwrap(), r.try_get_by_index::<String>(2).unwrap());
            (r.try_get_by_index::<i64>(0).unwrap(), label)
        })
        .collect();
    conn.close().await.unwrap();
    out
}

// Content type ids come from the table, not from positions in the registry:
// a database whose ids are not registry positions (an AS renumbered to 1001,
// and `bgp.community` missing, as a model added in the middle of the registry
// after the database was made would be) keeps every stored id, the missing
// model gets the next free id, and objects are recorded under those ids.
// Separate processes, as one process reads the ids of one database.
both!(content_type_ids_are_stored_not_registry_positions, |backend| {
    use crate::cli::pm;
    let url = empty_url(backend).await;
    let (ok, _, err) = pm(&url, &["migrate"]);
    assert!(ok, "{err}");
    let conn = sea_orm::Database::connect(&url).await.unwrap();
    for sql in [
        "UPDATE django_content_type SET id = 1001 WHERE app_label = 'peering' AND model = 'autonomoussystem'",
        "DELETE FROM django_content_type WHERE app_label = 'bgp' AND model = 'community'",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }
    conn.close().await.unwrap();
    let before = content_types(&url).await;

    let (ok, _, err) = pm(&url, &["demo"]);
    assert!(ok, "{err}");
    let after = content_types(&url).await;
    assert_eq!(after[..after.len() - 1], before[..], "stored ids never change");
    assert_eq!(after.last().unwrap(), &(1002, "bgp.community".to_string()), "a new model gets the next free id");

    let conn = sea_orm::Database::connect(&url).await.unwrap();
    let ids = |sql: &'static str| {
        let conn = conn.clone();
        async move {
            let rows =
                conn.query_all_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
            rows.iter().map(|r| r.try_get_by_index::<i64>(0).unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids("SELECT DISTINCT changed_object_type_id FROM core_objectchange WHERE object_repr LIKE 'AS64500%'").await,
        [1001]
    );
    assert!(ids("SELECT DISTINCT content_type_id FROM extras_taggeditem").await.contains(&1002));
    conn.close().await.unwrap();

    // Restarts read the same ids.
    let (ok, _, err) = pm(&url, &["migrate"]);
    assert!(ok, "{err}");
    assert_eq!(content_types(&url).await, after);
});

// `serve &` and `token create` started together on a new database: one
// process migrates, the others wait for it, and all of them succeed.
both!(concurrent_first_starts_on_one_new_database, |backend| {
    for round in 0..3 {
        let url = empty_url(backend).await;
        let user = format!("ops{round}");
        let runs: Vec<Vec<String>> = vec![
            vec!["migrate".into()],
            vec!["createsuperuser".into(), "--username".into(), user, "--email".into(), "o@example.net".into()],
            vec!["migrate".into()],
            vec!["housekeeping".into()],
        ];
        let children: Vec<_> = runs
            .iter()
            .map(|args| {
                std::process::Command::new(env!("CARGO_BIN_EXE_peering-manager"))
                    .args(["--database", &url])
                    .args(args)
                    .env("PM_LOG", "warn")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (child, args) in children.into_iter().zip(&runs) {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let ct = content_types(&url).await;
        assert_eq!(ct.len(), pm_db::registry::MODELS.len(), "each content type once");
    }
});
