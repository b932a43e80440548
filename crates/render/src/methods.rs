//! Relations and methods of Peering Manager's models as templates use them
//! (spec §1.5.1, §3), computed from the graph.

use std::sync::Arc;

use minijinja::value::{Kwargs, Value, from_args};
use minijinja::{Error, ErrorKind, State};
use pm_db::model::Model;

use crate::objects::{Item, Set, err, item, model, set};

pub fn direct() -> &'static Model {
    model("peering.directpeeringsession")
}
pub fn ixp_session() -> &'static Model {
    model("peering.internetexchangepeeringsession")
}
pub fn connection() -> &'static Model {
    model("net.connection")
}
pub fn policy() -> &'static Model {
    model("peering.routingpolicy")
}

fn family_of(it: &Item) -> Option<u8> {
    pm_domain::net::ip_version(it.text("ip_address"))
}

/// Keep sessions of one IP family (0 = all).
fn by_family(items: Vec<Item>, family: i64) -> Vec<Item> {
    if family != 4 && family != 6 {
        return items;
    }
    items.into_iter().filter(|s| family_of(s).map(i64::from) == Some(family)).collect()
}

fn to_set(graph: &Arc<crate::graph::Graph>, model: &'static Model, items: Vec<Item>) -> Result<Set, Error> {
    let ids = graph.sorted(model, items.iter().map(|i| i.obj.id).collect())?;
    Ok(Set { graph: graph.clone(), model, ids })
}

fn children(parent: &Item, child: &'static Model, fk: &'static str) -> Result<Vec<Item>, Error> {
    let ids = parent.graph.children(&parent.obj, child, fk)?;
    Set { graph: parent.graph.clone(), model: child, ids }.items()
}

pub fn connections(it: &Item) -> Result<Vec<Item>, Error> {
    match it.model().name {
        "router" => children(it, connection(), "router"),
        "internetexchange" => children(it, connection(), "internet_exchange_point"),
        _ => Err(err(format!("{} has no connections", it.str()))),
    }
}

/// Direct sessions of an AS or a router, optionally of one family and BGP group.
pub fn direct_sessions(it: &Item, family: i64, group: Option<i64>) -> Result<Set, Error> {
    let all = match it.model().name {
        "autonomoussystem" => children(it, direct(), "autonomous_system")?,
        "router" => children(it, direct(), "router")?,
        _ => return Err(err(format!("{} has no direct sessions, try `sessions`", it.str()))),
    };
    let all = all.into_iter().filter(|s| group.is_none() || s.obj.int("bgp_group") == group).collect();
    to_set(&it.graph, direct(), by_family(all, family))
}

/// IXP sessions of an AS or a router, optionally of one family and IXP.
pub fn ixp_sessions(it: &Item, family: i64, ixp: Option<i64>) -> Result<Set, Error> {
    let all = match it.model().name {
        "autonomoussystem" => children(it, ixp_session(), "autonomous_system")?,
        "router" => {
            let mut out = Vec::new();
            for c in connections(it)? {
                out.extend(children(&c, ixp_session(), "ixp_connection")?);
            }
            out
        }
        _ => return Err(err(format!("{} has no IXP sessions, try `sessions`", it.str()))),
    };
    let mut kept = Vec::new();
    for s in all {
        if let Some(ixp) = ixp {
            let on = s.related("ixp_connection")?.and_then(|c| c.obj.int("internet_exchange_point"));
            if on != Some(ixp) {
                continue;
            }
        }
        kept.push(s);
    }
    to_set(&it.graph, ixp_session(), by_family(kept, family))
}

/// Sessions of a BGP group (direct) or an IXP (on all its connections).
pub fn group_sessions(it: &Item, family: i64) -> Result<Set, Error> {
    match it.model().name {
        "bgpgroup" => to_set(&it.graph, direct(), by_family(children(it, direct(), "bgp_group")?, family)),
        "internetexchange" => {
            let mut out = Vec::new();
            for c in connections(it)? {
                out.extend(children(&c, ixp_session(), "ixp_connection")?);
            }
            to_set(&it.graph, ixp_session(), by_family(out, family))
        }
        _ => Err(err(format!("{} has no sessions, try `direct_sessions` or `ixp_sessions`", it.str()))),
    }
}

/// A session's group: its BGP group (direct) or its connection's IXP.
pub fn session_group(s: &Item) -> Result<Option<Item>, Error> {
    match s.model().name {
        "directpeeringsession" => s.related("bgp_group"),
        _ => match s.related("ixp_connection")? {
            Some(c) => c.related("internet_exchange_point"),
            None => Ok(None),
        },
    }
}

/// A session's router: its own (direct) or its connection's.
pub fn session_router(s: &Item) -> Result<Option<Item>, Error> {
    match s.model().name {
        "directpeeringsession" => s.related("router"),
        _ => match s.related("ixp_connection")? {
            Some(c) => c.related("router"),
            None => Ok(None),
        },
    }
}

