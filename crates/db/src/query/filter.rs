//! Query parameters → SQL condition, the same for every model (spec §6).
//!
//! A parameter is `<filter>` or `<filter>__<lookup>`; repeated keys OR their
//! values (except `tag`, which ANDs), different keys AND. Relation paths
//! (`router.hostname`) become `IN (subquery)` chains, so no join ever
//! multiplies rows.

use std::collections::HashMap;
use std::sync::OnceLock;

use sea_orm::ConnectionTrait;
use sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement};

use super::custom::CustomFilter;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::model::{Filter, FilterTarget, Kind, Lookups, Model, Search};
use crate::object::is_int_kind;
use crate::registry;

/// Parameters that shape the response rather than filter it.
pub const RESERVED: &[&str] = &[
    "limit", "offset", "ordering", "brief", "fields", "exclude", "format", "export", "q", "page", "per_page", "sort",
    "_",
];

/// A filter resolved for a model: where it points and what it accepts.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    pub name: &'static str,
    pub target: FilterTarget,
    pub lookups: Lookups,
}

/// Every filter a model answers to, by parameter name.
pub fn filters(model: &'static Model) -> &'static HashMap<&'static str, Resolved> {
    static ALL: OnceLock<HashMap<&'static str, HashMap<&'static str, Resolved>>> = OnceLock::new();
    let all = ALL.get_or_init(|| registry::MODELS.iter().map(|m| (m.table, build_filters(m))).collect());
    &all[model.table]
}

fn build_filters(model: &'static Model) -> HashMap<&'static str, Resolved> {
    let mut out = HashMap::new();
    // Secret fields are never a filter, a search term or a sort key: each
    // would answer "does the password start with N?" one request at a time.
    for f in model.fields {
        if f.filter != Lookups::Off && !f.secret {
            out.insert(f.name, Resolved { name: f.name, target: FilterTarget::Path(f.name), lookups: f.filter });
        }
    }
    for Filter { name, target, lookups } in model.filters {
        if let FilterTarget::Path(path) = target
            && is_secret_path(model, path)
        {
            continue;
        }
        out.insert(*name, Resolved { name, target: *target, lookups: *lookups });
    }
    if model.features.change_log && model.has("created") {
        for (name, c) in [
            ("created_by_request", CustomFilter::CreatedByRequest),
            ("updated_by_request", CustomFilter::UpdatedByRequest),
        ] {
            out.insert(name, Resolved { name, target: FilterTarget::Custom(c), lookups: Lookups::Exact });
        }
    }
    out
}

fn lookup_allowed(class: Lookups, lookup: &str) -> bool {
    match class {
        Lookups::Off => false,
        Lookups::Exact => lookup.is_empty(),
        Lookups::Num => matches!(lookup, "" | "n" | "lt" | "lte" | "gt" | "gte" | "empty"),
        Lookups::Str => {
            matches!(lookup, "" | "n" | "ic" | "nic" | "isw" | "nisw" | "iew" | "niew" | "ie" | "nie" | "empty")
        }
        Lookups::Rel => matches!(lookup, "" | "n"),
    }
}

/// Split `asn__gte` into the filter and its lookup, if the model knows it.
pub fn parse_key(model: &'static Model, key: &str) -> Option<(Resolved, &'static str)> {
    let table = filters(model);
    if let Some(r) = table.get(key) {
        return Some((*r, ""));
    }
    let (base, lookup) = key.rsplit_once("__")?;
    let r = table.get(base)?;
    let lookup: &'static str = match lookup {
        "n" => "n",
        "lt" => "lt",
        "lte" => "lte",
        "gt" => "gt",
        "gte" => "gte",
        "empty" => "empty",
        "ic" => "ic",
        "nic" => "nic",
        "isw" => "isw",
        "nisw" => "nisw",
        "iew" => "iew",
        "niew" => "niew",
        "ie" => "ie",
        "nie" => "nie",
        _ => return None,
    };
    lookup_allowed(r.lookups, lookup).then_some((*r, lookup))
}

