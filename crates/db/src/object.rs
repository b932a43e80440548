//! Rows as the generic code sees them: a model plus one value per column,
//! and a cache of related rows loaded in batches (one query per relation).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::QueryResult;
use serde_json::Value as Json;

use crate::model::{Field, Kind, Model};
use crate::registry;

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Time(DateTime<Utc>),
    Json(Json),
}

impl Val {
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Plain JSON (raw choice values, FK ids, ISO datetimes).
    pub fn to_json(&self) -> Json {
        match self {
            Val::Null => Json::Null,
            Val::Int(i) => Json::from(*i),
            Val::Float(f) => serde_json::Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
            Val::Bool(b) => Json::Bool(*b),
            Val::Text(s) => Json::String(s.clone()),
            Val::Time(t) => Json::String(format_time(t)),
            Val::Json(j) => j.clone(),
        }
    }

    /// The value bound into SQL.
    pub fn to_sql(&self, kind: &Kind) -> sea_query::Value {
        use sea_query::Value as V;
        match self {
            Val::Null => match kind {
                Kind::Bool => V::Bool(None),
                Kind::Float => V::Double(None),
                Kind::DateTime => V::ChronoDateTimeUtc(None),
                k if is_int_kind(k) => V::BigInt(None),
                _ => V::String(None),
            },
            Val::Int(i) => V::BigInt(Some(*i)),
            Val::Float(f) => V::Double(Some(*f)),
            Val::Bool(b) => V::Bool(Some(*b)),
            Val::Text(s) => V::String(Some(s.clone())),
            Val::Time(t) => V::ChronoDateTimeUtc(Some(*t)),
            Val::Json(j) => V::String(Some(j.to_string())),
        }
    }
}

/// Peering Manager renders datetimes ISO-8601 with microseconds and `Z` for UTC.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn is_int_kind(k: &Kind) -> bool {
    matches!(k, Kind::Id | Kind::Int { .. } | Kind::IntChoice(_) | Kind::Fk { .. } | Kind::ContentType)
}

pub fn is_json_kind(k: &Kind) -> bool {
    matches!(k, Kind::Json { .. } | Kind::IntList | Kind::CidrList | Kind::StrList)
}

#[derive(Debug, Clone)]
pub struct Obj {
    pub model: &'static Model,
    pub id: i64,
    /// One value per column, in `model.columns()` order.
    pub vals: Vec<Val>,
}

static NULL: Val = Val::Null;

impl Obj {
    /// A new unsaved row holding each field's default.
    pub fn new(model: &'static Model) -> Obj {
        let vals = model.columns().map(default_value).collect();
        Obj { model, id: 0, vals }
    }

    pub fn get(&self, name: &str) -> &Val {
        match self.model.column_index(name) {
            Some(i) => &self.vals[i],
            None => &NULL,
        }
    }

    pub fn set(&mut self, name: &str, v: Val) {
        if let Some(i) = self.model.column_index(name) {
            self.vals[i] = v;
        }
    }

    pub fn text(&self, name: &str) -> &str {
        self.get(name).as_str().unwrap_or("")
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).as_int()
    }

    pub fn bool(&self, name: &str) -> bool {
        self.get(name).as_bool().unwrap_or(false)
    }

    /// Read a row selected with `model.columns()` in order.
    pub fn from_row(model: &'static Model, row: &QueryResult) -> Result<Obj, sea_orm::DbErr> {
        Self::from_row_at(model, row, 0)
    }

    /// Same, with the model's columns starting at `offset` (joined selects).
    pub fn from_row_at(model: &'static Model, row: &QueryResult, offset: usize) -> Result<Obj, sea_orm::DbErr> {
        let mut vals = Vec::with_capacity(model.fields.len());
        for (i, f) in model.columns().enumerate() {
            vals.push(read_val(row, offset + i, f)?);
        }
        let id = vals[0].as_int().unwrap_or(0);
        Ok(Obj { model, id, vals })
    }
}

fn default_value(f: &Field) -> Val {
    use crate::model::Init;
    match f.default {
        Init::None | Init::Null => Val::Null,
        Init::Int(i) => Val::Int(i),
        Init::Bool(b) => Val::Bool(b),
        Init::Text(s) => Val::Text(s.to_string()),
        Init::Json(s) => Val::Json(serde_json::from_str(s).unwrap_or(Json::Null)),
        Init::Now => Val::Time(Utc::now()),
    }
}

