//! What a user sends cannot reveal what they may not see: related-object
//! references resolve only by id or natural keys among viewable objects,
//! secret fields are never filters, search terms or sort keys, nested
//! objects of hidden rows show their id only; and odd input is a 4xx.

use serde_json::json;

use crate::both;
use crate::harness::TestApp;

both!(related_object_references_are_not_searches, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    app.patch(&format!("/api/devices/routers/{}/", fx.router), json!({"napalm_password": "Nsecret"})).await.expect(200);
    let ixp2 = app
        .create(
            "/api/peering/internet-exchanges/",
            json!({"name": "Second-IX", "slug": "second-ix", "local_autonomous_system": fx.local_as}),
        )
        .await;
    let c = "/api/net/connections/";
    let with_router = |router: serde_json::Value| json!({"internet_exchange_point": ixp2, "router": router});
    // Lookups and secret fields in a reference are refused whatever the guess: no oracle.
    for guess in ["A", "N", "Z"] {
        let r = app.post(c, with_router(json!({"id": fx.router, "napalm_password__gte": guess}))).await.expect(400);
        assert!(r["router"][0].as_str().unwrap().contains("napalm_password__gte"), "{r}");
        let r = app.post(c, with_router(json!({"id": fx.router, "napalm_password": guess}))).await.expect(400);
        assert!(r["router"][0].as_str().unwrap().contains("napalm_password"), "{r}");
    }
    let r = app.post(c, with_router(json!({"name__startswith": "ed"}))).await.expect(400);
    assert!(r["router"][0].as_str().unwrap().contains("name__startswith"), "{r}");
    // Natural keys and ids still work.
    app.post(c, with_router(json!({"name": "edge1"}))).await.expect(201);
    app.post(c, with_router(json!({"id": fx.router}))).await.expect(201);

    // A user who may view only some routers cannot reference the others, by id or by name.
    let other = app
        .create(
            "/api/devices/routers/",
            json!({"name": "edge2", "hostname": "edge2.example.net", "platform": 2, "local_autonomous_system": fx.local_as}),
        )
        .await;
    let token = app
        .user_with(
            "bob",
            &[
                json!({"object_types": ["devices.router"], "actions": ["view"], "constraints": {"name": "edge2"}}),
                json!({"object_types": ["net.connection"], "actions": ["view", "add"]}),
                json!({"object_types": ["peering.internetexchange"], "actions": ["view"]}),
            ],
        )
        .await;
    let post = |body: serde_json::Value| app.request(axum::http::Method::POST, c, Some(body), Some(&token));
    for hidden in [json!(fx.router), json!({"id": fx.router}), json!({"name": "edge1"})] {
        let r = post(with_router(hidden.clone())).await;
        assert_eq!(r.status.as_u16(), 400, "{hidden}: {}", r.text);
        assert!(r.json["router"][0].as_str().unwrap().contains("not found"), "{}", r.text);
    }
    let r = post(with_router(json!({"name": "edge2"}))).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.json["router"]["id"], other);
});

both!(secret_fields_are_never_filters_search_terms_or_sort_keys, |backend| {
    let app = TestApp::new(backend).await;
    app.create(
        "/api/extras/ix-api/",
        json!({"name": "Exchange", "api_url": "https://ixapi.example/", "api_key": "k3y-abc",
               "api_secret": "s3cret", "identity": "1234"}),
    )
    .await;
    let l = "/api/extras/ix-api/";
    // Ignored (and named) whatever the guess, so the count never tells.
    for guess in ["k3y", "zzz"] {
        let r = app.get(&format!("{l}?api_key__isw={guess}")).await;
        assert_eq!(r.headers["x-pm-ignored-parameters"], "api_key__isw");
        assert_eq!(r.expect(200)["count"], 1);
    }
    assert_eq!(app.count(&format!("{l}?q=k3y-abc")).await, 0, "q does not search secrets");
    assert_eq!(app.count(&format!("{l}?q=Exch")).await, 1);
    let r = app.get(&format!("{l}?ordering=api_key")).await.expect(400);
    assert!(r["ordering"].is_array());
    app.get("/api/devices/routers/?ordering=napalm_password").await.expect(400);
    app.get("/api/peering/direct-peering-sessions/?ordering=-password").await.expect(400);
    app.get("/api/extras/webhooks/?ordering=secret").await.expect(400);
    // Strict mode refuses them as unknown filters.
    let web = pm_web::WebConfig { strict_filters: true, ..Default::default() };
    let strict = TestApp::with(backend, web, pm_db::Settings::default()).await;
    strict.get("/api/extras/ix-api/?api_key=x").await.expect(400);
});

