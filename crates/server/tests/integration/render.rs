//! Configuration rendering: Peering Manager's example templates against the
//! demo network (golden outputs), every filter, and the endpoints.

use std::path::PathBuf;

use pm_render::{RenderError, Source};
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

fn fixture(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/templates");
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/integration/golden").join(format!("{name}.txt"))
}

/// Compare with the reviewed output; `PM_UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var("PM_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing golden {}", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).map(|l| l + 1);
        panic!("{name}: output differs from {} (first difference at line {line:?})", path.display());
    }
}

async fn id_of(app: &TestApp, path: &str) -> i64 {
    app.get(path).await.expect(200)["results"][0]["id"].as_i64().unwrap()
}

/// The demo network plus what the example templates look for beyond it.
async fn demo(app: &TestApp) -> i64 {
    assert!(pm_db::demo::load(&app.db, &pm_db::Settings::default()).await.unwrap());
    let as_id = id_of(app, "/api/peering/autonomous-systems/?asn=65020").await;
    let city = app
        .create("/api/extras/tags/", json!({"name": "peer-source-frankfurt", "slug": "peer-source-frankfurt"}))
        .await;
    app.patch(&format!("/api/peering/autonomous-systems/{as_id}/"), json!({"tags": [city]})).await.expect(200);
    let s = id_of(app, "/api/peering/internet-exchange-peering-sessions/?autonomous_system_asn=65020&limit=1").await;
    app.patch(&format!("/api/peering/internet-exchange-peering-sessions/{s}/"), json!({"tags": [city]}))
        .await
        .expect(200);
    app.create(
        "/api/bgp/communities/",
        json!({"name": "Frankfurt peers", "slug": "peers-frankfurt", "value": "200249:1:49"}),
    )
    .await;
    for (name, file) in [
        ("GITHUB Nokia SROS Default config", "nokia-sros-default-config.j2"),
        ("GITHUB Nokia SROS Sub - BGP Groups", "nokia-sros-sub-bgp-groups.j2"),
        ("GITHUB Nokia SROS Sub - BGP Neighbors", "nokia-sros-sub-bgp-neighbors.j2"),
        ("GITHUB Nokia SROS Sub - Route Policy", "nokia-sros-sub-route-policy.j2"),
        ("GITHUB Nokia SROS Sub - Route Policy Communities", "nokia-sros-sub-route-policy-communities.j2"),
        ("GITHUB Nokia SROS Sub - Route Policy Prefix Lists", "nokia-sros-sub-route-policy-prefix-lists.j2"),
    ] {
        app.create("/api/devices/configurations/", json!({"name": name, "template": fixture(file)})).await;
    }
    id_of(app, "/api/devices/routers/?name=edge1").await
}

async fn render(app: &TestApp, router: i64, text: &str) -> Result<String, RenderError> {
    let src = Source { name: "test".into(), text: text.into(), trim: false, lstrip: false };
    pm_render::render_router(&app.db, router, Some(src)).await.map(|r| r.unwrap().text)
}

both!(example_templates, |backend| {
    let app = TestApp::new(backend).await;
    let edge1 = demo(&app).await;
    for name in [
        "cisco-iosxr",
        "cisco-iosxr-as196610",
        "juniper-junos",
        "nokia-sros-main",
        "tutorial-cisco-ios",
        "tutorial-cisco-iosxr",
        "tutorial-vyos",
    ] {
        let src = Source { name: name.into(), text: fixture(&format!("{name}.j2")), trim: false, lstrip: false };
        let out = pm_render::render_router(&app.db, edge1, Some(src)).await;
        let out = match out {
            Ok(Some(r)) => r,
            other => panic!("{name}: {other:?}"),
        };
        assert!(out.text.lines().count() > 20, "{name} rendered almost nothing");
        golden(name, &out.text);
    }
    // Broken in the original too: `session` is used outside its loop.
    let src = Source { name: "arista-eos".into(), text: fixture("arista-eos.j2"), trim: false, lstrip: false };
    match pm_render::render_router(&app.db, edge1, Some(src)).await {
        Err(RenderError::Template(e)) => {
            assert_eq!((e.template.as_str(), e.line), ("arista-eos", Some(8)), "{e}");
        }
        other => panic!("arista-eos must fail clearly: {other:?}"),
    }
});

