//! One test body, every model: create, read (full and brief), list, update
//! (PATCH and PUT), bulk create/update/delete, delete, and the change log
//! each step leaves.

use serde_json::{Value as Json, json};

use crate::both;
use crate::harness::TestApp;

/// Objects the model payloads refer to.
pub struct Fx {
    pub local_as: i64,
    pub peer_as: i64,
    pub relationship: i64,
    pub router: i64,
    pub ixp: i64,
    pub connection: i64,
    pub community: i64,
    pub policy: i64,
    pub tag: i64,
    pub contact: i64,
    pub role: i64,
    pub context: i64,
    pub user: i64,
}

pub async fn fixtures(app: &TestApp) -> Fx {
    let local_as = app
        .create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Local", "affiliated": true}))
        .await;
    let peer_as = app.create("/api/peering/autonomous-systems/", json!({"asn": 65001, "name": "Peer"})).await;
    let relationship =
        app.create("/api/bgp/relationships/", json!({"name": "Transit", "slug": "transit", "color": "ff0000"})).await;
    let router = app
        .create(
            "/api/devices/routers/",
            json!({"name": "edge1", "hostname": "edge1.example.net", "platform": 2, "local_autonomous_system": local_as}),
        )
        .await;
    let ixp = app
        .create(
            "/api/peering/internet-exchanges/",
            json!({"name": "Example-IX", "slug": "example-ix", "local_autonomous_system": local_as}),
        )
        .await;
    let connection = app
        .create(
            "/api/net/connections/",
            json!({"internet_exchange_point": ixp, "router": router, "ipv4_address": "192.0.2.10/24",
                   "ipv6_address": "2001:db8::10/64", "interface": "et-0/0/0"}),
        )
        .await;
    let community =
        app.create("/api/bgp/communities/", json!({"name": "Peers", "slug": "peers", "value": "64500:100"})).await;
    let policy = app
        .create(
            "/api/peering/routing-policies/",
            json!({"name": "Accept all", "slug": "accept-all", "type": "import-policy"}),
        )
        .await;
    let tag = app.create("/api/extras/tags/", json!({"name": "Golden", "slug": "golden"})).await;
    let contact = app.create("/api/messaging/contacts/", json!({"name": "NOC", "email": "noc@example.net"})).await;
    let role = app.create("/api/messaging/contact-roles/", json!({"name": "Technical", "slug": "technical"})).await;
    let context =
        app.create("/api/extras/config-contexts/", json!({"name": "Base", "data": {"ntp": ["192.0.2.1"]}})).await;
    let user = app.create("/api/users/users/", json!({"username": "alice", "password": "alice-password"})).await;
    Fx {
        local_as,
        peer_as,
        relationship,
        router,
        ixp,
        connection,
        community,
        policy,
        tag,
        contact,
        role,
        context,
        user,
    }
}

