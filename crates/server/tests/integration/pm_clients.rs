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
