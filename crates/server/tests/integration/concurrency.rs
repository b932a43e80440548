//! Many clients at once: nothing lost, nothing a 5xx.

use axum::http::Method;
use sea_query::ExprTrait;
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

// Two writers change different fields of one row at the same moment, round
// after round: each keeps what it wrote (no whole-row write-back).
both!(concurrent_updates_of_different_fields_lose_nothing, |backend| {
    let app = TestApp::new(backend).await;
    let id = app.create("/api/peering/autonomous-systems/", json!({"asn": 64510, "name": "start"})).await;
    let path = format!("/api/peering/autonomous-systems/{id}/");
    for round in 0..40 {
        let name = format!("name {round}");
        let comments = format!("comments {round}");
        let (a, b) =
            tokio::join!(app.patch(&path, json!({"name": name})), app.patch(&path, json!({"comments": comments})),);
        a.expect(200);
        b.expect(200);
        let now = app.get(&path).await.expect(200);
        assert_eq!((now["name"].as_str(), now["comments"].as_str()), (Some(&*name), Some(&*comments)), "round {round}");
    }
});

// 64 clients, each with its own token (its `last_used` is written on first
// use), writing and reading at once: no 5xx ("database is locked") and every
// write is there afterwards.
both!(sixty_four_concurrent_writers_and_readers_get_no_server_error, |backend| {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let admin = pm_db::auth::user_id_by_name(&app.db.conn, "admin").await.unwrap().unwrap();
    let mut tokens = Vec::new();
    for i in 0..64 {
        tokens.push(
            pm_db::auth::create_token(&app.db.conn, admin, true, None, &format!("client {i}"), None).await.unwrap(),
        );
    }
    const ROUNDS: usize = 4;
    // Meanwhile, single-statement writes outside any transaction, as a
    // token's `last_used`, a session or preferences are written.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let background = {
        let (db, done) = (app.db.clone(), done.clone());
        tokio::spawn(async move {
            use sea_orm::ConnectionTrait;
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let q = sea_query::Query::update()
                    .table("users_token")
                    .value("last_used", chrono::Utc::now())
                    .and_where(sea_query::Expr::col("description").eq("client 0"))
                    .to_owned();
                db.conn.execute(&q).await.unwrap();
                n += 1;
                tokio::task::yield_now().await;
            }
            n
        })
    };
    let mut clients = tokio::task::JoinSet::new();
    for (c, token) in tokens.into_iter().enumerate() {
        let app = app.clone();
        clients.spawn(async move {
            let mut statuses = Vec::new();
            for r in 0..ROUNDS {
                let slug = format!("c{c}-r{r}");
                let created = app
                    .request(Method::POST, "/api/extras/tags/", Some(json!({"name": slug, "slug": slug})), Some(&token))
                    .await;
                statuses.push(created.status.as_u16());
                if let Some(id) = created.json["id"].as_i64() {
                    let path = format!("/api/extras/tags/{id}/");
                    let patched =
                        app.request(Method::PATCH, &path, Some(json!({"description": "changed"})), Some(&token)).await;
                    statuses.push(patched.status.as_u16());
                }
                let read = app.request(Method::GET, "/api/extras/tags/?limit=10", None, Some(&token)).await;
                statuses.push(read.status.as_u16());
            }
            statuses
        });
    }
    let statuses: Vec<u16> = clients.join_all().await.into_iter().flatten().collect();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(background.await.unwrap() > 0);
    let failures: Vec<&u16> = statuses.iter().filter(|s| **s >= 500).collect();
    assert!(failures.is_empty(), "{} of {} requests failed: {failures:?}", failures.len(), statuses.len());
    assert!(statuses.iter().all(|s| [200, 201].contains(s)), "{statuses:?}");
    assert_eq!(app.count("/api/extras/tags/?description=changed&limit=1").await, 64 * ROUNDS as i64, "lost writes");
});

// Two clients create the same ASN at once: one gets it, the other a 400 that
// names the field (the database's unique violation, when both passed
// validation concurrently, reads like the validation error), never a 500.
both!(concurrent_duplicates_are_a_field_error, |backend| {
    let app = TestApp::new(backend).await;
    for round in 0..20 {
        let body = json!({"asn": 64600 + round, "name": "twin"});
        let (a, b) = tokio::join!(
            app.post("/api/peering/autonomous-systems/", body.clone()),
            app.post("/api/peering/autonomous-systems/", body.clone()),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 400], "round {round}: {} / {}", a.text, b.text);
        let refused = if a.status.as_u16() == 400 { a.json } else { b.json };
        assert_eq!(refused["asn"][0], "Autonomous system with this ASN already exists.", "{refused}");
    }
});

// A JSON column whose stored text does not parse is an error when read, and
// an unrelated update never replaces it with null.
both!(unparsable_json_column_is_an_error_not_null, |backend| {
    use sea_orm::ConnectionTrait;
    let app = TestApp::new(backend).await;
    let id = app
        .create(
            "/api/peering/autonomous-systems/",
            json!({"asn": 64520, "name": "ctx", "local_context_data": {"a": 1}}),
        )
        .await;
    let sql = format!("UPDATE peering_autonomoussystem SET local_context_data = '{{broken' WHERE id = {id}");
    app.db.conn.execute_unprepared(&sql).await.unwrap();
    let r = app.patch(&format!("/api/peering/autonomous-systems/{id}/"), json!({"name": "renamed"})).await;
    assert!(!r.status.is_success(), "{}", r.text);
    let stored = app
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.backend(),
            format!("SELECT local_context_data, name FROM peering_autonomoussystem WHERE id = {id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.try_get_by_index::<Option<String>>(0).unwrap().as_deref(), Some("{broken"));
    assert_eq!(stored.try_get_by_index::<String>(1).unwrap(), "ctx");
});

// The database's own refusals, read from its error codes: a duplicate on a
// unique column names that field with the declared message; a dangling
// foreign key is a conflict.
both!(database_refusals_name_the_field, |backend| {
    use pm_db::AppError;
    use sea_orm::ConnectionTrait;
    let app = TestApp::new(backend).await;
    app.create("/api/extras/tags/", json!({"name": "gold", "slug": "gold"})).await;
    let run = |sql: &'static str| {
        let db = app.db.clone();
        async move { db.conn.execute_unprepared(sql).await.unwrap_err() }
    };
    let tag = pm_db::registry::model("extras.tag").unwrap();
    let e = run("INSERT INTO extras_tag (name, slug, color, description) VALUES ('gold', 'other', 'aaaaaa', '')").await;
    match pm_db::write::map_db_err(tag, e) {
        AppError::Validation(f) => assert_eq!(f.0["name"][0], "Tag with this name already exists."),
        other => panic!("{other:?}"),
    }
    let router = pm_db::registry::model("devices.router").unwrap();
    let e =
        run("INSERT INTO devices_router (name, hostname, status, platform_id) VALUES ('r', 'r', 'enabled', 999999)")
            .await;
    assert!(matches!(pm_db::write::map_db_err(router, e), AppError::Conflict(_)));
});
