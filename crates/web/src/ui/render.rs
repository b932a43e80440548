//! Values → HTML: one function turns any field's API value into what a
//! table cell or a detail row shows (links to related objects, badges for
//! choices, tag pills, check marks, formatted times). Everything returned is
//! already escaped.

use std::fmt::Write;

use pm_db::FieldErrors;
use pm_db::auth::Perms;
use pm_db::model::{Computed, Field, Kind, Model};
use pm_db::registry;
use serde_json::Value as Json;

use super::meta::{self, Count};

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `irr_as_set` → `IRR AS set`, `ipv6_max_prefixes_peeringdb_sync` → `IPv6 max prefixes PeeringDB sync`.
pub fn humanize(name: &str) -> String {
    let words: Vec<String> = name
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "irr" | "as" | "bgp" | "ip" | "api" | "url" | "id" | "napalm" | "ttl" | "bfd" | "mac" | "vlan" | "ixp"
            | "ssl" | "csv" => w.to_uppercase(),
            "ipv6" => "IPv6".into(),
            "ipv4" => "IPv4".into(),
            "peeringdb" => "PeeringDB".into(),
            "jinja2" => "Jinja2".into(),
            "netbox" => "NetBox".into(),
            "ixapi" => "IX-API".into(),
            _ => w.to_string(),
        })
        .collect();
    meta::title(&words.join(" "))
}

pub fn field_label(f: &Field) -> String {
    if !f.label.is_empty() {
        return f.label.to_string();
    }
    match f.name {
        "ipv6_address" => "IPv6 address".into(),
        "ipv4_address" => "IPv4 address".into(),
        "id" => "ID".into(),
        "local_context_data" => "Local config context data".into(),
        "config_context" => "Config context".into(),
        n if n.ends_with("_peeringdb_sync") => {
            format!(
                "Sync {} from PeeringDB",
                humanize(&n[..n.len() - 15]).to_lowercase().replace("irr as set", "IRR AS-SET").replace("ipv", "IPv")
            )
        }
        n => humanize(n),
    }
}

/// A table column: a field of the model or a count of related rows.
#[derive(Clone)]
pub struct Column {
    pub name: &'static str,
    pub label: String,
    pub field: Option<&'static Field>,
    pub count: Option<Count>,
    /// The query `sort` value when sortable.
    pub sortable: bool,
}

/// Fields never worth a table column (large JSON blobs).
fn columnable(f: &Field) -> bool {
    !matches!(f.name, "config_context" | "prefixes" | "as_list" | "prechange_data" | "postchange_data" | "data")
        && !matches!(f.kind, Kind::Computed(Computed::PeeringdbPrefixes))
}

pub fn available_columns(m: &'static Model, perms: &Perms) -> Vec<Column> {
    let secrets = perms.allows(m, "view_secrets");
    let mut out: Vec<Column> = m
        .fields
        .iter()
        .filter(|f| f.api && !f.write_only && (!f.secret || secrets) && columnable(f))
        .map(|f| Column {
            name: f.name,
            label: field_label(f),
            field: Some(f),
            count: None,
            sortable: f.column().is_some() && !matches!(f.kind, Kind::Json { .. }),
        })
        .collect();
    for c in meta::meta(m).counts {
        out.push(Column { name: c.name, label: c.label.to_string(), field: None, count: Some(*c), sortable: false });
    }
    out
}

/// The columns a table shows: the user's choice, else the model's defaults.
pub fn visible_columns(m: &'static Model, available: &[Column], chosen: Option<&Json>) -> Vec<Column> {
    let pick = |names: &mut dyn Iterator<Item = &str>| -> Vec<Column> {
        names.filter_map(|n| available.iter().find(|c| c.name == n).cloned()).collect()
    };
    if let Some(Json::Array(names)) = chosen {
        let cols = pick(&mut names.iter().filter_map(Json::as_str));
        if !cols.is_empty() {
            return cols;
        }
    }
    let defaults = meta::meta(m).columns;
    if !defaults.is_empty() {
        return pick(&mut defaults.iter().copied());
    }
    let mut names: Vec<&str> = vec![];
    for n in ["name", "display"].into_iter().chain(m.brief.iter().copied()) {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let cols = pick(&mut names.into_iter());
    if cols.is_empty() { available.iter().take(5).cloned().collect() } else { cols }
}

/// Which column links to the object.
pub fn link_column(m: &'static Model, visible: &[Column]) -> Option<&'static str> {
    let preferred = meta::meta(m).link.unwrap_or("name");
    visible.iter().find(|c| c.name == preferred).or_else(|| visible.first()).map(|c| c.name)
}

/// Bootstrap-like colour names for choice values (spec §1.3).
pub fn choice_colour(value: &str) -> &'static str {
    match value {
        "enabled" | "completed" | "create" | "success" | "established" => "success",
        "pre-maintenance" | "maintenance" | "post-maintenance" | "decommissioning" | "running" | "update"
        | "warning" | "connect" | "active" | "pushing" | "synchronising" => "warning",
        "disabled" | "decommissioned" | "errored" | "failed" | "delete" | "danger" | "idle" => "danger",
        "requested" | "info" | "opensent" | "openconfirm" => "info",
        "pending" | "new" => "primary",
        _ => "secondary",
    }
}

pub fn badge(text: &str, colour: &str) -> String {
    format!("<span class=\"badge {colour}\">{}</span>", esc(text))
}

/// `2026-11-22T05:24:53.123456Z` → `2026-11-22 05:24`.
pub fn fmt_time(s: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => s.to_string(),
    }
}

