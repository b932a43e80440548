//! Bad requests get a clear 4xx in Peering Manager's JSON shape and change nothing.

use axum::http::Method;
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

both!(malformed_requests, |backend| {
    let app = TestApp::new(backend).await;
    let p = "/api/peering/autonomous-systems/";
    let token = Some(app.token.as_str());
    let r = app.raw(Method::POST, p, Some(b"{\"asn\": 1,".to_vec()), token, &[]).await;
    assert_eq!(r.status, 400);
    assert!(r.json["detail"].as_str().unwrap().starts_with("JSON parse error"));
    let r = app.post(p, json!({"asn": [1], "name": {"x": 1}, "affiliated": "maybe"})).await.expect(400);
    for f in ["asn", "name", "affiliated"] {
        assert!(r[f].is_array(), "{f} named in {r}");
    }
    let r = app.post(p, json!("just a string")).await.expect(400);
    assert!(r["non_field_errors"].is_array());
    let huge = vec![b' '; 11 * 1024 * 1024];
    let r = app.raw(Method::POST, p, Some(huge), token, &[]).await;
    assert_eq!(r.status, 413);
    assert!(r.json["detail"].is_string());
    let r = app.put(p, json!({"id": 1})).await.expect(400);
    assert!(r["detail"].is_string());
    let r = app.delete(p, Some(json!([{"nope": 1}]))).await.expect(400);
    assert!(r[0]["id"].is_array());
    app.get("/api/peering/autonomous-systems/abc/").await.expect(404);
    let r = app.get("/api/peering/autonomous-systems/999/").await.expect(404);
    assert_eq!(r["detail"], "No autonomous system matches the given query.");
    app.get("/api/peering/nothing-here/").await.expect(404);
    let r = app.request(Method::OPTIONS, "/api/peering/autonomous-systems/1/", None, token).await;
    assert_eq!(r.status, 405);
    assert_eq!(app.count(p).await, 0);
    assert_eq!(app.count("/api/core/object-changes/").await, 0);
});

both!(discovery_schema_and_docs, |backend| {
    let app = TestApp::new(backend).await;
    let root = app.get("/api/").await.expect(200);
    assert_eq!(root["peering"], "http://testserver/api/peering/");
    let peering = app.get("/api/peering/").await.expect(200);
    assert_eq!(peering["autonomous-systems"], "http://testserver/api/peering/autonomous-systems/");
    let r = app.get("/api/peering/autonomous-systems").await;
    assert_eq!(r.status, 308, "missing trailing slash redirects");
    let status = app.get("/api/status/").await;
    assert_eq!(status.headers["api-version"], "1.10");
    let status = status.expect(200);
    assert!(status["peering-manager-version"].as_str().unwrap().starts_with("1.10"));
    let schema = app.get("/api/schema/").await.expect(200);
    for m in pm_db::registry::MODELS.iter().filter(|m| m.has_api()) {
        assert!(schema["paths"].get(m.api_list_path()).is_some(), "{} in schema", m.label());
    }
    assert!(
        schema["components"]["schemas"]["WritableAutonomousSystem"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("asn"))
    );
    let docs = app.get("/api/docs/").await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("swagger"), "Swagger UI served offline");
    // Preferences: per user, deep-merged.
    app.patch("/api/users/userpref/", json!({"context": {"as": 5}, "pagination": {"per_page": 50}})).await.expect(200);
    let prefs = app.patch("/api/users/userpref/", json!({"context": {"as": 7}})).await.expect(200);
    assert_eq!(prefs, json!({"context": {"as": 7}, "pagination": {"per_page": 50}}));
    assert_eq!(app.get("/api/users/userpref/").await.expect(200), prefs);
    app.request(Method::GET, "/api/users/userpref/", None, None).await.expect(401);
});

both!(list_queries_do_not_grow_with_page_size, |backend| {
    // Rendering a page loads each relation in one query: the number of
    // statements is the same for 2 rows and for 40.
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let items: Vec<_> = (0..40)
        .map(|i| json!({"autonomous_system": fx.peer_as, "ixp_connection": fx.connection, "ip_address": format!("192.0.2.{}", i + 100), "communities": [fx.community], "tags": [fx.tag]}))
        .collect();
    app.post("/api/peering/internet-exchange-peering-sessions/", json!(items)).await.expect(201);
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut db = app.db.clone();
    let c = counter.clone();
    db.conn.set_metric_callback(move |_| {
        c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let count_for = |limit: u32| {
        let db = db.clone();
        let counter = counter.clone();
        async move {
            counter.store(0, std::sync::atomic::Ordering::SeqCst);
            let model = pm_db::registry::by_api("peering", "internet-exchange-peering-sessions").unwrap();
            let page = pm_db::ops::list(
                &db,
                &pm_db::auth::Perms::superuser(),
                model,
                &[],
                Some(limit as u64),
                0,
                pm_db::load::Mode::Full,
            )
            .await
            .unwrap();
            assert_eq!(page.objs.len(), limit as usize);
            counter.load(std::sync::atomic::Ordering::SeqCst)
        }
    };
    let small = count_for(2).await;
    let large = count_for(40).await;
    assert!(small > 0);
    assert_eq!(small, large, "statements for 2 rows vs 40 rows");
});
