//! Peering Manager's filter language: lookups, OR on repeated keys, tags,
//! relation filters, `q`, ordering and pagination.

use serde_json::json;

use crate::both;
use crate::harness::TestApp;

async fn seed(app: &TestApp) {
    for (asn, name, desc) in [
        (64501i64, "Alpha Networks", "transit"),
        (64502, "Beta Telecom", ""),
        (65001, "Gamma Hosting", "cdn"),
        (4200000001, "Delta Cloud", ""),
    ] {
        app.create("/api/peering/autonomous-systems/", json!({"asn": asn, "name": name, "description": desc})).await;
    }
}

fn asns(v: &serde_json::Value) -> Vec<i64> {
    v["results"].as_array().unwrap().iter().map(|o| o["asn"].as_i64().unwrap()).collect()
}

both!(lookups, |backend| {
    let app = TestApp::new(backend).await;
    seed(&app).await;
    let q = |s: &str| format!("/api/peering/autonomous-systems/?{s}");
    let get = |s: String| {
        let app = &app;
        async move { asns(&app.get(&s).await.expect(200)) }
    };
    assert_eq!(get(q("asn=64501&asn=65001")).await, vec![64501, 65001]);
    assert_eq!(get(q("asn__n=64501")).await, vec![64502, 65001, 4200000001]);
    assert_eq!(get(q("asn__gte=64502&asn__lt=4200000000")).await, vec![64502, 65001]);
    assert_eq!(get(q("name__ic=NET")).await, vec![64501]);
    assert_eq!(get(q("name__nic=a")).await, Vec::<i64>::new());
    assert_eq!(get(q("name__isw=beta")).await, vec![64502]);
    assert_eq!(get(q("name__iew=CLOUD")).await, vec![4200000001]);
    assert_eq!(get(q("name__ie=gamma%20hosting")).await, vec![65001]);
    assert_eq!(get(q("name__nie=gamma%20hosting")).await.len(), 3);
    assert_eq!(get(q("irr_as_set__empty=true")).await.len(), 4);
    assert_eq!(get(q("q=AS6450")).await, vec![64501, 64502]);
    assert_eq!(get(q("q=hosting")).await, vec![65001]);
    assert_eq!(get(q("ordering=-asn&limit=2")).await, vec![4200000001, 65001]);
    // Unknown filters are ignored as PM ignores them, and named in a header;
    // invalid values for known filters are errors.
    let r = app.get(&q("colour=red")).await;
    assert_eq!(r.headers["x-pm-ignored-parameters"], "colour");
    assert_eq!(asns(&r.expect(200)).len(), 4);
    app.get(&q("asn=abc")).await.expect(400);
    app.get(&q("ordering=nonsense")).await.expect(400);
});