pub fn is_session(it: &Item) -> bool {
    matches!(it.model().name, "directpeeringsession" | "internetexchangepeeringsession")
}

pub fn m2m_items(it: &Item, field: &str) -> Result<Vec<Item>, Error> {
    if it.model().field(field).is_none() {
        return Ok(vec![]);
    }
    let (target, ids) = it.graph.m2m(&it.obj, crate::graph::leak(field))?;
    Set { graph: it.graph.clone(), model: target, ids }.items()
}

/// Own policies (`export_policies()` / `import_policies()`), ordered -weight, name.
pub fn own_policies(it: &Item, direction: &str) -> Result<Vec<Item>, Error> {
    let field = format!("{direction}_routing_policies");
    if it.model().field(&field).is_none() {
        return Err(err(format!("{} has no {direction} policies", it.str())));
    }
    m2m_items(it, &field)
}

/// Session: own, then AS, then group policies; inherited ones only when their
/// family fits the session. IXP: own. Others cannot merge (as in PM).
pub fn merged_policies(it: &Item, direction: &str, reverse: bool) -> Result<Vec<Item>, Error> {
    let mut out = own_policies(it, direction)?;
    match it.model().name {
        "internetexchange" => {}
        "directpeeringsession" | "internetexchangepeeringsession" => {
            let family = family_of(it).map(i64::from).unwrap_or(0);
            let mut sources = Vec::new();
            if let Some(a) = it.related("autonomous_system")? {
                sources.push(a);
            }
            if let Some(g) = session_group(it)? {
                sources.push(g);
            }
            for src in sources {
                for p in own_policies(&src, direction)? {
                    let af = p.obj.int("address_family").unwrap_or(0);
                    if (af == 0 || af == family) && !out.iter().any(|o| o.obj.id == p.obj.id) {
                        out.push(p);
                    }
                }
            }
        }
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("{} cannot merge {direction} policies (NotImplementedError in Peering Manager)", it.str()),
            ));
        }
    }
    if reverse {
        out.reverse();
    }
    Ok(out)
}

