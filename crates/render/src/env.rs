//! The Jinja2 environment Peering Manager templates expect, on minijinja.

use std::sync::{Arc, OnceLock};

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};
use regex::Regex;
use sea_query::{Condition, Expr, ExprTrait};

use crate::graph::Graph;
use crate::objects::model;

/// `{% include_configuration "Name" %}` → `{% include "configuration::Name" %}`.
/// A bare identifier names the template by its own text, not its value (as PM does).
pub fn rewrite_include_tags(source: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r#"\{%([-+]?)\s*include_(configuration|email|exporttemplate)\s+(?:"([^"]*)"|'([^']*)'|(\d+)|([A-Za-z_][A-Za-z0-9_]*))\s*([-+]?)%\}"#,
        )
        .unwrap()
    });
    re.replace_all(source, |c: &regex::Captures| {
        let ident = c.get(3).or(c.get(4)).or(c.get(5)).or(c.get(6)).map(|m| m.as_str()).unwrap_or("");
        let escaped = ident.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{{%{} include \"{}::{}\" {}%}}", &c[1], &c[2], escaped, &c[7])
    })
    .into_owned()
}

/// Empty list literals inside tags (`{'x': []}`) become `__mutable_list()`,
/// so `list.append(...)` works as in Jinja2.
pub fn rewrite_mutable_lists(source: &str) -> String {
    static TAG: OnceLock<Regex> = OnceLock::new();
    static EMPTY: OnceLock<Regex> = OnceLock::new();
    let tag = TAG.get_or_init(|| Regex::new(r"(?s)\{%.*?%\}").unwrap());
    let empty = EMPTY.get_or_init(|| Regex::new(r"(^|[^\w\]\)])\[\s*\]").unwrap());
    tag.replace_all(source, |c: &regex::Captures| empty.replace_all(&c[0], "${1}__mutable_list()").into_owned())
        .into_owned()
}

fn prepare_source(source: &str, trim: bool) -> String {
    let source = crate::imports::rewrite(&crate::macros::rewrite(&crate::whitespace::prepare(source, trim)));
    crate::pyops::rewrite(&rewrite_mutable_lists(&rewrite_include_tags(&source)))
}

/// Separates an included template's name from the name of what included it:
/// every include is named by its whole chain (`child␁parent␁…␁top`), so the
/// loader sees the chain however deep and across environments (an included
/// export template renders in an environment of its own).
pub const CHAIN: char = '\u{1}';

/// `a -> b -> c` from a chained name (outermost first).
fn chain_text(name: &str) -> String {
    let mut parts: Vec<&str> = name.split(CHAIN).collect();
    parts.reverse();
    parts.join(" -> ")
}

/// A template's own name, without the chain that included it.
pub fn base_name(name: &str) -> &str {
    name.split(CHAIN).next().unwrap_or(name)
}

/// Refuse an include that loops or nests too deep (one limit for every kind).
fn check_chain(name: &str) -> Result<(), Error> {
    let mut parts = name.split(CHAIN);
    let base = parts.next().unwrap_or("");
    let mut depth = 0;
    for p in parts {
        depth += 1;
        if p == base {
            return Err(Error::new(ErrorKind::InvalidOperation, format!("include loop: {}", chain_text(name))));
        }
    }
    if depth > crate::limits::MAX_INCLUDE_DEPTH {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("includes nested deeper than {} levels: {}", crate::limits::MAX_INCLUDE_DEPTH, chain_text(name)),
        ));
    }
    Ok(())
}

