//! Issue 11, as an attacker with an ordinary account would try it: custom
//! actions check the right their effect needs, redirects stay on this site,
//! logins are throttled, HTML carries its security headers, the session
//! cookie is `Secure` over HTTPS, logout is a POST, a client behind trusted
//! proxies cannot pick its own address, and Markdown drops dangerous links.

use axum::http::Method;
use pm_jobs::{JobQueue, NewJob, SqlQueue};
use serde_json::json;

use crate::both;
use crate::harness::{Resp, TestApp};
use crate::ui_support::{Browser, admin, location};

async fn call(app: &TestApp, method: Method, path: &str, token: &str) -> u16 {
    app.request(method, path, Some(json!({})), Some(token)).await.status.as_u16()
}

/// A job about one object, pending (no worker runs in these tests).
async fn job_about(app: &TestApp, name: &str, label: &str, id: Option<i64>) -> i64 {
    let model = pm_db::registry::model(label).unwrap();
    let job =
        NewJob { object_type: Some(pm_db::registry::ct_id(model)), object_id: id, ..NewJob::new(name, json!({})) };
    SqlQueue::new(app.db.clone()).enqueue(job).await.unwrap()
}

async fn router(app: &TestApp, name: &str) -> i64 {
    let asys = app.get("/api/peering/autonomous-systems/?asn=64500").await.expect(200)["results"][0]["id"].as_i64();
    let asys = match asys {
        Some(a) => a,
        None => {
            app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Local", "affiliated": true}))
                .await
        }
    };
    app.create(
        "/api/devices/routers/",
        json!({"name": name, "hostname": format!("{name}.example.net"), "platform": 2, "local_autonomous_system": asys}),
    )
    .await
}

// ---------------------------------------------------------------- item 6

both!(sync_with_peeringdb_needs_change_on_that_as_and_runs_as_the_caller, |backend| {
    let app = TestApp::new(backend).await;
    let mine = app.create("/api/peering/autonomous-systems/", json!({"asn": 3333, "name": "Old name"})).await;
    let other = app.create("/api/peering/autonomous-systems/", json!({"asn": 2602, "name": "Other"})).await;
    crate::peers::net(&app, 1, 3333, "New name").await;
    let token = app
        .user_with(
            "syncer",
            &[
                json!({"object_types": ["peering.autonomoussystem"], "actions": ["view"]}),
                json!({"object_types": ["peering.autonomoussystem"], "actions": ["change"], "constraints": {"name": "Old name"}}),
            ],
        )
        .await;
    // Viewable, but not changeable by this user: refused, nothing written.
    let path = |id: i64| format!("/api/peering/autonomous-systems/{id}/sync-with-peeringdb/");
    assert_eq!(call(&app, Method::POST, &path(other), &token).await, 403);
    // Changeable, but the PeeringDB name would take it out of the user's
    // constraints: the update runs as the user, so it is refused.
    let s = call(&app, Method::POST, &path(mine), &token).await;
    assert_eq!(s, 204, "not synchronised");
    let a = app.get(&format!("/api/peering/autonomous-systems/{mine}/")).await.expect(200);
    assert_eq!(a["name"], "Old name", "no superuser write behind the user's back");
    // The bulk action too.
    let t = app
        .request(
            Method::POST,
            "/api/peering/autonomous-systems/sync-with-peeringdb/",
            Some(json!([mine, other])),
            Some(&token),
        )
        .await
        .expect(200);
    assert_eq!((t["updated"].clone(), t["failed"].clone()), (json!(0), json!(1)), "{t}");
    assert_eq!(app.get(&format!("/api/peering/autonomous-systems/{mine}/")).await.expect(200)["name"], "Old name");
    // The superuser's sync still works.
    assert_eq!(app.post(&path(mine), json!({})).await.status.as_u16(), 200);
    assert_eq!(app.get(&format!("/api/peering/autonomous-systems/{mine}/")).await.expect(200)["name"], "New name");
});