/// Group query pairs by key, keeping value order.
pub fn group(params: &[(String, String)]) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (k, v) in params {
        match out.iter_mut().find(|(key, _)| *key == k.as_str()) {
            Some((_, vals)) => vals.push(v),
            None => out.push((k, vec![v.as_str()])),
        }
    }
    out
}

/// Whether `key` means something to the model's filters (or shapes the
/// response). PM ignores every other parameter; the API strips them first
/// unless strict filtering is configured.
pub fn is_known(model: &'static Model, key: &str) -> bool {
    key == "q"
        || RESERVED.contains(&key)
        || (model.features.tags && (key == "tag" || key == "tag__n"))
        || parse_key(model, key).is_some()
}

/// The condition selecting the rows `params` ask for.
pub async fn condition<C: ConnectionTrait>(
    db: &C,
    model: &'static Model,
    params: &[(String, String)],
) -> AppResult<Condition> {
    let mut cond = Condition::all();
    let mut errors = FieldErrors::new();
    for (key, values) in group(params) {
        // PostgreSQL text cannot hold NUL; refuse it on every backend alike.
        if values.iter().any(|v| v.contains('\0')) {
            errors.add(key, "Null characters are not allowed.");
            continue;
        }
        if key == "q" {
            if let Some(q) = values.iter().find(|v| !v.trim().is_empty()) {
                cond = cond.add(search(model, q.trim()));
            }
            continue;
        }
        if RESERVED.contains(&key) {
            continue;
        }
        if key == "tag" || key == "tag__n" {
            if !model.features.tags {
                errors.add(key, "Unknown filter field.");
                continue;
            }
            match tag_condition(db, model, &values, key == "tag__n").await {
                Ok(c) => cond = cond.add(c),
                Err(msg) => errors.add(key, msg),
            }
            continue;
        }
        let Some((filter, lookup)) = parse_key(model, key) else {
            errors.add(key, "Unknown filter field.");
            continue;
        };
        match filter_condition(db, model, filter, lookup, &values).await {
            Ok(c) => cond = cond.add(c),
            Err(msg) => errors.add(key, msg),
        }
    }
    errors.into_result()?;
    Ok(cond)
}

/// One step of a relation path: the FK column on `from` pointing at `to`.
struct Hop {
    from: &'static Model,
    column: &'static str,
}

/// Resolve `a.b.col`: the FK hops, the final model, its column and kind.
fn resolve_path(model: &'static Model, path: &str) -> Option<(Vec<Hop>, &'static Model, &'static str, Kind)> {
    let mut hops = Vec::new();
    let mut current = model;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        let field = current.fields.iter().find(|f| f.name == *part || f.column() == Some(*part))?;
        if last {
            // `router_id` addresses the column; `router` (a FK by name) too.
            let kind = if field.column() == Some(*part) && field.is_fk() && *part != field.name {
                Kind::Int { min: 0, max: i64::MAX }
            } else {
                field.kind
            };
            return Some((hops, current, field.column()?, kind));
        }
        let Kind::Fk { to, .. } = field.kind else { return None };
        hops.push(Hop { from: current, column: field.column()? });
        current = registry::model(to)?;
    }
    None
}

/// Whether a path (`router.napalm_password`) ends at a secret field.
fn is_secret_path(model: &'static Model, path: &str) -> bool {
    let Some((_, leaf, col, _)) = resolve_path(model, path) else { return false };
    leaf.fields.iter().any(|f| f.secret && f.column() == Some(col))
}

/// Wrap a condition on the final model of a path into one on the root model.
fn through(hops: &[Hop], mut leaf: Model_Cond) -> Condition {
    for hop in hops.iter().rev() {
        let target_table = leaf.table;
        let sub: SelectStatement = Query::select().column("id").from(target_table).cond_where(leaf.cond).to_owned();
        leaf = Model_Cond { table: hop.from.table, cond: Condition::all().add(Expr::col(hop.column).in_subquery(sub)) };
    }
    leaf.cond
}

