//! PeeringDB records → cache rows, applied one namespace per transaction.
//!
//! The column list comes from the model declaration: a field `f` takes the
//! JSON key `f` (`<f>_id` for foreign keys, or bare `<f>` holding the id as
//! `net_side`/`ix_side` sometimes are); other keys are ignored. Records are
//! converted while the answer is parsed (no second copy of the JSON), the
//! rows they replace are read in a handful of `id IN (…)` selects, and writes
//! are multi-row upserts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use pm_db::model::{Field, Init, Kind};
use pm_db::object::Val;
use pm_db::{AppResult, Db};
use sea_orm::ConnectionTrait;
use sea_query::{Expr, ExprTrait, OnConflict, Query};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json, json};

use crate::namespaces::Namespace;

/// One stored value, compact (a record of the largest namespace has ~35).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(Box<str>),
    Time(DateTime<Utc>),
}

impl Cell {
    fn to_sql(&self, kind: &Kind) -> sea_query::Value {
        match self {
            Cell::Null => Val::Null.to_sql(kind),
            Cell::Int(i) => sea_query::Value::BigInt(Some(*i)),
            Cell::Bool(b) => sea_query::Value::Bool(Some(*b)),
            Cell::Text(s) => sea_query::Value::String(Some(s.to_string())),
            Cell::Time(t) => sea_query::Value::ChronoDateTimeUtc(Some(*t)),
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Cell::Null => Json::Null,
            Cell::Int(i) => json!(i),
            Cell::Bool(b) => json!(b),
            Cell::Text(s) => json!(s),
            Cell::Time(t) => json!(pm_db::object::format_time(t)),
        }
    }

    fn from_val(v: Val) -> Cell {
        match v {
            Val::Null => Cell::Null,
            Val::Int(i) => Cell::Int(i),
            Val::Bool(b) => Cell::Bool(b),
            Val::Float(f) => Cell::Text(f.to_string().into()),
            Val::Text(s) => Cell::Text(s.into()),
            Val::Time(t) => Cell::Time(t),
            Val::Json(j) => Cell::Text(j.to_string().into()),
        }
    }

    fn text(&self) -> &str {
        match self {
            Cell::Text(s) => s,
            _ => "",
        }
    }
}

/// How one namespace's records map onto its table.
pub struct Plan {
    pub ns: &'static Namespace,
    fields: Vec<&'static Field>,
    /// JSON key per column (`org_id` for the `org` foreign key).
    keys: Vec<String>,
    ignored: Vec<bool>,
    /// Columns whose change alone does not make an object "updated".
    timestamps: Vec<bool>,
}

/// A record as received: a row to store, or an id PeeringDB deleted.
pub struct Record {
    pub id: i64,
    pub deleted: bool,
    pub cells: Vec<Cell>,
}

#[derive(Default)]
pub struct Batch {
    pub records: Vec<Record>,
    /// `meta.generated`: when PeeringDB built the answer.
    pub generated: Option<f64>,
    /// Records that could not be read (no id, …), skipped.
    pub rejected: usize,
    /// Text values cut to their column's length.
    pub truncated: usize,
}

impl Plan {
    pub fn new(ns: &'static Namespace) -> Plan {
        let fields: Vec<&'static Field> = ns.model.columns().collect();
        let keys = fields
            .iter()
            .map(|f| match f.kind {
                Kind::Fk { .. } => format!("{}_id", f.name),
                _ => f.name.to_string(),
            })
            .collect();
        let ignored = fields.iter().map(|f| ns.ignored.contains(&f.name)).collect();
        let timestamps = fields.iter().map(|f| matches!(f.name, "created" | "updated")).collect();
        Plan { ns, fields, keys, ignored, timestamps }
    }