/// Session: own, AS, group, router communities, first occurrence kept.
pub fn merged_communities(it: &Item) -> Result<Vec<Item>, Error> {
    if !is_session(it) {
        return m2m_items(it, "communities");
    }
    let mut out: Vec<Item> = Vec::new();
    let mut sources = vec![Item { graph: it.graph.clone(), obj: it.obj.clone() }];
    if let Some(a) = it.related("autonomous_system")? {
        sources.push(a);
    }
    if let Some(g) = session_group(it)? {
        sources.push(g);
    }
    if let Some(r) = session_router(it)? {
        sources.push(r);
    }
    for s in sources {
        for c in m2m_items(&s, "communities")? {
            if !out.iter().any(|o| o.obj.id == c.obj.id) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// Everything a router's sessions touch: (direct sessions, IXP sessions).
pub fn router_sessions(r: &Item) -> Result<(Vec<Item>, Vec<Item>), Error> {
    Ok((direct_sessions(r, 0, None)?.items()?, ixp_sessions(r, 0, None)?.items()?))
}

/// Policies a router needs (spec §1.6.6 `routing_policies`), ordered by name.
pub fn router_policies(r: &Item) -> Result<Vec<Item>, Error> {
    let (directs, ixps) = router_sessions(r)?;
    let mut holders: Vec<Item> = Vec::new();
    for s in directs.iter().chain(ixps.iter()) {
        holders.push(Item { graph: s.graph.clone(), obj: s.obj.clone() });
        if let Some(a) = s.related("autonomous_system")? {
            holders.push(a);
        }
        if let Some(g) = session_group(s)? {
            holders.push(g);
        }
    }
    let mut ids = Vec::new();
    for h in &holders {
        for dir in ["import", "export"] {
            for p in own_policies(h, dir)? {
                ids.push(p.obj.id);
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let set = Set { graph: r.graph.clone(), model: policy(), ids };
    let mut items = set.items()?;
    items.sort_by(|a, b| a.text("name").cmp(b.text("name")));
    Ok(items)
}

pub fn items_value(items: Vec<Item>) -> Value {
    Value::from(items.into_iter().map(Value::from_object).collect::<Vec<_>>())
}

/// Whitelisted model methods callable from templates.
pub fn call(it: &Arc<Item>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
    let g = &it.graph;
    let reverse_arg = || -> bool {
        args.iter().any(|a| a.is_true() && a.as_str().is_none_or(|s| s == "reverse"))
            || args
                .iter()
                .any(|a| Kwargs::try_from(a.clone()).ok().and_then(|k| k.get::<bool>("reverse").ok()).unwrap_or(false))
    };
    Ok(match method {
        "export_policies" | "import_policies" => {
            let dir = &method[..6];
            let items = own_policies(it, dir)?;
            set(g, policy(), items.iter().map(|i| i.obj.id).collect())
        }
        "merged_export_policies" => items_value(merged_policies(it, "export", reverse_arg())?),
        "merged_import_policies" => items_value(merged_policies(it, "import", reverse_arg())?),
        "merged_communities" => items_value(merged_communities(it)?),
        "get_direct_peering_sessions" => {
            let (group,): (Option<Value>,) = from_args(args)?;
            Value::from_object(direct_sessions(it, 0, group.as_ref().and_then(id_of))?)
        }
        "get_ixp_peering_sessions" => {
            let (ixp,): (Option<Value>,) = from_args(args)?;
            Value::from_object(ixp_sessions(it, 0, ixp.as_ref().and_then(id_of))?)
        }
        "get_peering_sessions" => Value::from_object(group_sessions(it, 0)?),
        // The PeeringDB cache (spec §3.1, §3.2).
        "get_shared_internet_exchange_points" | "get_peeringdb_shared_facilities" | "get_missing_peering_sessions" => {
            let (other, ixp): (Value, Option<Value>) = from_args(args)?;
            let me = Value::from_dyn_object(it.clone());
            match method {
                "get_shared_internet_exchange_points" => crate::peeringdb::shared_ixps(&me, &other)?,
                "get_peeringdb_shared_facilities" => crate::peeringdb::shared_facilities(&me, &other)?,
                _ => crate::peeringdb::missing_sessions(&me, &other, ixp.as_ref())?,
            }
        }
        "get_prefixes" if it.model().name == "internetexchange" => {
            let (family,): (Option<i64>,) = from_args(args)?;
            crate::peeringdb::ixp_prefix_set(it, family.unwrap_or(0))?
        }
        "get_available_peers" if it.model().name == "internetexchange" => {
            let m = model("peeringdb.networkixlan");
            let found = g.block_on(pm_db::peeringdb::available_peers(&g.db.conn, &it.obj, false))?;
            let ids: Vec<i64> = found.iter().map(|o| o.id).collect();
            g.ensure(m, &ids)?;
            set(g, m, ids)
        }
        "get_connections" => {
            // Router: optionally only its connections at one IXP
            // (`get_connections(ixp)` or `internet_exchange_point=ixp`).
            let ixp = args
                .iter()
                .find_map(|a| {
                    Kwargs::try_from(a.clone()).ok().and_then(|k| k.get::<Value>("internet_exchange_point").ok())
                })
                .or_else(|| args.first().filter(|a| Kwargs::try_from((*a).clone()).is_err()).cloned())
                .filter(|v| !v.is_none() && !v.is_undefined())
                .and_then(|v| id_of(&v));
            let items: Vec<Item> = connections(it)?
                .into_iter()
                .filter(|c| ixp.is_none() || c.obj.int("internet_exchange_point") == ixp)
                .collect();
            set(g, connection(), items.iter().map(|i| i.obj.id).collect())
        }
        "get_routing_policies" => items_value(router_policies(it)?),
        "get_bgp_groups" => {
            let (directs, _) = router_sessions(it)?;
            let ids = directs.iter().filter_map(|s| s.obj.int("bgp_group")).collect();
            let m = model("peering.bgpgroup");
            set(g, m, g.sorted(m, ids)?)
        }
        "get_internet_exchange_points" if it.model().name == "router" => {
            let ids: Vec<i64> = connections(it)?.iter().filter_map(|c| c.obj.int("internet_exchange_point")).collect();
            let m = model("peering.internetexchange");
            g.ensure(m, &ids)?;
            set(g, m, g.sorted(m, ids)?)
        }
        "get_routers" => {
            let ids: Vec<i64> = match it.model().name {
                "internetexchange" => connections(it)?.iter().filter_map(|c| c.obj.int("router")).collect(),
                "bgpgroup" => group_sessions(it, 0)?.items()?.iter().filter_map(|s| s.obj.int("router")).collect(),
                _ => return Err(Error::from(ErrorKind::UnknownMethod)),
            };
            let m = model("devices.router");
            g.ensure(m, &ids)?;
            set(g, m, g.sorted(m, ids)?)
        }
        "get_autonomous_systems" if it.model().name == "router" => crate::context::router_autonomous_systems(it)?,
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    })
}

/// A model instance or an id, as an id.
pub fn id_of(v: &Value) -> Option<i64> {
    crate::objects::as_item(v).map(|i| i.obj.id).or_else(|| v.as_i64())
}

pub fn new_item(graph: &Arc<crate::graph::Graph>, obj: Arc<pm_db::object::Obj>) -> Value {
    item(graph, obj)
}
