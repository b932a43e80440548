//! Templates and the PeeringDB cache (spec §1.5, §1.6.4): the network of an
//! AS, the filters `shared_ixps`, `shared_facilities` and `missing_sessions`,
//! and the cache-backed properties of IXPs, sessions and PeeringDB records.

use std::collections::HashMap;

use minijinja::Error;
use minijinja::value::Value;
use pm_db::peeringdb as pdb;
use sea_query::{Condition, Expr, ExprTrait, Query};

use crate::objects::{Item, as_item, err, model, set};

fn is_as(it: &Item) -> bool {
    it.is("peering.autonomoussystem")
}

fn is_network(it: &Item) -> bool {
    it.is("peeringdb.network")
}

/// The PeeringDB network of an AS (none for private ASNs), or the network itself.
pub fn network_of(it: &Item) -> Result<Option<Item>, Error> {
    if is_network(it) {
        return Ok(Some(Item { graph: it.graph.clone(), obj: it.obj.clone() }));
    }
    let asn = it.obj.int("asn").unwrap_or(0);
    if !is_as(it) || pm_domain::asn::is_private(asn) {
        return Ok(None);
    }
    let m = model("peeringdb.network");
    let graph = &it.graph;
    // The networks of every held AS in one query (templates loop over ASes).
    let net = graph.per_held(it.obj.model, "peeringdb_network", it.obj.id, |ases| {
        let by_asn: HashMap<i64, i64> = ases
            .iter()
            .filter_map(|a| graph.obj(it.obj.model, *a))
            .filter_map(|o| o.int("asn").map(|asn| (asn, o.id)))
            .filter(|(asn, _)| !pm_domain::asn::is_private(*asn))
            .collect();
        let asns: Vec<i64> = by_asn.keys().copied().collect();
        let nets = if asns.is_empty() {
            vec![]
        } else {
            graph.query(m, Condition::all().add(Expr::col("asn").is_in(asns)))?
        };
        Ok(nets
            .into_iter()
            .filter_map(|n| graph.obj(m, n))
            .filter_map(|n| n.int("asn").and_then(|asn| by_asn.get(&asn)).map(|a| (*a, n.id)))
            .collect())
    })?;
    Ok(net.and_then(|id| graph.obj(m, id)).map(|obj| Item { graph: graph.clone(), obj }))
}

fn need<'a>(v: &'a Value, what: &str) -> Result<&'a Item, Error> {
    as_item(v).ok_or_else(|| err(format!("{} is not {what}", crate::filters::py_str(v))))
}

/// `value | shared_ixps(other)`: our IXPs on IXLans where both networks are.
/// With an AS as `other`, IXPs whose local AS is `other`; with a network,
/// those of `value`. A network as `value` and an AS as `other` swap roles.
pub fn shared_ixps(value: &Value, other: &Value) -> Result<Value, Error> {
    let (a, b) = (need(value, "an autonomous system")?, need(other, "an autonomous system or a network")?);
    let (asys, peer) = match (is_as(a), is_as(b)) {
        (true, _) => (a, b),
        (false, true) => (b, a),
        _ => return Err(err("neither value is an autonomous system")),
    };
    if !is_as(peer) && !is_network(peer) {
        return Err(err(format!("{} is not an autonomous system or a network", peer.str())));
    }
    let local_as = if is_as(peer) { peer.obj.id } else { asys.obj.id };
    let m = model("peering.internetexchange");
    let ids = match (network_of(asys)?, network_of(peer)?) {
        (Some(x), Some(y)) => {
            asys.graph.block_on(pdb::shared_ixps(&asys.graph.db.conn, x.obj.id, y.obj.id, local_as))?
        }
        _ => vec![],
    };
    Ok(set(&asys.graph, m, ids))
}

/// `value | shared_facilities(other)`: facilities where both networks are present.
pub fn shared_facilities(value: &Value, other: &Value) -> Result<Value, Error> {
    let mut nets = vec![];
    for v in [value, other] {
        let it = need(v, "an autonomous system or a network")?;
        if !is_as(it) && !is_network(it) {
            return Err(err(format!("{} is not an autonomous system or a network", it.str())));
        }
        nets.push(network_of(it)?);
    }
    let graph = &need(value, "")?.graph;
    let ids = match (&nets[0], &nets[1]) {
        (Some(x), Some(y)) => graph.block_on(pdb::shared_facilities(&graph.db.conn, x.obj.id, y.obj.id))?,
        _ => vec![],
    };
    Ok(set(graph, model("peeringdb.facility"), ids))
}

