//! Template contexts (spec §1.4): what a router configuration, an e-mail
//! and an export template can see.

use std::sync::Arc;

use minijinja::Error;
use minijinja::value::Value;
use sea_query::{Condition, Expr, ExprTrait};

use crate::graph::Graph;
use crate::methods::{connections, router_policies, router_sessions};
use crate::objects::{Item, err, item, model, set};

/// ASes with a direct session on the router or an IXP session on its connections.
pub fn router_autonomous_systems(r: &Item) -> Result<Value, Error> {
    let (directs, ixps) = router_sessions(r)?;
    let ids: Vec<i64> = directs.iter().chain(ixps.iter()).filter_map(|s| s.obj.int("autonomous_system")).collect();
    let m = model("peering.autonomoussystem");
    r.graph.ensure(m, &ids)?;
    Ok(set(&r.graph, m, r.graph.sorted(m, ids)?))
}

pub fn router(graph: &Arc<Graph>, router_id: i64) -> Result<Value, Error> {
    let rm = model("devices.router");
    let obj = graph.get(rm, router_id)?.ok_or_else(|| err(format!("router {router_id} does not exist")))?;
    let r = Item { graph: graph.clone(), obj: obj.clone() };
    let local_as = r.related("local_autonomous_system")?.map(Value::from_object).unwrap_or_default();
    let autonomous_systems = router_autonomous_systems(&r)?;
    let (directs, _) = router_sessions(&r)?;
    let gm = model("peering.bgpgroup");
    let group_ids: Vec<i64> = directs.iter().filter_map(|s| s.obj.int("bgp_group")).collect();
    graph.ensure(gm, &group_ids)?;
    let im = model("peering.internetexchange");
    let ixp_ids: Vec<i64> = connections(&r)?.iter().filter_map(|c| c.obj.int("internet_exchange_point")).collect();
    graph.ensure(im, &ixp_ids)?;
    // IXPs order by local AS (its ASN), then name and slug.
    let mut ixps = crate::objects::Set { graph: graph.clone(), model: im, ids: graph.sorted(im, ixp_ids)? }.items()?;
    let asn_of = |i: &Item| i.related("local_autonomous_system").ok().flatten().and_then(|a| a.obj.int("asn"));
    ixps.sort_by_key(|i| (asn_of(i), i.text("name").to_string(), i.text("slug").to_string()));
    let cm = model("bgp.community");
    let (g2, r2) = (graph.clone(), Item { graph: graph.clone(), obj: obj.clone() });
    let routing_policies = crate::objects::Lazy::value(move || {
        let policies = router_policies(&r2)?;
        Ok(set(&g2, model("peering.routingpolicy"), policies.iter().map(|p| p.obj.id).collect()))
    });
    Ok(minijinja::context! {
        router => item(graph, obj),
        local_as => local_as,
        autonomous_systems => autonomous_systems,
        bgp_groups => set(graph, gm, graph.sorted(gm, group_ids)?),
        internet_exchange_points => set(graph, im, ixps.iter().map(|i| i.obj.id).collect()),
        communities => set(graph, cm, graph.all(cm)?),
        routing_policies => routing_policies,
    })
}

/// E-mail to a known AS: the AS and every affiliated AS.
pub fn autonomous_system_email(graph: &Arc<Graph>, as_id: i64) -> Result<Value, Error> {
    let am = model("peering.autonomoussystem");
    let obj = graph.get(am, as_id)?.ok_or_else(|| err(format!("autonomous system {as_id} does not exist")))?;
    let affiliated = graph.query(am, Condition::all().add(Expr::col("affiliated").eq(true)))?;
    Ok(minijinja::context! {
        autonomous_system => item(graph, obj),
        affiliated_autonomous_systems => set(graph, am, affiliated),
    })
}

/// E-mail to a PeeringDB network (§1.4.3): `autonomous_systems` is the
/// list [local AS, PeeringDB network], nothing else.
pub fn network_email(graph: &Arc<Graph>, as_id: i64, network_id: i64) -> Result<Value, Error> {
    let obj = graph
        .get(model("peering.autonomoussystem"), as_id)?
        .ok_or_else(|| err(format!("autonomous system {as_id} does not exist")))?;
    let network = graph
        .get(model("peeringdb.network"), network_id)?
        .ok_or_else(|| err(format!("PeeringDB network {network_id} does not exist")))?;
    Ok(minijinja::context! { autonomous_systems => vec![item(graph, obj), item(graph, network)] })
}

/// Export templates: every object of the type.
pub fn export(graph: &Arc<Graph>, model: &'static pm_db::model::Model) -> Result<Value, Error> {
    Ok(minijinja::context! { dataset => set(graph, model, graph.all(model)?) })
}
