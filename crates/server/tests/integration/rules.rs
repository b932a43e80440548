//! The model rules Peering Manager enforces (spec §4), plus password encryption.

use serde_json::json;

use crate::both;
use crate::harness::TestApp;

both!(community_values, |backend| {
    let app = TestApp::new(backend).await;
    let c = "/api/bgp/communities/";
    for (i, (value, kind)) in
        [("64500:1", "standard"), ("target:64500:10", "extended"), ("64500:1:2", "large")].iter().enumerate()
    {
        let r =
            app.post(c, json!({"name": format!("c{i}"), "slug": format!("c{i}"), "value": value})).await.expect(201);
        assert_eq!(r["kind"], *kind);
    }
    for bad in ["64500", "70000:1", "foo:bar", "1:2:3:4"] {
        let r = app.post(c, json!({"name": "x", "slug": "x", "value": bad})).await.expect(400);
        assert!(r["value"][0].as_str().unwrap().contains("does not match"), "{bad}: {r}");
    }
});

both!(asn_range_and_uniqueness, |backend| {
    let app = TestApp::new(backend).await;
    let p = "/api/peering/autonomous-systems/";
    app.post(p, json!({"asn": 0, "name": "zero"})).await.expect(400);
    app.post(p, json!({"asn": 4294967296u64, "name": "too big"})).await.expect(400);
    app.post(p, json!({"asn": 4294967295u64, "name": "max"})).await.expect(201);
    let r = app.post(p, json!({"asn": 4294967295u64, "name": "again"})).await.expect(400);
    assert_eq!(r["asn"][0], "Autonomous system with this ASN already exists.");
    let r = app.post(p, json!({"asn": "not a number", "name": ""})).await.expect(400);
    assert!(r["asn"].is_array() && r["name"].is_array(), "both fields named: {r}");
    assert_eq!(app.count(p).await, 1, "nothing written by failed requests");
});

both!(session_rules, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let v6 = app
        .create("/api/peering/routing-policies/", json!({"name": "v6 only", "slug": "v6", "address_family": 6}))
        .await;
    let d = "/api/peering/direct-peering-sessions/";
    let base = json!({"local_autonomous_system": fx.local_as, "autonomous_system": fx.peer_as, "relationship": fx.relationship});
    let with = |extra: serde_json::Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let r = app.post(d, with(json!({"ip_address": "192.0.2.1/31", "import_routing_policies": [v6]}))).await.expect(400);
    assert!(r["import_routing_policies"][0].as_str().unwrap().contains("address families mismatch"));
    let r = app.post(d, with(json!({"ip_address": "192.0.2.0/24"}))).await.expect(400);
    assert!(r["ip_address"][0].as_str().unwrap().contains("network address"));
    let r = app
        .post(d, with(json!({"ip_address": "192.0.2.1/24", "local_ip_address": "198.51.100.1/24"})))
        .await
        .expect(400);
    assert!(r.to_string().contains("same subnet"), "{r}");
    let ok = app.post(d, with(json!({"ip_address": "2001:db8::1", "import_routing_policies": [v6]}))).await.expect(201);
    assert_eq!(ok["ip_address"], "2001:db8::1/128", "direct session addresses keep a prefix length");
    assert_eq!(ok["status"], json!({"value": "enabled", "label": "Enabled"}));

    let s = "/api/peering/internet-exchange-peering-sessions/";
    let body = json!({"autonomous_system": fx.peer_as, "ixp_connection": fx.connection, "ip_address": "192.0.2.50/24"});
    let first = app.post(s, body.clone()).await.expect(201);
    assert_eq!(first["ip_address"], "192.0.2.50", "IXP session addresses are bare");
    assert_eq!(first["display"], "Example-IX - AS65001 - IP 192.0.2.50");
    assert_eq!(first["ixp_connection"]["display"], "Example-IX on edge1 et-0/0/0");
    let dup = app.post(s, body).await.expect(400);
    assert!(dup["non_field_errors"][0].as_str().unwrap().contains("already exists"));
    let r = app
        .post(
            "/api/net/connections/",
            json!({"internet_exchange_point": fx.ixp, "router": null, "ipv4_address": "2001:db8::5/64"}),
        )
        .await
        .expect(400);
    assert!(r["ipv4_address"].is_array());
    let r = app.post("/api/net/connections/", json!({"ipv4_address": "192.0.2.9/24"})).await.expect(400);
    assert!(r["internet_exchange_point"].is_array() && r["router"].is_array(), "keys are required: {r}");
});

both!(password_encryption, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    // edge1 is on platform 2 (Juniper Junos, juniper-type9).
    app.patch(&format!("/api/devices/routers/{}/", fx.router), json!({"encrypt_passwords": true})).await.expect(200);
    let s = app
        .post(
            "/api/peering/internet-exchange-peering-sessions/",
            json!({"autonomous_system": fx.peer_as, "ixp_connection": fx.connection, "ip_address": "192.0.2.77", "password": "s3cret"}),
        )
        .await
        .expect(201);
    let enc = s["encrypted_password"].as_str().unwrap();
    assert!(enc.starts_with("$9$"), "{enc}");
    assert_eq!(pm_domain::crypto::juniper9::decrypt(enc).as_deref(), Some("s3cret"));
    let id = s["id"].as_i64().unwrap();
    let s = app
        .patch(&format!("/api/peering/internet-exchange-peering-sessions/{id}/"), json!({"password": null}))
        .await
        .expect(200);
    assert!(s["encrypted_password"].is_null(), "clearing the password clears its encrypted form");
});

both!(protected_and_cascaded_deletes, |backend| {
    let app = TestApp::new(backend).await;
    let fx = crate::crud::fixtures(&app).await;
    let d = app
        .create(
            "/api/peering/direct-peering-sessions/",
            json!({"local_autonomous_system": fx.local_as, "autonomous_system": fx.peer_as, "relationship": fx.relationship, "ip_address": "192.0.2.1/31"}),
        )
        .await;
    let r = app.delete(&format!("/api/bgp/relationships/{}/", fx.relationship), None).await.expect(409);
    assert!(r["detail"].as_str().unwrap().contains("1 dependent objects"), "{r}");
    // Deleting the peer AS deletes its sessions, each logged.
    app.delete(&format!("/api/peering/autonomous-systems/{}/", fx.peer_as), None).await.expect(204);
    app.get(&format!("/api/peering/direct-peering-sessions/{d}/")).await.expect(404);
    let log = app.get(&format!("/api/core/object-changes/?changed_object_type=peering.directpeeringsession&changed_object_id={d}&action=delete")).await.expect(200);
    assert_eq!(log["count"], 1);
});