pub fn read_val(row: &QueryResult, idx: usize, f: &Field) -> Result<Val, sea_orm::DbErr> {
    let k = &f.kind;
    Ok(if is_int_kind(k) {
        row.try_get_by_index::<Option<i64>>(idx)?.map(Val::Int).unwrap_or(Val::Null)
    } else if matches!(k, Kind::Bool) {
        row.try_get_by_index::<Option<bool>>(idx)?.map(Val::Bool).unwrap_or(Val::Null)
    } else if matches!(k, Kind::Float) {
        row.try_get_by_index::<Option<f64>>(idx)?.map(Val::Float).unwrap_or(Val::Null)
    } else if matches!(k, Kind::DateTime) {
        row.try_get_by_index::<Option<DateTime<Utc>>>(idx)?.map(Val::Time).unwrap_or(Val::Null)
    } else if is_json_kind(k) {
        match row.try_get_by_index::<Option<String>>(idx)? {
            // Never read as null: the next write of the row would store that.
            // Keys come in PostgreSQL's jsonb order on every backend.
            Some(s) => Val::Json(pm_domain::jsonb::normalise(serde_json::from_str(&s).map_err(|e| {
                sea_orm::DbErr::Type(format!("column {} holds JSON that does not parse ({e}): {s:.80}", f.name))
            })?)),
            None => Val::Null,
        }
    } else {
        row.try_get_by_index::<Option<String>>(idx)?.map(Val::Text).unwrap_or(Val::Null)
    })
}

/// Related rows and values loaded for one response, keyed so that every
/// lookup during serialization is a hash probe, never a query.
#[derive(Default, Debug)]
pub struct Cache {
    pub objs: HashMap<(&'static str, i64), Obj>,
    /// (join table, source id) → target ids in order.
    pub m2m: HashMap<(&'static str, i64), Vec<i64>>,
    /// (content type id, object id) → tag ids.
    pub tags: HashMap<(i64, i64), Vec<i64>>,
    /// (table, object id, field) → computed JSON.
    pub computed: HashMap<(&'static str, i64, &'static str), Json>,
}

impl Cache {
    pub fn get(&self, model: &'static Model, id: i64) -> Option<&Obj> {
        self.objs.get(&(model.table, id))
    }
    pub fn put(&mut self, obj: Obj) {
        self.objs.insert((obj.model.table, obj.id), obj);
    }
}

/// An object together with the cache its relations were loaded into.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub obj: &'a Obj,
    pub cache: &'a Cache,
}

impl<'a> View<'a> {
    pub fn new(obj: &'a Obj, cache: &'a Cache) -> Self {
        View { obj, cache }
    }
    pub fn text(&self, name: &str) -> &'a str {
        self.obj.text(name)
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.obj.int(name)
    }
    pub fn get(&self, name: &str) -> &'a Val {
        self.obj.get(name)
    }
    /// The row a foreign key points to, when loaded.
    pub fn related(&self, fk: &str) -> Option<View<'a>> {
        let field = self.obj.model.field(fk)?;
        let crate::model::Kind::Fk { to, .. } = field.kind else { return None };
        let id = self.obj.int(fk)?;
        let target = registry::model(to)?;
        self.cache.get(target, id).map(|o| View::new(o, self.cache))
    }
    pub fn display(&self) -> String {
        (self.obj.model.display)(self)
    }
}

/// Compare two rows by an ordering spec, as the database would (NULLs last
/// ascending, first descending: PostgreSQL's convention, which queries use too).
pub fn compare(a: &Obj, b: &Obj, ordering: &[(&'static str, bool)]) -> std::cmp::Ordering {
    use std::cmp::Ordering as O;
    for (col, desc) in ordering {
        let o = match (a.get(col), b.get(col)) {
            (Val::Null, Val::Null) => O::Equal,
            (Val::Null, _) => O::Greater,
            (_, Val::Null) => O::Less,
            (Val::Int(p), Val::Int(q)) => p.cmp(q),
            (Val::Text(p), Val::Text(q)) => p.cmp(q),
            (Val::Bool(p), Val::Bool(q)) => p.cmp(q),
            (Val::Time(p), Val::Time(q)) => p.cmp(q),
            (Val::Float(p), Val::Float(q)) => p.partial_cmp(q).unwrap_or(O::Equal),
            _ => O::Equal,
        };
        let o = if *desc { o.reverse() } else { o };
        if o != O::Equal {
            return o;
        }
    }
    O::Equal
}