/// `2026-11-22T05:24:53.123456Z` → `2026-11-22 05:24:53` (job timestamps and log lines).
pub fn fmt_time_seconds(s: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => s.to_string(),
    }
}

pub const NONE: &str = "<span class=\"muted\">—</span>";

/// A nested object (`{id, display, ...}`) as a link to its page.
pub fn object_link(target: Option<&'static Model>, v: &Json) -> String {
    let display = v.get("display").and_then(Json::as_str).unwrap_or("");
    let url = match (target, v.get("id").and_then(Json::as_i64)) {
        (Some(t), Some(id)) => meta::object_url(t, id),
        _ => None,
    };
    match url {
        Some(u) => format!("<a href=\"{}\">{}</a>", esc(&u), esc(display)),
        None => esc(display),
    }
}

pub fn tag_pill(tag: &Json) -> String {
    let colour = tag.get("color").and_then(Json::as_str).unwrap_or("9e9e9e");
    let colour = if colour.len() == 6 && colour.chars().all(|c| c.is_ascii_hexdigit()) { colour } else { "9e9e9e" };
    let name = tag.get("display").or_else(|| tag.get("name")).and_then(Json::as_str).unwrap_or("");
    let slug = tag.get("slug").and_then(Json::as_str).unwrap_or("");
    format!(
        "<a class=\"tag\" href=\"/extras/tags/{}/\" style=\"--tag:#{colour}\" data-slug=\"{}\">{}</a>",
        tag.get("id").and_then(Json::as_i64).unwrap_or(0),
        esc(slug),
        esc(name)
    )
}

fn generic_target(v: &Json) -> Option<&'static Model> {
    // Nested generic objects carry their API url: /api/<app>/<endpoint>/<id>/
    let url = v.get("url").and_then(Json::as_str)?;
    let mut parts = url.split("/api/").nth(1)?.split('/');
    registry::by_api(parts.next()?, parts.next()?)
}