#[allow(non_camel_case_types)]
struct Model_Cond {
    table: &'static str,
    cond: Condition,
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn lower_col(col: &'static str) -> Expr {
    Expr::expr(Func::lower(Expr::col(col)))
}

fn ilike(col: &'static str, pattern: String) -> Expr {
    lower_col(col).like(LikeExpr::new(pattern.to_lowercase()).escape('\\'))
}

/// A typed SQL value for a column, or the message DRF would give.
pub fn parse_value(kind: &Kind, raw: &str) -> Result<sea_query::Value, String> {
    use sea_query::Value as V;
    if let Kind::IntChoice(choices) = kind {
        // A choice filter (PM's ChoiceFilter) accepts only the declared values.
        return match raw.trim().parse::<i64>() {
            Ok(i) if choices.iter().any(|(v, _)| *v == i) => Ok(V::BigInt(Some(i))),
            _ => Err(format!("Select a valid choice. {raw} is not one of the available choices.")),
        };
    }
    if is_int_kind(kind) {
        return raw.trim().parse::<i64>().map(|i| V::BigInt(Some(i))).map_err(|_| "Enter a number.".into());
    }
    match kind {
        Kind::Bool => parse_bool(raw).map(|b| V::Bool(Some(b))).ok_or_else(|| "Enter a valid boolean.".into()),
        Kind::Float => raw.trim().parse::<f64>().map(|f| V::Double(Some(f))).map_err(|_| "Enter a number.".into()),
        Kind::DateTime => {
            parse_datetime(raw).map(|t| V::ChronoDateTimeUtc(Some(t))).ok_or_else(|| "Enter a valid date/time.".into())
        }
        Kind::Choice(choices) => {
            if choices.iter().any(|c| c.value == raw) {
                Ok(V::String(Some(raw.to_string())))
            } else {
                Err(format!("Select a valid choice. {raw} is not one of the available choices."))
            }
        }
        _ => Ok(V::String(Some(raw.to_string()))),
    }
}

pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim() {
        "true" | "True" | "1" | "yes" | "on" => Some(true),
        "false" | "False" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

pub fn parse_datetime(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
    let raw = raw.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().map(|d| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap()))
}

/// Condition on a single column for one lookup and one value.
fn lookup_expr(col: &'static str, kind: &Kind, lookup: &str, raw: &str) -> Result<Expr, String> {
    let is_text = !is_int_kind(kind) && !matches!(kind, Kind::Bool | Kind::DateTime | Kind::Float);
    if lookup == "empty" {
        let want = parse_bool(raw).ok_or("Enter a valid boolean.")?;
        let empty = if is_text { Expr::col(col).is_null().or(Expr::col(col).eq("")) } else { Expr::col(col).is_null() };
        return Ok(if want { empty } else { empty.not() });
    }
    if raw == "null" && matches!(lookup, "" | "n") {
        return Ok(Expr::col(col).is_null());
    }
    Ok(match lookup {
        "" | "n" => Expr::col(col).eq(parse_value(kind, raw)?),
        "lt" => Expr::col(col).lt(parse_value(kind, raw)?),
        "lte" => Expr::col(col).lte(parse_value(kind, raw)?),
        "gt" => Expr::col(col).gt(parse_value(kind, raw)?),
        "gte" => Expr::col(col).gte(parse_value(kind, raw)?),
        "ic" | "nic" => ilike(col, format!("%{}%", like_escape(raw))),
        "isw" | "nisw" => ilike(col, format!("{}%", like_escape(raw))),
        "iew" | "niew" => ilike(col, format!("%{}", like_escape(raw))),
        "ie" | "nie" => lower_col(col).eq(raw.to_lowercase()),
        _ => return Err("Unsupported lookup.".into()),
    })
}

fn negated(lookup: &str) -> bool {
    matches!(lookup, "n" | "nic" | "nisw" | "niew" | "nie")
}

async fn filter_condition<C: ConnectionTrait>(
    db: &C,
    model: &'static Model,
    filter: Resolved,
    lookup: &str,
    values: &[&str],
) -> Result<Condition, String> {
    match filter.target {
        FilterTarget::Custom(c) => custom_condition(model, c, values),
        FilterTarget::M2m { field, column } => {
            let f = model.field(field).ok_or("Unknown filter field.")?;
            let Kind::M2m { to, table, src, dst } = f.kind else { return Err("Unknown filter field.".into()) };
            let target = registry::model(to).ok_or("Unknown filter field.")?;
            let tf = target.field(column).ok_or("Unknown filter field.")?;
            let mut any = Condition::any();
            for v in values {
                any = any.add(lookup_expr(tf.column().unwrap(), &tf.kind, "", v)?);
            }
            let targets = Query::select().column("id").from(target.table).cond_where(any).to_owned();
            let links =
                Query::select().column(src).from(table).and_where(Expr::col(dst).in_subquery(targets)).to_owned();
            let inside = Expr::col("id").in_subquery(links);
            Ok(Condition::all().add(if negated(lookup) { inside.not() } else { inside }))
        }
        FilterTarget::Path(path) => {
            let (hops, leaf_model, col, kind) = resolve_path(model, path).ok_or("Unknown filter field.")?;
            // Relation filters name rows that must exist (PM answers 400 otherwise).
            if filter.lookups == Lookups::Rel && (!hops.is_empty() || is_fk_column(model, col)) {
                check_exist(db, leaf_model, col, &kind, values).await?;
            }
            // `nic` is `ic` negated, `n` is exact negated.
            let positive_lookup = match lookup {
                "n" => "",
                l if negated(l) => &l[1..],
                l => l,
            };
            let mut any = Condition::any();
            for v in values {
                any = any.add(lookup_expr(col, &kind, positive_lookup, v)?);
            }
            let positive = through(&hops, Model_Cond { table: leaf_model.table, cond: any });
            if negated(lookup) {
                // Rows matching none of the values, NULLs included (Django's exclude()).
                let matching = Query::select().column("id").from(model.table).cond_where(positive).to_owned();
                Ok(Condition::all().add(Expr::col("id").not_in_subquery(matching)))
            } else {
                Ok(positive)
            }
        }
    }
}

fn is_fk_column(model: &Model, col: &str) -> bool {
    model.fields.iter().any(|f| f.is_fk() && f.column() == Some(col))
}

/// For relation filters: every named object must exist among the objects the
/// filter names (PM: a `ModelMultipleChoiceFilter` over the related model's
/// whole queryset), never among the rows that happen to refer to them. A path
/// ending at a foreign-key column (`ixp_connection.internet_exchange_point_id`)
/// names rows of the FK target, so an IXP without connections is still valid.
async fn check_exist<C: ConnectionTrait>(
    db: &C,
    leaf: &'static Model,
    col: &'static str,
    kind: &Kind,
    values: &[&str],
) -> Result<(), String> {
    let fk_target = leaf.fields.iter().find(|f| f.column() == Some(col)).and_then(|f| match f.kind {
        Kind::Fk { to, .. } => registry::model(to),
        _ => None,
    });
    let (table, col, kind) = match fk_target {
        Some(target) => (target.table, "id", Kind::Int { min: 0, max: i64::MAX }),
        None => (leaf.table, col, *kind),
    };
    let wanted: Vec<&str> = values.iter().copied().filter(|v| *v != "null").collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut vals = Vec::new();
    for v in &wanted {
        vals.push(parse_value(&kind, v)?);
    }
    let stmt = Query::select().column(col).from(table).and_where(Expr::col(col).is_in(vals)).to_owned();
    let rows = db.query_all(&stmt).await.map_err(|e| e.to_string())?;
    let found: Vec<String> = rows
        .iter()
        .map(|r| {
            r.try_get_by_index::<i64>(0)
                .map(|i| i.to_string())
                .or_else(|_| r.try_get_by_index::<String>(0))
                .unwrap_or_default()
        })
        .collect();
    for v in wanted {
        if !found.iter().any(|f| f == v) {
            return Err(format!("Select a valid choice. {v} is not one of the available choices."));
        }
    }
    Ok(())
}

async fn tag_condition<C: ConnectionTrait>(
    db: &C,
    model: &'static Model,
    slugs: &[&str],
    negate: bool,
) -> Result<Condition, String> {
    let tag_model = registry::model("extras.tag").unwrap();
    let ct = registry::ct_id(model);
    let stmt = Query::select()
        .columns(["id", "slug"])
        .from(tag_model.table)
        .and_where(Expr::col("slug").is_in(slugs.iter().map(|s| s.to_string())))
        .to_owned();
    let rows = db.query_all(&stmt).await.map_err(|e| e.to_string())?;
    let known: HashMap<String, i64> = rows
        .iter()
        .filter_map(|r| Some((r.try_get_by_index::<String>(1).ok()?, r.try_get_by_index::<i64>(0).ok()?)))
        .collect();
    let tagged_with = |tag_id: i64| {
        Query::select()
            .column("object_id")
            .from("extras_taggeditem")
            .and_where(Expr::col("content_type_id").eq(ct))
            .and_where(Expr::col("tag_id").eq(tag_id))
            .to_owned()
    };
    let mut out = Condition::all();
    for slug in slugs {
        let Some(id) = known.get(*slug) else {
            return Err(format!("Select a valid choice. {slug} is not one of the available choices."));
        };
        let e = Expr::col("id").in_subquery(tagged_with(*id));
        out = out.add(if negate { e.not() } else { e });
    }
    Ok(out)
}

fn custom_condition(model: &'static Model, c: CustomFilter, values: &[&str]) -> Result<Condition, String> {
    let first = values.first().copied().unwrap_or("");
    let mut any = Condition::any();
    match c {
        // PM's NumberFilter: any number is valid, only 4 and 6 narrow the list.
        CustomFilter::AddressFamily(col) => {
            for v in values {
                let n = v.trim().parse::<f64>().ok().filter(|n| n.is_finite()).ok_or("Enter a number.")?;
                any = any.add(if n == 4.0 {
                    Expr::col(col).not_like("%:%")
                } else if n == 6.0 {
                    Expr::col(col).like("%:%")
                } else {
                    Expr::cust("1 = 1")
                });
            }
        }
        CustomFilter::CreatedByRequest | CustomFilter::UpdatedByRequest => {
            let action = if c == CustomFilter::CreatedByRequest { "create" } else { "update" };
            let id = uuid::Uuid::parse_str(first.trim()).map_err(|_| "Enter a valid UUID.".to_string())?;
            let sub = Query::select()
                .column("changed_object_id")
                .from("core_objectchange")
                .and_where(Expr::col("changed_object_type_id").eq(registry::ct_id(model)))
                .and_where(Expr::col("action").eq(action))
                .and_where(Expr::col("request_id").eq(id.to_string()))
                .to_owned();
            any = any.add(Expr::col("id").in_subquery(sub));
        }
        // Evaluated in SQL against the PeeringDB cache (spec §3.4).
        CustomFilter::ExistsInPeeringdb | CustomFilter::IsAbandoned => {
            let want = parse_bool(first).ok_or("Enter a valid boolean.")?;
            let predicate = if c == CustomFilter::ExistsInPeeringdb {
                crate::peeringdb::exists_in_peeringdb_sql()
            } else {
                crate::peeringdb::is_abandoned_sql()
            };
            any = any.add(if want { Expr::cust(predicate) } else { Expr::cust(format!("NOT ({predicate})")) });
        }
        CustomFilter::RoutingPolicyType => {
            let choices = crate::choices::ROUTING_POLICY_TYPE;
            if let Some(bad) = values.iter().find(|v| !choices.iter().any(|c| c.value == **v)) {
                return Err(format!("Select a valid choice. {bad} is not one of the available choices."));
            }
            let mut types: Vec<String> = values.iter().map(|s| s.to_string()).collect();
            types.push("import-export-policy".into());
            any = any.add(Expr::col("type").is_in(types));
        }
        CustomFilter::TagContentType | CustomFilter::TagContentTypeId => {
            let mut ids = Vec::new();
            for v in values {
                let id = if c == CustomFilter::TagContentTypeId {
                    v.parse::<i64>().ok().filter(|i| registry::by_ct_id(*i).is_some())
                } else {
                    registry::model(v).map(registry::ct_id)
                };
                ids.push(id.ok_or_else(|| format!("Invalid content type: {v}"))?);
            }
            let sub = Query::select()
                .column("tag_id")
                .from("extras_taggeditem")
                .and_where(Expr::col("content_type_id").is_in(ids))
                .to_owned();
            any = any.add(Expr::col("id").in_subquery(sub));
        }
        CustomFilter::After(col) | CustomFilter::Before(col) => {
            let t = parse_datetime(first).ok_or("Enter a valid date/time.")?;
            any = any.add(if matches!(c, CustomFilter::After(_)) {
                Expr::col(col).gte(t)
            } else {
                Expr::col(col).lte(t)
            });
        }
        CustomFilter::ContentTypeLabel(col) => {
            for v in values {
                let id = registry::model(v).map(registry::ct_id).ok_or_else(|| format!("Invalid content type: {v}"))?;
                any = any.add(Expr::col(col).eq(id));
            }
        }
        CustomFilter::IsExpired(col) => {
            let want = parse_bool(first).ok_or("Enter a valid boolean.")?;
            let now = chrono::Utc::now();
            let expired = Expr::col(col).is_not_null().and(Expr::col(col).lte(now));
            any = any.add(if want { expired } else { expired.not() });
        }
    }
    Ok(any)
}

/// `q`: any search term matches.
pub fn search(model: &'static Model, q: &str) -> Condition {
    let mut any = Condition::any();
    let digits = q.strip_prefix("AS").or_else(|| q.strip_prefix("as")).unwrap_or(q);
    let is_number = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    let ip = q.split('/').next().and_then(|h| h.parse::<std::net::IpAddr>().ok());
    for term in model.search {
        let (path, leaf) = match term {
            Search::Contains(p) | Search::NumStartsWith(p) | Search::NumEquals(p) | Search::IpHost(p) => (*p, term),
        };
        if is_secret_path(model, path) {
            continue;
        }
        let Some((hops, leaf_model, col, _)) = resolve_path(model, path) else { continue };
        let expr = match leaf {
            Search::Contains(_) => ilike(col, format!("%{}%", like_escape(q))),
            Search::NumStartsWith(_) if is_number => {
                Expr::expr(Expr::col(col).cast_as("TEXT")).like(format!("{digits}%"))
            }
            Search::NumEquals(_) if is_number => match digits.parse::<i64>() {
                Ok(n) => Expr::col(col).eq(n),
                Err(_) => continue,
            },
            Search::IpHost(_) => match ip {
                Some(ip) => {
                    let host = ip.to_string();
                    Expr::col(col).eq(host.clone()).or(Expr::col(col).like(format!("{host}/%")))
                }
                None => continue,
            },
            _ => continue,
        };
        any = any.add(through(&hops, Model_Cond { table: leaf_model.table, cond: Condition::all().add(expr) }));
    }
    if model.search.is_empty() {
        return Condition::all();
    }
    // `q` that matches no term kind (e.g. letters on an ASN-only search) matches nothing.
    if any.is_empty() {
        return Condition::all().add(Expr::cust("1 = 0"));
    }
    any
}

/// `?ordering=-asn,name` → columns with direction; unknown names are an error.
pub fn ordering(model: &'static Model, raw: Option<&str>) -> AppResult<Vec<(&'static str, bool)>> {
    let mut out = Vec::new();
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => {
            for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (desc, name) = match part.strip_prefix('-') {
                    Some(n) => (true, n),
                    None => (false, part),
                };
                let field = model
                    .fields
                    .iter()
                    .find(|f| f.name == name && f.api && !f.write_only && !f.secret)
                    .and_then(|f| f.column());
                match field {
                    Some(col) => out.push((col, desc)),
                    None => {
                        return Err(AppError::Validation(FieldErrors::single(
                            "ordering",
                            format!("Cannot order by '{name}'."),
                        )));
                    }
                }
            }
        }
        None => {
            for o in model.ordering {
                let (desc, col) = match o.strip_prefix('-') {
                    Some(c) => (true, c),
                    None => (false, *o),
                };
                let col = model.columns().find(|f| f.column() == Some(col)).and_then(|f| f.column());
                if let Some(col) = col {
                    out.push((col, desc));
                }
            }
        }
    }
    if !out.iter().any(|(c, _)| *c == "id") {
        out.push(("id", false));
    }
    Ok(out)
}