both!(link_to_peeringdb_needs_change_on_that_ixp, |backend| {
    let app = TestApp::new(backend).await;
    let asys = app
        .create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Local", "affiliated": true}))
        .await;
    let ix = |name: &str| json!({"name": name, "slug": name.to_lowercase(), "local_autonomous_system": asys});
    let mine = app.create("/api/peering/internet-exchanges/", ix("Mine")).await;
    let other = app.create("/api/peering/internet-exchanges/", ix("Other")).await;
    let token = app
        .user_with(
            "linker",
            &[
                json!({"object_types": ["peering.internetexchange"], "actions": ["view"]}),
                json!({"object_types": ["peering.internetexchange"], "actions": ["change"], "constraints": {"name": "Mine"}}),
            ],
        )
        .await;
    let path = |id: i64| format!("/api/peering/internet-exchanges/{id}/link-to-peeringdb/");
    assert_eq!(call(&app, Method::POST, &path(other), &token).await, 403);
    // Allowed on its own IXP (nothing to link to: 503, as in Peering Manager).
    assert_eq!(call(&app, Method::POST, &path(mine), &token).await, 503);
});

both!(webhook_test_needs_change_on_that_webhook, |backend| {
    let app = TestApp::new(backend).await;
    let hook = |name: &str| {
        json!({"name": name, "content_types": ["peering.autonomoussystem"], "type_create": true,
               "payload_url": format!("http://127.0.0.1:9/{name}")})
    };
    let mine = app.create("/api/extras/webhooks/", hook("mine")).await;
    let other = app.create("/api/extras/webhooks/", hook("other")).await;
    let token = app
        .user_with(
            "tester",
            &[
                json!({"object_types": ["extras.webhook"], "actions": ["view"]}),
                json!({"object_types": ["extras.webhook"], "actions": ["change"], "constraints": {"name": "mine"}}),
            ],
        )
        .await;
    let path = |id: i64| format!("/api/extras/webhooks/{id}/test/");
    assert_eq!(call(&app, Method::POST, &path(other), &token).await, 403);
    assert_eq!(call(&app, Method::POST, &path(mine), &token).await, 202);
});

both!(job_output_is_visible_only_with_its_object, |backend| {
    let app = TestApp::new(backend).await;
    let seen = router(&app, "seen").await;
    let hidden = router(&app, "hidden").await;
    let render = pm_jobs::render::RENDER_CONFIGURATION;
    let seen_job = job_about(&app, render, "devices.router", Some(seen)).await;
    let hidden_job = job_about(&app, render, "devices.router", Some(hidden)).await;
    let token = app
        .user_with(
            "reader",
            &[
                json!({"object_types": ["core.job"], "actions": ["view"]}),
                json!({"object_types": ["devices.router"], "actions": ["view"], "constraints": {"name": "seen"}}),
            ],
        )
        .await;
    let list = app.request(Method::GET, "/api/core/jobs/", None, Some(&token)).await.expect(200);
    let ids: Vec<i64> = list["results"].as_array().unwrap().iter().filter_map(|j| j["id"].as_i64()).collect();
    assert_eq!(ids, vec![seen_job], "{list}");
    assert_eq!(call(&app, Method::GET, &format!("/api/core/jobs/{hidden_job}/"), &token).await, 404);
    assert_eq!(call(&app, Method::GET, &format!("/api/core/jobs/{seen_job}/"), &token).await, 200);
    // The superuser sees both.
    assert_eq!(app.count("/api/core/jobs/").await, 2);
});

both!(rerun_needs_the_right_to_start_that_job_type, |backend| {
    let app = TestApp::new(backend).await;
    let mine = router(&app, "mine").await;
    let other = router(&app, "other").await;
    let render = pm_jobs::render::RENDER_CONFIGURATION;
    let mine_job = job_about(&app, render, "devices.router", Some(mine)).await;
    let other_job = job_about(&app, render, "devices.router", Some(other)).await;
    let sync_job = job_about(&app, pm_peeringdb::JOB_NAME, "peeringdb.synchronisation", None).await;
    let token = app
        .user_with(
            "rerunner",
            &[
                json!({"object_types": ["core.job"], "actions": ["view", "add"]}),
                json!({"object_types": ["devices.router"], "actions": ["view"]}),
                json!({"object_types": ["devices.router"], "actions": ["view_configuration"], "constraints": {"name": "mine"}}),
            ],
        )
        .await;
    let rerun = |id: i64| format!("/api/core/jobs/{id}/rerun/");
    assert_eq!(call(&app, Method::POST, &rerun(other_job), &token).await, 403, "no view_configuration on it");
    assert_eq!(call(&app, Method::POST, &rerun(sync_job), &token).await, 403, "PeeringDB sync is for staff");
    assert_eq!(call(&app, Method::POST, &rerun(mine_job), &token).await, 202);
    assert_eq!(app.post(&rerun(sync_job), json!({})).await.status.as_u16(), 202, "the superuser may");
});