    pub fn table(&self) -> &'static str {
        self.ns.model.table
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Read a whole answer (`{"data": [...], "meta": {...}}`).
    pub fn parse(&self, body: &[u8]) -> Result<Batch, String> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let batch = Envelope { plan: self }.deserialize(&mut de).map_err(|e| format!("unreadable answer: {e}"))?;
        de.end().map_err(|e| format!("unreadable answer: {e}"))?;
        Ok(batch)
    }

    fn record(&self, map: &Map<String, Json>, truncated: &mut usize) -> Result<Record, String> {
        let id = map.get("id").and_then(Json::as_i64).ok_or("a record without an integer \"id\"")?;
        if map.get("status").and_then(Json::as_str) == Some("deleted") {
            return Ok(Record { id, deleted: true, cells: vec![] });
        }
        let mut cells = Vec::with_capacity(self.fields.len());
        for (i, f) in self.fields.iter().enumerate() {
            if i == 0 {
                cells.push(Cell::Int(id));
                continue;
            }
            if self.ignored[i] {
                cells.push(default(f));
                continue;
            }
            let mut v = map.get(&self.keys[i]);
            if v.is_none() && f.is_fk() {
                // `net_side` / `ix_side` sometimes come without the suffix.
                v = map.get(f.name).filter(|v| v.is_i64());
            }
            cells.push(convert(f, v, truncated));
        }
        Ok(Record { id, deleted: false, cells })
    }

    /// A short name for the diff: `AS36062 Example`, an IXP's name, a prefix.
    pub fn label(&self, cells: &[Cell]) -> String {
        let get = |name: &str| self.index(name).and_then(|i| cells.get(i));
        let int = |name: &str| match get(name) {
            Some(Cell::Int(i)) => Some(*i),
            _ => None,
        };
        let text = |name: &str| get(name).map(|c| c.text().to_string()).unwrap_or_default();
        match self.ns.tag {
            "net" => format!("AS{} {}", int("asn").unwrap_or(0), text("name")),
            "netixlan" => {
                let ip = [text("ipaddr6"), text("ipaddr4")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
                format!("AS{} {}", int("asn").unwrap_or(0), ip.join(" "))
            }
            "ixpfx" => text("prefix"),
            _ if !text("name").is_empty() => text("name"),
            _ => format!("{} #{}", self.ns.tag, int("id").unwrap_or(0)),
        }
    }
}

/// A field's value when PeeringDB sends none (or null for a column that
/// cannot hold null).
fn default(f: &Field) -> Cell {
    match f.default {
        Init::Int(i) => Cell::Int(i),
        Init::Bool(b) => Cell::Bool(b),
        Init::Text(s) | Init::Json(s) => Cell::Text(s.into()),
        _ if f.null => Cell::Null,
        _ => match f.kind {
            Kind::Bool => Cell::Bool(false),
            Kind::Int { .. } | Kind::Fk { .. } => Cell::Int(0),
            _ => Cell::Text("".into()),
        },
    }
}

fn convert(f: &Field, v: Option<&Json>, truncated: &mut usize) -> Cell {
    let Some(v) = v.filter(|v| !v.is_null()) else { return default(f) };
    match f.kind {
        Kind::Id | Kind::Int { .. } | Kind::Fk { .. } => {
            match v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
                Some(i) => Cell::Int(i),
                None => default(f),
            }
        }
        Kind::Bool => v.as_bool().map(Cell::Bool).unwrap_or_else(|| default(f)),
        Kind::DateTime => v
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| Cell::Time(t.with_timezone(&Utc)))
            .unwrap_or(Cell::Null),
        Kind::Json { .. } => Cell::Text(v.to_string().into()),
        Kind::MultiChoice => match v {
            Json::Array(items) => {
                Cell::Text(items.iter().filter_map(Json::as_str).collect::<Vec<_>>().join(",").into())
            }
            Json::String(s) => Cell::Text(s.as_str().into()),
            _ => default(f),
        },
        Kind::Inet { .. } => match v.as_str() {
            Some("") | None => Cell::Null,
            Some(s) => Cell::Text(s.into()),
        },
        _ => {
            let mut s = match v {
                Json::String(s) => s.clone(),
                // Coordinates arrive as numbers; the columns hold their text.
                other => other.to_string(),
            };
            if s.contains('\0') {
                // PostgreSQL refuses NUL in text; one stray byte must not fail a namespace.
                s.retain(|c| c != '\0');
            }
            match f.kind {
                Kind::Text { max } if s.chars().count() > max => {
                    *truncated += 1;
                    Cell::Text(s.chars().take(max).collect::<String>().into())
                }
                _ => Cell::Text(s.into()),
            }
        }
    }
}