both!(filters, |backend| {
    let app = TestApp::new(backend).await;
    let edge1 = demo(&app).await;
    let cases: &[(&str, &str)] = &[
        ("{{ 'Téle_à_çiu' | safe_string }}", "Tele_a_ciu"),
        ("{{ 'x' | quote }}|{{ none | quote }}|{{ 0 | quote }}|{{ 'x' | quote('--') }}", "\"x\"|||--x--"),
        ("{{ 'a\nb\n\nc' | indent(2) }}", "  a\n  b\n  \n  c"),
        ("{{ '  a\n   b' | indent(1, reset=true) }}", " a\n b"),
        (
            "{{ '2001:db8::1/64' | ipv6 }}|{{ '192.0.2.1' | ipv6 }}|{{ '192.0.2.1' | ipv4 }}",
            "2001:db8::1/64|None|192.0.2.1",
        ),
        (
            "{{ '192.0.2.1/24' | ip }}|{{ ['10.0.0.1/8', '2001:db8::1'] | ip | join(',') }}",
            "192.0.2.1|10.0.0.1,2001:db8::1",
        ),
        (
            "{{ 'AA-BB-CC-DD-EE-FF' | mac }}|{{ 'aabb.ccdd.eeff' | mac('bare') }}|{{ 'aa:bb:cc:dd:ee:ff' | mac('cisco') }}",
            "aa:bb:cc:dd:ee:ff|aabbccddeeff|aabb.ccdd.eeff",
        ),
        ("{{ '7 0822455D0A16' | cisco_password }}|{{ 'plain' | arista_password }}", "0822455D0A16|plain"),
        ("{{ router | connections | length }}|{{ router | connections | count }}", "2|2"),
        ("{{ router | direct_sessions | length }}|{{ router | direct_sessions(family=6) | length }}", "3|1"),
        ("{{ router | ixp_sessions | length }}|{{ router | ixp_sessions(family=4) | len }}", "20|10"),
        (
            "{% for ixp in internet_exchange_points %}{{ ixp.slug }}={{ ixp | sessions | length }}/{{ ixp | route_server | length }} {% endfor %}",
            "demo-ix=20/4 metro-ix=10/2 ",
        ),
        ("{{ router | ixp_sessions(ixp=(internet_exchange_points | last)) | length }}", "10"),
        (
            "{{ communities | get(slug='c-large') }}|{{ communities | filter(type='egress') | length }}",
            "Large peering|2",
        ),
        (
            "{{ communities.filter(slug='c-ext').first().value }}|{{ communities.filter(slug='nope').first() is none }}",
            "target:64500:100|True",
        ),
        ("{{ autonomous_systems | iterate('asn') | join(',') }}", "65010,65020,65030,65040,65050"),
        ("{{ autonomous_systems | unique_items('affiliated') | length }}", "1"),
        (
            "{{ router | bfds | join }}|{{ router | direct_peers | join(';') }}",
            "Fast|AS65010 - Transit One;AS65030 - Régional ISP",
        ),
        (
            "{{ router | direct_peers('private-peering') | length }}|{{ router | direct_peers('no-such-group') | length }}",
            "1|2",
        ),
        ("{{ router | ixp_peers('metro-ix') | length }}", "5"),
        (
            "{% set a = autonomous_systems | first %}{{ a | has_tag('filter-prefixes') }}{{ a | has_not_tag('dont-export') }}{{ a | tags | join(',') }}",
            "TrueTruefilter-prefixes,origin-validation",
        ),
        (
            "{{ router | context_has_key('ntp') }}|{{ router | context_get_key('hold') }}|{{ router | context_get_key('nope', 'dflt') }}|{{ router | context_has_not_key('comm-deny-to') }}",
            "True|180|dflt|False",
        ),
        ("{{ router | context_get_key('comm-deny-to', recursive=false) }}", "None"),
        (
            "{% set a = autonomous_systems | first %}{{ (a | prefix_list(4))[0].prefix }}|{{ (a | prefix_list)['ipv6'][0]['exact'] }}|{{ a | as_list | join }}",
            "198.18.10.0/24|True|65010",
        ),
        ("{{ 'RIPE::AS-ONE, AS-TWO AS-ONE' | strip_irr_sources | join(',') }}", "AS-ONE,AS-TWO"),
        ("{{ (autonomous_systems | first) | relationships | join }}", "Transit Provider"),
        (
            "{{ (internet_exchange_points | first) | local_ips | join(',') }}|{{ (internet_exchange_points | first) | local_ips(6) | join(',') }}",
            "192.0.2.10/24,2001:db8:ae::10/64,192.0.2.11/24,2001:db8:ae::11/64|2001:db8:ae::10/64,2001:db8:ae::11/64",
        ),
        (
            "{% for s in router | direct_sessions(family=4) %}{{ s | local_ips }} {{ s | ip }} {{ s | ip_version }} {{ s | max_prefix }};{% endfor %}",
            "203.0.113.0/31 203.0.113.1 4 900000;203.0.113.2/31 203.0.113.3 4 20;",
        ),
        (
            "{% set s = router | ixp_sessions(family=6) | first %}{{ s | merge_communities | join(',') }}",
            "Peering learnt,Do not export",
        ),
        (
            "{% set s = router | ixp_sessions(family=6) | first %}{{ s | merge_import_policies | join(',') }}|{{ s | merge_export_policies('reverse') | join(',') }}",
            "Accept peering|Announce own prefixes",
        ),
        (
            "{{ (autonomous_systems | first) | contact('noc', 'email') }}|{{ (autonomous_systems | last) | contact('noc') }}",
            "noc@transit-one.example|None",
        ),
        (
            "{{ routing_policies | join(',') }}|{{ router | routing_policies('slug', family=6) | join(',') }}",
            "Accept peering,Accept transit,Announce own prefixes,Reject IPv6 bogons|p-peering-in,p-transit-in,p-own-out,p-bogons-v6",
        ),
        (
            "{% set a = autonomous_systems[2] %}{{ a | iter_import_policies('slug') | join }}|{{ a | iter_export_policies(family=0) | length }}",
            "p-peering-in|1",
        ),
        ("{{ (autonomous_systems | first) | ixps(local_as) | join(',') }}", "Demo-IX,Metro-IX"),
        ("{{ {'b': [1, 'x'], 'a': {'c': none}} | as_yaml }}", "a:\n  c: null\nb:\n- 1\n- x\n"),
        ("{{ router | communities('value') | join }}|{{ router | communities | join }}", "64500:666|Do not export"),
        ("{{ router | inherited_status }}|{{ (router | connections | first) | inherited_status }}", "enabled|enabled"),
        (
            "{{ local_as.is_private }}|{{ router.platform.napalm_driver }}|{{ router.config_context.ntp[0] }}",
            "True|junos|192.0.2.123",
        ),
        (
            "{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}|{{ none is iterable }}|{{ 'a-b-c'.split('-')[-1] }}",
            "ba|False|c",
        ),
        (
            "{% set l = [] %}{% set _ = l.append(1) %}{% set _ = l.append(2) %}{{ l | join(',') }}|{{ l | length }}",
            "1,2|2",
        ),
        ("{{ now('%Y') | length }}", "4"),
    ];
    for (tpl, expected) in cases {
        let out = render(&app, edge1, tpl).await.unwrap_or_else(|e| panic!("{tpl}: {e}"));
        assert_eq!(&out, expected, "template: {tpl}");
    }
    // as_json: Django's serialization, sorted keys, the indent asked for.
    let out = render(&app, edge1, "{{ communities | get(slug='c-transit') | as_json(indent=2) }}").await.unwrap();
    assert!(out.starts_with("{\n  \"created\": "), "{out}");
    let mut parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    parsed.as_object_mut().unwrap().remove("created");
    assert_eq!(
        parsed,
        json!({"description": "", "local_context_data": null, "name": "Transit learnt", "slug": "c-transit",
               "tags": ["normal-community"], "type": "ingress", "value": "64500:1"})
    );
    // Maintenance on the IXP is inherited by its connections and sessions.
    let ixp = id_of(&app, "/api/peering/internet-exchanges/?q=demo-ix").await;
    app.patch(&format!("/api/peering/internet-exchanges/{ixp}/"), json!({"status": "maintenance"})).await.expect(200);
    let out = render(&app, edge1, "{{ (router | ixp_sessions(ixp=(internet_exchange_points | first))) | map('inherited_status') | unique | join }}").await;
    assert_eq!(out.unwrap(), "maintenance");

    let errors: &[(&str, &str)] = &[
        ("{{ 5 | safe_string }}", "safe_string"),
        ("{{ 'x' | indent }}", "indent"),
        ("{{ 'notanip' | ip }}", "notanip"),
        ("{{ router | sessions }}", "direct_sessions"),
        ("{{ local_as | ip_version }}", "bgp session"),
        ("line one\n{{ router | nosuchfilter }}", "nosuchfilter"),
        ("{% for x in %}", "syntax"),
        ("{{ communities | get(slug='nope') | length }}", ""),
    ];
    for (tpl, fragment) in &errors[..7] {
        match render(&app, edge1, tpl).await {
            Err(RenderError::Template(e)) => {
                assert!(e.line.is_some(), "{tpl}: no line in {e}");
                assert!(e.to_string().to_lowercase().contains(&fragment.to_lowercase()), "{tpl}: {e}");
            }
            other => panic!("{tpl} must fail: {other:?}"),
        }
    }
    let e = render(&app, edge1, "line one\n{{ router | nosuchfilter }}").await.unwrap_err();
    assert!(matches!(e, RenderError::Template(ref t) if t.line == Some(2)), "{e}");
    assert_eq!(render(&app, edge1, errors[7].0).await.unwrap(), "0");
});