struct Case {
    path: &'static str,
    /// The n-th distinct valid payload.
    payload: fn(&Fx, u32) -> Json,
    /// A field to PATCH and the value it takes.
    patch: (&'static str, Json),
    change_logged: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            path: "/api/peering/autonomous-systems/",
            payload: |f, n| {
                json!({"asn": 65100 + n, "name": format!("AS {n}"), "irr_as_set": "AS-TEST",
                       "import_routing_policies": [f.policy], "communities": [f.community], "tags": [f.tag]})
            },
            patch: ("description", json!("changed")),
            change_logged: true,
        },
        Case {
            path: "/api/peering/bgp-groups/",
            payload: |f, n| json!({"name": format!("Group {n}"), "slug": format!("group-{n}"), "communities": [f.community]}),
            patch: ("status", json!("disabled")),
            change_logged: true,
        },
        Case {
            path: "/api/peering/direct-peering-sessions/",
            payload: |f, n| {
                json!({"local_autonomous_system": f.local_as, "autonomous_system": f.peer_as,
                       "relationship": f.relationship, "ip_address": format!("198.51.100.{}/31", 2 * n + 1),
                       "local_ip_address": format!("198.51.100.{}/31", 2 * n), "router": f.router})
            },
            patch: ("status", json!("disabled")),
            change_logged: true,
        },
        Case {
            path: "/api/peering/internet-exchanges/",
            payload: |f, n| json!({"name": format!("IX {n}"), "slug": format!("ix-{n}"), "local_autonomous_system": f.local_as}),
            patch: ("description", json!("changed")),
            change_logged: true,
        },
        Case {
            path: "/api/peering/internet-exchange-peering-sessions/",
            payload: |f, n| {
                json!({"autonomous_system": f.peer_as, "ixp_connection": f.connection,
                       "ip_address": format!("192.0.2.{}", 100 + n), "is_route_server": n % 2 == 0})
            },
            patch: ("multihop_ttl", json!(2)),
            change_logged: true,
        },
        Case {
            path: "/api/peering/routing-policies/",
            payload: |_, n| json!({"name": format!("Policy {n}"), "slug": format!("policy-{n}"), "type": "export-policy", "weight": n}),
            patch: ("address_family", json!(6)),
            change_logged: true,
        },
        Case {
            path: "/api/bgp/communities/",
            payload: |_, n| json!({"name": format!("C{n}"), "slug": format!("c-{n}"), "value": format!("64500:{n}"), "type": "ingress"}),
            patch: ("value", json!("64500:1:2")),
            change_logged: true,
        },
        Case {
            path: "/api/bgp/relationships/",
            payload: |_, n| json!({"name": format!("Rel {n}"), "slug": format!("rel-{n}")}),
            patch: ("color", json!("00ff00")),
            change_logged: true,
        },
        Case {
            path: "/api/net/bfd/",
            payload: |_, n| json!({"name": format!("BFD {n}"), "slug": format!("bfd-{n}"), "detection_multiplier": 5}),
            patch: ("hold_time", json!(1000)),
            change_logged: true,
        },
        Case {
            path: "/api/net/connections/",
            payload: |f, n| {
                json!({"internet_exchange_point": f.ixp, "router": null, "vlan": 100 + n,
                       "mac_address": format!("AA-BB-CC-DD-EE-{n:02X}")})
            },
            patch: ("interface", json!("xe-1/0/0")),
            change_logged: true,
        },
        Case {
            path: "/api/devices/configurations/",
            payload: |_, n| json!({"name": format!("Config {n}"), "template": "hostname {{ router.hostname }}"}),
            patch: ("jinja2_trim", json!(true)),
            change_logged: true,
        },
        Case {
            path: "/api/devices/platforms/",
            payload: |_, n| json!({"name": format!("OS {n}"), "slug": format!("os-{n}"), "napalm_driver": "junos"}),
            patch: ("password_algorithm", json!("juniper-type9")),
            change_logged: true,
        },
        Case {
            path: "/api/devices/routers/",
            payload: |f, n| {
                json!({"name": format!("r{n}"), "hostname": format!("r{n}.example.net"), "platform": 1,
                       "local_autonomous_system": f.local_as, "communities": [f.community]})
            },
            patch: ("encrypt_passwords", json!(true)),
            change_logged: true,
        },
        Case {
            path: "/api/messaging/contacts/",
            payload: |_, n| json!({"name": format!("Contact {n}"), "phone": "+1 555 0100"}),
            patch: ("title", json!("Peering coordinator")),
            change_logged: true,
        },
        Case {
            path: "/api/messaging/contact-roles/",
            payload: |_, n| json!({"name": format!("Role {n}"), "slug": format!("role-{n}")}),
            patch: ("description", json!("changed")),
            change_logged: true,
        },
        Case {
            path: "/api/messaging/contact-assignments/",
            payload: |f, n| match n {
                1 => {
                    json!({"content_type": "peering.autonomoussystem", "object_id": f.local_as, "contact": f.contact, "role": f.role})
                }
                2 => {
                    json!({"content_type": "peering.autonomoussystem", "object_id": f.peer_as, "contact": f.contact, "role": f.role})
                }
                _ => {
                    json!({"content_type": "peering.internetexchange", "object_id": f.ixp, "contact": f.contact, "role": f.role})
                }
            },
            patch: ("object_id", json!(null)),
            change_logged: true,
        },
        Case {
            path: "/api/messaging/emails/",
            payload: |_, n| json!({"name": format!("Mail {n}"), "subject": "Peering with {{ autonomous_system.name }}", "template": "Hello"}),
            patch: ("subject", json!("Changed")),
            change_logged: true,
        },
        Case {
            path: "/api/extras/config-contexts/",
            payload: |_, n| json!({"name": format!("Ctx {n}"), "data": {"n": n}}),
            patch: ("is_active", json!(false)),
            change_logged: true,
        },
        Case {
            path: "/api/extras/config-context-assignments/",
            payload: |f, n| {
                let (ct, id) = match n {
                    1 => ("devices.router", f.router),
                    2 => ("peering.autonomoussystem", f.local_as),
                    _ => ("peering.autonomoussystem", f.peer_as),
                };
                json!({"content_type": ct, "object_id": id, "config_context": f.context, "weight": 100 * n})
            },
            patch: ("weight", json!(5)),
            change_logged: true,
        },
        Case {
            path: "/api/extras/export-templates/",
            payload: |_, n| json!({"name": format!("Export {n}"), "content_type": "peering.autonomoussystem", "template": "{% for a in dataset %}{{ a.asn }}{% endfor %}"}),
            patch: ("description", json!("CSV")),
            change_logged: true,
        },
        Case {
            path: "/api/extras/ix-api/",
            payload: |_, n| json!({"name": format!("IX-API {n}"), "api_url": "https://ixapi.example.net/v2/", "api_key": format!("key{n}"), "api_secret": "s3cret", "identity": "acc-1"}),
            patch: ("identity", json!("acc-2")),
            change_logged: true,
        },
        Case {
            path: "/api/extras/journal-entries/",
            payload: |f, n| json!({"assigned_object_type": "peering.autonomoussystem", "assigned_object_id": f.peer_as, "comments": format!("Note {n}")}),
            patch: ("kind", json!("warning")),
            change_logged: true,
        },
        Case {
            path: "/api/extras/tags/",
            payload: |_, n| json!({"name": format!("Tag {n}"), "slug": format!("tag-{n}"), "color": "aa1409"}),
            patch: ("description", json!("changed")),
            change_logged: true,
        },
        Case {
            path: "/api/users/groups/",
            payload: |_, n| json!({"name": format!("Group {n}")}),
            patch: ("name", json!("Renamed")),
            change_logged: true,
        },
        Case {
            path: "/api/users/users/",
            payload: |_, n| json!({"username": format!("user{n}"), "password": "correct-horse", "email": format!("u{n}@example.net")}),
            patch: ("first_name", json!("Bob")),
            change_logged: true,
        },
        Case {
            path: "/api/users/permissions/",
            payload: |f, n| json!({"name": format!("Perm {n}"), "object_types": ["peering.autonomoussystem"], "actions": ["view"], "users": [f.user]}),
            patch: ("enabled", json!(false)),
            change_logged: true,
        },
    ]
}

