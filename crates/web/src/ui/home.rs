//! The home page: object counts and the latest changes.

use pm_db::load;
use pm_db::models::core::OBJECT_CHANGE;
use pm_db::registry;
use sea_query::Condition;
use serde_json::json;

use super::list::{self, TableOpts};
use super::meta;
use super::render;
use super::{Ctx, UiResult};

const COUNTED: &[&str] = &[
    "peering.autonomoussystem",
    "peering.bgpgroup",
    "peering.internetexchange",
    "peering.directpeeringsession",
    "peering.internetexchangepeeringsession",
    "devices.configuration",
    "devices.router",
    "net.connection",
    "net.bfd",
    "peering.routingpolicy",
    "bgp.community",
    "messaging.contact",
    "messaging.email",
];

pub async fn home(ctx: &mut Ctx) -> UiResult {
    let mut counters = vec![];
    for label in COUNTED {
        let Some(m) = registry::model(label) else { continue };
        let Some(scope) = ctx.perms().scope(m, "view") else { continue };
        let n = load::count(&ctx.db().conn, m, scope).await?;
        counters.push(json!({"label": meta::short_plural(m), "count": n, "url": meta::ui_path(m)}));
    }
    let mut changes = None;
    if ctx.perms().allows(&OBJECT_CHANGE, "view") {
        let m = &OBJECT_CHANGE;
        let mut fetched = list::fetch(ctx, m, &[], Condition::all(), None, Some(15), 0).await?;
        let cols = render::visible_columns(m, &render::available_columns(m, ctx.perms()), None);
        let cols: Vec<_> = cols.into_iter().filter(|c| c.name != "request_id").collect();
        let opts = TableOpts { selectable: false, actions: false, sort_base: None, sort: None, return_url: "/" };
        changes = Some(list::table(ctx, m, &mut fetched, &cols, opts).await?);
    }
    ctx.render("home.html", json!({"title": "Home", "counters": counters, "changes": changes})).await
}
