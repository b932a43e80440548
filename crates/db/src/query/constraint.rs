//! Permission constraints: Django-style lookups in JSON (`{"asn__lt": 65000}`,
//! `{"local_autonomous_system__asn": 64500}`), an object means AND, a list of
//! objects means OR. Turned into the same SQL conditions filters use.

use sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr, Query};
use serde_json::Value as Json;

use crate::model::{Kind, Model};
use crate::registry;

const LOOKUPS: &[&str] = &[
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "isnull",
    "n",
];

pub fn condition(model: &'static Model, constraints: &Json) -> Result<Condition, String> {
    match constraints {
        Json::Null => Ok(Condition::all()),
        Json::Object(map) => {
            let mut all = Condition::all();
            for (k, v) in map {
                all = all.add(entry(model, k, v)?);
            }
            Ok(all)
        }
        Json::Array(items) if !items.is_empty() => {
            let mut any = Condition::any();
            for i in items {
                any = any.add(condition(model, i)?);
            }
            Ok(any)
        }
        Json::Array(_) => Ok(Condition::all()),
        _ => Err("Constraints must be a JSON object or a list of objects.".into()),
    }
}

fn sql_value(v: &Json) -> Result<sea_query::Value, String> {
    Ok(match v {
        Json::Bool(b) => (*b).into(),
        Json::Number(n) if n.is_i64() => n.as_i64().unwrap().into(),
        Json::Number(n) => n.as_f64().unwrap_or(0.0).into(),
        Json::String(s) => s.clone().into(),
        _ => return Err(format!("Unsupported constraint value: {v}")),
    })
}

fn entry(model: &'static Model, key: &str, v: &Json) -> Result<Condition, String> {
    let mut parts: Vec<&str> = key.split("__").collect();
    let lookup =
        if parts.len() > 1 && LOOKUPS.contains(parts.last().unwrap()) { parts.pop().unwrap() } else { "exact" };
    // Walk FK hops; the leaf is a column on the last model.
    let mut chain: Vec<(&'static Model, &'static str)> = Vec::new();
    let mut current = model;
    for (i, p) in parts.iter().enumerate() {
        let field = current
            .fields
            .iter()
            .find(|f| f.name == *p || f.column() == Some(*p))
            .ok_or_else(|| format!("Unknown field in constraint: {key}"))?;
        let last = i == parts.len() - 1;
        match (field.kind, last) {
            (Kind::Fk { to, .. }, false) => {
                chain.push((current, field.column().unwrap()));
                current = registry::model(to).ok_or("bad relation")?;
            }
            (_, true) if field.column().is_some() => {
                let col = field.column().unwrap();
                let leaf = Condition::all().add(leaf_expr(col, lookup, v)?);
                return Ok(wrap(chain, current, leaf));
            }
            _ => return Err(format!("Unsupported constraint: {key}")),
        }
    }
    Err(format!("Unsupported constraint: {key}"))
}

fn wrap(chain: Vec<(&'static Model, &'static str)>, leaf_model: &'static Model, mut cond: Condition) -> Condition {
    let mut table = leaf_model.table;
    for (from, col) in chain.into_iter().rev() {
        let sub = Query::select().column("id").from(table).cond_where(cond).to_owned();
        cond = Condition::all().add(Expr::col(col).in_subquery(sub));
        table = from.table;
    }
    cond
}

fn leaf_expr(col: &'static str, lookup: &str, v: &Json) -> Result<Expr, String> {
    let lower = || Expr::expr(Func::lower(Expr::col(col)));
    let text = || v.as_str().map(|s| s.to_lowercase()).ok_or_else(|| format!("{col}: expected a string"));
    Ok(match lookup {
        "exact" if v.is_null() => Expr::col(col).is_null(),
        "exact" => Expr::col(col).eq(sql_value(v)?),
        "n" => Expr::col(col).ne(sql_value(v)?),
        "iexact" => lower().eq(text()?),
        "contains" | "icontains" => lower().like(LikeExpr::new(format!("%{}%", text()?))),
        "startswith" | "istartswith" => lower().like(LikeExpr::new(format!("{}%", text()?))),
        "endswith" | "iendswith" => lower().like(LikeExpr::new(format!("%{}", text()?))),
        "lt" => Expr::col(col).lt(sql_value(v)?),
        "lte" => Expr::col(col).lte(sql_value(v)?),
        "gt" => Expr::col(col).gt(sql_value(v)?),
        "gte" => Expr::col(col).gte(sql_value(v)?),
        "in" => {
            let items = v.as_array().ok_or_else(|| format!("{col}__in: expected a list"))?;
            let vals = items.iter().map(sql_value).collect::<Result<Vec<_>, _>>()?;
            Expr::col(col).is_in(vals)
        }
        "isnull" => {
            if v.as_bool().unwrap_or(false) {
                Expr::col(col).is_null()
            } else {
                Expr::col(col).is_not_null()
            }
        }
        _ => return Err(format!("Unsupported lookup {lookup}")),
    })
}