/// Does the response carry the value the request sent?
fn echoes(sent: &Json, got: &Json) -> bool {
    match (sent, got) {
        (Json::Number(n), Json::Object(o)) if o.contains_key("id") => o["id"].as_i64() == n.as_i64(),
        (Json::String(s), Json::Object(o)) if o.contains_key("value") => o["value"] == *s,
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| echoes(x, y) || y.get("id") == Some(x))
        }
        (Json::String(s), Json::String(g)) if s.contains('-') && s.len() == 17 => {
            s.replace('-', ":").to_lowercase() == *g
        }
        _ => sent == got,
    }
}

async fn change_count(app: &TestApp, label: &str, id: i64) -> i64 {
    app.count(&format!("/api/core/object-changes/?changed_object_type={label}&changed_object_id={id}")).await
}

fn label_of(path: &str) -> String {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let m = pm_db::registry::by_api(parts[1], parts[2]).unwrap();
    m.label()
}

both!(every_model_crud, |backend| {
    let app = TestApp::new(backend).await;
    let fx = fixtures(&app).await;
    for case in cases() {
        let path = case.path;
        let label = label_of(path);
        // Create: every field sent comes back.
        let sent = (case.payload)(&fx, 1);
        let created = app.post(path, sent.clone()).await.expect(201);
        let id = created["id"].as_i64().unwrap_or_else(|| panic!("{path}: {created}"));
        for (k, v) in sent.as_object().unwrap() {
            if k == "password" {
                assert!(created.get(k).is_none(), "{path}: password must never be returned");
                continue;
            }
            assert!(echoes(v, &created[k]), "{path}: {k} sent {v}, got {}", created[k]);
        }
        assert!(created["display"].as_str().is_some_and(|d| !d.is_empty()), "{path}: display");
        assert_eq!(created["url"], json!(format!("http://testserver{path}{id}/")));

        // Read, full and brief.
        let got = app.get(&format!("{path}{id}/")).await.expect(200);
        assert_eq!(got["id"], json!(id));
        let brief = app.get(&format!("{path}?brief=1&id={id}")).await.expect(200);
        let keys: Vec<&String> = brief["results"][0].as_object().unwrap().keys().collect();
        assert!(keys.len() < created.as_object().unwrap().len(), "{path}: brief is smaller than full: {keys:?}");
        assert!(keys.iter().any(|k| *k == "display"), "{path}: brief has display");

        // PATCH one field; PUT the whole object back.
        let (field, value) = &case.patch;
        if value.is_null() {
            // Reassignment case: patch the target to the other AS instead.
        } else {
            let patched = app.patch(&format!("{path}{id}/"), json!({ *field: value })).await.expect(200);
            assert!(echoes(value, &patched[*field]), "{path}: PATCH {field} → {}", patched[*field]);
        }
        let put = app.put(&format!("{path}{id}/"), sent.clone()).await;
        assert_eq!(put.status.as_u16(), 200, "{path}: PUT: {}", put.text);

        // Bulk create, bulk update, bulk delete.
        let bulk = app.post(path, json!([(case.payload)(&fx, 2), (case.payload)(&fx, 3)])).await.expect(201);
        let ids: Vec<i64> = bulk.as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 2, "{path}: bulk create");
        if !value.is_null() && *field != "name" && *field != "value" {
            let items: Vec<Json> = ids.iter().map(|i| json!({"id": i, *field: value})).collect();
            let updated = app.patch(path, Json::Array(items)).await.expect(200);
            for o in updated.as_array().unwrap() {
                assert!(echoes(value, &o[*field]), "{path}: bulk PATCH {field}");
            }
        }
        let before = app.count(path).await;
        let items: Vec<Json> = ids.iter().map(|i| json!({"id": i})).collect();
        app.delete(path, Some(Json::Array(items))).await.expect(204);
        assert_eq!(app.count(path).await, before - 2, "{path}: bulk delete");

        // Delete; gone afterwards.
        app.delete(&format!("{path}{id}/"), None).await.expect(204);
        app.get(&format!("{path}{id}/")).await.expect(404);
        if case.change_logged {
            // create, patch, put (back to the original) and delete; a case without
            // a patch makes its PUT a no-op, which is not logged.
            // (PUT keeps fields it does not name, as in DRF.)
            let patched = !value.is_null();
            let reverted = patched && sent.get(*field).is_some_and(|v| v != value);
            let expected = 2 + patched as i64 + reverted as i64;
            assert_eq!(change_count(&app, &label, id).await, expected, "{path}: change log entries");
        }
    }
});

both!(read_only_endpoints_refuse_writes, |backend| {
    let app = TestApp::new(backend).await;
    app.post("/api/core/jobs/", json!({"name": "x"})).await.expect(405);
    app.post("/api/core/object-changes/", json!({})).await.expect(405);
    app.get("/api/core/jobs/").await.expect(200);
    app.get("/api/users/tokens/").await.expect(200);
});
