//! The web UI through the real router, as a browser uses it: login, every
//! page of every model, forms, permissions, search, change log, preferences,
//! tokens, bulk operations, import and export.

use axum::http::Method;
use serde_json::json;

use crate::both;
use crate::harness::TestApp;
use crate::ui_support::{Browser, admin, every_model, location, tab_links};

both!(login_is_required_and_logout_ends_the_session, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = Browser::new(&app);
    let r = b.get("/autonomous-systems/?asn=1").await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(location(&r), "/login/?next=%2Fautonomous-systems%2F%3Fasn%3D1");
    let page = b.page("/login/").await;
    assert!(page.contains("name=\"password\""));

    let r = b.login("admin", "wrong").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.text.contains("Please enter a correct username and password"));
    assert!(!b.has_session());

    // A login form without the matching CSRF cookie is refused.
    let mut other = Browser::new(&app);
    let r = other.post("/login/", &[("username", "admin"), ("password", "admin-password")]).await;
    assert!(r.text.contains("Please try again"));
    assert!(!other.has_session());

    let r = b.login("admin", "admin-password").await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(location(&r), "/");
    assert!(b.has_session());
    let home = b.page("/").await;
    assert!(home.contains("Welcome, admin"));
    assert!(home.contains("Autonomous Systems"), "sidebar");

    // `next` is followed, but only to our own pages.
    let mut c = Browser::new(&app);
    c.get("/login/?next=/bgp-groups/").await;
    let r = c.post("/login/", &[("username", "admin"), ("password", "admin-password"), ("next", "/bgp-groups/")]).await;
    assert_eq!(location(&r), "/bgp-groups/");
    let mut d = Browser::new(&app);
    d.get("/login/").await;
    let r = d
        .post("/login/", &[("username", "admin"), ("password", "admin-password"), ("next", "https://evil.example/")])
        .await;
    assert_eq!(location(&r), "/");

    let r = b.post("/logout/", &[]).await;
    assert_eq!(location(&r), "/login/");
    assert!(!b.has_session());
    let r = b.get("/").await;
    assert_eq!(r.status.as_u16(), 303, "session ended");
});

both!(every_page_of_every_model_renders_for_a_superuser, |backend| {
    let app = TestApp::new(backend).await;
    let objects = every_model(&app).await;
    let mut b = admin(&app).await;
    for (path, id) in &objects {
        let model = pm_web::ui::meta::ui_models().find(|m| pm_web::ui::meta::ui_path(m) == Some(path)).unwrap();
        let meta = pm_web::ui::meta::meta(model);
        let display = app.get(&format!("{}{id}/", model.api_list_path())).await.expect(200)["display"]
            .as_str()
            .unwrap()
            .to_string();
        let escaped = display.replace('&', "&amp;").replace('<', "&lt;").replace('/', "&#x2f;");
        if meta.list {
            let list = b.page(path).await;
            let title = meta.title.map(str::to_string).unwrap_or_else(|| pm_web::ui::meta::title(model.verbose_plural));
            assert!(list.contains(&format!("<h1>{title}</h1>")), "{path} title");
            assert!(list.contains(&format!("value=\"{id}\"")) || !list.contains("name=\"pk\""), "{path} row");
            let csv = b.get(&format!("{path}?export=csv")).await;
            assert_eq!(csv.status.as_u16(), 200, "{path} export");
            assert!(csv.text.starts_with("id,"), "{path} csv header: {}", csv.text);
            assert!(csv.text.lines().count() >= 2, "{path} csv rows");
        }
        if meta.detail {
            let detail = b.page(&format!("{path}{id}/")).await;
            assert!(detail.contains(&escaped) || detail.contains(&display), "{path}{id}/ shows {display}");
            for tab in tab_links(&detail) {
                let page = b.page(&tab).await;
                assert!(page.contains("class=\"tabs\""), "{tab}");
            }
        }
        if model.writable() {
            let edit = b.page(&format!("{path}{id}/edit/")).await;
            assert!(edit.contains("<form method=\"post\" class=\"edit-form\""), "{path} edit form");
            b.page(&format!("{path}{id}/delete/")).await;
            if meta.add {
                let add = b.page(&format!("{path}add/")).await;
                assert!(add.contains(&format!("Add a new {}", model.verbose)), "{path} add");
                b.page(&format!("{path}import/")).await;
            }
        }
    }
    // Sessions of an IXP are found through its connections.
    let ixp = objects.iter().find(|(p, _)| *p == "/internet-exchanges/").unwrap().1;
    let tab = b.page(&format!("/internet-exchanges/{ixp}/peering-sessions/")).await;
    assert!(tab.contains("192.0.2.77"), "the IXP's session is listed");
    assert!(tab.contains("Peering sessions <span class=\"count\">1</span>"));
    // The other pages.
    for page in [
        "/",
        "/search/?q=a",
        "/user/profile/",
        "/user/preferences/",
        "/user/password/",
        "/user/api-tokens/",
        "/user/api-tokens/add/",
    ] {
        b.page(page).await;
    }
    let r = b.get("/autonomous-systems/999999/").await;
    assert_eq!(r.status.as_u16(), 404);
    assert!(r.text.contains("Not found"));
});

