//! Peering Manager's 52 template filters (spec §1.6), argument names and
//! edge cases included. Filters that read the PeeringDB cache are in
//! `crate::peeringdb`.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, State};
use serde_json::{Map, Value as Json};

use crate::methods::{self, connections, direct_sessions, group_sessions, items_value, ixp_sessions, own_policies};
use crate::objects::{Item, as_item, as_set, err, item, json_value, model, set};

type Args<'a> = (&'a [Value], &'a Kwargs);

/// Positional-or-keyword argument.
fn arg(a: Args<'_>, pos: usize, name: &str) -> Option<Value> {
    if a.1.has(name) { a.1.get::<Value>(name).ok() } else { a.0.get(pos).cloned() }
}

fn int_arg(a: Args<'_>, pos: usize, name: &str, default: i64) -> i64 {
    arg(a, pos, name).and_then(|v| v.as_i64()).unwrap_or(default)
}

fn str_arg(a: Args<'_>, pos: usize, name: &str) -> String {
    arg(a, pos, name).and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn need<'a>(v: &'a Value, what: &str) -> Result<&'a Item, Error> {
    as_item(v).ok_or_else(|| err(format!("{} is not {what}", py_str(v))))
}

/// Python's `str()` of a template value.
pub fn py_str(v: &Value) -> String {
    if let Some(i) = as_item(v) {
        return i.str();
    }
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => "None".into(),
        ValueKind::Bool => if v.is_true() { "True" } else { "False" }.into(),
        _ => v.to_string(),
    }
}