/// Resolve `<kind>::<name or id>` from the database.
fn load(graph: &Arc<Graph>, name: &str, trim: bool) -> Result<Option<String>, Error> {
    check_chain(name)?;
    let base = base_name(name);
    if let Some(inner) = crate::imports::without_context(base) {
        return Ok(load(graph, inner, trim)?.map(|s| crate::imports::hide_context() + &s));
    }
    let Some((kind, ident)) = base.split_once("::") else { return Ok(None) };
    let (label, attr) = match kind {
        "configuration" => ("devices.configuration", "template"),
        "email" => ("messaging.email", "template"),
        "exporttemplate" => ("extras.exporttemplate", "template"),
        _ => return Ok(Some(String::new())),
    };
    let m = model(label);
    let cond = match ident.parse::<i64>() {
        Ok(id) => Condition::all().add(Expr::col("id").eq(id)),
        Err(_) => Condition::all().add(Expr::col("name").eq(ident)),
    };
    let ids = graph.query(m, cond)?;
    match ids.len() {
        0 => Err(Error::new(ErrorKind::TemplateNotFound, format!("no {} named {ident:?}", m.verbose))),
        1 => {
            let obj = graph.get(m, ids[0])?.expect("just loaded");
            let source = obj.text(attr).to_string();
            if kind == "exporttemplate" {
                // An export template is included by its output, rendered first.
                let target = obj
                    .int("content_type")
                    .and_then(pm_db::registry::by_ct_id)
                    .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "export template has no content type"))?;
                if !graph.viewer.may_view(target) {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("you do not have permission to view {}", target.verbose_plural),
                    ));
                }
                let ctx = crate::context::export(graph, target)?;
                let out = render_in(graph, name, &source, false, false, ctx)
                    .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
                return Ok(Some(out));
            }
            Ok(Some(prepare_source(&source, trim)))
        }
        n => Err(Error::new(ErrorKind::InvalidOperation, format!("{n} {} are named {ident:?}", m.verbose_plural))),
    }
}

/// `PM_TIME_ZONE` (IANA name), the zone of `now()` without one; UTC by default.
fn default_time_zone() -> &'static str {
    static TZ: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TZ.get_or_init(|| {
        std::env::var("PM_TIME_ZONE").ok().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "UTC".into())
    })
}

/// `now(format, timezone)`: the time in `timezone`, else `PM_TIME_ZONE`.
/// Both arguments may be given by position or by name, as in Python.
fn now(args: minijinja::value::Rest<Value>, kwargs: minijinja::value::Kwargs) -> Result<String, Error> {
    let pick = |pos: usize, name: &str| -> Result<Option<String>, Error> {
        let v: Option<Value> = if kwargs.has(name) { Some(kwargs.get(name)?) } else { args.get(pos).cloned() };
        Ok(v.filter(|v| !v.is_none() && !v.is_undefined())
            .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string())))
    };
    let (format, timezone) = (pick(0, "format")?, pick(1, "timezone")?);
    kwargs.assert_all_used()?;
    let format = format.unwrap_or_else(|| "%Y-%m-%dT%H:%M:%SZ".into());
    let tz = timezone.filter(|t| !t.is_empty()).unwrap_or_else(|| default_time_zone().to_string());
    now_in(&format, &tz, chrono::Utc::now())
}

fn now_in(format: &str, tz: &str, at: chrono::DateTime<chrono::Utc>) -> Result<String, Error> {
    if tz == "UTC" {
        return Ok(at.format(format).to_string());
    }
    let zone = jiff::tz::TimeZone::get(tz)
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("unknown time zone {tz:?}")))?;
    let instant = jiff::Timestamp::from_second(at.timestamp())
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let info = zone.to_offset_info(instant);
    let fixed = chrono::FixedOffset::east_opt(info.offset().seconds())
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("bad offset for {tz:?}")))?;
    // `%Z` is the zone's abbreviation (`JST`, `CEST`), as Python's zoneinfo prints it.
    let format = with_zone_name(format, info.abbreviation());
    Ok(at.with_timezone(&fixed).format(&format).to_string())
}

/// `format` with each `%Z` (not `%%Z`) replaced by `name`.
fn with_zone_name(format: &str, name: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Z') => out.push_str(&name.replace('%', "%%")),
            Some(n) => {
                out.push('%');
                out.push(n);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod now_tests {
    use chrono::TimeZone;

    #[test]
    fn now_follows_the_time_zone() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 7, 1, 12, 30, 0).unwrap();
        assert_eq!(super::now_in("%Y-%m-%d %H:%M %z", "UTC", at).unwrap(), "2026-07-01 12:30 +0000");
        assert_eq!(super::now_in("%H:%M %z", "Europe/Paris", at).unwrap(), "14:30 +0200");
        let winter = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 12, 30, 0).unwrap();
        assert_eq!(super::now_in("%H:%M", "Europe/Paris", winter).unwrap(), "13:30");
        assert_eq!(super::now_in("%H:%M", "America/New_York", winter).unwrap(), "07:30");
        assert_eq!(super::now_in("%Z %z %%Z", "Asia/Tokyo", winter).unwrap(), "JST +0900 %Z");
        assert_eq!(super::now_in("%Z%z", "UTC", winter).unwrap(), "UTC+0000");
        assert!(super::now_in("%H", "Mars/Olympus", at).unwrap_err().to_string().contains("unknown time zone"));
    }
}