both!(pages_are_refused_without_permission, |backend| {
    let app = TestApp::new(backend).await;
    let objects = every_model(&app).await;
    app.create("/api/users/users/", json!({"username": "bob", "password": "bob-password-1"})).await;
    let mut b = Browser::new(&app);
    assert_eq!(b.login("bob", "bob-password-1").await.status.as_u16(), 303);
    let home = b.page("/").await;
    assert!(!home.contains("class=\"counter card\""), "no counters without permissions");
    for (path, id) in &objects {
        let model = pm_web::ui::meta::ui_models().find(|m| pm_web::ui::meta::ui_path(m) == Some(path)).unwrap();
        let meta = pm_web::ui::meta::meta(model);
        let mut pages = vec![format!("{path}{id}/delete/")];
        if meta.list {
            pages.push(path.to_string());
        }
        if meta.detail {
            pages.push(format!("{path}{id}/"));
            pages.push(format!("{path}{id}/changelog/"));
        }
        if model.writable() {
            pages.push(format!("{path}{id}/edit/"));
            if meta.add {
                pages.push(format!("{path}add/"));
            }
        }
        for p in pages {
            let r = b.get(&p).await;
            assert_eq!(r.status.as_u16(), 403, "{p} must be refused");
            assert!(r.text.contains("Permission denied"));
        }
        let r = b.post(&format!("{path}delete/"), &[("pk", &id.to_string()), ("_confirm", "1")]).await;
        assert_eq!(r.status.as_u16(), 403, "bulk delete {path}");
    }
    // A view permission opens the list and the detail page, not the forms.
    let token =
        app.user_with("carol", &[json!({"object_types": ["peering.autonomoussystem"], "actions": ["view"]})]).await;
    drop(token);
    let carol = app.get("/api/users/users/?username=carol").await.expect(200)["results"][0]["id"].as_i64().unwrap();
    app.patch(&format!("/api/users/users/{carol}/"), json!({"password": "carol-password-1"})).await.expect(200);
    let mut c = Browser::new(&app);
    c.login("carol", "carol-password-1").await;
    let list = c.page("/autonomous-systems/").await;
    assert!(!list.contains("+ Add"), "no add button without add permission");
    c.page(&format!("/autonomous-systems/{}/", objects[0].1)).await;
    assert_eq!(c.get("/autonomous-systems/add/").await.status.as_u16(), 403);
    assert_eq!(c.get("/bgp-groups/").await.status.as_u16(), 403);
});

