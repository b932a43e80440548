//! A Peering Manager API client works unchanged: relation filters name the
//! related objects themselves, unknown parameters are ignored (and named in a
//! header), page sizes are clamped, filters validate as PM's do.

use serde_json::json;

use crate::both;
use crate::harness::TestApp;
use crate::ui_support::admin;

both!(relation_filters_accept_objects_nothing_refers_to_yet, |backend| {
    let app = TestApp::new(backend).await;
    let local = app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Local"})).await;
    let ixp = app
        .create(
            "/api/peering/internet-exchanges/",
            json!({"name": "New-IX", "slug": "new-ix", "local_autonomous_system": local}),
        )
        .await;
    let router = app
        .create(
            "/api/devices/routers/",
            json!({"name": "r1", "hostname": "r1.example.net", "platform": 2, "local_autonomous_system": local}),
        )
        .await;
    let other = app.create("/api/peering/autonomous-systems/", json!({"asn": 64501, "name": "Other"})).await;
    // Every relation filter whose value names an object without referrers: an empty list, not a 400.
    for path in [
        format!("/api/peering/internet-exchange-peering-sessions/?internet_exchange_id={ixp}"),
        "/api/peering/internet-exchange-peering-sessions/?internet_exchange=New-IX".to_string(),
        format!("/api/peering/internet-exchange-peering-sessions/?autonomous_system_id={local}"),
        "/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=64500".to_string(),
        format!("/api/peering/direct-peering-sessions/?router_id={router}"),
        "/api/peering/direct-peering-sessions/?router=r1.example.net".to_string(),
        "/api/peering/direct-peering-sessions/?router_name=r1".to_string(),
        format!("/api/net/connections/?internet_exchange_point_id={ixp}"),
        format!("/api/net/connections/?router_id={router}"),
        format!("/api/devices/routers/?local_autonomous_system_id={other}"),
        format!("/api/peering/internet-exchanges/?local_autonomous_system_id={other}"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status.as_u16(), 200, "GET {path}: {}", r.text);
        assert_eq!(r.json["count"], 0, "GET {path}");
    }
    // Objects that do not exist at all are still refused, as PM refuses them.
    let r = app.get("/api/peering/internet-exchange-peering-sessions/?internet_exchange_id=9999").await.expect(400);
    assert!(r["internet_exchange_id"][0].as_str().unwrap().contains("9999"));
    // The new IXP's page (which lists its sessions) opens.
    let mut b = admin(&app).await;
    let page = b.page(&format!("/internet-exchanges/{ixp}/")).await;
    assert!(page.contains("New-IX"));
    b.page(&format!("/internet-exchanges/{ixp}/peering-sessions/")).await;
});

// A client written against PM 1.10 lists, pages and filters as it always did.
both!(a_pm_client_session_gets_pm_answers, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let s = "/api/peering/internet-exchange-peering-sessions/";
    for ip in ["192.0.2.1", "192.0.2.2", "2001:db8::1"] {
        app.create(s, json!({"autonomous_system": fx.peer_as, "ixp_connection": fx.connection, "ip_address": ip}))
            .await;
    }
    // Unknown parameters (cache busters, other tools' options) are ignored and named.
    let r = app.get(&format!("{s}?limit=5000&_ts=1700000000&format=json&site=par1&status=enabled")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.headers["x-pm-ignored-parameters"], "_ts, site");
    assert_eq!(r.json["count"], 3);
    assert_eq!(r.json["results"].as_array().unwrap().len(), 3);
    assert!(r.json["next"].is_null());
    let r = app.get(&format!("{s}?limit=1")).await.expect(200);
    assert_eq!(r["next"], format!("http://testserver{s}?limit=1&offset=1"));
    assert!(app.get(&format!("{s}?limit=1")).await.headers.get("x-pm-ignored-parameters").is_none());

    // address_family: any number is accepted, only 4 and 6 narrow the list.
    assert_eq!(app.count(&format!("{s}?address_family=4")).await, 2);
    assert_eq!(app.count(&format!("{s}?address_family=6")).await, 1);
    assert_eq!(app.count(&format!("{s}?address_family=5")).await, 3);
    assert_eq!(app.count(&format!("{s}?address_family=0")).await, 3);
    let r = app.get(&format!("{s}?address_family=six")).await.expect(400);
    assert!(r["address_family"].is_array());
    let d = "/api/peering/direct-peering-sessions/";
    assert_eq!(app.count(&format!("{d}?address_family=46")).await, 0);

    // Routing policies: type and address_family take only their choices.
    let rp = "/api/peering/routing-policies/";
    app.create(rp, json!({"name": "Export v6", "slug": "export-v6", "type": "export-policy", "address_family": 6}))
        .await;
    assert_eq!(app.count(&format!("{rp}?type=export-policy")).await, 1);
    assert_eq!(app.count(&format!("{rp}?address_family=6")).await, 1);
    assert_eq!(app.count(&format!("{rp}?address_family=0")).await, 1);
    let r = app.get(&format!("{rp}?type=both-ways")).await.expect(400);
    assert!(r["type"][0].as_str().unwrap().contains("both-ways"));
    let r = app.get(&format!("{rp}?address_family=5")).await.expect(400);
    assert!(r["address_family"][0].as_str().unwrap().contains("5"));

    // Every organisational model filters on name, slug and description.
    app.create("/api/net/bfd/", json!({"name": "Fast", "slug": "fast", "description": "50 ms timers"})).await;
    app.create("/api/net/bfd/", json!({"name": "Slow", "slug": "slow"})).await;
    for (list, name, slug) in [
        ("/api/net/bfd/", "Fast", "fast"),
        ("/api/peering/routing-policies/", "Export v6", "export-v6"),
        ("/api/peering/internet-exchanges/", "Example-IX", "example-ix"),
        ("/api/bgp/relationships/", "Transit", "transit"),
        ("/api/bgp/communities/", "Peers", "peers"),
        ("/api/messaging/contact-roles/", "Technical", "technical"),
    ] {
        assert_eq!(app.count(&format!("{list}?name={}", name.replace(' ', "%20"))).await, 1, "{list} name");
        assert_eq!(app.count(&format!("{list}?slug={slug}")).await, 1, "{list} slug");
        assert_eq!(app.count(&format!("{list}?slug__n={slug}&name={}", name.replace(' ', "%20"))).await, 0);
        assert_eq!(app.count(&format!("{list}?description__empty=false")).await, (list == "/api/net/bfd/") as i64);
    }
    assert_eq!(app.count("/api/net/bfd/?description__ic=50%20MS").await, 1);
    app.create("/api/peering/bgp-groups/", json!({"name": "Customers", "slug": "customers"})).await;
    assert_eq!(app.count("/api/peering/bgp-groups/?name__isw=cust").await, 1);
});