both!(cancel_needs_change_on_that_job, |backend| {
    let app = TestApp::new(backend).await;
    let noop = SqlQueue::new(app.db.clone()).enqueue(NewJob::new("pm.noop", json!({}))).await.unwrap();
    let sleep = SqlQueue::new(app.db.clone()).enqueue(NewJob::new("pm.sleep", json!({}))).await.unwrap();
    let token = app
        .user_with(
            "canceller",
            &[
                json!({"object_types": ["core.job"], "actions": ["view"]}),
                json!({"object_types": ["core.job"], "actions": ["change"], "constraints": {"name": "pm.noop"}}),
            ],
        )
        .await;
    let cancel = |id: i64| format!("/api/core/jobs/{id}/cancel/");
    assert_eq!(call(&app, Method::POST, &cancel(sleep), &token).await, 403);
    assert_eq!(app.get(&format!("/api/core/jobs/{sleep}/")).await.expect(200)["status"]["value"], "pending");
    assert_eq!(call(&app, Method::POST, &cancel(noop), &token).await, 200);
});

// ---------------------------------------------------------------- item 7

both!(redirects_stay_on_this_site, |backend| {
    let app = TestApp::new(backend).await;
    // The trailing-slash fallback.
    for path in ["//evil.example/x", "///evil.example/x", "//evil.example"] {
        let r = app.raw(Method::GET, path, None, None, &[]).await;
        let to = location(&r);
        assert!(r.status.is_redirection(), "{path}: {}", r.status);
        assert!(to.starts_with('/') && !to.starts_with("//"), "{path} → {to}");
    }
    // `next` after login, and `return_url` of a form.
    for next in [
        "/\t/evil.example/",
        "/\\evil.example/",
        "\\/evil.example/",
        "/\n/evil.example",
        "/\r\nX-Evil: 1",
        "//evil.example",
    ] {
        let mut b = Browser::new(&app);
        b.get("/login/").await;
        let r = b.post("/login/", &[("username", "admin"), ("password", "admin-password"), ("next", next)]).await;
        assert_eq!(r.status.as_u16(), 303, "{next:?}: {}", r.text);
        assert_eq!(location(&r), "/", "{next:?}");
        // Logged in, the login page sends `next` straight on.
        let q = serde_urlencoded::to_string([("next", next)]).unwrap();
        let r = b.get(&format!("/login/?{q}")).await;
        assert_eq!((r.status.as_u16(), location(&r)), (303, "/".to_string()), "{next:?}");
        b.page("/").await;
        let r = b.post("/user/preferences/", &[("toggle_theme", "dark"), ("return_url", next)]).await;
        assert_eq!((r.status.as_u16(), location(&r)), (303, "/user/preferences/".to_string()), "{next:?}");
    }
});

// ---------------------------------------------------------------- item 8

async fn login_status(app: &TestApp, username: &str, password: &str) -> (u16, Option<String>) {
    let mut b = Browser::new(app);
    b.get("/login/").await;
    let r = b.post("/login/", &[("username", username), ("password", password), ("next", "/")]).await;
    let retry = r.headers.get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (r.status.as_u16(), retry)
}

