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