both!(strict_filters_refuse_unknown_parameters, |backend| {
    let web = pm_web::WebConfig { strict_filters: true, ..Default::default() };
    let app = TestApp::with(backend, web, pm_db::Settings::default()).await;
    let r = app.get("/api/peering/autonomous-systems/?colour=red").await.expect(400);
    assert_eq!(r["colour"][0], "Unknown filter field.");
    app.get("/api/peering/autonomous-systems/?name=x").await.expect(200);
    // Tags on a model without tags are unknown too.
    app.get("/api/users/users/?tag=x").await.expect(400);
});

// A token without `write_enabled` changes nothing, whatever the endpoint.
both!(read_only_tokens_write_nothing, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let export = app
        .create(
            "/api/extras/export-templates/",
            json!({"name": "ASNs", "content_type": "peering.autonomoussystem", "template": "{{ dataset|length }}"}),
        )
        .await;
    let admin_id = 1;
    let ro = pm_db::auth::create_token(&app.db.conn, admin_id, false, None, "read only", None).await.unwrap();
    let ro = Some(ro.as_str());
    let jobs_before = app.count("/api/core/jobs/").await;
    let prefs_before = app.get("/api/users/userpref/").await.expect(200);
    use axum::http::Method;
    for (method, path, body) in [
        (Method::PATCH, "/api/users/userpref/".to_string(), Some(json!({"pagination": {"per_page": 100}}))),
        (Method::GET, format!("/api/devices/routers/{}/configuration/", fx.router), None),
        (Method::POST, format!("/api/devices/routers/{}/configuration/", fx.router), None),
        (Method::GET, format!("/api/extras/export-templates/{export}/render/"), None),
        (Method::POST, "/api/peering/autonomous-systems/".to_string(), Some(json!({"asn": 65100, "name": "X"}))),
        (Method::PATCH, format!("/api/peering/autonomous-systems/{}/", fx.peer_as), Some(json!({"name": "Y"}))),
        (Method::DELETE, format!("/api/peering/autonomous-systems/{}/", fx.peer_as), None),
        (Method::POST, "/api/peeringdb/cache/update-local/".to_string(), None),
        (Method::POST, format!("/api/peering/autonomous-systems/{}/sync-with-peeringdb/", fx.peer_as), None),
    ] {
        let r = app.request(method.clone(), &path, body, ro).await;
        assert_eq!(r.status.as_u16(), 403, "{method} {path}: {}", r.text);
        assert_eq!(r.json["detail"], "This token does not have write permission.", "{method} {path}");
    }
    assert_eq!(app.count("/api/core/jobs/").await, jobs_before, "no job queued");
    assert_eq!(app.get("/api/users/userpref/").await.expect(200), prefs_before);
    assert_eq!(app.count("/api/peering/autonomous-systems/?asn=65100").await, 0);
    // Reads still work, a raw render included (it queues nothing).
    let r = app.request(Method::GET, "/api/peering/autonomous-systems/", None, ro).await;
    assert_eq!(r.status.as_u16(), 200);
    let r = app.request(Method::GET, &format!("/api/devices/routers/{}/configuration/?raw", fx.router), None, ro).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    app.request(Method::GET, "/api/users/userpref/", None, ro).await.expect(200);
});