/// One value of one field as HTML. `full` shows long values whole (detail pages).
pub fn value_html(f: &Field, v: &Json, full: bool) -> String {
    if v.is_null() {
        return NONE.to_string();
    }
    match f.kind {
        Kind::Bool => match v.as_bool() {
            Some(true) => "<span class=\"yes\" title=\"Yes\">✔</span>".into(),
            _ => "<span class=\"no\" title=\"No\">✘</span>".into(),
        },
        Kind::Choice(choices) => {
            let (value, label) = match v {
                Json::Object(o) => (
                    o.get("value").and_then(Json::as_str).unwrap_or(""),
                    o.get("label").and_then(Json::as_str).unwrap_or(""),
                ),
                Json::String(s) => (s.as_str(), pm_db::choices::label(choices, s).unwrap_or(s)),
                _ => ("", ""),
            };
            if value.is_empty() {
                NONE.into()
            } else if f.choice_object || f.name == "bgp_state" {
                badge(label, choice_colour(value))
            } else {
                esc(label)
            }
        }
        Kind::IntChoice(choices) => {
            let i = v.as_i64().unwrap_or(0);
            esc(choices.iter().find(|(c, _)| *c == i).map(|(_, l)| *l).unwrap_or(""))
        }
        Kind::Fk { to, .. } => match v {
            Json::Object(_) => object_link(registry::model(to), v),
            Json::Number(n) => {
                let id = n.as_i64().unwrap_or(0);
                let target = registry::model(to);
                match target.and_then(|t| meta::object_url(t, id)) {
                    Some(u) => format!("<a href=\"{}\">#{id}</a>", esc(&u)),
                    None => format!("#{id}"),
                }
            }
            _ => NONE.into(),
        },
        Kind::M2m { to, .. } => {
            let items = v.as_array().map(Vec::as_slice).unwrap_or(&[]);
            if items.is_empty() {
                return NONE.into();
            }
            let target = registry::model(to);
            items.iter().map(|i| object_link(target, i)).collect::<Vec<_>>().join(", ")
        }
        Kind::Tags => {
            let items = v.as_array().map(Vec::as_slice).unwrap_or(&[]);
            if items.is_empty() {
                return NONE.into();
            }
            items.iter().map(tag_pill).collect::<Vec<_>>().join(" ")
        }
        Kind::Computed(Computed::GenericObject { .. }) | Kind::Computed(Computed::ChangedObject) => {
            if v.is_object() {
                object_link(generic_target(v), v)
            } else {
                NONE.into()
            }
        }
        Kind::DateTime => format!("<span class=\"nowrap\">{}</span>", esc(&fmt_time(v.as_str().unwrap_or("")))),
        Kind::Uuid if !full => {
            let s = v.as_str().unwrap_or("");
            format!("<span class=\"mono\" title=\"{}\">{}…</span>", esc(s), esc(&s.chars().take(8).collect::<String>()))
        }
        Kind::Inet { .. } | Kind::Mac | Kind::Uuid => {
            format!("<span class=\"mono\">{}</span>", esc(v.as_str().unwrap_or("")))
        }
        Kind::Json { .. } | Kind::Computed(Computed::ConfigContext) | Kind::Computed(Computed::PeeringdbPrefixes) => {
            let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
            if full {
                format!("<pre class=\"json\">{}</pre>", esc(&pretty))
            } else {
                format!("<span class=\"mono\">{}</span>", esc(&truncate(&v.to_string(), 60)))
            }
        }
        Kind::IntList | Kind::CidrList | Kind::StrList | Kind::ContentTypes { .. } => {
            let items = v.as_array().map(Vec::as_slice).unwrap_or(&[]);
            if items.is_empty() {
                return NONE.into();
            }
            let text: Vec<String> =
                items.iter().map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string())).collect();
            esc(&text.join(", "))
        }
        Kind::ContentType => match v.as_str().and_then(registry::model) {
            Some(m) => esc(&format!("{} › {}", registry::app_verbose(m.app), meta::title(m.verbose))),
            None => esc(v.as_str().unwrap_or("")),
        },
        Kind::LongText => {
            let s = v.as_str().unwrap_or("");
            if s.is_empty() {
                NONE.into()
            } else if full {
                format!("<pre class=\"text\">{}</pre>", esc(s))
            } else {
                esc(&truncate(s, 80))
            }
        }
        _ => {
            let s = match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            if s.is_empty() {
                return NONE.into();
            }
            if f.name == "color" {
                let c = if s.len() == 6 && s.chars().all(|c| c.is_ascii_hexdigit()) { s.as_str() } else { "9e9e9e" };
                return format!(
                    "<span class=\"swatch\" style=\"background:#{c}\"></span> <span class=\"mono\">{c}</span>"
                );
            }
            if f.name == "asn" {
                return format!("AS{}", esc(&s));
            }
            if matches!(f.name, "email") {
                return format!("<a href=\"mailto:{0}\">{0}</a>", esc(&s));
            }
            if matches!(f.name, "api_url" | "payload_url" | "source_url") && s.starts_with("http") {
                return format!("<a href=\"{0}\" rel=\"noopener\">{0}</a>", esc(&s));
            }
            esc(&s)
        }
    }
}

/// The same value as plain text (CSV export).
pub fn value_text(f: &Field, v: &Json) -> String {
    match (f.kind, v) {
        (_, Json::Null) => String::new(),
        (Kind::Choice(_), Json::Object(o)) => o.get("value").and_then(Json::as_str).unwrap_or("").to_string(),
        (_, Json::Object(o)) if o.contains_key("display") => {
            o.get("display").and_then(Json::as_str).unwrap_or("").to_string()
        }
        (Kind::Tags, Json::Array(items)) => {
            items.iter().filter_map(|i| i.get("slug").and_then(Json::as_str)).collect::<Vec<_>>().join(",")
        }
        (_, Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::Object(o) => o.get("display").and_then(Json::as_str).unwrap_or("").to_string(),
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        (_, Json::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n).collect::<String>() + "…" }
}

/// Whether a link target in user text is harmless: relative, or one of the
/// schemes people link to. Browsers ignore tabs, newlines and leading
/// spaces in a URL, so `java\tscript:` is read the way they read it.
fn safe_link(url: &str) -> bool {
    let url: String = url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    let Some((scheme, _)) = url.split_once(':') else { return true };
    // A colon after a path, query or fragment start is not a scheme.
    if scheme.contains(['/', '?', '#']) {
        return true;
    }
    ["http", "https", "mailto", "ftp", "tel"].contains(&scheme.to_ascii_lowercase().as_str())
}

/// Markdown → HTML with raw HTML escaped (comments are user input) and
/// links or images to other schemes (`javascript:`, `data:`, `vbscript:`) dropped.
pub fn markdown(src: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, html};
    let parser = Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_link(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: "#".into(), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe_link(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: "#".into(), title, id })
        }
        e => e,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