both!(failed_logins_lock_the_account_then_the_address, |backend| {
    let app = TestApp::new(backend).await;
    app.create("/api/users/users/", json!({"username": "bob", "password": "bob-password-1"})).await;
    for _ in 0..5 {
        assert_eq!(login_status(&app, "admin", "wrong").await.0, 200, "wrong password: the form again");
    }
    // Locked now, even with the right password; another account is not.
    let (status, retry) = login_status(&app, "admin", "admin-password").await;
    assert_eq!(status, 429);
    assert!(retry.unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(login_status(&app, "bob", "bob-password-1").await.0, 303);
    // Unknown users count as failures of this address: past the address
    // limit nobody logs in from it.
    for i in 0..20 {
        let s = login_status(&app, &format!("nobody{i}"), "guess").await.0;
        assert!(s == 200 || s == 429, "{s}");
    }
    assert_eq!(login_status(&app, "bob", "bob-password-1").await.0, 429);
    // API tokens are not logins: they keep working.
    app.get("/api/status/").await.expect(200);
});

both!(a_login_flood_gets_answers_not_errors, |backend| {
    let app = TestApp::new(backend).await;
    let attempts = (0..24).map(|i| {
        let app = &app;
        async move { login_status(app, &format!("flood{}", i % 6), "guess").await.0 }
    });
    for s in futures::future::join_all(attempts).await {
        assert!(s == 200 || s == 429, "{s}");
    }
    app.get("/api/status/").await.expect(200);
});

// ---------------------------------------------------------------- Low

both!(html_pages_carry_security_headers_and_no_inline_script, |backend| {
    let app = TestApp::new(backend).await;
    let asys = app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Local"})).await;
    let mut b = admin(&app).await;
    for path in [
        "/login/",
        "/",
        "/autonomous-systems/",
        &format!("/autonomous-systems/{asys}/"),
        "/no-such-page/x/",
        "/autonomous-systems/999999/",
        "/api/docs/",
    ] {
        let r = if path == "/login/" { Browser::new(&app).get(path).await } else { b.get(path).await };
        let h = |k: &str| r.headers.get(k).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert!(!h("referrer-policy").is_empty(), "{path}");
        if h("content-type").starts_with("text/html") {
            let csp = h("content-security-policy");
            assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(!csp.split(';').any(|d| d.trim().starts_with("script-src") && d.contains("unsafe")), "{csp}");
            assert_eq!(h("x-frame-options"), "DENY", "{path}");
            // Our own pages need no inline script.
            let lower = r.text.to_lowercase();
            assert!(!lower.contains("javascript:"), "{path}");
            for tag in lower.split("<script").skip(1) {
                assert!(tag.split('>').next().unwrap().contains("src="), "inline script on {path}");
            }
            for attr in [" onclick=", " onchange=", " onsubmit=", " onload=", " oninput="] {
                assert!(!lower.contains(attr), "{attr} on {path}");
            }
        }
    }
});

fn session_cookie(r: &Resp) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("pm_session="))
        .unwrap()
}

/// Log in as admin with these extra request headers (as a proxy would add).
async fn login_with(app: &TestApp, headers: &[(&str, &str)]) -> Resp {
    let r = app.raw(Method::GET, "/login/", None, None, headers).await;
    let csrf = crate::ui_support::input_value(&r.text, "csrfmiddlewaretoken").unwrap();
    let body = crate::ui_support::form_body(&[
        ("csrfmiddlewaretoken", &csrf),
        ("username", "admin"),
        ("password", "admin-password"),
    ]);
    let cookie = format!("pm_csrf={csrf}");
    let mut h = headers.to_vec();
    h.push(("cookie", &cookie));
    h.push(("content-type", "application/x-www-form-urlencoded"));
    app.raw(Method::POST, "/login/", Some(body), None, &h).await
}

both!(session_cookie_is_secure_over_https, |backend| {
    let trusted = pm_web::WebConfig {
        trusted_proxies: pm_web::WebConfig::parse_trusted_proxies("127.0.0.0/8"),
        ..Default::default()
    };
    let app = TestApp::with(backend, trusted, Default::default()).await;
    let r = login_with(&app, &[("x-forwarded-proto", "https")]).await;
    assert!(session_cookie(&r).contains("; Secure"), "behind a trusted HTTPS proxy");
    let r = login_with(&app, &[]).await;
    assert!(!session_cookie(&r).contains("Secure"), "plain HTTP in development");

    // A client cannot claim HTTPS without a trusted proxy; PM_SECURE_COOKIES forces it.
    let plain = TestApp::new(backend).await;
    let r = login_with(&plain, &[("x-forwarded-proto", "https")]).await;
    assert!(!session_cookie(&r).contains("Secure"));
    let forced =
        TestApp::with(backend, pm_web::WebConfig { secure_cookies: true, ..Default::default() }, Default::default())
            .await;
    let r = login_with(&forced, &[]).await;
    assert!(session_cookie(&r).contains("; Secure"));
});