struct Envelope<'p> {
    plan: &'p Plan,
}

impl<'de> DeserializeSeed<'de> for Envelope<'_> {
    type Value = Batch;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Batch, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Envelope<'_> {
    type Value = Batch;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with \"data\" and \"meta\"")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Batch, A::Error> {
        let mut batch = Batch::default();
        let mut seen = false;
        while let Some(key) = a.next_key::<String>()? {
            match key.as_str() {
                "data" => {
                    a.next_value_seed(Records { plan: self.plan, batch: &mut batch })?;
                    seen = true;
                }
                "meta" => {
                    let meta: Json = a.next_value()?;
                    batch.generated = meta.get("generated").and_then(Json::as_f64);
                }
                _ => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen {
            return Err(de::Error::missing_field("data"));
        }
        Ok(batch)
    }
}

struct Records<'p, 'b> {
    plan: &'p Plan,
    batch: &'b mut Batch,
}

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of records")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut s: S) -> Result<(), S::Error> {
        while let Some(map) = s.next_element::<Map<String, Json>>()? {
            match self.plan.record(&map, &mut self.batch.truncated) {
                Ok(r) => self.batch.records.push(r),
                Err(e) => {
                    self.batch.rejected += 1;
                    if self.batch.rejected <= 5 {
                        tracing::warn!(ns = self.plan.ns.tag, "PeeringDB {}: skipped {e}", self.plan.ns.tag);
                    }
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.created + self.updated + self.deleted
    }
}

/// The per-object changes of one sync, capped: a first download records
/// counts only, and a large incremental one its first `cap` objects.
pub struct Diff {
    pub objects: Vec<Json>,
    pub omitted: u64,
    cap: usize,
}

impl Diff {
    pub fn new(cap: usize) -> Diff {
        Diff { objects: vec![], omitted: 0, cap }
    }
    fn push(&mut self, entry: impl FnOnce() -> Json) {
        if self.objects.len() < self.cap {
            self.objects.push(entry());
        } else {
            self.omitted += 1;
        }
    }
}

/// Ids per `IN (…)` list; far below both backends' bind limits.
const ID_CHUNK: usize = 5000;

/// Rows already cached with these ids.
async fn existing<C: ConnectionTrait>(db: &C, plan: &Plan, ids: &[i64]) -> AppResult<HashMap<i64, Vec<Cell>>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ID_CHUNK) {
        let mut q = pm_db::load::select(plan.ns.model);
        q.and_where(Expr::col((plan.table(), "id")).is_in(chunk.iter().copied()));
        for row in db.query_all(&q).await? {
            let mut cells = Vec::with_capacity(plan.fields.len());
            for (i, f) in plan.fields.iter().enumerate() {
                cells.push(Cell::from_val(pm_db::object::read_val(&row, i, f)?));
            }
            if let Cell::Int(id) = cells[0] {
                out.insert(id, cells);
            }
        }
    }
    Ok(out)
}

