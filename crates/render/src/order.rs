//! Django's default ordering, as Peering Manager's querysets apply it.
//!
//! A model's `ordering` naming a foreign key sorts by the *target's* own
//! ordering (sessions by their AS's ASN, connections by their IXP's local
//! AS, name, slug…), not by the key's id; `inet` columns sort as PostgreSQL
//! sorts them (IPv4 before IPv6, then network, prefix length, address);
//! text sorts bytewise (the C collation), NULLs last ascending. Sorting in
//! memory gives the same order on SQLite and PostgreSQL.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::net::IpAddr;
use std::sync::Arc;

use pm_db::model::{Field, Kind, Model};
use pm_db::object::{Obj, Val};
use pm_db::registry;

use crate::graph::{GResult, Graph};

/// One step of an ordering: a column of `model`, descending or not.
struct Key {
    field: &'static Field,
    desc: bool,
}

fn keys(model: &'static Model) -> Vec<Key> {
    let mut out: Vec<Key> = model
        .ordering
        .iter()
        .filter_map(|o| {
            let (desc, col) = match o.strip_prefix('-') {
                Some(c) => (true, c),
                None => (false, *o),
            };
            model.columns().find(|f| f.column() == Some(col)).map(|field| Key { field, desc })
        })
        .collect();
    // Ties end by primary key, as the database's own order does in practice.
    if let Some(id) = model.columns().find(|f| f.column() == Some("id")) {
        out.push(Key { field: id, desc: false });
    }
    out
}

fn fk_target(f: &Field) -> Option<&'static Model> {
    match f.kind {
        Kind::Fk { to, .. } => registry::model(to),
        _ => None,
    }
}

/// Load the rows the ordering of `objs` reads through foreign keys
/// (one query per target model and level).
pub fn prepare<O: Borrow<Obj>>(graph: &Graph, model: &'static Model, objs: &[O], depth: usize) -> GResult<()> {
    if depth > 4 || objs.is_empty() {
        return Ok(());
    }
    for k in keys(model) {
        let Some(target) = fk_target(k.field) else { continue };
        let mut ids: Vec<i64> = objs.iter().filter_map(|o| o.borrow().int(k.field.name)).collect();
        ids.sort_unstable();
        ids.dedup();
        graph.ensure(target, &ids)?;
        let held: Vec<Arc<Obj>> = ids.iter().filter_map(|i| graph.obj(target, *i)).collect();
        prepare(graph, target, &held, depth + 1)?;
    }
    Ok(())
}

/// Compare two rows of one model by its default ordering (rows reached
/// through foreign keys must be held: see `prepare`).
pub fn compare(graph: &Graph, model: &'static Model, a: &Obj, b: &Obj) -> Ordering {
    compare_at(graph, model, a, b, 0)
}

fn compare_at(graph: &Graph, model: &'static Model, a: &Obj, b: &Obj, depth: usize) -> Ordering {
    for k in keys(model) {
        let o = match fk_target(k.field) {
            Some(target) if depth < 4 => {
                let ra = a.int(k.field.name).and_then(|i| graph.obj(target, i));
                let rb = b.int(k.field.name).and_then(|i| graph.obj(target, i));
                match (ra, rb) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(x), Some(y)) => compare_at(graph, target, &x, &y, depth + 1),
                }
            }
            _ => compare_values(k.field, a.get(k.field.name), b.get(k.field.name)),
        };
        let o = if k.desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// PostgreSQL's order of two values of a column: NULLs last.
fn compare_values(f: &Field, a: &Val, b: &Val) -> Ordering {
    match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Greater,
        (_, Val::Null) => Ordering::Less,
        (Val::Text(p), Val::Text(q)) if matches!(f.kind, Kind::Inet { .. }) => inet_cmp(p, q),
        (Val::Int(p), Val::Int(q)) => p.cmp(q),
        (Val::Text(p), Val::Text(q)) => p.as_bytes().cmp(q.as_bytes()),
        (Val::Bool(p), Val::Bool(q)) => p.cmp(q),
        (Val::Time(p), Val::Time(q)) => p.cmp(q),
        (Val::Float(p), Val::Float(q)) => p.partial_cmp(q).unwrap_or(Ordering::Equal),
        _ => Ordering::Equal,
    }
}

/// (family, address bits, prefix length) of an `inet` text.
fn inet(s: &str) -> Option<(u8, u128, u32)> {
    let (host, len) = match s.split_once('/') {
        Some((h, l)) => (h, l.parse::<u32>().ok()),
        None => (s, None),
    };
    Some(match host.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => (4, u128::from(u32::from(a)) << 96, len.unwrap_or(32)),
        IpAddr::V6(a) => (6, u128::from(a), len.unwrap_or(128)),
    })
}

/// PostgreSQL's `inet` order: family, then the common network part, then
/// the prefix length, then the whole address.
pub fn inet_cmp(a: &str, b: &str) -> Ordering {
    match (inet(a), inet(b)) {
        (Some((fa, xa, la)), Some((fb, xb, lb))) => {
            if fa != fb {
                return fa.cmp(&fb);
            }
            let common = la.min(lb);
            let mask = if common == 0 { 0 } else { u128::MAX << (128 - common) };
            (xa & mask).cmp(&(xb & mask)).then(la.cmp(&lb)).then(xa.cmp(&xb))
        }
        _ => a.cmp(b),
    }
}

/// Sort rows of `model` by its default ordering.
pub fn sort<O: Borrow<Obj>>(graph: &Graph, model: &'static Model, objs: &mut [O]) -> GResult<()> {
    prepare(graph, model, objs, 0)?;
    objs.sort_by(|a, b| compare(graph, model, a.borrow(), b.borrow()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::inet_cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn inet_sorts_as_postgresql() {
        assert_eq!(inet_cmp("203.0.113.254", "2001:db8:3::fe"), Less);
        assert_eq!(inet_cmp("192.0.2.9", "192.0.2.10"), Less);
        assert_eq!(inet_cmp("10.0.0.1/31", "10.0.2.2/30"), Less);
        // Same network part: the shorter prefix first.
        assert_eq!(inet_cmp("10.0.0.0/8", "10.0.0.1/32"), Less);
        assert_eq!(inet_cmp("2001:db8::1", "2001:db8::1"), Equal);
    }
}