pub fn environment(graph: &Arc<Graph>, trim: bool, lstrip: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(trim)
            .lstrip_blocks(lstrip)
            .keep_trailing_newline(false)
            .build()
            .expect("default delimiters"),
    );
    // Template names come from user data: never auto-escape.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_formatter(crate::objects::format_value);
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    crate::filters::register(&mut env);
    crate::pyops::register(&mut env);
    // Jinja2: None is not iterable (minijinja says it is).
    env.add_test("iterable", |v: Value| !v.is_none() && !v.is_undefined() && v.try_iter().is_ok());
    env.add_function("now", now);
    env.add_function("__pm_varmacro", |inner: Value, names: Vec<String>| crate::macros::bind(inner, names));
    env.add_function("__mutable_list", || Value::from_object(crate::objects::MutList::default()));
    let g = graph.clone();
    env.set_loader(move |name| load(&g, name, trim));
    env.set_path_join_callback(|name, parent| format!("{name}{CHAIN}{parent}").into());
    env.set_fuel(Some(Ord::max(graph.budget.fuel_left(), 1)));
    env
}

/// A template error as the user needs it: which template, which line, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "error in template {:?} at line {l}: {}", self.template, self.message),
            None => write!(f, "error in template {:?}: {}", self.template, self.message),
        }
    }
}

/// Error text without the include chains inside template names.
fn unchained(text: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new("\u{1}[^\"]*").unwrap()).replace_all(text, "").into_owned()
}

fn describe(graph: &Graph, top: &str, e: &Error) -> TemplateError {
    let limit = graph.budget.stop_reason().or_else(|| {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(x) = cur {
            if x.downcast_ref::<Error>().is_some_and(|me| me.kind() == ErrorKind::OutOfFuel) {
                return Some(graph.budget.out_of_fuel());
            }
            cur = x.source();
        }
        None
    });
    // The innermost error with a location is the useful one (inside an include).
    let mut best = e;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if let Some(me) = x.downcast_ref::<Error>()
            && me.line().is_some()
        {
            best = me;
        }
        cur = x.source();
    }
    let message = match (limit, best.detail()) {
        (Some(l), _) => l,
        (None, Some(d)) => unchained(&format!("{}: {d}", best.kind())),
        (None, None) => best.kind().to_string(),
    };
    TemplateError { template: base_name(best.name().unwrap_or(top)).to_string(), line: best.line(), message }
}

/// Render one template source with a context, in this graph.
pub fn render_in(
    graph: &Arc<Graph>,
    name: &str,
    source: &str,
    trim: bool,
    lstrip: bool,
    ctx: Value,
) -> Result<String, TemplateError> {
    // A template rendered for its own sake (not included) starts a fresh
    // allowance of time and fuel; what it includes spends from it.
    if !name.contains(CHAIN) {
        graph.budget.restart();
    }
    let env = environment(graph, trim, lstrip);
    let source = prepare_source(source, trim);
    let tmpl = env.template_from_named_str(name, &source).map_err(|e| describe(graph, name, &e))?;
    let mut out = crate::limits::Capped::new(&graph.budget);
    let used = {
        let captured = tmpl.render_captured_to(ctx, &mut out).map_err(|e| describe(graph, name, &e))?;
        captured.state().fuel_levels().map(|(used, _)| used).unwrap_or(0)
    };
    graph.budget.spend_fuel(used);
    String::from_utf8(out.out).map_err(|e| TemplateError {
        template: base_name(name).to_string(),
        line: None,
        message: format!("output is not UTF-8: {e}"),
    })
}