type Filter = fn(&State, Value, Args<'_>) -> Result<Value, Error>;

pub fn register(env: &mut Environment<'static>) {
    let filters: &[(&str, Filter)] = &[
        ("safe_string", safe_string),
        ("quote", quote),
        ("tags", tags),
        ("has_tag", |s, v, a| has_tag(s, v, a)),
        ("has_not_tag", |s, v, a| Ok(Value::from(!has_tag(s, v, a)?.is_true()))),
        ("inherited_status", |_, v, _| Ok(Value::from(inherited_status(need(&v, "an object with a status")?)?))),
        ("as_json", as_json),
        ("as_yaml", as_yaml),
        ("indent", indent),
        ("ipv4", |_, v, _| Ok(parse_ip(&v, 4))),
        ("ipv6", |_, v, _| Ok(parse_ip(&v, 6))),
        ("ip", |_, v, _| ip(&v)),
        ("ip_version", ip_version),
        ("mac", mac),
        ("length", length),
        ("len", length),
        ("count", length),
        ("filter", filter),
        ("get", get),
        ("unique_items", unique_items),
        ("iterate", iterate),
        ("ixps", ixps),
        ("shared_ixps", |_, v, a| {
            let other = arg(a, 0, "other").ok_or_else(|| err("shared_ixps() needs the other AS or network"))?;
            crate::peeringdb::shared_ixps(&v, &other)
        }),
        ("shared_facilities", |_, v, a| {
            let other = arg(a, 0, "other").ok_or_else(|| err("shared_facilities() needs the other AS or network"))?;
            crate::peeringdb::shared_facilities(&v, &other)
        }),
        ("missing_sessions", |_, v, a| {
            let other = arg(a, 0, "other").ok_or_else(|| err("missing_sessions() needs the other AS"))?;
            crate::peeringdb::missing_sessions(&v, &other, arg(a, 1, "ixp").as_ref())
        }),
        ("prefix_list", prefix_list),
        ("as_list", as_list),
        ("strip_irr_sources", strip_irr_sources),
        ("relationships", relationships),
        ("local_ips", local_ips),
        ("direct_sessions", |_, v, a| {
            let group = arg(a, 1, "group").as_ref().and_then(methods::id_of);
            Ok(Value::from_object(direct_sessions(need(&v, "an AS or a router")?, int_arg(a, 0, "family", 0), group)?))
        }),
        ("ixp_sessions", |_, v, a| {
            let ixp = arg(a, 1, "ixp").as_ref().and_then(methods::id_of);
            Ok(Value::from_object(ixp_sessions(need(&v, "an AS or a router")?, int_arg(a, 0, "family", 0), ixp)?))
        }),
        ("sessions", |_, v, a| {
            Ok(Value::from_object(group_sessions(need(&v, "a BGP group or an IXP")?, int_arg(a, 0, "family", 0))?))
        }),
        ("route_server", route_server),
        ("max_prefix", max_prefix),
        ("arista_password", type7_password),
        ("cisco_password", type7_password),
        ("connections", |_, v, _| {
            let items = connections(need(&v, "a router or an IXP")?)?;
            Ok(set_of(items, "net.connection"))
        }),
        ("direct_peers", |_, v, a| peers(v, a, "direct")),
        ("ixp_peers", |_, v, a| peers(v, a, "ixp")),
        ("bfds", bfds),
        ("communities", communities),
        ("merge_communities", |_, v, _| match as_item(&v) {
            Some(i) => Ok(items_value(methods::merged_communities(i)?)),
            None => Ok(Value::from(Vec::<Value>::new())),
        }),
        ("contact", contact),
        ("iter_export_policies", |_, v, a| iter_policies(v, a, "export")),
        ("iter_import_policies", |_, v, a| iter_policies(v, a, "import")),
        ("merge_export_policies", |_, v, a| merge_policies(v, a, "export")),
        ("merge_import_policies", |_, v, a| merge_policies(v, a, "import")),
        ("routing_policies", routing_policies),
        ("context_has_key", |_, v, a| Ok(Value::from(context_key(&v, a, 1)?.is_some()))),
        ("context_has_not_key", |_, v, a| Ok(Value::from(context_key(&v, a, 1)?.is_none()))),
        ("context_get_key", |_, v, a| {
            Ok(context_key(&v, a, 2)?
                .map(|j| json_value(&j))
                .unwrap_or_else(|| arg(a, 1, "default").unwrap_or(Value::from(()))))
        }),
    ];
    for (name, f) in filters {
        let f = *f;
        env.add_filter(*name, move |state: &State, v: Value, rest: Rest<Value>, kw: Kwargs| f(state, v, (&rest, &kw)));
    }
}

fn set_of(items: Vec<Item>, label: &str) -> Value {
    match items.first() {
        Some(first) => set(&first.graph, model(label), items.iter().map(|i| i.obj.id).collect()),
        None => Value::from(Vec::<Value>::new()),
    }
}

fn safe_string(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    use unicode_normalization::UnicodeNormalization;
    let s = v.as_str().ok_or_else(|| err(format!("safe_string expects a string, got {}", py_str(&v))))?;
    Ok(Value::from(s.nfkd().filter(char::is_ascii).collect::<String>()))
}

fn quote(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    if !v.is_true() {
        return Ok(Value::from(""));
    }
    let c = arg(a, 0, "char").map(|c| py_str(&c)).unwrap_or_else(|| "\"".into());
    Ok(Value::from(format!("{c}{}{c}", py_str(&v))))
}

fn tag_items(v: &Value) -> Result<Vec<Item>, Error> {
    let it = need(v, "a tagged object")?;
    if !it.model().features.tags {
        return Err(err(format!("{} has no tags", it.str())));
    }
    let tm = model("extras.tag");
    crate::objects::Set { graph: it.graph.clone(), model: tm, ids: it.graph.tags(&it.obj)? }.items()
}

fn tags(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    let items = tag_items(&v)?;
    let it = need(&v, "a tagged object")?;
    Ok(set(&it.graph, model("extras.tag"), items.iter().map(|i| i.obj.id).collect()))
}

fn has_tag(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let tag = str_arg(a, 0, "tag");
    Ok(Value::from(tag_items(&v)?.iter().any(|t| t.text("name") == tag || t.text("slug") == tag)))
}

/// Effective status after maintenance/disable inheritance (spec §1.6.1).
pub fn inherited_status(it: &Item) -> Result<String, Error> {
    let own = it.text("status").to_string();
    if it.model().field("status").is_none() {
        return Err(err(format!("{} has no status", it.str())));
    }
    if own == "disabled" {
        return Ok(own);
    }
    let maint = |s: &str| matches!(s, "pre-maintenance" | "maintenance" | "post-maintenance");
    match it.model().name {
        "connection" => {
            if let Some(ix) = it.related("internet_exchange_point")? {
                let s = ix.text("status");
                if s == "disabled" || maint(s) {
                    return Ok(s.to_string());
                }
            }
            if let Some(r) = it.related("router")?
                && maint(r.text("status"))
            {
                return Ok(r.text("status").to_string());
            }
        }
        "directpeeringsession" => {
            if let Some(g) = it.related("bgp_group")?
                && matches!(g.text("status"), "disabled" | "maintenance")
            {
                return Ok(g.text("status").to_string());
            }
            if let Some(r) = it.related("router")?
                && maint(r.text("status"))
            {
                return Ok(r.text("status").to_string());
            }
        }
        "internetexchangepeeringsession" => {
            let c = it.related("ixp_connection")?.ok_or_else(|| err("session has no connection"))?;
            let s = inherited_status(&c)?;
            if s == "disabled" || maint(&s) {
                return Ok(s);
            }
        }
        _ => {}
    }
    Ok(own)
}

/// Django's serialization of an object (no id, FK ids, M2M ids, tag names).
fn serialize(it: &Item) -> Result<Json, Error> {
    use pm_db::model::Kind;
    let mut out = Map::new();
    for f in it.model().fields {
        match f.kind {
            Kind::Id | Kind::Computed(_) | Kind::ContentTypes { .. } => {}
            Kind::M2m { .. } => {
                let (_, ids) = it.graph.m2m(&it.obj, f.name)?;
                out.insert(f.name.into(), Json::from(ids));
            }
            Kind::Tags => {
                let names: Vec<Json> =
                    tag_items(&Value::from_object(Item { graph: it.graph.clone(), obj: it.obj.clone() }))?
                        .iter()
                        .map(|t| Json::from(t.text("name")))
                        .collect();
                out.insert("tags".into(), Json::Array(names));
            }
            _ if f.write_only || !f.snapshot => {}
            _ => {
                out.insert(f.name.into(), it.obj.get(f.name).to_json());
            }
        }
    }
    Ok(Json::Object(out))
}

fn to_plain(v: &Value) -> Result<Json, Error> {
    if let Some(i) = as_item(v) {
        return serialize(i);
    }
    if let Some(s) = as_set(v) {
        return s.items()?.iter().map(serialize).collect::<Result<Vec<_>, _>>().map(Json::Array);
    }
    serde_json::to_value(v).map_err(|e| err(format!("cannot serialise: {e}")))
}

fn sort_keys(j: Json) -> Json {
    match j {
        Json::Object(m) => {
            let mut keys: Vec<(String, Json)> = m.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(keys.into_iter().collect())
        }
        Json::Array(a) => Json::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// Python's `json.dumps` without indent: `, ` and `: ` separators.
struct PyCompact;

impl serde_json::ser::Formatter for PyCompact {
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

fn as_json(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    // `indent=None` is compact, as in Python; no argument means 4.
    let indent = match arg(a, 0, "indent") {
        Some(i) if i.is_none() => None,
        Some(i) => Some(i.as_i64().unwrap_or(4).max(0) as usize),
        None => Some(4),
    };
    let sort = arg(a, 1, "sort_keys").map(|v| v.is_true()).unwrap_or(true);
    let mut j = to_plain(&v)?;
    if sort {
        j = sort_keys(j);
    }
    let mut buf = Vec::new();
    match indent {
        Some(indent) => {
            let pad = vec![b' '; indent];
            let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            serde::Serialize::serialize(&j, &mut ser).map_err(|e| err(e.to_string()))?;
        }
        None => {
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, PyCompact);
            serde::Serialize::serialize(&j, &mut ser).map_err(|e| err(e.to_string()))?;
        }
    }
    // Python's json.dumps escapes every non-ASCII character.
    let s = String::from_utf8(buf).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    Ok(Value::from(out))
}

/// PyYAML's double-quoted style (`allow_unicode=False`): non-ASCII and
/// non-printable characters escaped (`"Z\xFCrich"`).
fn yaml_double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (' '..='~').contains(&c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn yaml_scalar(j: &Json) -> String {
    match j {
        Json::String(s) if s.chars().any(|c| !(' '..='~').contains(&c) && c != '\n') => yaml_double_quoted(s),
        Json::Null => "null".into(),
        Json::Bool(b) => if *b { "true" } else { "false" }.into(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => {
            let plain = !s.is_empty()
                && !s.starts_with([
                    ' ', '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`',
                ])
                && !s.ends_with(' ')
                && !s.contains(": ")
                && !s.contains(" #")
                && !s.contains('\n')
                && s.parse::<f64>().is_err()
                && !matches!(s.to_lowercase().as_str(), "true" | "false" | "yes" | "no" | "null" | "on" | "off" | "~");
            if plain { s.clone() } else { format!("'{}'", s.replace('\'', "''")) }
        }
        _ => String::new(),
    }
}

/// PyYAML block style (`default_flow_style=False`): list items under a key
/// are not indented further.
fn yaml(j: &Json, indent: usize, level: usize, out: &mut String) {
    let pad = " ".repeat(indent * level);
    match j {
        Json::Object(m) if m.is_empty() => out.push_str(" {}\n"),
        Json::Array(a) if a.is_empty() => out.push_str(" []\n"),
        Json::Object(m) => {
            out.push('\n');
            for (k, v) in m {
                out.push_str(&format!("{pad}{}:", yaml_scalar(&Json::String(k.clone()))));
                match v {
                    Json::Array(a) if !a.is_empty() => yaml(v, indent, level, out),
                    Json::Object(_) | Json::Array(_) => yaml(v, indent, level + 1, out),
                    _ => out.push_str(&format!(" {}\n", yaml_scalar(v))),
                }
            }
        }
        Json::Array(a) => {
            out.push('\n');
            for v in a {
                out.push_str(&format!("{pad}-"));
                match v {
                    Json::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        yaml(v, indent, level + 1, &mut inner);
                        // First key goes on the dash line.
                        let inner = inner.trim_start_matches('\n');
                        let first_pad = " ".repeat(indent * (level + 1));
                        out.push(' ');
                        out.push_str(inner.strip_prefix(&first_pad).unwrap_or(inner));
                    }
                    Json::Object(_) | Json::Array(_) => yaml(v, indent, level + 1, out),
                    _ => out.push_str(&format!(" {}\n", yaml_scalar(v))),
                }
            }
        }
        _ => out.push_str(&format!(" {}\n", yaml_scalar(j))),
    }
}

fn as_yaml(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let indent = int_arg(a, 0, "indent", 2).max(1) as usize;
    let sort = arg(a, 1, "sort_keys").map(|v| v.is_true()).unwrap_or(true);
    let mut j = to_plain(&v)?;
    if sort {
        j = sort_keys(j);
    }
    let mut out = String::new();
    match &j {
        Json::Object(_) | Json::Array(_) => {
            yaml(&j, indent, 0, &mut out);
            out = out.trim_start_matches('\n').to_string();
            if out.starts_with(' ') {
                out = out.trim_start().to_string();
            }
        }
        _ => out = format!("{}\n...\n", yaml_scalar(&j)),
    }
    Ok(Value::from(out))
}

/// PM's indent: every line (first and blank ones too) gets the prefix.
fn indent(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let n = arg(a, 0, "n").and_then(|n| n.as_i64()).ok_or_else(|| err("indent() missing required argument 'n'"))?;
    let chars = arg(a, 1, "chars").map(|c| py_str(&c)).unwrap_or_else(|| " ".into());
    let reset = arg(a, 2, "reset").map(|r| r.is_true()).unwrap_or(false);
    let prefix = chars.repeat(n.max(0) as usize);
    let text = py_str(&v);
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let line = if reset { line.trim_start_matches(|c| chars.contains(c)) } else { line };
        out.push_str(&prefix);
        out.push_str(line);
    }
    Ok(Value::from(out))
}

/// `ipv4`/`ipv6`: the address (or interface) if it is one of that family, else None.
fn parse_ip(v: &Value, family: u8) -> Value {
    let s = match v.as_i64() {
        Some(n) if family == 4 && (0..=u32::MAX as i64).contains(&n) => std::net::Ipv4Addr::from(n as u32).to_string(),
        Some(n) if family == 6 && n >= 0 => std::net::Ipv6Addr::from(n as u128).to_string(),
        _ => py_str(v),
    };
    let host = s.split('/').next().unwrap_or("");
    match host.parse::<std::net::IpAddr>() {
        // Python's ipaddress prints the canonical form (`2001:DB8:0::1` → `2001:db8::1`).
        Ok(ip) if (ip.is_ipv4() && family == 4) || (ip.is_ipv6() && family == 6) => {
            crate::ip::Ip::parse(&s).map(crate::ip::Ip::value).unwrap_or(Value::from(()))
        }
        _ => Value::from(()),
    }
}

fn ip(v: &Value) -> Result<Value, Error> {
    if let Some(it) = as_item(v)
        && methods::is_session(it)
    {
        return Ok(Value::from(pm_domain::net::host_part(it.text("ip_address")).to_string()));
    }
    if v.kind() == ValueKind::Seq || as_set(v).is_some() {
        return Ok(Value::from(v.try_iter()?.map(|i| ip(&i)).collect::<Result<Vec<_>, _>>()?));
    }
    let s = py_str(v);
    let host = pm_domain::net::host_part(&s);
    host.parse::<std::net::IpAddr>()
        .map(|ip| Value::from(ip.to_string()))
        .map_err(|_| err(format!("'{s}' does not appear to be an IPv4 or IPv6 address")))
}

fn ip_version(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    let it = as_item(&v).filter(|i| methods::is_session(i)).ok_or_else(|| err("value is not a bgp session"))?;
    pm_domain::net::ip_version(it.text("ip_address"))
        .map(Value::from)
        .ok_or_else(|| err(format!("'{}' does not appear to be an IPv4 or IPv6 address", it.text("ip_address"))))
}

fn mac(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let raw = match as_item(&v) {
        Some(it) => it.obj.get("mac_address").as_str().map(str::to_string).ok_or_else(|| err("no MAC address"))?,
        None => py_str(&v),
    };
    let m = pm_domain::net::parse_mac(&raw).map_err(err)?;
    let bare: String = m.replace(':', "");
    Ok(Value::from(match str_arg(a, 0, "format").as_str() {
        "cisco" => format!("{}.{}.{}", &bare[0..4], &bare[4..8], &bare[8..12]),
        "bare" => bare,
        _ => m,
    }))
}

fn length(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    if let Some(s) = as_set(&v) {
        return Ok(Value::from(s.ids.len()));
    }
    v.len().map(Value::from).ok_or_else(|| err(format!("object of type {} has no len()", v.kind())))
}

fn attr(v: &Value, name: &str) -> Option<Value> {
    match as_item(v) {
        Some(it) => it.field(name).ok().flatten(),
        None => v.get_attr(name).ok().filter(|x| !x.is_undefined()),
    }
}

fn filter(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    if let Some(s) = as_set(&v) {
        return Ok(Value::from_object(s.filter(a.1, true)?));
    }
    let mut out = Vec::new();
    let wanted: Vec<(String, Value)> =
        a.1.args().map(|k| (k.to_string(), a.1.get::<Value>(k).unwrap_or_default())).collect();
    for x in v.try_iter()? {
        if wanted.iter().all(|(k, w)| attr(&x, k).is_some_and(|have| &have == w)) {
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

fn get(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let s = as_set(&v).ok_or_else(|| err("get() needs a queryset"))?;
    let found = s.filter(a.1, true)?;
    if found.ids.len() == 1 {
        let obj = found.graph.get(found.model, found.ids[0])?.ok_or_else(|| err("vanished"))?;
        return Ok(item(&found.graph, obj));
    }
    Ok(Value::from_object(found))
}

fn unique_items(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let field = str_arg(a, 0, "field");
    let mut seen: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for x in v.try_iter()? {
        let Some(k) = attr(&x, &field) else { continue };
        let k = as_item(&k).map(|i| Value::from(i.obj.id)).unwrap_or(k);
        if !seen.contains(&k) {
            seen.push(k);
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

fn iterate(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let field = str_arg(a, 0, "field");
    // getattr(item, field, None): a missing attribute is None, not undefined.
    Ok(Value::from(v.try_iter()?.map(|x| attr(&x, &field).unwrap_or(Value::from(()))).collect::<Vec<_>>()))
}

fn ixps(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let it = need(&v, "an autonomous system").and_then(|i| {
        if i.is("peering.autonomoussystem") { Ok(i) } else { Err(err("value is not an autonomous system")) }
    })?;
    let other = arg(a, 0, "other").as_ref().and_then(methods::id_of).ok_or_else(|| err("ixps() needs the other AS"))?;
    let mut ids = Vec::new();
    for s in ixp_sessions(it, 0, None)?.items()? {
        if let Some(ix) = s.related("ixp_connection")?.and_then(|c| c.related("internet_exchange_point").ok().flatten())
            && ix.obj.int("local_autonomous_system") == Some(other)
        {
            ids.push(ix.obj.id);
        }
    }
    let m = model("peering.internetexchange");
    Ok(set(&it.graph, m, it.graph.sorted(m, ids)?))
}

fn prefix_list(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let it = need(&v, "an AS or an IXP")?;
    let family = int_arg(a, 0, "family", 0);
    let stored = match it.model().name {
        "autonomoussystem" => match it.obj.get("prefixes") {
            pm_db::object::Val::Json(j) if !j.is_null() => j.clone(),
            _ => serde_json::json!({"ipv6": [], "ipv4": []}),
        },
        // PeeringDB prefixes as CIDR strings, per family (spec §1.6.4).
        "internetexchange" => crate::peeringdb::ixp_prefixes(it)?,
        _ => return Err(err(format!("{} has no prefix list", it.str()))),
    };
    Ok(match family {
        4 | 6 => json_value(stored.get(format!("ipv{family}")).unwrap_or(&Json::Array(vec![]))),
        _ => json_value(&stored),
    })
}

fn as_list(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    let it = need(&v, "an autonomous system")?;
    if !it.is("peering.autonomoussystem") {
        return Err(err("value is not an autonomous system"));
    }
    Ok(match it.obj.get("as_list") {
        pm_db::object::Val::Json(j) => json_value(j),
        _ => Value::from(Vec::<Value>::new()),
    })
}

fn strip_irr_sources(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    let sources = pm_domain::as_set::DEFAULT_SOURCES;
    let pairs = match as_item(&v) {
        Some(it) if it.is("peering.autonomoussystem") => pm_domain::as_set::parse_irr_as_set(
            it.obj.int("asn").unwrap_or(0),
            it.obj.get("irr_as_set").as_str(),
            sources,
        ),
        Some(_) => return Err(err("value is not an autonomous system or a string")),
        None => pm_domain::as_set::parse_irr_as_set(0, v.as_str(), sources),
    };
    let mut names: Vec<String> = Vec::new();
    for (_, name) in pairs {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(Value::from(names))
}

fn relationships(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let it = need(&v, "an autonomous system")?;
    if !it.is("peering.autonomoussystem") {
        return Err(err("value is not an autonomous system"));
    }
    let local = arg(a, 0, "local_autonomous_system").as_ref().and_then(methods::id_of);
    let ids: Vec<i64> = direct_sessions(it, 0, None)?
        .items()?
        .iter()
        .filter(|s| local.is_none() || s.obj.int("local_autonomous_system") == local)
        .filter_map(|s| s.obj.int("relationship"))
        .collect();
    let m = model("bgp.relationship");
    it.graph.ensure(m, &ids)?;
    Ok(set(&it.graph, m, it.graph.sorted(m, ids)?))
}

fn local_ips(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let Some(it) = as_item(&v) else { return Ok(Value::from(())) };
    let family = int_arg(a, 0, "family", 0);
    let addr = |c: &Item, f: &str| c.obj.get(f).as_str().and_then(crate::ip::Ip::parse).map(crate::ip::Ip::value);
    Ok(match it.model().name {
        "directpeeringsession" => addr(it, "local_ip_address").unwrap_or(Value::from(())),
        "internetexchangepeeringsession" => match it.related("ixp_connection")? {
            Some(c) => {
                let f = if pm_domain::net::ip_version(it.text("ip_address")) == Some(6) {
                    "ipv6_address"
                } else {
                    "ipv4_address"
                };
                addr(&c, f).unwrap_or(Value::from(()))
            }
            None => Value::from(()),
        },
        "internetexchange" => {
            let mut out = Vec::new();
            for c in connections(it)? {
                if family != 6 {
                    out.extend(addr(&c, "ipv4_address"));
                }
                if family != 4 {
                    out.extend(addr(&c, "ipv6_address"));
                }
            }
            Value::from(out)
        }
        _ => Value::from(()),
    })
}

fn route_server(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let it = need(&v, "an IXP")?;
    if !it.is("peering.internetexchange") {
        return Err(err("value is not an internet exchange point"));
    }
    let all = group_sessions(it, int_arg(a, 0, "family", 0))?;
    let ids = all.items()?.iter().filter(|s| s.obj.bool("is_route_server")).map(|s| s.obj.id).collect();
    Ok(Value::from_object(all.with(ids)))
}

fn max_prefix(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    let it = as_item(&v).filter(|i| methods::is_session(i)).ok_or_else(|| err("value is not a bgp session"))?;
    let a = it.related("autonomous_system")?.ok_or_else(|| err("session has no AS"))?;
    let f = if pm_domain::net::ip_version(it.text("ip_address")) == Some(6) {
        "ipv6_max_prefixes"
    } else {
        "ipv4_max_prefixes"
    };
    Ok(a.field(f)?.unwrap_or(Value::from(())))
}

fn type7_password(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    let s = v.as_str().ok_or_else(|| err(format!("expected a password string, got {}", py_str(&v))))?;
    Ok(Value::from(s.strip_prefix("7 ").unwrap_or(s)))
}

fn peers(v: Value, a: Args<'_>, kind: &str) -> Result<Value, Error> {
    let r = need(&v, "a router")?;
    if !r.is("devices.router") {
        return Err(err("value is not a router"));
    }
    let slug = str_arg(a, 0, if kind == "direct" { "group" } else { "ixp" });
    let sessions = if kind == "direct" { direct_sessions(r, 0, None)? } else { ixp_sessions(r, 0, None)? };
    let mut ids = Vec::new();
    for s in sessions.items()? {
        let holder = methods::session_group(&s)?;
        // An unknown slug is ignored (PM behaviour): every peer is kept.
        let keep =
            slug.is_empty() || holder.as_ref().is_some_and(|h| h.text("slug") == slug) || !slug_exists(r, kind, &slug)?;
        if keep {
            ids.extend(s.obj.int("autonomous_system"));
        }
    }
    let m = model("peering.autonomoussystem");
    r.graph.ensure(m, &ids)?;
    Ok(set(&r.graph, m, r.graph.sorted(m, ids)?))
}

fn slug_exists(r: &Item, kind: &str, slug: &str) -> Result<bool, Error> {
    let m = model(if kind == "direct" { "peering.bgpgroup" } else { "peering.internetexchange" });
    let all = r.graph.all(m)?;
    Ok(crate::objects::Set { graph: r.graph.clone(), model: m, ids: all }
        .items()?
        .iter()
        .any(|i| i.text("slug") == slug))
}

fn bfds(_: &State, v: Value, _: Args<'_>) -> Result<Value, Error> {
    let r = need(&v, "a router")?;
    if !r.is("devices.router") {
        return Err(err("value is not a router"));
    }
    let (d, i) = methods::router_sessions(r)?;
    let ids: Vec<i64> = d.iter().chain(i.iter()).filter_map(|s| s.obj.int("bfd")).collect();
    let m = model("net.bfd");
    r.graph.ensure(m, &ids)?;
    Ok(set(&r.graph, m, r.graph.sorted(m, ids)?))
}

fn communities(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let Some(it) = as_item(&v) else { return Ok(Value::from(Vec::<Value>::new())) };
    let items = methods::m2m_items(it, "communities")?;
    let field = str_arg(a, 0, "field");
    if !field.is_empty() {
        return Ok(Value::from(
            items.iter().map(|c| c.field(&field).ok().flatten().unwrap_or_default()).collect::<Vec<_>>(),
        ));
    }
    Ok(set(&it.graph, model("bgp.community"), items.iter().map(|i| i.obj.id).collect()))
}

fn contact(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let it = need(&v, "an object with contacts")?;
    let holder = match it.model().name {
        "autonomoussystem" | "internetexchange" => Item { graph: it.graph.clone(), obj: it.obj.clone() },
        "directpeeringsession" | "internetexchangepeeringsession" => {
            it.related("autonomous_system")?.ok_or_else(|| err("session has no AS"))?
        }
        _ => return Err(err(format!("{} has no contacts", it.str()))),
    };
    let role = str_arg(a, 0, "role").to_lowercase();
    let field = str_arg(a, 1, "field");
    let assignments = holder.field("contacts")?.unwrap_or_default();
    let mut found: Vec<Item> = Vec::new();
    for asg in as_set(&assignments).map(|s| s.items()).transpose()?.unwrap_or_default() {
        if asg.related("role")?.is_some_and(|r| r.text("name").to_lowercase() == role)
            && let Some(c) = asg.related("contact")?
        {
            found.push(c);
        }
    }
    found.sort_by(|x, y| x.text("name").cmp(y.text("name")));
    Ok(match found.into_iter().next() {
        None => Value::from(()),
        Some(c) if !field.is_empty() => c.field(&field)?.unwrap_or_default(),
        Some(c) => Value::from_object(c),
    })
}

fn policy_output(items: Vec<Item>, a: Args<'_>, field_pos: usize, family_pos: usize) -> Result<Value, Error> {
    let family = int_arg(a, family_pos, "family", -1);
    let items: Vec<Item> = items
        .into_iter()
        .filter(|p| !matches!(family, 0 | 4 | 6) || [0, family].contains(&p.obj.int("address_family").unwrap_or(0)))
        .collect();
    let field = match arg(a, field_pos, "field") {
        Some(f) if f.kind() != ValueKind::String && !f.is_none() => return Err(err("field must be a string")),
        Some(f) => f.as_str().unwrap_or("").to_string(),
        None => String::new(),
    };
    if field.is_empty() {
        return Ok(items_value(items));
    }
    Ok(Value::from(items.iter().map(|p| p.field(&field).ok().flatten().unwrap_or_default()).collect::<Vec<_>>()))
}

fn iter_policies(v: Value, a: Args<'_>, direction: &str) -> Result<Value, Error> {
    let it = need(&v, "an object with policies")?;
    policy_output(own_policies(it, direction)?, a, 0, 1)
}

fn merge_policies(v: Value, a: Args<'_>, direction: &str) -> Result<Value, Error> {
    let it = need(&v, "an object with policies")?;
    let reverse = str_arg(a, 0, "order") == "reverse";
    Ok(items_value(methods::merged_policies(it, direction, reverse)?))
}

fn routing_policies(_: &State, v: Value, a: Args<'_>) -> Result<Value, Error> {
    let r = need(&v, "a router")?;
    if !r.is("devices.router") {
        return Err(err("value is not a router"));
    }
    policy_output(methods::router_policies(r)?, a, 0, 1)
}

/// Depth-first key search in the merged config context (spec §1.6.6).
fn find_key(map: &Map<String, Json>, key: &str, recursive: bool) -> Option<Json> {
    for (k, v) in map {
        if k == key {
            return Some(v.clone());
        }
        if recursive
            && let Json::Object(inner) = v
            && let Some(found) = find_key(inner, key, true)
        {
            return Some(found);
        }
    }
    None
}

/// `recursive_pos`: where `recursive` sits positionally for this filter.
fn context_key(v: &Value, a: Args<'_>, recursive_pos: usize) -> Result<Option<Json>, Error> {
    let it = need(v, "an object with config contexts")?;
    if !it.model().features.config_context {
        return Err(err(format!("{} has no config context", it.str())));
    }
    let key = str_arg(a, 0, "key");
    let recursive = arg(a, recursive_pos, "recursive").map(|r| r.is_true()).unwrap_or(true);
    Ok(match it.graph.config_context(&it.obj)? {
        Json::Object(m) => find_key(&m, &key, recursive),
        _ => None,
    })
}
