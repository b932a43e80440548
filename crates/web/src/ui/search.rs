//! Global search (`/search/?q=`): every model's `q` search, results grouped
//! by type, best matches first.

use pm_db::model::Model;
use pm_db::object::{Cache, View};
use pm_db::query::filter;
use pm_db::registry;
use serde_json::{Value as Json, json};

use super::meta;
use super::render::esc;
use super::{Ctx, UiResult};

/// What a result shows under its name, when the model has it.
const DETAILS: &[&str] = &["description", "irr_as_set", "value", "hostname", "interface", "ip_address", "email"];

/// Results shown per type; more are one click away on the list page.
const SHOWN: usize = 15;
/// Matches ranked per type.
const RANKED: u64 = 50;

/// Lower is better: exact match, then prefix, then word start, then anywhere.
fn rank(display: &str, q: &str, asn: Option<i64>, obj_asn: Option<i64>) -> u8 {
    if asn.is_some() && asn == obj_asn {
        return 0;
    }
    let d = display.to_lowercase();
    let q = q.to_lowercase();
    if d == q {
        0
    } else if d.starts_with(&q) {
        1
    } else if d.split(|c: char| !c.is_alphanumeric()).any(|w| w.starts_with(&q)) {
        2
    } else if d.contains(&q) {
        3
    } else {
        4
    }
}

pub async fn search(ctx: &mut Ctx) -> UiResult {
    let q = ctx.query_get("q").unwrap_or_default().trim().to_string();
    let wanted_type = ctx.query_get("type").unwrap_or_default();
    let mut groups = vec![];
    let mut total = 0;
    if !q.is_empty() {
        let asn = q
            .strip_prefix("AS")
            .or_else(|| q.strip_prefix("as"))
            .or_else(|| q.strip_prefix("As"))
            .unwrap_or(&q)
            .parse::<i64>()
            .ok();
        // `AS65000` searches like `65000`.
        let term = match asn {
            Some(n) if q.len() > 2 && q[..2].eq_ignore_ascii_case("as") => n.to_string(),
            _ => q.clone(),
        };
        for label in meta::SEARCH_ORDER {
            let Some(m) = registry::model(label) else { continue };
            if m.search.is_empty() || (!wanted_type.is_empty() && wanted_type != *label) {
                continue;
            }
            let Some(scope) = ctx.perms().scope(m, "view") else { continue };
            let db = &ctx.db().conn;
            let cond = sea_query::Condition::all().add(filter::search(m, &term)).add(scope);
            let ordering = filter::ordering(m, None)?;
            let objs = super::list::fetch_light(db, m, cond, &ordering, Some(RANKED + 1), 0, DETAILS).await?;
            if objs.is_empty() {
                continue;
            }
            let more = objs.len() as u64 > RANKED;
            let mut cache = Cache::default();
            let objs: Vec<_> = objs.into_iter().take(RANKED as usize).collect();
            super::list::display_deps(db, &mut cache, m, &objs).await?;
            super::list::context_deps(db, &mut cache, m, &objs).await?;
            let mut results: Vec<(u8, usize, Json)> = objs
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let v = View::new(o, &cache);
                    let display = v.display();
                    let r = rank(&display, &term, asn, o.int("asn").filter(|_| m.has("asn")));
                    (r, i, result(m, o.id, &display, &v))
                })
                .collect();
            results.sort_by_key(|(r, i, _)| (*r, *i));
            let count = results.len();
            total += count;
            let best = results.first().map(|(r, _, _)| *r).unwrap_or(4);
            let list_url = meta::ui_path(m)
                .filter(|_| meta::meta(m).list)
                .map(|p| format!("{p}?{}", serde_urlencoded::to_string([("q", &term)]).unwrap_or_default()));
            groups.push((
                best,
                json!({
                    "label": meta::title(m.verbose_plural),
                    "count": if more { format!("{RANKED}+") } else { count.to_string() },
                    "results": results.into_iter().take(SHOWN).map(|(_, _, j)| j).collect::<Vec<_>>(),
                    "more": count > SHOWN || more,
                    "list_url": list_url,
                }),
            ));
        }
    }
    // Types whose best result is an exact match come first; otherwise keep the spec's order.
    groups.sort_by_key(|(best, _)| (*best).min(1));
    let groups: Vec<Json> = groups.into_iter().map(|(_, g)| g).collect();
    ctx.render(
        "search.html",
        json!({"title": if q.is_empty() { "Search".to_string() } else { format!("Search: {q}") },
            "q": q, "groups": groups, "total": total}),
    )
    .await
}

fn result(m: &'static Model, id: i64, display: &str, v: &View) -> Json {
    // A second line with what else identifies the object: where it is
    // (the router of a session), then its other identifying values.
    let mut details = vec![];
    let context = meta::context(v);
    if !context.is_empty() {
        details.push(esc(&context));
    }
    for name in DETAILS {
        if m.has(name) {
            let t = v.text(name);
            if !t.is_empty() && !display.contains(t) {
                details.push(esc(t));
            }
        }
    }
    json!({"display": display, "url": meta::object_url(m, id), "details": details.join(" · ")})
}
