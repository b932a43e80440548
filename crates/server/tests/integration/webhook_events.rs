//! Webhooks lose no event (spec §7): quick successive changes of one object
//! reach the receiver once each, in order, with the object as it was at each
//! change; a receiver that is briefly down still gets the event.

use std::time::Duration;

use pm_jobs::{Engine, EngineConfig, Registry};
use serde_json::{Value as Json, json};

use crate::both;
use crate::harness::TestApp;
use crate::jobs::fast_config;
use crate::webhooks::{Receiver, idle};

both!(create_update_delete_in_quick_succession_arrive_once_each_in_order, |backend| {
    let app = TestApp::new(backend).await;
    let rx = Receiver::start(vec![]).await;
    app.post(
        "/api/extras/webhooks/",
        json!({
            "name": "everything",
            "content_types": ["peering.autonomoussystem"],
            "type_create": true, "type_update": true, "type_delete": true,
            "payload_url": format!("{}/as/{{{{ data.asn }}}}/{{{{ event }}}}", rx.url),
            "additional_headers": "X-Event: {{ event }}\nX-Name: {{ data.name }}",
            "body_template": "{\"event\": \"{{ event }}\", \"name\": \"{{ data.name }}\", \"before\": \"{{ snapshots.prechange.name if snapshots and snapshots.prechange else '' }}\"}",
        }),
    )
    .await
    .expect(201);
    // The worker runs while the writes happen, as in production.
    let engine = Engine::start(app.db.clone(), fast_config(), Registry::builtin(), false).await.unwrap();
    for round in 0..3 {
        let asn = 64600 + round;
        let id = app.create("/api/peering/autonomous-systems/", json!({"asn": asn, "name": "One"})).await;
        app.patch(&format!("/api/peering/autonomous-systems/{id}/"), json!({"name": "Two"})).await.expect(200);
        app.delete(&format!("/api/peering/autonomous-systems/{id}/"), None).await.expect(204);
    }
    rx.wait(9, 30).await;
    idle(&app.db).await;
    engine.stop().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 9, "each event exactly once: {hits:?}");
    for round in 0..3 {
        let asn = 64600 + round;
        let mine: Vec<_> = hits.iter().filter(|h| h.path.starts_with(&format!("/as/{asn}/"))).collect();
        let seen: Vec<(String, String, String)> = mine
            .iter()
            .map(|h| {
                let b: Json = serde_json::from_str(&h.body).unwrap_or_else(|e| panic!("{e}: {}", h.body));
                assert_eq!(h.headers["x-event"], b["event"].as_str().unwrap());
                assert_eq!(h.headers["x-name"], b["name"].as_str().unwrap());
                (h.path.clone(), b["name"].as_str().unwrap().into(), b["before"].as_str().unwrap().into())
            })
            .collect();
        let expected =
            |event: &str, name: &str, before: &str| (format!("/as/{asn}/{event}"), name.into(), before.into());
        assert_eq!(
            seen,
            vec![expected("create", "One", ""), expected("update", "Two", "One"), expected("delete", "Two", "Two")],
            "AS{asn}: the object as it was at each change, in order"
        );
    }
});

both!(a_receiver_down_twice_gets_the_event_with_default_retries, |backend| {
    let app = TestApp::new(backend).await;
    let rx = Receiver::start(vec![500, 500]).await;
    app.post(
        "/api/extras/webhooks/",
        json!({"name": "flaky", "content_types": ["bgp.relationship"], "type_create": true,
               "payload_url": format!("{}/flaky", rx.url)}),
    )
    .await
    .expect(201);
    // The production retry settings (only the idle poll is shortened).
    let config = EngineConfig { poll: Duration::from_millis(20), ..EngineConfig::default() };
    let engine = Engine::start(app.db.clone(), config, Registry::builtin(), false).await.unwrap();
    app.create("/api/bgp/relationships/", json!({"name": "Peer", "slug": "peer"})).await;
    let hits = rx.wait(3, 20).await;
    idle(&app.db).await;
    engine.stop().await;
    assert_eq!(rx.hits().len(), 3, "delivered once after two failures");
    let body: Json = serde_json::from_str(&hits[2].body).unwrap();
    assert_eq!(body["event"], "create");
    assert_eq!(body["data"]["name"], "Peer");
    let j = app.get("/api/core/jobs/?name=extras.webhook.deliver").await.expect(200);
    assert_eq!(j["results"][0]["status"]["value"], "completed");
});