both!(nul_bytes_in_filters_are_a_client_error, |backend| {
    let app = TestApp::new(backend).await;
    app.create("/api/peering/autonomous-systems/", json!({"asn": 65001, "name": "Peer"})).await;
    for q in ["name=a%00b", "name__ic=%00", "q=%00", "irr_as_set__isw=x%00", "ordering=name%00"] {
        let r = app.get(&format!("/api/peering/autonomous-systems/?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "{q}: {}", r.text);
        assert!(r.text.contains("Null characters are not allowed."), "{q}: {}", r.text);
    }
});

both!(nested_objects_the_reader_may_not_view_show_only_their_id, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let session = app
        .create(
            "/api/peering/direct-peering-sessions/",
            json!({"local_autonomous_system": fx.local_as, "autonomous_system": fx.peer_as,
                   "relationship": fx.relationship, "ip_address": "198.51.100.1/31"}),
        )
        .await;
    let token = app
        .user_with(
            "carol",
            &[
                json!({"object_types": ["peering.directpeeringsession"], "actions": ["view"]}),
                json!({"object_types": ["peering.autonomoussystem"], "actions": ["view"], "constraints": {"asn": 64500}}),
            ],
        )
        .await;
    let get = |path: String| {
        let (app, token) = (&app, token.clone());
        async move { app.request(axum::http::Method::GET, &path, None, Some(&token)).await.expect(200) }
    };
    let s = get(format!("/api/peering/direct-peering-sessions/{session}/")).await;
    assert_eq!(s["autonomous_system"], json!({"id": fx.peer_as}), "hidden AS: id only");
    assert_eq!(s["local_autonomous_system"]["asn"], 64500, "visible AS in full");
    assert!(!s.to_string().contains("\"Peer\""), "{s}");
    let list = get("/api/peering/direct-peering-sessions/".into()).await;
    assert_eq!(list["results"][0]["autonomous_system"], json!({"id": fx.peer_as}));
    // The superuser still sees everything.
    let full = app.get(&format!("/api/peering/direct-peering-sessions/{session}/")).await.expect(200);
    assert_eq!(full["autonomous_system"]["name"], "Peer");
});

both!(webhook_ca_files_must_be_small_regular_files, |backend| {
    let app = TestApp::new(backend).await;
    let dir = std::env::temp_dir().join(format!("pm-ca-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.pem");
    std::fs::write(&big, vec![b'A'; 5 * 1024 * 1024]).unwrap();
    let small = dir.join("ca.pem");
    std::fs::write(&small, b"-----BEGIN CERTIFICATE-----\n").unwrap();
    let hook = |name: &str, path: &std::path::Path| {
        json!({"name": name, "content_types": ["bgp.relationship"], "type_create": true,
               "payload_url": "https://127.0.0.1:9/", "ca_file_path": path.to_str().unwrap()})
    };
    for (name, path) in [("zero", std::path::Path::new("/dev/zero")), ("dir", dir.as_path()), ("big", big.as_path())] {
        let r = app.post("/api/extras/webhooks/", hook(name, path)).await.expect(400);
        assert!(r["ca_file_path"].is_array(), "{name}: {r}");
    }
    app.post("/api/extras/webhooks/", hook("small", &small)).await.expect(201);
    std::fs::remove_dir_all(&dir).unwrap();
});