both!(relations_and_tags, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let t2 = app.create("/api/extras/tags/", json!({"name": "Silver", "slug": "silver"})).await;
    let other = app
        .create("/api/peering/autonomous-systems/", json!({"asn": 65002, "name": "Other", "tags": [fx.tag, t2]}))
        .await;
    app.patch(&format!("/api/peering/autonomous-systems/{}/", fx.peer_as), json!({"tags": [fx.tag]})).await.expect(200);
    let base = "/api/peering/autonomous-systems/";
    assert_eq!(app.count(&format!("{base}?tag=golden")).await, 2);
    // Repeated tag keys AND.
    let both_tags = app.get(&format!("{base}?tag=golden&tag=silver")).await.expect(200);
    assert_eq!(both_tags["count"], 1);
    assert_eq!(both_tags["results"][0]["id"], other);
    assert_eq!(app.count(&format!("{base}?tag__n=golden")).await, 1);
    app.get(&format!("{base}?tag=nope")).await.expect(400);

    let s = "/api/peering/internet-exchange-peering-sessions/";
    for ip in ["192.0.2.1", "192.0.2.2", "2001:db8::1"] {
        app.create(s, json!({"autonomous_system": fx.peer_as, "ixp_connection": fx.connection, "ip_address": ip}))
            .await;
    }
    assert_eq!(app.count(&format!("{s}?internet_exchange_id={}", fx.ixp)).await, 3);
    assert_eq!(app.count(&format!("{s}?internet_exchange=Example-IX")).await, 3);
    assert_eq!(app.count(&format!("{s}?autonomous_system_asn=65001")).await, 3);
    assert_eq!(app.count(&format!("{s}?autonomous_system_asn=64500")).await, 0);
    assert_eq!(app.count(&format!("{s}?address_family=6")).await, 1);
    assert_eq!(app.count(&format!("{s}?q=192.0.2.2")).await, 1);
    assert_eq!(app.count(&format!("{s}?q=edge1")).await, 3);
    // Unknown related ids are rejected (PM: "Select a valid choice").
    let r = app.get(&format!("{s}?autonomous_system_id=9999")).await.expect(400);
    assert!(r["autonomous_system_id"][0].as_str().unwrap().contains("9999"));
    let r = app.get("/api/net/connections/?router_id=null").await.expect(200);
    assert_eq!(r["count"], 0);
    assert_eq!(app.count(&format!("/api/net/connections/?router={}", "edge1.example.net")).await, 1);
});

both!(pagination, |backend| {
    let app = TestApp::new(backend).await;
    let items: Vec<_> = (0..25).map(|i| json!({"name": format!("Tag {i:02}"), "slug": format!("t{i}")})).collect();
    app.post("/api/extras/tags/", json!(items)).await.expect(201);
    let page = app.get("/api/extras/tags/").await.expect(200);
    assert_eq!(page["count"], 25);
    assert_eq!(page["results"].as_array().unwrap().len(), 20, "default page size is 20");
    assert_eq!(page["next"], "http://testserver/api/extras/tags/?limit=20&offset=20");
    assert!(page["previous"].is_null());
    let last = app.get("/api/extras/tags/?limit=10&offset=20").await.expect(200);
    assert_eq!(last["results"].as_array().unwrap().len(), 5);
    assert!(last["next"].is_null());
    assert_eq!(last["previous"], "http://testserver/api/extras/tags/?limit=10&offset=10");
    // PM's pagination: too large a limit is clamped, nonsense means the default.
    let r = app.get("/api/extras/tags/?limit=100000").await.expect(200);
    assert_eq!(r["results"].as_array().unwrap().len(), 25);
    assert!(r["next"].is_null());
    let r = app.get("/api/extras/tags/?limit=100000&offset=24").await.expect(200);
    assert_eq!(r["previous"], "http://testserver/api/extras/tags/?limit=1000");
    assert_eq!(app.get("/api/extras/tags/?limit=ten").await.expect(200)["results"].as_array().unwrap().len(), 20);
    assert_eq!(app.get("/api/extras/tags/?limit=-3").await.expect(200)["results"].as_array().unwrap().len(), 20);
    assert_eq!(app.get("/api/extras/tags/?offset=-1").await.expect(200)["results"][0]["slug"], "t0");
    let r = app.get("/api/extras/tags/?offset=99999999999999999999").await.expect(400);
    assert!(r["offset"].is_array());
    let r = app.get("/api/extras/tags/?offset=9223372036854775807").await.expect(200);
    assert_eq!(r["results"].as_array().unwrap().len(), 0);
    let all = app.get("/api/extras/tags/?limit=0").await.expect(200);
    assert_eq!(all["results"].as_array().unwrap().len(), 25, "limit=0 means the maximum page");
    let narrow = app.get("/api/extras/tags/?fields=id,name&limit=1").await.expect(200);
    assert_eq!(narrow["results"][0].as_object().unwrap().len(), 2);
    let wide = app.get("/api/extras/tags/?exclude=description,color&limit=1").await.expect(200);
    assert!(wide["results"][0].get("color").is_none() && wide["results"][0].get("name").is_some());
});