both!(endpoints_and_includes, |backend| {
    let app = TestApp::new(backend).await;
    let edge1 = demo(&app).await;
    // The API queues a job and answers 202 with it; a worker renders it.
    let job = app.get(&format!("/api/devices/routers/{edge1}/configuration/")).await.expect(202);
    assert_eq!(job["name"], "devices.router.render_configuration");
    assert_eq!(job["status"]["value"], "pending");
    assert_eq!(job["object_type"], "devices.router");
    assert_eq!(job["object_id"], edge1);
    assert_eq!(job["user"]["username"], "admin");
    let engine =
        pm_jobs::Engine::start(app.db.clone(), crate::jobs::fast_config(), pm_jobs::Registry::builtin(), false)
            .await
            .unwrap();
    let job = finished(&app, &job).await;
    assert_eq!(job["status"]["value"], "completed");
    assert!(job["output"].as_str().unwrap().contains("autonomous-system 64500;"));
    let log: Vec<&str> =
        job["data"]["main"]["log"].as_array().unwrap().iter().map(|l| l[4].as_str().unwrap()).collect();
    assert_eq!(log, ["Rendering router configuration.", "Router configuration rendered."]);
    // POST does the same.
    let posted = app.post(&format!("/api/devices/routers/{edge1}/configuration/"), json!({})).await.expect(202);
    assert_eq!(finished(&app, &posted).await["output"], job["output"]);
    let raw = app.get(&format!("/api/devices/routers/{edge1}/configuration/?raw")).await;
    assert_eq!(raw.status, 200);
    assert!(raw.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(raw.text, job["output"].as_str().unwrap());

    // An included configuration by name, and a syntax error inside it named precisely.
    app.create(
        "/api/devices/configurations/",
        json!({"name": "Snippet", "template": "hostname {{ router.hostname }}"}),
    )
    .await;
    let broken =
        app.create("/api/devices/configurations/", json!({"name": "Broken", "template": "ok\n{% if %}"})).await;
    let main = app
        .create("/api/devices/configurations/", json!({"name": "Main", "template": "{% include_configuration \"Snippet\" %}\n{%- include_configuration 'Broken' %}"}))
        .await;
    app.patch(&format!("/api/devices/routers/{edge1}/"), json!({"configuration_template": main})).await.expect(200);
    // The job errs, with the template, line and message in its log and data; no output pretends
    // to be a configuration. `?raw` answers 400 with the same.
    let r = app.get(&format!("/api/devices/routers/{edge1}/configuration/")).await.expect(202);
    let r = finished(&app, &r).await;
    assert_eq!(r["status"]["value"], "errored");
    assert_eq!(r["data"]["error"]["template"], "configuration::Broken");
    assert_eq!(r["data"]["error"]["line"], 2);
    let line = r["data"]["main"]["log"][1][4].as_str().unwrap();
    assert!(line.starts_with("Template error:") && line.contains("Broken") && line.contains("at line 2"), "{line}");
    assert!(!r["output"].as_str().unwrap().contains("hostname"), "{r}");
    let raw = app.get(&format!("/api/devices/routers/{edge1}/configuration/?raw")).await.expect(400);
    assert_eq!(raw["template"], "configuration::Broken");
    assert_eq!(raw["line"], 2);
    assert!(raw["detail"].as_str().unwrap().contains("Broken"));
    app.patch(
        &format!("/api/devices/configurations/{broken}/"),
        json!({"template": "-{{ router | connections | length }}"}),
    )
    .await
    .expect(200);
    let raw = app.get(&format!("/api/devices/routers/{edge1}/configuration/?raw")).await;
    assert_eq!(raw.text, "hostname edge1.demo.example-2");

    // E-mails render with the AS context; export templates with the dataset.
    let email = id_of(&app, "/api/messaging/emails/?q=Peering").await;
    let peer = id_of(&app, "/api/peering/autonomous-systems/?asn=65010").await;
    let mail = app
        .post(&format!("/api/peering/autonomous-systems/{peer}/generate-email/"), json!({"email": email}))
        .await
        .expect(200);
    assert_eq!(mail["subject"], "Peering request from AS64500");
    assert!(mail["body"].as_str().unwrap().contains("We already meet at Demo-IX."), "{mail}");
    app.post(&format!("/api/peering/autonomous-systems/{peer}/generate-email/"), json!({"email": 9999}))
        .await
        .expect(404);
    let export = app
        .create("/api/extras/export-templates/", json!({"name": "ASNs", "content_type": "peering.autonomoussystem", "template": "{% for a in dataset %}{{ a.asn }} {% endfor %}"}))
        .await;
    let r = app.get(&format!("/api/extras/export-templates/{export}/render-synchronous/")).await.expect(200);
    assert_eq!(r["rendered"], "64500 65010 65020 65030 65040 65050 ");
    let j = app.get(&format!("/api/extras/export-templates/{export}/render/")).await.expect(202);
    assert_eq!(j["name"], "extras.exporttemplate.render");
    assert_eq!(finished(&app, &j).await["output"], "64500 65010 65020 65030 65040 65050 ");

    // Rendering needs its own permission.
    let viewer = app.user_with("viewer", &[json!({"object_types": ["devices.router"], "actions": ["view"]})]).await;
    app.request(axum::http::Method::GET, &format!("/api/devices/routers/{edge1}/configuration/"), None, Some(&viewer))
        .await
        .expect(403);
    engine.stop().await;
});

/// The job once a worker has finished it (its API representation).
async fn finished(app: &TestApp, job: &serde_json::Value) -> serde_json::Value {
    let url = format!("/api/core/jobs/{}/", job["id"]);
    let t = std::time::Instant::now();
    loop {
        let j = app.get(&url).await.expect(200);
        if !matches!(j["status"]["value"].as_str(), Some("pending" | "scheduled" | "running")) {
            return j;
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(60), "job never finished: {j}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

both!(queries_stay_constant, |backend| {
    // Adding sessions must not add statements: relations load in batches.
    let app = TestApp::new(backend).await;
    let edge1 = demo(&app).await;
    let tpl = fixture("juniper-junos.j2");
    let src = || Source { name: "junos".into(), text: tpl.clone(), trim: false, lstrip: false };
    let before = pm_render::render_router(&app.db, edge1, Some(src())).await.unwrap().unwrap();
    let cx = id_of(&app, "/api/net/connections/?router_name=edge1&internet_exchange_point=Metro-IX").await;
    let asn = id_of(&app, "/api/peering/autonomous-systems/?asn=65010").await;
    let items: Vec<_> = (0..40).map(|i| json!({"autonomous_system": asn, "ixp_connection": cx, "ip_address": format!("198.51.100.{}", 100 + i)})).collect();
    app.post("/api/peering/internet-exchange-peering-sessions/", json!(items)).await.expect(201);
    let after = pm_render::render_router(&app.db, edge1, Some(src())).await.unwrap().unwrap();
    assert!(after.text.len() > before.text.len());
    assert_eq!(before.queries, after.queries, "statements grew with the number of sessions");
    assert!(after.queries <= 20, "{} statements (target: 20)", after.queries);
});

both!(cache_reads_stay_constant, |backend| {
    // What templates ask of the PeeringDB cache per session or per AS is
    // computed for all of them at once, not once each.
    let app = TestApp::new(backend).await;
    let edge1 = demo(&app).await;
    let tpl = "{% for ixp in internet_exchange_points %}{% for s in router | ixp_sessions(ixp=ixp) %}\
               {{ s.exists_in_peeringdb }}{{ s.is_abandoned }}{{ s.autonomous_system.peeringdb_network }}\n\
               {% endfor %}{% endfor %}";
    let src = || Source { name: "cache".into(), text: tpl.into(), trim: false, lstrip: false };
    let cx = id_of(&app, "/api/net/connections/?router_name=edge1&internet_exchange_point=Metro-IX").await;
    // Public ASNs (the demo's are private, never looked up): one before, twenty after.
    let peers = |range: std::ops::Range<i64>| {
        let app = &app;
        async move {
            let mut items = vec![];
            for i in range {
                let a = app
                    .create(
                        "/api/peering/autonomous-systems/",
                        json!({"asn": 210_000 + i, "name": format!("Peer {i}")}),
                    )
                    .await;
                items.push(json!({"autonomous_system": a, "ixp_connection": cx, "ip_address": format!("198.51.100.{}", 100 + i)}));
            }
            app.post("/api/peering/internet-exchange-peering-sessions/", json!(items)).await.expect(201);
        }
    };
    peers(0..1).await;
    let before = pm_render::render_router(&app.db, edge1, Some(src())).await.unwrap().unwrap();
    peers(1..21).await;
    let after = pm_render::render_router(&app.db, edge1, Some(src())).await.unwrap().unwrap();
    assert_eq!(after.text.lines().count(), before.text.lines().count() + 20, "{}", after.text);
    assert_eq!(before.queries, after.queries, "statements grew with the number of sessions and ASes");
});

both!(router_configuration_tab, |backend| {
    let app = TestApp::new(backend).await;
    let edge1 = demo(&app).await;
    let mut browser = crate::ui_support::admin(&app).await;
    let page = browser.page(&format!("/devices/routers/{edge1}/")).await;
    let nav = page.split("<nav class=\"tabs\">").nth(1).unwrap_or("").split("</nav>").next().unwrap_or("");
    assert!(nav.contains(">Configuration</a>"), "the router page links its Configuration tab: {nav}");
    let tab = browser.page(&format!("/devices/routers/{edge1}/configuration/")).await;
    assert!(tab.contains("autonomous-system 64500;"), "the tab shows the rendered configuration");
    assert!(tab.contains("data-copy=\"rendered-configuration\"") && tab.contains("download=\"edge1.conf\""));
    // A broken template shows where it broke, not a configuration.
    let broken = app
        .create("/api/devices/configurations/", json!({"name": "Broken", "template": "ok\n{{ router | nope }}"}))
        .await;
    app.patch(&format!("/api/devices/routers/{edge1}/"), json!({"configuration_template": broken})).await.expect(200);
    let tab = browser.page(&format!("/devices/routers/{edge1}/configuration/")).await;
    assert!(tab.contains("Template error") && tab.contains("line 2"), "{tab}");
    // Without the permission there is no tab.
    app.user_with("viewer", &[json!({"object_types": ["devices.router"], "actions": ["view"]})]).await;
    let mut viewer = crate::ui_support::Browser::new(&app);
    assert_eq!(viewer.login("viewer", "a-long-password").await.status.as_u16(), 303);
    let page = viewer.page(&format!("/devices/routers/{edge1}/")).await;
    assert!(page.contains("edge1"), "the viewer sees the router page");
    assert!(!page.contains(">Configuration</a>"), "no Configuration tab without permission");
    assert_eq!(viewer.get(&format!("/devices/routers/{edge1}/configuration/")).await.status.as_u16(), 404);
});

both!(template_editor_previews_unsaved_text, |backend| {
    let app = TestApp::new(backend).await;
    let edge1 = demo(&app).await;
    let edge2 = id_of(&app, "/api/devices/routers/?name=edge2").await;
    let router = app.get(&format!("/api/devices/routers/{edge1}/")).await.expect(200);
    let config = router["configuration_template"]["id"].as_i64().unwrap();
    let before = app.get(&format!("/api/devices/configurations/{config}/")).await.expect(200);

    // The API renders unsaved text against a router: text, variables; nothing written.
    let r = app
        .post(
            "/api/render/preview/",
            json!({"kind": "configuration", "router": edge1,
            "template": "host {{ router.hostname }} as {{ local_as.asn }}"}),
        )
        .await
        .expect(200);
    assert_eq!(r["rendered"], "host edge1.demo.example as 64500");
    let names: Vec<&str> = r["variables"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "router",
            "local_as",
            "autonomous_systems",
            "bgp_groups",
            "internet_exchange_points",
            "communities",
            "routing_policies"
        ]
    );
    assert!(r["variables"][0]["fields"].as_array().unwrap().iter().any(|f| f == "hostname"), "{r}");
    // An error names its line (the variables still come back).
    let e = app
        .post(
            "/api/render/preview/",
            json!({"kind": "configuration", "router": edge2, "name": "draft",
            "template": "line one\nline two\n{{ router | no_such_filter }}"}),
        )
        .await
        .expect(400);
    assert_eq!(e["line"], 3);
    assert_eq!(e["template"], "configuration::draft");
    assert!(e["message"].as_str().unwrap().contains("no_such_filter"), "{e}");
    assert_eq!(e["variables"].as_array().unwrap().len(), 7);
    // E-mails against an AS, with the subject; exports over the type's objects.
    let peer = id_of(&app, "/api/peering/autonomous-systems/?asn=65010").await;
    let m = app
        .post(
            "/api/render/preview/",
            json!({"kind": "email", "autonomous_system": peer,
            "subject": "Hello AS{{ autonomous_system.asn }}", "template": "{{ autonomous_system.name }}"}),
        )
        .await
        .expect(200);
    assert_eq!(m["subject"], "Hello AS65010");
    let x = app
        .post(
            "/api/render/preview/",
            json!({"kind": "export", "content_type": "peering.autonomoussystem",
            "template": "{{ dataset | length }}"}),
        )
        .await
        .expect(200);
    assert_eq!(x["rendered"], "6");
    let bad = app.post("/api/render/preview/", json!({"kind": "configuration", "template": "x"})).await.expect(400);
    assert_eq!(bad["router"][0], "This field is required.");
    assert_eq!(app.get(&format!("/api/devices/configurations/{config}/")).await.expect(200), before, "nothing saved");
    // Rendering a router's configuration needs view_configuration, as everywhere.
    let viewer = app
        .user_with(
            "viewer",
            &[json!({"object_types": ["devices.router", "devices.configuration"], "actions": ["view"]})],
        )
        .await;
    app.request(
        axum::http::Method::POST,
        "/api/render/preview/",
        Some(json!({"kind": "configuration", "router": edge1, "template": "{{ router.napalm_password }}"})),
        Some(&viewer),
    )
    .await
    .expect(403);

    // The editor page: the text, a preview against a router using it, the variables; Save writes.
    let mut b = crate::ui_support::admin(&app).await;
    let detail = b.page(&format!("/devices/configurations/{config}/")).await.replace("&#x2f;", "/");
    assert!(detail.contains(&format!("href=\"/devices/configurations/{config}/editor/\"")));
    let page = b.page(&format!("/devices/configurations/{config}/editor/")).await;
    assert!(page.contains("autonomous-system 64500;"), "preview rendered at once");
    assert!(page.contains(&format!("<option value=\"{edge1}\" selected>edge1</option>")), "a router using it");
    assert!(page.contains("<code>internet_exchange_points</code>"));
    let r = b
        .post(
            &format!("/devices/configurations/{config}/editor/?router={edge2}"),
            &[("template", "a\n{{ router.name }}\n{% if %}")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303);
    let page = b.page(&format!("/devices/configurations/{config}/editor/?router={edge2}")).await;
    assert!(page.contains("Template saved."));
    assert!(page.contains("<span class=\"err\">3</span>"), "the error's line is marked");
    assert!(page.contains(", line 3: "), "{page}");
    assert_eq!(
        app.get(&format!("/api/devices/configurations/{config}/")).await.expect(200)["template"],
        "a\n{{ router.name }}\n{% if %}"
    );
    b.post(&format!("/devices/configurations/{config}/editor/"), &[("template", "{{ router.name }}!")]).await;
    let page = b.page(&format!("/devices/configurations/{config}/editor/?router={edge2}")).await;
    assert!(page.contains("<pre class=\"json\" id=\"tpl-preview\">edge2!</pre>"), "{page}");

    // E-mail editor: a chosen AS, the subject rendered too.
    let email = id_of(&app, "/api/messaging/emails/?q=Peering").await;
    let page = b.page(&format!("/messaging/emails/{email}/editor/?autonomous_system={peer}")).await;
    assert!(page.contains("Peering request from AS64500"), "subject preview");
    assert!(page.contains("<code>affiliated_autonomous_systems</code>"));
});

both!(list_pages_export_through_export_templates, |backend| {
    let app = TestApp::new(backend).await;
    demo(&app).await;
    let export = app
        .create(
            "/api/extras/export-templates/",
            json!({"name": "ASN list", "content_type": "peering.autonomoussystem",
            "template": "{% for a in dataset %}AS{{ a.asn }}\n{% endfor %}"}),
        )
        .await;
    app.create(
        "/api/extras/export-templates/",
        json!({"name": "Routers", "content_type": "devices.router",
        "template": "{{ dataset | length }}"}),
    )
    .await;
    let mut b = crate::ui_support::admin(&app).await;
    let page = b.page("/autonomous-systems/?asn__gte=65020").await.replace("&#x2f;", "/").replace("&amp;", "&");
    // The menu lists this model's templates only, with the current filters.
    assert!(page.contains(&format!("href=\"/autonomous-systems/?asn__gte=65020&export_template={export}\"")), "{page}");
    assert!(page.contains(" download>ASN list</a>") && !page.contains(" download>Routers</a>"));
    let r = b.get(&format!("/autonomous-systems/?asn__gte=65020&export_template={export}")).await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.headers["content-disposition"], "attachment; filename=\"ASN_list.txt\"");
    assert_eq!(r.text, "AS65020\nAS65030\nAS65040\nAS65050\n");
    // Another model's template is not offered here; a broken one names its line.
    let routers = id_of(&app, "/api/extras/export-templates/?name=Routers").await;
    assert_eq!(b.get(&format!("/autonomous-systems/?export_template={routers}")).await.status.as_u16(), 404);
    app.patch(&format!("/api/extras/export-templates/{export}/"), json!({"template": "ok\n{{ dataset | nope }}"}))
        .await
        .expect(200);
    let r = b.get(&format!("/autonomous-systems/?export_template={export}")).await;
    assert_eq!(r.status.as_u16(), 400);
    assert!(r.text.contains("line 2"), "{}", r.text);
});
