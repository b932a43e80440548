//! Every write leaves an ObjectChange with snapshots, user and request id.

use serde_json::json;

use crate::both;
use crate::harness::TestApp;

both!(change_log_content, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let r = app
        .raw(
            axum::http::Method::POST,
            "/api/peering/autonomous-systems/",
            Some(
                json!({"asn": 64777, "name": "Logged", "tags": [fx.tag], "communities": [fx.community]})
                    .to_string()
                    .into_bytes(),
            ),
            Some(&app.token),
            &[],
        )
        .await;
    assert_eq!(r.status, 201);
    let request_id = r.headers["x-request-id"].to_str().unwrap().to_string();
    let id = r.json["id"].as_i64().unwrap();
    app.patch(&format!("/api/peering/autonomous-systems/{id}/"), json!({"name": "Renamed"})).await.expect(200);
    // A no-op update records nothing.
    app.patch(&format!("/api/peering/autonomous-systems/{id}/"), json!({"name": "Renamed"})).await.expect(200);

    let q = format!("/api/core/object-changes/?changed_object_type=peering.autonomoussystem&changed_object_id={id}");
    let log = app.get(&q).await.expect(200);
    assert_eq!(log["count"], 2);
    let update = &log["results"][0];
    let create = &log["results"][1];
    assert_eq!(create["action"], json!({"value": "create", "label": "Created"}));
    assert_eq!(create["request_id"], request_id);
    assert_eq!(create["user_name"], "admin");
    assert_eq!(create["user"]["username"], "admin");
    assert!(create["prechange_data"].is_null());
    assert_eq!(create["postchange_data"]["asn"], 64777);
    assert_eq!(create["postchange_data"]["tags"], json!(["Golden"]));
    assert_eq!(create["postchange_data"]["communities"], json!([fx.community]));
    assert_eq!(create["postchange_data"]["as_list"], "[]", "array fields are JSON-encoded strings");
    assert!(create["postchange_data"].get("updated").is_none());
    assert_eq!(update["prechange_data"]["name"], "Logged");
    assert_eq!(update["postchange_data"]["name"], "Renamed");
    assert_eq!(update["changed_object"]["id"], id);
    assert!(update["display"].as_str().unwrap().contains("AS64777 - Renamed updated by admin"));
    // Objects created by that request can be found by its id.
    let by_req =
        app.get(&format!("/api/peering/autonomous-systems/?created_by_request={request_id}")).await.expect(200);
    assert_eq!(by_req["count"], 1);
    // Filters on the change log.
    assert_eq!(app.count("/api/core/object-changes/?action=delete").await, 0);
    assert!(app.count("/api/core/object-changes/?user=admin").await >= 2);
    assert_eq!(app.count(&format!("/api/core/object-changes/?request_id={request_id}")).await, 1);

    app.delete(&format!("/api/peering/autonomous-systems/{id}/"), None).await.expect(204);
    let log = app.get(&q).await.expect(200);
    assert_eq!(log["results"][0]["action"]["value"], "delete");
    assert!(log["results"][0]["changed_object"].is_null(), "deleted objects are gone");
    assert_eq!(log["results"][0]["prechange_data"]["name"], "Renamed");
});

both!(failed_bulk_writes_leave_no_trace, |backend| {
    let app = TestApp::new(backend).await;
    let before = app.count("/api/core/object-changes/").await;
    let r = app
        .post(
            "/api/extras/tags/",
            json!([{"name": "ok", "slug": "ok"}, {"name": "bad", "slug": "b a d"}, {"name": "ok", "slug": "ok2"}]),
        )
        .await
        .expect(400);
    let errors = r.as_array().unwrap();
    assert_eq!(errors.len(), 3);
    assert!(errors[0].as_object().unwrap().is_empty());
    assert!(errors[1]["slug"].is_array());
    assert!(errors[2]["name"].is_array(), "duplicates within the batch are caught: {r}");
    assert_eq!(app.count("/api/extras/tags/").await, 0);
    assert_eq!(app.count("/api/core/object-changes/").await, before);
});