/// Store one namespace's records in one transaction: all of them or none.
/// `first` (the table was empty) skips the comparison and the per-object diff.
pub async fn apply(db: &Db, plan: &Plan, mut records: Vec<Record>, first: bool, diff: &mut Diff) -> AppResult<Counts> {
    // A record listed twice counts once, as its last version.
    let mut last: HashMap<i64, usize> = HashMap::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        last.insert(r.id, i);
    }
    if last.len() != records.len() {
        let mut i = 0;
        records.retain(|r| {
            let keep = last[&r.id] == i;
            i += 1;
            keep
        });
    }
    drop(last);
    let w = db.begin_write().await?;
    let old = if first {
        HashMap::new()
    } else {
        let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
        existing(&w.txn, plan, &ids).await?
    };
    let tag = plan.ns.tag;
    let mut counts = Counts::default();
    let mut doomed = Vec::new();
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for r in records {
        let before = old.get(&r.id);
        if r.deleted {
            if let Some(before) = before {
                doomed.push(r.id);
                counts.deleted += 1;
                diff.push(|| json!({"type": tag, "id": r.id, "label": plan.label(before), "action": "deleted"}));
            }
            continue;
        }
        match before {
            None => {
                counts.created += 1;
                if !first {
                    diff.push(|| json!({"type": tag, "id": r.id, "label": plan.label(&r.cells), "action": "created"}));
                }
            }
            Some(before) => {
                let changed: Vec<usize> = (1..plan.fields.len())
                    .filter(|&i| !plan.ignored[i] && !plan.timestamps[i] && before[i] != r.cells[i])
                    .collect();
                if changed.is_empty() && (1..plan.fields.len()).all(|i| plan.ignored[i] || before[i] == r.cells[i]) {
                    continue;
                }
                if !changed.is_empty() {
                    counts.updated += 1;
                    diff.push(|| {
                        let fields: Vec<Json> = changed
                            .iter()
                            .map(|&i| {
                                json!({"field": plan.fields[i].name, "old": before[i].to_json(), "new": r.cells[i].to_json()})
                            })
                            .collect();
                        json!({"type": tag, "id": r.id, "label": plan.label(&r.cells), "action": "updated", "changes": fields})
                    });
                }
            }
        }
        rows.push(r.cells);
    }
    drop(old);
    for chunk in doomed.chunks(ID_CHUNK) {
        let q =
            Query::delete().from_table(plan.table()).and_where(Expr::col("id").is_in(chunk.iter().copied())).to_owned();
        w.txn.execute(&q).await?;
    }
    upsert(&w.txn, plan, &rows).await?;
    w.commit().await?;
    Ok(counts)
}

/// Multi-row `INSERT … ON CONFLICT (id) DO UPDATE`: an existing row is
/// updated in place (an `INSERT OR REPLACE` would delete it first and null
/// the references to it).
async fn upsert<C: ConnectionTrait>(db: &C, plan: &Plan, rows: &[Vec<Cell>]) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns: Vec<&'static str> = plan.fields.iter().map(|f| f.column().expect("column")).collect();
    let refreshed: Vec<&'static str> =
        columns.iter().enumerate().filter(|(i, _)| *i > 0 && !plan.ignored[*i]).map(|(_, c)| *c).collect();
    // SQLite takes 32766 bound values per statement, PostgreSQL 65535.
    let per = (30_000 / columns.len()).clamp(1, 1000);
    for chunk in rows.chunks(per) {
        let mut q = Query::insert();
        q.into_table(plan.table()).columns(columns.iter().copied());
        for row in chunk {
            q.values_panic(row.iter().zip(&plan.fields).map(|(c, f)| c.to_sql(&f.kind).into()));
        }
        q.on_conflict(OnConflict::column("id").update_columns(refreshed.iter().copied()).to_owned());
        db.execute(&q).await?;
    }
    Ok(())
}

