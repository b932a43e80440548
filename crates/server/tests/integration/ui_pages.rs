//! What a newcomer and a peering engineer meet in their first hour: error
//! pages, page sizes, object pages, tabs, forms, pickers and the change log.

use crate::both;
use crate::harness::TestApp;
use crate::ui_support::{admin, location};

both!(unknown_addresses_get_the_styled_404_page, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = admin(&app).await;
    let r = b.get("/no/such/page/").await;
    assert_eq!(r.status.as_u16(), 404);
    let page = r.text.replace("&#x2f;", "/");
    assert!(page.contains("<title>Not found · Peering Manager</title>") && page.contains("Page not found."), "{page}");
    assert!(page.contains("href=\"/autonomous-systems/\""), "with the sidebar: {page}");
    // The API keeps its JSON answer.
    let r = b.get("/api/no-such-app/").await;
    assert_eq!(r.status.as_u16(), 404);
    assert!(r.text.starts_with('{'), "{}", r.text);
    // Peering Manager's address of the Swagger UI.
    let r = b.get("/api/schema/swagger-ui/").await;
    assert_eq!(r.status.as_u16(), 308);
    assert_eq!(location(&r), "/api/docs/");
});

both!(the_page_size_in_use_is_offered, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = admin(&app).await;
    // The default (PM_PAGINATE_COUNT, 20) is one of the sizes to choose from, marked current.
    let page = b.page("/autonomous-systems/").await;
    assert!(page.contains("Per page: <strong>20</strong> <a"), "{page}");
    let page = b.page("/autonomous-systems/?per_page=50").await;
    assert!(page.contains("Per page: <a"), "20 is no longer in use: {page}");
    assert!(page.contains("<strong>50</strong>"));
});

both!(router_configuration_tab_and_template_page, |backend| {
    let app = TestApp::new(backend).await;
    assert!(pm_db::demo::load(&app.db, &pm_db::Settings::default()).await.unwrap());
    let mut b = admin(&app).await;
    let router = app.get("/api/devices/routers/?name=edge1").await.expect(200)["results"][0]["id"].as_i64().unwrap();
    let page = b.page(&format!("/devices/routers/{router}/configuration/")).await;
    assert!(page.contains("autonomous-system 64500;"));
    assert!(!page.contains("SQL statements"), "a debug detail, not for users");
    // The template of a configuration spans the page, below the attributes.
    let tpl = app.get("/api/devices/configurations/").await.expect(200)["results"][0]["id"].as_i64().unwrap();
    let page = b.page(&format!("/devices/configurations/{tpl}/")).await;
    assert!(page.contains("<section class=\"card wide\"><h2>Template</h2>"), "{page}");
});

/// The demo network, and a logged-in superuser.
async fn demo(app: &TestApp) {
    assert!(pm_db::demo::load(&app.db, &pm_db::Settings::default()).await.unwrap());
}

async fn id_of(app: &TestApp, list: &str) -> i64 {
    app.get(list).await.expect(200)["results"][0]["id"].as_i64().unwrap()
}