both!(forms_create_validate_edit_and_delete, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = admin(&app).await;
    b.page("/autonomous-systems/add/").await;
    // Field errors come back on the form, values kept.
    let r = b.post("/autonomous-systems/add/", &[("asn", ""), ("name", "Nameless"), ("irr_as_set", "AS-X")]).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.text.contains("This field is required."), "{}", r.text);
    assert!(r.text.contains("value=\"Nameless\""));
    let r = b.post("/autonomous-systems/add/", &[("asn", "99999999999"), ("name", "Too big")]).await;
    assert!(r.text.contains("Ensure this value is less than or equal to 4294967295."));

    let r = b
        .post(
            "/autonomous-systems/add/",
            &[
                ("asn", "64512"),
                ("name", "Form Net"),
                ("irr_as_set", "AS-FORM"),
                ("ipv6_max_prefixes", "10"),
                ("ipv4_max_prefixes", "20"),
                ("name_peeringdb_sync", "on"),
                ("comments", "Hello *world*"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let detail_url = location(&r);
    assert!(detail_url.starts_with("/autonomous-systems/"));
    let page = b.page(&detail_url).await;
    assert!(page.contains("Created autonomous system"), "flash message");
    assert!(page.contains("Form Net"));
    assert!(page.contains("<em>world</em>"), "comments rendered as Markdown");
    let id: i64 = detail_url.trim_matches('/').rsplit('/').next().unwrap().parse().unwrap();
    let api = app.get(&format!("/api/peering/autonomous-systems/{id}/")).await.expect(200);
    assert_eq!(api["asn"], 64512);
    assert_eq!(api["name_peeringdb_sync"], true);
    assert_eq!(api["irr_as_set_peeringdb_sync"], false, "unchecked box is false");

    // Duplicate ASN: the unique message on the field.
    let r = b.post("/autonomous-systems/add/", &[("asn", "64512"), ("name", "Again")]).await;
    assert!(r.text.contains("Autonomous system with this ASN already exists."));

    // "Create and add another" and pre-fill from the query string.
    let page = b.page("/bgp-groups/add/?name=Prefilled").await;
    assert!(page.contains("value=\"Prefilled\""));
    let r = b
        .post(
            "/bgp-groups/add/?status=disabled",
            &[("name", "G1"), ("slug", "g1"), ("status", "enabled"), ("_addanother", "1")],
        )
        .await;
    assert_eq!(location(&r), "/bgp-groups/add/?status=disabled");

    // Edit with return_url; the change log shows the edit as a diff.
    b.page(&format!("{detail_url}edit/")).await;
    let r = b
        .post(
            &format!("{detail_url}edit/"),
            &[
                ("asn", "64512"),
                ("name", "Form Net Renamed"),
                ("irr_as_set", "AS-FORM"),
                ("return_url", "/autonomous-systems/"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/autonomous-systems/");
    let log = b.page(&format!("{detail_url}changelog/")).await;
    assert!(log.contains("Form Net Renamed") && log.contains("class=\"old\""), "diff in the changelog tab");
    let r = b
        .post(&format!("{detail_url}edit/"), &[("asn", "64512"), ("name", ""), ("return_url", "https://evil.example/")])
        .await;
    assert!(r.text.contains("This field may not be blank."));

    // Delete through the confirmation page; protected objects explain why not.
    let rel = app.create("/api/bgp/relationships/", json!({"name": "Peer", "slug": "peer"})).await;
    let peer = app.create("/api/peering/autonomous-systems/", json!({"asn": 65010, "name": "P"})).await;
    app.create(
        "/api/peering/direct-peering-sessions/",
        json!({"local_autonomous_system": id, "autonomous_system": peer, "relationship": rel, "ip_address": "192.0.2.1"}),
    )
    .await;
    let r = b.post(&format!("/bgp/relationships/{rel}/delete/"), &[]).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.text.contains("cannot be deleted"), "{}", r.text);
    let r = b.post(&format!("{detail_url}delete/"), &[]).await;
    assert_eq!(location(&r), "/autonomous-systems/");
    app.get(&format!("/api/peering/autonomous-systems/{id}/")).await.expect(404);

    // Without the CSRF token nothing is written.
    b.csrf = "forged".into();
    let r = b.post("/bgp-groups/add/", &[("name", "G2"), ("slug", "g2")]).await;
    assert_eq!(r.status.as_u16(), 403);
    assert_eq!(app.count("/api/peering/bgp-groups/?q=g2").await, 0);
});

both!(list_filters_sorting_paging_and_columns, |backend| {
    let app = TestApp::new(backend).await;
    for i in 0..30 {
        app.create("/api/peering/autonomous-systems/", json!({"asn": 64600 + i, "name": format!("Net {i:02}")})).await;
    }
    let mut b = admin(&app).await;
    let page = b.page("/autonomous-systems/").await;
    assert!(page.contains("Showing 1–20 of 30"), "default page size");
    let page = b.page("/autonomous-systems/?asn__gte=64620&name__ic=net").await;
    assert!(page.contains("Showing 1–10 of 10"));
    // The top bar links back to the last filtered list.
    let other = b.page("/bgp-groups/").await;
    assert!(other.contains("href=\"&#x2f;autonomous-systems&#x2f;?asn__gte=64620&amp;name__ic=net\""), "{other}");
    let page = b.page("/autonomous-systems/?asn=notanumber").await;
    assert!(page.contains("Invalid filter"));
    // Page size is remembered.
    let page = b.page("/autonomous-systems/?per_page=25&page=2").await;
    assert!(page.contains("Showing 26–30 of 30"));
    let page = b.page("/autonomous-systems/").await;
    assert!(page.contains("Showing 1–25 of 30"));
    // Sorting is remembered too.
    let page = b.page("/autonomous-systems/?sort=-asn").await;
    let first = page.find("AS64629").unwrap();
    assert!(first < page.find("AS64600").unwrap_or(usize::MAX));
    let page = b.page("/autonomous-systems/").await;
    assert!(page.contains("class=\"sort desc\""));
    // Column choice and order.
    let r = b
        .post(
            "/autonomous-systems/",
            &[
                ("columns", "name"),
                ("columns", "asn"),
                ("columns", "description"),
                ("return_url", "/autonomous-systems/"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/autonomous-systems/");
    let page = b.page("/autonomous-systems/").await;
    let (name, asn, desc) =
        (page.find(">Name</a>").unwrap(), page.find(">ASN</a>").unwrap(), page.find(">Description</a>").unwrap());
    assert!(name < asn && asn < desc, "chosen order");
    assert!(!page.contains(">IRR AS-SET</a>"));
    let prefs = app.get("/api/users/userpref/").await.expect(200);
    assert_eq!(prefs["tables"]["peering_autonomoussystem"]["columns"], json!(["name", "asn", "description"]));
    assert_eq!(prefs["pagination"]["per_page"], 25);
    b.post("/autonomous-systems/", &[("reset", "1")]).await;
    assert!(b.page("/autonomous-systems/").await.contains(">IRR AS-SET</a>"));
    // Export follows filters and columns.
    let csv = b.get("/autonomous-systems/?export=csv&asn__lt=64602").await;
    assert_eq!(csv.text.lines().count(), 3, "{}", csv.text);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
});

both!(global_search_finds_every_kind_of_value, |backend| {
    let app = TestApp::new(backend).await;
    every_model(&app).await;
    app.create("/api/peering/autonomous-systems/", json!({"asn": 65000, "name": "Exact Match Networks"})).await;
    app.create("/api/peering/autonomous-systems/", json!({"asn": 650001, "name": "Longer"})).await;
    let mut b = admin(&app).await;
    for (q, expect) in [
        ("AS65000", "AS65000 - Exact Match Networks"),
        ("65000", "AS65000 - Exact Match Networks"),
        ("192.0.2.77", "AS65001 - IP 192.0.2.77"),
        ("64500:100", "Peers"),
        ("edge1", "edge1"),
        ("golden", "Golden"),
        ("noc@example", "NOC"),
    ] {
        let page = b.page(&format!("/search/?q={}", q.replace(':', "%3A"))).await;
        assert!(page.contains(expect), "search {q} finds {expect}: {page}");
    }
    // Best match first.
    let page = b.page("/search/?q=65000").await;
    assert!(page.find("AS65000 - Exact").unwrap() < page.find("AS650001").unwrap());
    assert!(b.page("/search/?q=zzzz-nothing").await.contains("No results"));
});

both!(change_log_pages_show_diffs, |backend| {
    let app = TestApp::new(backend).await;
    let id = app.create("/api/peering/autonomous-systems/", json!({"asn": 64999, "name": "Before"})).await;
    app.patch(&format!("/api/peering/autonomous-systems/{id}/"), json!({"name": "After"})).await.expect(200);
    let mut b = admin(&app).await;
    let list = b.page("/core/changelog/?action=update").await;
    assert!(list.contains("Showing 1–1 of 1"));
    let change =
        app.get("/api/core/object-changes/?action=update").await.expect(200)["results"][0]["id"].as_i64().unwrap();
    let page = b.page(&format!("/core/changelog/{change}/")).await;
    assert!(page.contains("<td class=\"old\">Before</td>") && page.contains("<td class=\"new\">After</td>"), "{page}");
    let filtered = b.page("/core/changelog/?changed_object_type=peering.autonomoussystem&user_name__ic=adm").await;
    assert!(filtered.contains("Showing 1–2 of 2"));
    assert!(b.page("/").await.contains("Latest changes"));
});

both!(preferences_profile_password_and_tokens, |backend| {
    let app = TestApp::new(backend).await;
    let local =
        app.create("/api/peering/autonomous-systems/", json!({"asn": 64501, "name": "Mine", "affiliated": true})).await;
    let mut b = admin(&app).await;
    assert!(b.page("/user/profile/").await.contains("admin@example.com"));
    // Context AS from the top bar; add forms pre-select it.
    let r = b.post("/user/preferences/", &[("context_as", &local.to_string()), ("return_url", "/bgp-groups/")]).await;
    assert_eq!(location(&r), "/bgp-groups/");
    let page = b.page("/internet-exchanges/add/").await;
    assert!(
        page.contains(&format!("<option value=\"{local}\" selected>AS64501 - Mine</option>")),
        "pre-selected local AS"
    );
    assert!(b.page("/").await.contains("Working as AS64501 - Mine"));
    // Theme and page size.
    b.post("/user/preferences/", &[("_save", "1"), ("theme", "dark"), ("per_page", "50")]).await;
    let page = b.page("/autonomous-systems/").await;
    assert!(page.contains("data-theme=\"dark\""));
    assert!(page.contains("<strong>50</strong>"));

    // Tokens: the key is shown once, the list shows its last characters only.
    let page = b.post("/user/api-tokens/add/", &[("description", "automation"), ("write_enabled", "on")]).await;
    let key =
        crate::ui_support::input_value(&page.text.replace("<code id=\"token-key\">", "name=\"key\" value=\""), "key")
            .unwrap()
            .replace("</code>", "");
    let key = &key[..40];
    let list = b.page("/user/api-tokens/").await;
    assert!(list.contains(&format!("…{}", &key[36..])));
    assert!(!list.contains(key));
    let r = app.request(Method::GET, "/api/peering/autonomous-systems/", None, Some(key)).await;
    assert_eq!(r.status.as_u16(), 200);
    let bad = b.post("/user/api-tokens/add/", &[("allowed_ips", "10.0.0.0/33")]).await;
    assert!(bad.text.contains("is not a valid IPv4 or IPv6 network"));

    // Password change.
    let r =
        b.post("/user/password/", &[("old_password", "nope"), ("new_password1", "x"), ("new_password2", "y")]).await;
    assert!(r.text.contains("old password was entered incorrectly") && r.text.contains("too short"));
    let r = b
        .post(
            "/user/password/",
            &[
                ("old_password", "admin-password"),
                ("new_password1", "a-new-secret-1"),
                ("new_password2", "a-new-secret-1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/user/profile/");
    let mut again = Browser::new(&app);
    assert_eq!(again.login("admin", "admin-password").await.status.as_u16(), 200);
    assert_eq!(again.login("admin", "a-new-secret-1").await.status.as_u16(), 303);
});

both!(browser_session_works_for_the_api_with_csrf, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = admin(&app).await;
    let r = b.api(Method::GET, "/api/peering/autonomous-systems/", None, false).await;
    assert_eq!(r.status.as_u16(), 200);
    let body = json!({"asn": 64777, "name": "Via browser"});
    let r = b.api(Method::POST, "/api/peering/autonomous-systems/", Some(body.clone()), false).await;
    assert_eq!(r.status.as_u16(), 403, "no CSRF header");
    let r = b.api(Method::POST, "/api/peering/autonomous-systems/", Some(body), true).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
});

both!(bulk_edit_and_bulk_delete, |backend| {
    let app = TestApp::new(backend).await;
    let tag = app.create("/api/extras/tags/", json!({"name": "Bulk", "slug": "bulk"})).await;
    let mut ids = vec![];
    for i in 0..4 {
        let id = app
            .create(
                "/api/peering/bgp-groups/",
                json!({"name": format!("G{i}"), "slug": format!("g{i}"), "description": "keep"}),
            )
            .await;
        ids.push(id.to_string());
    }
    let mut b = admin(&app).await;
    b.page("/bgp-groups/").await;
    let page = b.post("/bgp-groups/edit/", &[("pk", &ids[0]), ("pk", &ids[1])]).await;
    assert!(page.text.contains("Editing 2 BGP groups"), "{}", page.text);
    let r = b
        .post(
            "/bgp-groups/edit/",
            &[
                ("pk", &ids[0]),
                ("pk", &ids[1]),
                ("status", "disabled"),
                ("add_tags", &tag.to_string()),
                ("_apply", "1"),
                ("return_url", "/bgp-groups/"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/bgp-groups/", "{}", r.text);
    let g0 = app.get(&format!("/api/peering/bgp-groups/{}/", ids[0])).await.expect(200);
    assert_eq!(g0["status"]["value"], "disabled");
    assert_eq!(g0["description"], "keep", "fields left empty are not changed");
    assert_eq!(g0["tags"][0]["slug"], "bulk");
    assert_eq!(app.count("/api/peering/bgp-groups/?status=enabled").await, 2);
    assert!(b.page("/bgp-groups/").await.contains("Updated 2 BGP groups"));
    // Nullify and remove tags.
    b.post("/bgp-groups/edit/", &[("pk", &ids[0]), ("remove_tags", &tag.to_string()), ("_apply", "1")]).await;
    assert_eq!(app.get(&format!("/api/peering/bgp-groups/{}/", ids[0])).await.expect(200)["tags"], json!([]));

    // Select all matching the filter, then confirm.
    let page = b.post("/bgp-groups/delete/", &[("_all", "1"), ("query", "status=enabled")]).await;
    assert!(page.text.contains("Delete 2 BGP groups?"), "{}", page.text);
    let r = b.post("/bgp-groups/delete/", &[("_all", "1"), ("query", "status=enabled"), ("_confirm", "1")]).await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(app.count("/api/peering/bgp-groups/").await, 2);
    assert_eq!(app.count("/api/peering/bgp-groups/?status=enabled").await, 0);
});

both!(import_csv_json_and_yaml_all_or_nothing, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = admin(&app).await;
    b.page("/autonomous-systems/import/").await;
    let csv = "asn,name,irr_as_set,affiliated\n64800,CSV One,AS-ONE,true\n64801,CSV Two,,false\n";
    let r = b.post("/autonomous-systems/import/", &[("format", "csv"), ("data", csv)]).await;
    assert_eq!(location(&r), "/autonomous-systems/", "{}", r.text);
    assert!(b.page("/autonomous-systems/").await.contains("Imported 2 autonomous systems"));
    assert_eq!(app.count("/api/peering/autonomous-systems/?affiliated=true").await, 1);

    // One bad row: nothing written, the row and field named.
    let bad = "asn,name\n64802,Fine\nnot-a-number,Broken\n";
    let r = b.post("/autonomous-systems/import/", &[("format", "csv"), ("data", bad)]).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.text.contains("<td>2</td><td class=\"mono\">asn</td>"), "{}", r.text);
    assert_eq!(app.count("/api/peering/autonomous-systems/?asn=64802").await, 0);
    let r = b.post("/autonomous-systems/import/", &[("format", "csv"), ("data", "asn,colour\n1,red\n")]).await;
    assert!(r.text.contains("Unknown column(s): colour."));

    let json_data = r#"[{"asn": 64810, "name": "JSON One"}]"#;
    b.post("/autonomous-systems/import/", &[("format", "json"), ("data", json_data)]).await;
    let yaml = "- name: YAML group\n  slug: yaml-group\n  status: disabled\n";
    let r = b.post("/bgp-groups/import/", &[("format", "yaml"), ("data", yaml)]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    assert_eq!(app.count("/api/peering/autonomous-systems/?asn=64810").await, 1);
    assert_eq!(app.count("/api/peering/bgp-groups/?status=disabled").await, 1);
    // Related objects by slug in CSV.
    app.create("/api/bgp/communities/", json!({"name": "C1", "slug": "c1", "value": "64500:1"})).await;
    let r = b
        .post(
            "/routing-policies/import/",
            &[("format", "csv"), ("data", "name,slug,type,communities\nP,p,export-policy,c1\n")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
});

both!(journal_and_config_context_tabs, |backend| {
    let app = TestApp::new(backend).await;
    let id = app.create("/api/peering/autonomous-systems/", json!({"asn": 64901, "name": "Journaled"})).await;
    let mut b = admin(&app).await;
    let tab = b.page(&format!("/autonomous-systems/{id}/journal/")).await;
    assert!(tab.contains("New journal entry"));
    let back = format!("/autonomous-systems/{id}/journal/");
    let r = b
        .post(
            "/extras/journal-entries/add/",
            &[
                ("assigned_object_type", "peering.autonomoussystem"),
                ("assigned_object_id", &id.to_string()),
                ("kind", "warning"),
                ("comments", "Session **flapping**"),
                ("return_url", &back),
            ],
        )
        .await;
    assert_eq!(location(&r), back, "{}", r.text);
    let tab = b.page(&back).await;
    assert!(tab.contains("<strong>flapping</strong>"));
    let ctx_id = app.create("/api/extras/config-contexts/", json!({"name": "NTP", "data": {"ntp": "192.0.2.1"}})).await;
    let add = format!("/extras/config-context-assignments/add/?content_type=peering.autonomoussystem&object_id={id}");
    b.page(&add).await;
    let r = b
        .post(
            &add,
            &[
                ("content_type", "peering.autonomoussystem"),
                ("object_id", &id.to_string()),
                ("config_context", &ctx_id.to_string()),
                ("weight", "1000"),
                ("return_url", &format!("/autonomous-systems/{id}/config-context/")),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let tab = b.page(&format!("/autonomous-systems/{id}/config-context/")).await;
    assert!(tab.contains("&quot;ntp&quot;: &quot;192.0.2.1&quot;"), "{tab}");
    let yaml = b.page(&format!("/autonomous-systems/{id}/config-context/?format=yaml")).await;
    assert!(yaml.contains("ntp: 192.0.2.1"), "{yaml}");
    let again = b.page(&format!("/autonomous-systems/{id}/config-context/")).await;
    assert!(again.contains("ntp: 192.0.2.1"), "the format is remembered");
});
