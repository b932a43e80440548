//! Rendering as an attacker with an ordinary account would try it: templates
//! see only what their user may view (secrets blank without `view_secrets`),
//! includes cannot loop or nest without end, and no template can run, write
//! or hold the server without limit.

use axum::http::Method;
use serde_json::{Value as Json, json};

use crate::both;
use crate::harness::TestApp;

async fn first_id(app: &TestApp, path: &str) -> i64 {
    app.get(path).await.expect(200)["results"][0]["id"].as_i64().unwrap()
}

/// Demo network; a direct session with a password on edge1, edge1 with a NAPALM password.
/// Returns (the session's AS, the session).
async fn secrets(app: &TestApp) -> (i64, i64) {
    assert!(pm_db::demo::load(&app.db, &pm_db::Settings::default()).await.unwrap());
    let edge1 = first_id(app, "/api/devices/routers/?name=edge1").await;
    app.patch(&format!("/api/devices/routers/{edge1}/"), json!({"napalm_password": "napalm-secret"})).await.expect(200);
    let session = app
        .get(&format!("/api/peering/direct-peering-sessions/?router_id={edge1}&limit=1"))
        .await
        .expect(200)["results"][0]
        .clone();
    let id = session["id"].as_i64().unwrap();
    app.patch(&format!("/api/peering/direct-peering-sessions/{id}/"), json!({"password": "direct-secret"}))
        .await
        .expect(200);
    (session["autonomous_system"]["id"].as_i64().unwrap(), id)
}