both!(sessions_are_told_apart_and_deletes_say_what_goes_along, |backend| {
    let app = TestApp::new(backend).await;
    demo(&app).await;
    let mut b = admin(&app).await;
    // Search: the same session address on two routers, each with its router.
    let page = b.page("/search/?q=192.0.2.20").await;
    assert!(page.contains("on edge1") && page.contains("on edge2"), "{page}");
    // Bulk delete confirmation of IXP sessions: each with its router.
    let ids: Vec<i64> =
        app.get("/api/peering/internet-exchange-peering-sessions/?q=192.0.2.20").await.expect(200)["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["ip_address"] == "192.0.2.20")
            .map(|s| s["id"].as_i64().unwrap())
            .collect();
    assert_eq!(ids.len(), 2);
    let (a, c) = (ids[0].to_string(), ids[1].to_string());
    let r = b.post("/internet-exchange-peering-sessions/delete/", &[("pk", &a), ("pk", &c)]).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(r.text.contains("Demo-IX - AS65010 - IP 192.0.2.20 on edge1"), "{}", r.text);
    assert!(r.text.contains("Demo-IX - AS65010 - IP 192.0.2.20 on edge2"), "{}", r.text);
    // Deleting an AS: what goes with it is counted.
    let asys = id_of(&app, "/api/peering/autonomous-systems/?asn=65010").await;
    let page = b.page(&format!("/autonomous-systems/{asys}/delete/")).await;
    assert!(page.contains("<li>6 internet exchange peering sessions</li>"), "{page}");
    assert!(page.contains("<li>2 direct peering sessions</li>"), "{page}");
    assert!(page.contains("<li>1 contact assignment</li>"), "{page}");
});

both!(session_tabs_forms_and_router_jobs, |backend| {
    let app = TestApp::new(backend).await;
    demo(&app).await;
    let mut b = admin(&app).await;
    // A new AS and a new IXP: their session tabs are there, empty, with "+ Add".
    let asys = app.create("/api/peering/autonomous-systems/", serde_json::json!({"asn": 64496, "name": "New"})).await;
    let page = b.page(&format!("/autonomous-systems/{asys}/")).await.replace("&#x2f;", "/");
    assert!(page.contains(&format!("href=\"/autonomous-systems/{asys}/direct-peering-sessions/\"")), "{page}");
    assert!(page.contains(&format!("href=\"/autonomous-systems/{asys}/internet-exchange-peering-sessions/\"")));
    let local = id_of(&app, "/api/peering/autonomous-systems/?asn=64500").await;
    let ixp = app
        .create(
            "/api/peering/internet-exchanges/",
            serde_json::json!({"name": "New-IX", "slug": "new-ix", "local_autonomous_system": local}),
        )
        .await;
    // (with a connection: the sessions filter of an IXP without any is another fix's)
    let router = id_of(&app, "/api/devices/routers/?name=edge1").await;
    let conn = serde_json::json!({"internet_exchange_point": ixp, "router": router, "ipv4_address": "203.0.113.9/24"});
    app.create("/api/net/connections/", conn).await;
    let page = b.page(&format!("/internet-exchanges/{ixp}/")).await.replace("&#x2f;", "/");
    assert!(
        page.contains(&format!(
            "href=\"/internet-exchanges/{ixp}/peering-sessions/\" class=\"\">Peering sessions <span class=\"count\">0</span>"
        )),
        "{page}"
    );
    let tab = b
        .page(&format!("/internet-exchanges/{ixp}/peering-sessions/"))
        .await
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    let add = format!("/internet-exchange-peering-sessions/add/?internet_exchange={ixp}&return_url=");
    assert!(tab.contains(&add), "{tab}");

    // The IXP session form: an IXP field (filled in from the tab) that narrows the connections.
    let demo_ix = id_of(&app, "/api/peering/internet-exchanges/?q=Demo-IX").await;
    let form = b.page(&format!("/internet-exchange-peering-sessions/add/?internet_exchange={demo_ix}")).await;
    assert!(form.contains("name=\"internet_exchange\" id=\"id_internet_exchange\""), "{form}");
    assert!(form.contains(&format!("<option value=\"{demo_ix}\" selected>Demo-IX</option>")), "{form}");
    assert!(form.contains("data-narrow-by=\"id_internet_exchange\" data-narrow-param=\"internet_exchange_point_id\""));
    assert!(form.find("id=\"id_internet_exchange\"") < form.find("id=\"id_ixp_connection\""), "IXP first");
    // What the picker then asks for: the connections at that IXP only.
    let conns =
        app.get(&format!("/api/net/connections/?brief=1&internet_exchange_point_id={demo_ix}")).await.expect(200);
    assert_eq!(conns["count"], 2);
    // Polled values are not for forms (nor bulk edit).
    for f in [
        "bgp_state",
        "received_prefix_count",
        "accepted_prefix_count",
        "advertised_prefix_count",
        "last_established_state",
    ] {
        assert!(!form.contains(&format!("name=\"{f}\"")), "{f} in the IXP session form");
    }
    let session = id_of(&app, "/api/peering/internet-exchange-peering-sessions/").await.to_string();
    let bulk = b.post("/internet-exchange-peering-sessions/edit/", &[("pk", &session)]).await;
    assert!(!bulk.text.contains("name=\"bgp_state\""), "bulk edit: {}", bulk.text);
    // The field is the form's only: a session is created without it mattering.
    let conn = id_of(&app, &format!("/api/net/connections/?internet_exchange_point_id={demo_ix}")).await.to_string();
    let r = b
        .post(
            "/internet-exchange-peering-sessions/add/",
            &[
                ("internet_exchange", &demo_ix.to_string()),
                ("ixp_connection", &conn),
                ("autonomous_system", &asys.to_string()),
                ("ip_address", "192.0.2.99"),
                ("status", "enabled"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);

    // The direct session form: its connection picker follows the router.
    let form = b.page("/direct-peering-sessions/add/").await;
    assert!(form.contains("data-narrow-by=\"id_router\" data-narrow-param=\"router_id\""), "{form}");
    assert!(!form.contains("name=\"bgp_state\""));

    // A router's jobs, on its Jobs tab.
    let job = app.get(&format!("/api/devices/routers/{router}/configuration/")).await.expect(202);
    let page = b.page(&format!("/devices/routers/{router}/jobs/")).await.replace("&#x2f;", "/");
    assert!(page.contains(&format!("href=\"/core/jobs/{}/\"", job["id"])), "{page}");
    let other = id_of(&app, "/api/devices/routers/?name=edge2").await;
    let page = b.page(&format!("/devices/routers/{other}/jobs/")).await.replace("&#x2f;", "/");
    assert!(!page.contains(&format!("href=\"/core/jobs/{}/\"", job["id"])), "only this router's jobs");
});

both!(the_change_log_names_related_objects, |backend| {
    let app = TestApp::new(backend).await;
    demo(&app).await;
    let mut b = admin(&app).await;
    let asys = id_of(&app, "/api/peering/autonomous-systems/?asn=65010").await;
    // Created: the policies by name, and no "before" side.
    let tab = b.page(&format!("/autonomous-systems/{asys}/changelog/")).await;
    assert!(tab.contains("<th>import_routing_policies</th><td class=\"new\">Accept peering</td>"), "{tab}");
    assert!(!tab.contains("class=\"arrow\""), "{tab}");
    // Changed: both sides by name, "—" for none.
    app.patch(&format!("/api/peering/autonomous-systems/{asys}/"), serde_json::json!({"import_routing_policies": []}))
        .await
        .expect(200);
    let tab = b.page(&format!("/autonomous-systems/{asys}/changelog/")).await;
    assert!(
        tab.contains("<td class=\"old\">Accept peering</td><td class=\"arrow\">→</td><td class=\"new\">—</td>"),
        "{tab}"
    );
    // The change's own page: no pre-change card for a creation.
    let change = app.get("/api/core/object-changes/?action=create&limit=1").await.expect(200)["results"][0]["id"]
        .as_i64()
        .unwrap();
    let page = b.page(&format!("/core/changelog/{change}/")).await;
    assert!(!page.contains("Pre-change data") && page.contains("Post-change data"), "{page}");
});

both!(yes_no_values_and_date_filters_read_the_same_everywhere, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = admin(&app).await;
    let profile = b.page("/user/profile/").await;
    assert!(
        profile.contains("<tr><th>Superuser</th><td><span class=\"yes\" title=\"Yes\">✔</span></td></tr>"),
        "{profile}"
    );
    assert!(
        profile.contains("<tr><th>Staff</th><td><span class=\"yes\" title=\"Yes\">✔</span></td></tr>"),
        "{profile}"
    );
    // The job list's date filters say which date they are about.
    let jobs = b.page("/core/jobs/").await;
    for label in ["Created after", "Created before", "Started after", "Completed before"] {
        assert!(jobs.contains(&format!(">{label}</label>")), "{label}: {jobs}");
    }
    let changes = b.page("/core/changelog/").await;
    assert!(changes.contains(">After</label>") && changes.contains(">Before</label>"), "{changes}");
});