/// `value | missing_sessions(other, ixp=None)` (§1.6.4).
pub fn missing_sessions(value: &Value, other: &Value, ixp: Option<&Value>) -> Result<Value, Error> {
    let (a, b) = (need(value, "an autonomous system")?, need(other, "an autonomous system")?);
    let graph = &a.graph;
    let netixlan = model("peeringdb.networkixlan");
    let ixp = ixp.and_then(as_item).filter(|i| i.is("peering.internetexchange"));
    if ixp.is_some_and(|i| i.obj.int("peeringdb_ixlan").is_none()) {
        return Ok(set(graph, netixlan, vec![]));
    }
    let connections: Option<Vec<i64>> = match ixp {
        Some(i) => Some(crate::methods::connections(i)?.iter().map(|c| c.obj.id).collect()),
        None => None,
    };
    if is_as(a) && is_as(b) {
        if a.obj.id == b.obj.id {
            return Ok(set(graph, netixlan, vec![]));
        }
        let ixlans: Vec<i64> = match ixp {
            Some(i) => i.obj.int("peeringdb_ixlan").into_iter().collect(),
            None => {
                let shared = shared_ixps(value, other)?;
                let ixps = shared.try_iter()?.filter_map(|v| as_item(&v).and_then(|i| i.obj.int("peeringdb_ixlan")));
                ixps.collect()
            }
        };
        let asn = a.obj.int("asn").unwrap_or(0);
        let found =
            graph.block_on(pdb::missing_sessions(&graph.db.conn, asn, a.obj.id, &ixlans, connections.as_deref()))?;
        let ids: Vec<i64> = found.iter().map(|o| o.id).collect();
        graph.ensure(netixlan, &ids)?;
        return Ok(set(graph, netixlan, ids));
    }
    if !(is_as(a) || is_network(a)) || !(is_as(b) || is_network(b)) {
        return Err(err("missing_sessions needs autonomous systems or networks"));
    }
    // A network on either side: every record of `other` on IXLans where
    // `value` is present (existing sessions are not excluded, as in Peering Manager).
    let (Some(x), Some(y)) = (network_of(a)?, network_of(b)?) else { return Ok(set(graph, netixlan, vec![])) };
    let present =
        Query::select().column("ixlan_id").from(netixlan.table).and_where(Expr::col("net_id").eq(x.obj.id)).to_owned();
    let mut cond =
        Condition::all().add(Expr::col("net_id").eq(y.obj.id)).add(Expr::col("ixlan_id").in_subquery(present));
    if let Some(l) = ixp.and_then(|i| i.obj.int("peeringdb_ixlan")) {
        cond = cond.add(Expr::col("ixlan_id").eq(l));
    }
    Ok(set(graph, netixlan, graph.query(netixlan, cond)?))
}

/// `{ipv6: [...], ipv4: [...]}` of an IXP's IXLan.
pub fn ixp_prefixes(it: &Item) -> Result<serde_json::Value, Error> {
    let Some(l) = it.obj.int("peeringdb_ixlan") else { return Ok(serde_json::json!({})) };
    let mut by = it.graph.block_on(pdb::prefixes_by_ixlan(&it.graph.db.conn, &[l]))?;
    Ok(by.remove(&l).unwrap_or_else(|| serde_json::json!({})))
}

/// An IXP's IXLan prefixes of one family (0 = both), as objects.
pub fn ixp_prefix_set(it: &Item, family: i64) -> Result<Value, Error> {
    let m = model("peeringdb.ixlanprefix");
    let Some(l) = it.obj.int("peeringdb_ixlan") else { return Ok(set(&it.graph, m, vec![])) };
    let ids = it.graph.query(m, Condition::all().add(Expr::col("ixlan_id").eq(l)))?;
    let ids = ids
        .into_iter()
        .filter(|id| {
            let v6 = it.graph.obj(m, *id).is_some_and(|p| p.text("prefix").contains(':'));
            family == 0 || (family == 6) == v6
        })
        .collect();
    Ok(set(&it.graph, m, ids))
}

/// `exists_in_peeringdb` / `is_abandoned` of one IXP session.
pub fn session_flag(it: &Item, abandoned: bool) -> Result<bool, Error> {
    let (what, predicate) = if abandoned {
        ("is_abandoned", pdb::is_abandoned_sql())
    } else {
        ("exists_in_peeringdb", pdb::exists_in_peeringdb_sql())
    };
    let graph = &it.graph;
    let yes = graph.per_held(it.obj.model, what, it.obj.id, |ids| {
        let set = graph.block_on(pdb::sessions_matching(&graph.db.conn, ids, &predicate))?;
        Ok(set.into_iter().map(|id| (id, 1)).collect())
    })?;
    Ok(yes.is_some())
}

/// A record's address with its IXLan prefix length (`cidr4`, `cidr6`).
pub fn netixlan_cidr(it: &Item, column: &str) -> Result<Value, Error> {
    let Some(ip) = it.obj.get(column).as_str().and_then(pdb::host) else { return Ok(Value::from(())) };
    let m = model("peeringdb.ixlanprefix");
    let ids = match it.obj.int("ixlan") {
        Some(l) => it.graph.query(m, Condition::all().add(Expr::col("ixlan_id").eq(l)))?,
        None => vec![],
    };
    let len = ids
        .iter()
        .filter_map(|id| it.graph.obj(m, *id))
        .filter_map(|p| p.text("prefix").parse::<ipnet::IpNet>().ok())
        .find(|n| n.contains(&ip))
        .map(|n| n.prefix_len())
        .unwrap_or(if ip.is_ipv4() { 32 } else { 128 });
    Ok(Value::from(format!("{ip}/{len}")))
}