async fn post_as(app: &TestApp, token: &str, path: &str, body: Json) -> crate::harness::Resp {
    app.request(Method::POST, path, Some(body), Some(token)).await
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> crate::harness::Resp {
    app.request(Method::GET, path, None, Some(token)).await
}

const LEAKY_EMAIL: &str = "{% for s in autonomous_system.get_direct_peering_sessions() %}\
[{{ s.password }}|{{ s.router.napalm_password }}]{% endfor %}\
affiliated:{% for a in affiliated_autonomous_systems %}{{ a.asn }},{% endfor %}";

both!(templates_see_only_what_their_user_may_view, |backend| {
    let app = TestApp::new(backend).await;
    let (peer, _) = secrets(&app).await;
    let peer_asn = app.get(&format!("/api/peering/autonomous-systems/{peer}/")).await.expect(200)["asn"].clone();
    let passwords = app
        .create(
            "/api/extras/export-templates/",
            json!({"name": "Passwords", "content_type": "peering.directpeeringsession",
                   "template": "{% for s in dataset %}{{ s.password }};{% endfor %}"}),
        )
        .await;
    let ases = app
        .create(
            "/api/extras/export-templates/",
            json!({"name": "ASNs", "content_type": "peering.autonomoussystem",
                   "template": "{% for a in dataset %}{{ a.asn }} {% endfor %}"}),
        )
        .await;

    // A superuser sees everything: the exploits below do reach the secrets.
    let email = json!({"kind": "email", "autonomous_system": peer, "template": LEAKY_EMAIL});
    let admin = app.post("/api/render/preview/", email.clone()).await.expect(200);
    let text = admin["rendered"].as_str().unwrap();
    assert!(text.contains("[direct-secret|napalm-secret]") && text.contains("affiliated:64500,"), "{text}");

    // A user who may preview e-mails, view sessions, routers and export
    // templates, and only the one AS: no secret, no other AS.
    let user = app
        .user_with(
            "mailer",
            &[
                json!({"object_types": ["messaging.email", "peering.directpeeringsession", "devices.router",
                                        "extras.exporttemplate"], "actions": ["view"]}),
                json!({"object_types": ["peering.autonomoussystem"], "actions": ["view"],
                       "constraints": {"asn": peer_asn}}),
            ],
        )
        .await;
    let r = post_as(&app, &user, "/api/render/preview/", email.clone()).await.expect(200);
    let text = r["rendered"].as_str().unwrap();
    assert!(!text.contains("secret"), "secrets leaked: {text}");
    assert!(text.contains("[|]"), "the session and its router are visible, their secrets empty: {text}");
    assert!(text.ends_with("affiliated:"), "an AS outside the view constraints leaked: {text}");

    // An included export template renders with the same eyes.
    let include =
        json!({"kind": "email", "autonomous_system": peer, "template": "{% include 'exporttemplate::Passwords' %}"});
    let r = post_as(&app, &user, "/api/render/preview/", include.clone()).await.expect(200);
    assert!(!r["rendered"].as_str().unwrap().contains("secret"), "{r}");
    assert!(r["rendered"].as_str().unwrap().contains(';'), "the sessions are there: {r}");
    assert!(
        app.post("/api/render/preview/", include).await.expect(200)["rendered"]
            .as_str()
            .unwrap()
            .contains("direct-secret")
    );

    // render-synchronous: needs view on the template's model, shows only what the user may view.
    let only_templates =
        app.user_with("templates", &[json!({"object_types": ["extras.exporttemplate"], "actions": ["view"]})]).await;
    get_as(&app, &only_templates, &format!("/api/extras/export-templates/{ases}/render-synchronous/"))
        .await
        .expect(403);
    get_as(&app, &only_templates, &format!("/api/extras/export-templates/{passwords}/render-synchronous/"))
        .await
        .expect(403);
    let r = get_as(&app, &user, &format!("/api/extras/export-templates/{ases}/render-synchronous/")).await.expect(200);
    assert_eq!(r["rendered"], json!(format!("{peer_asn} ")));
    let r =
        get_as(&app, &user, &format!("/api/extras/export-templates/{passwords}/render-synchronous/")).await.expect(200);
    assert!(
        !r["rendered"].as_str().unwrap().contains("secret") && r["rendered"].as_str().unwrap().contains(';'),
        "{r}"
    );

    // With view_secrets on sessions, the session password shows (the router's still not).
    let trusted = app
        .user_with(
            "trusted",
            &[
                json!({"object_types": ["messaging.email", "devices.router", "peering.autonomoussystem"], "actions": ["view"]}),
                json!({"object_types": ["peering.directpeeringsession"], "actions": ["view", "view_secrets"]}),
            ],
        )
        .await;
    let r = post_as(&app, &trusted, "/api/render/preview/", email).await.expect(200);
    assert!(r["rendered"].as_str().unwrap().contains("[direct-secret|]"), "{r}");

    // Jobs render as the user who queued them.
    let engine = worker(&app).await;
    let job = get_as(&app, &user, &format!("/api/extras/export-templates/{passwords}/render/")).await.expect(202);
    let done = finished(&app, &job).await;
    assert_eq!(done["status"]["value"], "completed", "{done}");
    let output = done["output"].as_str().unwrap();
    assert!(output.contains(';') && !output.contains("secret"), "{done}");
    let job = app.get(&format!("/api/extras/export-templates/{passwords}/render/")).await.expect(202);
    assert!(finished(&app, &job).await["output"].as_str().unwrap().contains("direct-secret"));
    engine.stop().await;
});

both!(configurations_render_as_their_user, |backend| {
    let app = TestApp::new(backend).await;
    let (_, _) = secrets(&app).await;
    let edge1 = first_id(&app, "/api/devices/routers/?name=edge1").await;
    let cfg = app
        .create(
            "/api/devices/configurations/",
            json!({"name": "Leaky", "template": "{{ router.napalm_password }}|{% for a in autonomous_systems %}{{ a.asn }},{% endfor %}"}),
        )
        .await;
    app.patch(&format!("/api/devices/routers/{edge1}/"), json!({"configuration_template": cfg})).await.expect(200);
    let everything = app.get(&format!("/api/devices/routers/{edge1}/configuration/?raw")).await.text;
    assert!(everything.starts_with("napalm-secret|") && everything.matches(',').count() > 1, "{everything}");

    let user = app
        .user_with(
            "operator",
            &[
                json!({"object_types": ["devices.router"], "actions": ["view", "view_configuration"]}),
                json!({"object_types": ["devices.configuration", "peering.directpeeringsession",
                                        "peering.internetexchangepeeringsession", "net.connection"], "actions": ["view"]}),
                json!({"object_types": ["peering.autonomoussystem"], "actions": ["view"], "constraints": {"asn__gte": 65030}}),
            ],
        )
        .await;
    let raw = get_as(&app, &user, &format!("/api/devices/routers/{edge1}/configuration/?raw")).await;
    assert_eq!(raw.status, 200, "{}", raw.text);
    assert!(raw.text.starts_with('|'), "NAPALM password leaked: {}", raw.text);
    let asns: Vec<i64> = raw.text[1..].split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    assert!(!asns.is_empty() && asns.iter().all(|a| *a >= 65030), "{}", raw.text);

    // A router's template the user may not view is refused, not rendered (nor silently empty).
    let blind = app
        .user_with("blind", &[json!({"object_types": ["devices.router"], "actions": ["view", "view_configuration"]})])
        .await;
    get_as(&app, &blind, &format!("/api/devices/routers/{edge1}/configuration/?raw")).await.expect(403);

    // The queued job renders as the operator too.
    let engine = worker(&app).await;
    let job = get_as(&app, &user, &format!("/api/devices/routers/{edge1}/configuration/")).await.expect(202);
    let done = finished(&app, &job).await;
    assert_eq!(done["output"].as_str().unwrap_or(""), raw.text, "{done}");
    engine.stop().await;
});

async fn worker(app: &TestApp) -> pm_jobs::Engine {
    pm_jobs::Engine::start(app.db.clone(), crate::jobs::fast_config(), pm_jobs::Registry::builtin(), false)
        .await
        .unwrap()
}

async fn finished(app: &TestApp, job: &Json) -> Json {
    let url = format!("/api/core/jobs/{}/", job["id"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let j = app.get(&url).await.expect(200);
        if !matches!(j["status"]["value"].as_str(), Some("pending" | "scheduled" | "running")) {
            return j;
        }
        assert!(std::time::Instant::now() < deadline, "job never finished: {j}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

both!(include_loops_are_template_errors, |backend| {
    let app = TestApp::new(backend).await;
    // An export template including itself used to overflow the stack and kill the process.
    let selfish = app
        .create(
            "/api/extras/export-templates/",
            json!({"name": "Selfish", "content_type": "peering.autonomoussystem",
                   "template": "x{% include 'exporttemplate::Selfish' %}"}),
        )
        .await;
    let r = app.get(&format!("/api/extras/export-templates/{selfish}/render-synchronous/")).await.expect(400);
    let detail = r["detail"].as_str().unwrap();
    assert!(detail.contains("include loop: exporttemplate::Selfish -> exporttemplate::Selfish"), "{r}");

    // Every kind of include shares the chain: configuration -> e-mail -> configuration.
    app.create("/api/devices/configurations/", json!({"name": "A", "template": "{% include_email 'B' %}"})).await;
    app.create(
        "/api/messaging/emails/",
        json!({"name": "B", "subject": "s", "template": "{% include 'configuration::A' %}"}),
    )
    .await;
    assert!(pm_db::demo::load(&app.db, &pm_db::Settings::default()).await.unwrap());
    let edge1 = first_id(&app, "/api/devices/routers/?name=edge1").await;
    let r = app
        .post(
            "/api/render/preview/",
            json!({"kind": "configuration", "router": edge1, "name": "top", "template": "{% include_configuration 'A' %}"}),
        )
        .await
        .expect(400);
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("include loop: configuration::top -> configuration::A -> email::B -> configuration::A"),
        "{r}"
    );

    // A chain without a loop stops at the shared depth limit.
    for i in 0..15 {
        app.create(
            "/api/devices/configurations/",
            json!({"name": format!("L{i}"), "template": format!("{i}{{% include_configuration 'L{}' %}}", i + 1)}),
        )
        .await;
    }
    let r = app
        .post(
            "/api/render/preview/",
            json!({"kind": "configuration", "router": edge1, "template": "{% include_configuration 'L0' %}"}),
        )
        .await
        .expect(400);
    assert!(r["detail"].as_str().unwrap().contains("includes nested deeper than 10 levels"), "{r}");

    // Legitimate repeated includes still work (the same template twice is no loop).
    app.create("/api/devices/configurations/", json!({"name": "Leaf", "template": "leaf"})).await;
    let r = app
        .post(
            "/api/render/preview/",
            json!({"kind": "configuration", "router": edge1,
                   "template": "{% include_configuration 'Leaf' %}+{% include 'configuration::Leaf' %}"}),
        )
        .await
        .expect(200);
    assert_eq!(r["rendered"], "leaf+leaf");
});

both!(renders_stop_at_their_limits, |backend| {
    let app = TestApp::new(backend).await;
    assert!(pm_db::demo::load(&app.db, &pm_db::Settings::default()).await.unwrap());
    let edge1 = first_id(&app, "/api/devices/routers/?name=edge1").await;
    let preview = |template: &str| json!({"kind": "configuration", "router": edge1, "template": template});

    // Endless work: out of fuel, a template error (it used to run on after the client left).
    let r = app
        .post(
            "/api/render/preview/",
            preview("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
        )
        .await
        .expect(400);
    assert!(r["detail"].as_str().unwrap().contains("PM_RENDER_FUEL"), "{r}");

    // Endless output: stopped at the output cap, nothing held.
    let r = app
        .post("/api/render/preview/", preview("{% for i in range(20) %}{{ 'x' * 50000000 }}{% endfor %}"))
        .await
        .expect(400);
    assert!(r["detail"].as_str().unwrap().contains("PM_RENDER_MAX_OUTPUT_BYTES"), "{r}");

    // The same through a queued job: the job errs with the reason.
    let cfg =
        app.create("/api/devices/configurations/", json!({"name": "Huge", "template": "{{ 'x' * 50000000 }}"})).await;
    app.patch(&format!("/api/devices/routers/{edge1}/"), json!({"configuration_template": cfg})).await.expect(200);
    let engine = worker(&app).await;
    let job = app.get(&format!("/api/devices/routers/{edge1}/configuration/")).await.expect(202);
    let done = finished(&app, &job).await;
    engine.stop().await;
    assert_eq!(done["status"]["value"], "errored", "{done}");
    assert!(done["data"]["error"]["message"].as_str().unwrap().contains("PM_RENDER_MAX_OUTPUT_BYTES"), "{done}");

    // An ordinary render still works afterwards.
    let r = app.post("/api/render/preview/", preview("{{ router.name }}")).await.expect(200);
    assert_eq!(r["rendered"], "edge1");
});