/// Newest `updated` in a cache table as a Unix timestamp (0 when empty):
/// PeeringDB's `since`.
pub async fn since<C: ConnectionTrait>(db: &C, ns: &Namespace) -> AppResult<i64> {
    let q = Query::select().expr(Expr::col("updated").max()).from(ns.model.table).to_owned();
    let row = db.query_one(&q).await?;
    let t: Option<DateTime<Utc>> = match row {
        Some(r) => r.try_get_by_index(0).ok().flatten(),
        None => None,
    };
    Ok(t.map(|t| t.timestamp()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespaces::by_tag;

    fn parse(tag: &str, records: Json) -> (Plan, Batch) {
        let plan = Plan::new(by_tag(tag).unwrap());
        let body = json!({"data": records, "meta": {"generated": 1700000000.5}, "extra": [1]}).to_string();
        let batch = plan.parse(body.as_bytes()).unwrap();
        (plan, batch)
    }

    fn cell<'a>(plan: &Plan, r: &'a Record, name: &str) -> &'a Cell {
        &r.cells[plan.index(name).unwrap()]
    }

    #[test]
    fn keys_map_exactly() {
        // The fields Peering Manager's substring matching loses are kept.
        let (plan, b) = parse(
            "ixlan",
            json!([{"id": 1, "ix_id": 7, "name": "", "ixf_ixp_member_list_url": "https://ix/members.json",
                    "ixf_ixp_member_list_url_visible": "Public", "mtu": 9000, "unknown": {"x": 1}, "status": "ok"}]),
        );
        assert_eq!(b.generated, Some(1700000000.5));
        let r = &b.records[0];
        assert_eq!(cell(&plan, r, "ix"), &Cell::Int(7));
        assert_eq!(cell(&plan, r, "ixf_ixp_member_list_url"), &Cell::Text("https://ix/members.json".into()));
        assert_eq!(cell(&plan, r, "ixf_ixp_member_list_url_visible"), &Cell::Text("Public".into()));
        assert_eq!(cell(&plan, r, "mtu"), &Cell::Int(9000));

        let (plan, b) = parse(
            "netixlan",
            json!([{"id": 2, "net_id": 4, "ixlan_id": 5, "ix_id": 99, "name": "x", "net_side_id": 11, "ix_side": 12,
                    "ipaddr4": "192.0.2.1", "ipaddr6": null, "asn": 64500}]),
        );
        let r = &b.records[0];
        assert_eq!(cell(&plan, r, "net"), &Cell::Int(4));
        assert_eq!(cell(&plan, r, "net_side"), &Cell::Int(11));
        assert_eq!(cell(&plan, r, "ix_side"), &Cell::Int(12), "bare `ix_side` holding the id");
        assert_eq!(cell(&plan, r, "ipaddr4"), &Cell::Text("192.0.2.1".into()), "as PeeringDB sends it");
        assert_eq!(cell(&plan, r, "ipaddr6"), &Cell::Null);
        assert_eq!(cell(&plan, r, "operational"), &Cell::Bool(true), "missing → default");
    }

    #[test]
    fn facility_campus_is_ignored_and_lists_are_joined() {
        let (plan, b) = parse(
            "fac",
            json!([{"id": 3, "org_id": 1, "campus_id": 9, "name": "DC", "latitude": 49.6, "name_long": null,
                    "available_voltage_services": ["48 VDC", "230 VAC"]}]),
        );
        let r = &b.records[0];
        assert_eq!(cell(&plan, r, "campus"), &Cell::Null);
        assert_eq!(cell(&plan, r, "available_voltage_services"), &Cell::Text("48 VDC,230 VAC".into()));
        assert_eq!(cell(&plan, r, "latitude"), &Cell::Text("49.6".into()));
        assert_eq!(cell(&plan, r, "name_long"), &Cell::Text("".into()), "null → the column's default");
    }

    #[test]
    fn deletions_and_bad_records() {
        let (_, b) = parse("net", json!([{"id": 5, "status": "deleted"}, {"name": "no id"}, {"id": 6, "asn": 1}]));
        assert_eq!(b.records.len(), 2);
        assert!(b.records[0].deleted);
        assert_eq!(b.rejected, 1);
        let plan = Plan::new(by_tag("net").unwrap());
        assert!(plan.parse(b"{\"data\": [{\"id\": 1}").is_err(), "a body cut short is an error");
        assert!(plan.parse(b"{\"meta\": {}}").is_err(), "no data");
    }
}