both!(logout_is_a_post_with_the_csrf_token, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = admin(&app).await;
    let home = b.page("/").await;
    assert!(home.contains("action=\"/logout/\""), "the menu logs out with a form");
    // A link or an <img src> elsewhere cannot log the user out.
    let r = b.get("/logout/").await;
    assert_eq!(r.status.as_u16(), 405);
    let r = b
        .send(Method::POST, "/logout/", Some(b"".to_vec()), &[("content-type", "application/x-www-form-urlencoded")])
        .await;
    assert_eq!(r.status.as_u16(), 403);
    b.page("/").await;
    let r = b.post("/logout/", &[]).await;
    assert_eq!((r.status.as_u16(), location(&r)), (303, "/login/".to_string()));
    assert!(!b.has_session());
    assert_eq!(b.get("/").await.status.as_u16(), 303, "session ended");
});

async fn status_via(app: &TestApp, token: &str, xff: &str) -> u16 {
    let headers: Vec<(&str, &str)> = if xff.is_empty() { vec![] } else { vec![("x-forwarded-for", xff)] };
    app.raw(Method::GET, "/api/status/", None, Some(token), &headers).await.status.as_u16()
}

both!(proxy_headers_cannot_spoof_a_tokens_allowed_ips, |backend| {
    let web = pm_web::WebConfig {
        trusted_proxies: pm_web::WebConfig::parse_trusted_proxies("127.0.0.0/8, 10.0.0.0/8"),
        ..Default::default()
    };
    let app = TestApp::with(backend, web, Default::default()).await;
    let uid = app.get("/api/users/users/?username=admin").await.expect(200)["results"][0]["id"].as_i64().unwrap();
    let token =
        pm_db::auth::create_token(&app.db.conn, uid, true, None, "", Some(vec!["192.0.2.0/24".into()])).await.unwrap();
    // The real client, as our proxies saw it.
    assert_eq!(status_via(&app, &token, "192.0.2.5").await, 200);
    assert_eq!(status_via(&app, &token, "192.0.2.5, 10.1.1.1").await, 200, "through two trusted proxies");
    // A client elsewhere writing an allowed address first: the proxy appended the real one.
    assert_eq!(status_via(&app, &token, "192.0.2.5, 198.51.100.7").await, 403);
    assert_eq!(status_via(&app, &token, "").await, 403, "the proxy itself is not allowed");
    // Without trusted proxies, headers are ignored.
    let plain = TestApp::new(backend).await;
    let uid = plain.get("/api/users/users/?username=admin").await.expect(200)["results"][0]["id"].as_i64().unwrap();
    let t = pm_db::auth::create_token(&plain.db.conn, uid, true, None, "", Some(vec!["192.0.2.0/24".into()]))
        .await
        .unwrap();
    let r = plain.raw(Method::GET, "/api/status/", None, Some(&t), &[("x-forwarded-for", "192.0.2.5")]).await;
    assert_eq!(r.status.as_u16(), 403);
});

both!(markdown_drops_data_and_vbscript_links, |backend| {
    let app = TestApp::new(backend).await;
    let comments = "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [b](vbscript:msgbox(1)) \
                    [c](java\tscript:alert(1)) [d](JavaScript:alert(1)) ![e](data:image/svg+xml,x) \
                    [ok](https://example.net/) [rel](/autonomous-systems/)";
    let asys = app
        .create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Local", "comments": comments}))
        .await;
    let mut b = admin(&app).await;
    let page = b.page(&format!("/autonomous-systems/{asys}/")).await.to_lowercase();
    for bad in ["data:text", "data:image", "vbscript:", "javascript:", "java\tscript:"] {
        assert!(!page.contains(&format!("=\"{bad}")), "{bad} survived");
    }
    assert!(page.contains("href=\"https://example.net/\"") && page.contains("href=\"/autonomous-systems/\""));
});