pub fn field_errors_text(f: &FieldErrors) -> String {
    let mut out = String::new();
    for (k, v) in &f.0 {
        let msgs: Vec<String> = match v {
            Json::Array(a) => {
                a.iter().map(|m| m.as_str().map(str::to_string).unwrap_or_else(|| m.to_string())).collect()
            }
            other => vec![other.to_string()],
        };
        let _ = write!(out, "{}{}: {}", if out.is_empty() { "" } else { "; " }, k, msgs.join(" "));
    }
    out
}

/// A readable diff of two change-log snapshots: changed keys with both values.
pub fn diff(pre: &Json, post: &Json) -> Vec<Json> {
    let empty = serde_json::Map::new();
    let a = pre.as_object().unwrap_or(&empty);
    let b = post.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.dedup();
    let mut seen = std::collections::HashSet::new();
    let mut out = vec![];
    for k in keys {
        if k == "updated" || !seen.insert(k) {
            continue;
        }
        let (x, y) = (a.get(k).unwrap_or(&Json::Null), b.get(k).unwrap_or(&Json::Null));
        if x != y {
            out.push(serde_json::json!({"key": k, "old": compact(x), "new": compact(y),
                "old_missing": !a.contains_key(k), "new_missing": !b.contains_key(k)}));
        }
    }
    out
}

fn compact(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "null".into(),
        other => other.to_string(),
    }
}

/// One field of a loaded object as the API shapes it, computed only for that
/// field (tables render a handful of columns, not whole objects).
pub fn field_json(v: &pm_db::object::View<'_>, f: &'static Field) -> Json {
    use pm_db::object::View;
    use serde_json::json;
    let cache = v.cache;
    let obj = v.obj;
    let nested = |m: &'static Model, id: i64| -> Json {
        match cache.get(m, id) {
            Some(o) => json!({"id": id, "display": View::new(o, cache).display()}),
            None => Json::Null,
        }
    };
    // Generic relations name their type through the API URL; tags carry their colour.
    let generic = |m: &'static Model, id: i64| -> Json {
        let mut j = nested(m, id);
        if let Json::Object(o) = &mut j {
            o.insert("url".into(), json!(pm_db::serialize::api_url("", m, id)));
        }
        j
    };
    match f.kind {
        // Plain-id references (journal `created_by`) show their target too when it was loaded.
        Kind::Fk { to, .. } => match (registry::model(to), obj.int(f.name)) {
            (Some(m), Some(id)) if cache.get(m, id).is_some() => nested(m, id),
            (Some(_), Some(id)) => json!(id),
            _ => Json::Null,
        },
        Kind::M2m { to, table, .. } => {
            let target = registry::model(to).unwrap();
            let ids = cache.m2m.get(&(table, obj.id)).map(Vec::as_slice).unwrap_or(&[]);
            Json::Array(ids.iter().map(|id| nested(target, *id)).collect())
        }
        Kind::Tags => {
            let tag = registry::model("extras.tag").unwrap();
            let ids = cache.tags.get(&(registry::ct_id(obj.model), obj.id)).map(Vec::as_slice).unwrap_or(&[]);
            Json::Array(
                ids.iter()
                    .filter_map(|id| cache.get(tag, *id))
                    .map(|t| json!({"id": t.id, "name": t.text("name"), "slug": t.text("slug"), "color": t.text("color")}))
                    .collect(),
            )
        }
        Kind::ContentType => {
            obj.int(f.name).and_then(registry::by_ct_id).map(|m| json!(m.label())).unwrap_or(Json::Null)
        }
        Kind::ContentTypes { table, .. } => {
            let ids = cache.m2m.get(&(table, obj.id)).cloned().unwrap_or_default();
            Json::Array(ids.into_iter().filter_map(registry::by_ct_id).map(|m| json!(m.label())).collect())
        }
        Kind::Computed(Computed::Display) => json!(v.display()),
        Kind::Computed(Computed::GenericObject { type_field, id_field }) => {
            match (obj.int(type_field).and_then(registry::by_ct_id), obj.int(id_field)) {
                (Some(m), Some(id)) => generic(m, id),
                _ => Json::Null,
            }
        }
        Kind::Computed(Computed::ChangedObject) => {
            match (obj.int("changed_object_type").and_then(registry::by_ct_id), obj.int("changed_object_id")) {
                (Some(m), Some(id)) => generic(m, id),
                _ => Json::Null,
            }
        }
        Kind::Computed(_) => cache.computed.get(&(obj.model.table, obj.id, f.name)).cloned().unwrap_or(Json::Null),
        _ => obj.get(f.name).to_json(),
    }
}
