//! Tokens, login requirement, object permissions with constraints, secrets.

use axum::http::Method;
use pm_db::Settings;
use pm_web::WebConfig;
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

both!(tokens, |backend| {
    let app = TestApp::new(backend).await;
    let p = "/api/peering/autonomous-systems/";
    let r = app.request(Method::GET, p, None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json["detail"], "Authentication credentials were not provided.");
    let r = app.request(Method::GET, p, None, Some("0123456789abcdef0123456789abcdef01234567")).await;
    assert_eq!((r.status.as_u16(), r.json["detail"].as_str()), (401, Some("Invalid token")));

    let uid = pm_db::auth::user_id_by_name(&app.db.conn, "admin").await.unwrap().unwrap();
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let expired = pm_db::auth::create_token(&app.db.conn, uid, true, Some(past), "", None).await.unwrap();
    let r = app.request(Method::GET, p, None, Some(&expired)).await;
    assert_eq!((r.status.as_u16(), r.json["detail"].as_str()), (401, Some("Token expired")));

    let read_only = pm_db::auth::create_token(&app.db.conn, uid, false, None, "", None).await.unwrap();
    app.request(Method::GET, p, None, Some(&read_only)).await.expect(200);
    app.request(Method::POST, p, Some(json!({"asn": 64500, "name": "x"})), Some(&read_only)).await.expect(403);
    assert_eq!(app.count(p).await, 0);

    let elsewhere =
        pm_db::auth::create_token(&app.db.conn, uid, true, None, "", Some(vec!["10.0.0.0/8".into()])).await.unwrap();
    let r = app.request(Method::GET, p, None, Some(&elsewhere)).await;
    assert_eq!(r.status, 403);
    assert!(r.json["detail"].as_str().unwrap().contains("127.0.0.1 is not permitted"));
    let here =
        pm_db::auth::create_token(&app.db.conn, uid, true, None, "", Some(vec!["127.0.0.0/8".into()])).await.unwrap();
    app.request(Method::GET, p, None, Some(&here)).await.expect(200);

    // Keys are stored as digests only.
    use sea_orm::ConnectionTrait;
    let rows = app
        .db
        .conn
        .query_all_raw(sea_orm::Statement::from_string(app.db.backend(), "SELECT key_digest FROM users_token"))
        .await
        .unwrap();
    for r in rows {
        let digest: String = r.try_get_by_index(0).unwrap();
        assert_ne!(digest, app.token);
        assert_eq!(digest.len(), 64);
    }
});

both!(login_not_required_opens_reads, |backend| {
    let web = WebConfig { login_required: false, ..WebConfig::default() };
    let app = TestApp::with(backend, web, Settings::default()).await;
    app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "x"})).await;
    let r = app.request(Method::GET, "/api/peering/autonomous-systems/", None, None).await.expect(200);
    assert_eq!(r["count"], 1);
    app.request(Method::GET, "/api/users/users/", None, None).await.expect(403);
    app.request(Method::POST, "/api/peering/autonomous-systems/", Some(json!({"asn": 1, "name": "y"})), None)
        .await
        .expect(401);
});

both!(object_permission_constraints, |backend| {
    let app = TestApp::new(backend).await;
    let p = "/api/peering/autonomous-systems/";
    let low = app.create(p, json!({"asn": 64500, "name": "Low"})).await;
    let high = app.create(p, json!({"asn": 65500, "name": "High"})).await;
    let token = app
        .user_with(
            "limited",
            &[json!({"object_types": ["peering.autonomoussystem"], "actions": ["view", "add", "change", "delete"], "constraints": {"asn__lt": 65000}})],
        )
        .await;
    let t = Some(token.as_str());
    let list = app.request(Method::GET, p, None, t).await.expect(200);
    assert_eq!(list["count"], 1);
    assert_eq!(list["results"][0]["id"], low);
    app.request(Method::GET, &format!("{p}{high}/"), None, t).await.expect(404);
    app.request(Method::GET, &format!("{p}{low}/"), None, t).await.expect(200);
    // Writes must leave the object inside the constraint.
    app.request(Method::POST, p, Some(json!({"asn": 65001, "name": "Nope"})), t).await.expect(403);
    app.request(Method::POST, p, Some(json!({"asn": 64999, "name": "Fine"})), t).await.expect(201);
    app.request(Method::PATCH, &format!("{p}{low}/"), Some(json!({"asn": 65100})), t).await.expect(403);
    app.request(Method::PATCH, &format!("{p}{high}/"), Some(json!({"name": "Hacked"})), t).await.expect(404);
    // Bulk operations skip what the user may not touch.
    app.request(Method::PATCH, p, Some(json!([{"id": high, "name": "Hacked"}, {"id": low, "name": "Mine"}])), t)
        .await
        .expect(200);
    let h = app.get(&format!("{p}{high}/")).await.expect(200);
    assert_eq!(h["name"], "High");
    app.request(Method::DELETE, p, Some(json!([{"id": high}, {"id": low}])), t).await.expect(204);
    app.get(&format!("{p}{high}/")).await.expect(200);
    app.get(&format!("{p}{low}/")).await.expect(404);
    // No permission at all on other models.
    app.request(Method::GET, "/api/bgp/communities/", None, t).await.expect(403);
    app.request(Method::POST, "/api/bgp/communities/", Some(json!({"name": "a", "slug": "a", "value": "1:1"})), t)
        .await
        .expect(403);
});

both!(secrets_need_permission, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let r = app.create("/api/devices/routers/", json!({"name": "r9", "hostname": "r9", "platform": 1, "local_autonomous_system": fx.local_as, "napalm_password": "hunter22"})).await;
    let viewer = app.user_with("viewer", &[json!({"object_types": ["devices.router"], "actions": ["view"]})]).await;
    let seen = app.request(Method::GET, &format!("/api/devices/routers/{r}/"), None, Some(&viewer)).await.expect(200);
    assert!(seen.get("napalm_password").is_none(), "{seen}");
    let trusted = app
        .user_with("trusted", &[json!({"object_types": ["devices.router"], "actions": ["view", "view_secrets"]})])
        .await;
    let seen = app.request(Method::GET, &format!("/api/devices/routers/{r}/"), None, Some(&trusted)).await.expect(200);
    assert_eq!(seen["napalm_password"], "hunter22");
    // And the change log never holds them in clear.
    let log = app
        .get(&format!("/api/core/object-changes/?changed_object_type=devices.router&changed_object_id={r}"))
        .await
        .expect(200);
    assert_eq!(log["results"][0]["postchange_data"]["napalm_password"], "*************");
});

both!(passwords_are_hashed, |backend| {
    let app = TestApp::new(backend).await;
    let u = app.post("/api/users/users/", json!({"username": "bob", "password": "first-password"})).await.expect(201);
    assert!(u.get("password").is_none());
    assert!(pm_db::auth::login(&app.db.conn, "bob", "first-password").await.unwrap().is_some());
    let id = u["id"].as_i64().unwrap();
    app.patch(&format!("/api/users/users/{id}/"), json!({"password": "second-password"})).await.expect(200);
    assert!(pm_db::auth::login(&app.db.conn, "bob", "first-password").await.unwrap().is_none());
    assert!(pm_db::auth::login(&app.db.conn, "bob", "second-password").await.unwrap().is_some());
    app.patch(&format!("/api/users/users/{id}/"), json!({"password": "short"})).await.expect(400);
});
