//! Pages that read the PeeringDB cache: available peers of an IXP (tab and
//! one-click session creation), the provisioning page over every IXP, the
//! AS "PeeringDB" tab with its divergence list, and the IXP import.

use std::collections::HashMap;

use pm_db::load::Mode;
use pm_db::models::{net, peering, peeringdb as pdb};
use pm_db::object::{Cache, Obj, Val};
use pm_db::{AppError, AppResult, ops, peeringdb};
use sea_query::{Condition, Expr, ExprTrait};
use serde_json::{Value as Json, json};

use super::form::actor;
use super::render::esc;
use super::{Ctx, UiResult, redirect};

/// `10000` Mbps → `10 Gbps`.
pub fn bandwidth(mbps: i64) -> String {
    match mbps {
        m if m >= 1_000_000 && m % 1_000_000 == 0 => format!("{} Tbps", m / 1_000_000),
        m if m >= 1_000 && m % 1_000 == 0 => format!("{} Gbps", m / 1_000),
        m if m >= 1_000 => format!("{:.1} Gbps", m as f64 / 1_000.0),
        m => format!("{m} Mbps"),
    }
}

fn host(v: &Val) -> Option<String> {
    v.as_str().map(|s| pm_domain::net::host_part(s).to_string())
}

/// Rows of the available-peers table (spec §9.4) for (IXP id, record) pairs.
async fn peer_rows(ctx: &Ctx, pairs: &[(i64, Obj)], ixp_names: &HashMap<i64, String>) -> AppResult<Vec<Json>> {
    let mut cache = Cache::default();
    let nets: Vec<i64> = pairs.iter().filter_map(|(_, n)| n.int("net")).collect();
    pm_db::load::load_ids(&ctx.db().conn, &mut cache, &pdb::NETWORK, nets).await?;
    let can_add = ctx.perms().allows(&peering::IXP_PEERING_SESSION, "add");
    let can_hide = ctx.perms().allows(&pdb::HIDDEN_PEER, "add");
    Ok(pairs
        .iter()
        .map(|(ixp, n)| {
            let network = n.int("net").and_then(|id| cache.get(&pdb::NETWORK, id));
            let text = |k: &str| network.map(|x| x.text(k).to_string()).unwrap_or_default();
            let hide = can_hide.then(|| {
                let q = serde_urlencoded::to_string([
                    ("peeringdb_network", n.int("net").unwrap_or(0).to_string()),
                    ("peeringdb_ixlan", n.int("ixlan").unwrap_or(0).to_string()),
                    ("return_url", ctx.req.uri.path().to_string()),
                ])
                .unwrap_or_default();
                format!("/peeringdb/hidden-peers/add/?{q}")
            });
            json!({
                "id": n.id,
                "ixp": ixp,
                "ixp_name": ixp_names.get(ixp),
                "asn": n.int("asn"),
                "name": text("name"),
                "irr_as_set": text("irr_as_set"),
                "ipaddr6": host(n.get("ipaddr6")),
                "ipaddr4": host(n.get("ipaddr4")),
                "is_rs_peer": n.bool("is_rs_peer"),
                "speed": bandwidth(n.int("speed").unwrap_or(0)),
                "policy": text("policy_general"),
                "never_via_rs": network.is_some_and(|x| x.bool("info_never_via_route_servers")),
                "can_create": can_add,
                "hide_url": hide,
            })
        })
        .collect())
}

/// Keep rows whose ASN, name, AS-SET or addresses contain `q` (any case).
fn matching(rows: Vec<Json>, q: &str) -> Vec<Json> {
    let q = q.trim().to_lowercase();
    if q.is_empty() {
        return rows;
    }
    let q = q.strip_prefix("as").filter(|r| r.chars().all(|c| c.is_ascii_digit())).unwrap_or(&q).to_string();
    rows.into_iter()
        .filter(|r| {
            ["asn", "name", "irr_as_set", "ipaddr6", "ipaddr4"].iter().any(|k| match &r[k] {
                Json::String(s) => s.to_lowercase().contains(&q),
                Json::Number(n) => n.to_string().contains(&q),
                _ => false,
            })
        })
        .collect()
}

/// The IXP's "Available peers" tab: `?q=` narrows it, `?show_hidden=1`
/// brings hidden peers back.
pub async fn ixp_tab(ctx: &Ctx, ixp: &Obj) -> AppResult<Json> {
    let show_hidden = ctx.query_get("show_hidden").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "on"));
    let q = ctx.query_get("q").unwrap_or_default();
    let peers = peeringdb::available_peers(&ctx.db().conn, ixp, show_hidden).await?;
    let pairs: Vec<(i64, Obj)> = peers.into_iter().map(|n| (ixp.id, n)).collect();
    let names = HashMap::from([(ixp.id, ixp.text("name").to_string())]);
    let hidden = match ixp.int("peeringdb_ixlan") {
        Some(l) => {
            let cond = pm_db::query::filter::condition(
                &ctx.db().conn,
                &pdb::HIDDEN_PEER,
                &[("peeringdb_ixlan_id".into(), l.to_string()), ("is_expired".into(), "false".into())],
            )
            .await?;
            pm_db::load::count(&ctx.db().conn, &pdb::HIDDEN_PEER, cond).await?
        }
        None => 0,
    };
    Ok(json!({"peers": {
        "rows": matching(peer_rows(ctx, &pairs, &names).await?, &q),
        "q": q,
        "show_hidden": show_hidden,
        "filter": true,
        "linked": ixp.int("peeringdb_ixlan").is_some(),
        "hidden": hidden,
        "hidden_url": ixp.int("peeringdb_ixlan").map(|l| format!("/peeringdb/hidden-peers/?peeringdb_ixlan_id={l}")),
        "show_ixp": false,
    }}))
}

/// The AS "Available sessions" tab: its PeeringDB records on the IXPs it
/// shares with the context AS whose addresses have no session yet.
pub async fn as_sessions_tab(ctx: &Ctx, asys: &Obj, network: &Obj, context: i64) -> AppResult<Json> {
    let db = &ctx.db().conn;
    let mut pairs = vec![];
    let mut names = HashMap::new();
    let context_net = match pm_db::load::get(db, &peering::AUTONOMOUS_SYSTEM, context, Condition::all()).await? {
        Some(c) => peeringdb::network_by_asn(db, c.int("asn").unwrap_or(0)).await?,
        None => None,
    };
    if let Some(cn) = context_net {
        let ixp_ids = peeringdb::shared_ixps(db, network.id, cn.id, context).await?;
        let (ixps, _) = ops::reload(ctx.db(), &peering::INTERNET_EXCHANGE, &ixp_ids, Mode::Brief).await?;
        for ixp in &ixps {
            names.insert(ixp.id, ixp.text("name").to_string());
            let conns = pm_db::load::fetch(
                db,
                &net::CONNECTION,
                Condition::all().add(Expr::col("internet_exchange_point_id").eq(ixp.id)),
                &[],
                None,
                0,
            )
            .await?;
            let conn_ids: Vec<i64> = conns.iter().map(|c| c.id).collect();
            let ixlans: Vec<i64> = ixp.int("peeringdb_ixlan").into_iter().collect();
            let asn = asys.int("asn").unwrap_or(0);
            for n in peeringdb::missing_sessions(db, asn, asys.id, &ixlans, Some(&conn_ids)).await? {
                pairs.push((ixp.id, n));
            }
        }
    }
    Ok(json!({"peers": {"rows": peer_rows(ctx, &pairs, &names).await?, "linked": true, "show_ixp": true}}))
}

/// POST on a peers table: "Create sessions" for one PeeringDB record
/// (`peer`), or for every selected one (`bulk` with `pk`s); values are
/// `<ixp id>:<record id>`. All in one transaction.
pub async fn create_sessions(ctx: &mut Ctx, fallback: &str) -> UiResult {
    let form = ctx.form()?;
    let chosen = if form.has("bulk") { form.all("pk") } else { form.all("peer") };
    let mut pairs = vec![];
    for v in chosen {
        let pair = v.split_once(':').and_then(|(i, n)| Some((i.parse::<i64>().ok()?, n.parse::<i64>().ok()?)));
        pairs.push(pair.ok_or_else(|| AppError::BadRequest(format!("Not a peer: {v}")))?);
    }
    if pairs.is_empty() {
        return Err(AppError::BadRequest("Choose at least one peer.".into()));
    }
    // The IXPs must be ones the user may see.
    for (ixp, _) in &pairs {
        ops::retrieve(ctx.db(), ctx.perms(), &peering::INTERNET_EXCHANGE, *ixp, Mode::Brief).await?;
    }
    let back = ctx.return_url(Some(&form), fallback);
    let result = {
        let a = actor(ctx);
        let w = ctx.db().begin_write().await?;
        let mut created = 0;
        let mut failed = None;
        for (ixp, record) in &pairs {
            match peeringdb::create_sessions_from_netixlan(&w.txn, &a, *ixp, *record).await {
                Ok(ids) => created += ids.len(),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            None => {
                w.commit().await?;
                Ok(created)
            }
            Some(e) => Err(e),
        }
    };
    match result {
        Ok(0) => ctx.flash("info", "These sessions exist already.".into()).await,
        Ok(n) => ctx.flash("success", format!("Created {n} session(s).")).await,
        Err(AppError::Validation(f)) => {
            let text = format!("Nothing was created: {}", super::render::field_errors_text(&f));
            ctx.flash("danger", esc(&text)).await
        }
        Err(e) => return Err(e),
    }
    Ok(redirect(&back))
}

/// `/peeringdb/available-ixp-peers/`: available peers of every IXP, filtered
/// by IXP and ASN (needs `peering.view_internetexchange`).
pub async fn provisioning(ctx: &mut Ctx) -> UiResult {
    let ixp_model = &peering::INTERNET_EXCHANGE;
    if ctx.is_post() {
        return create_sessions(ctx, "/peeringdb/available-ixp-peers/").await;
    }
    let scope = ctx.perms().scope(ixp_model, "view").ok_or_else(pm_db::error::permission_denied)?;
    let cond = Condition::all().add(scope).add(Expr::col("peeringdb_ixlan_id").is_not_null());
    let ixps = pm_db::load::fetch(&ctx.db().conn, ixp_model, cond, &[("name", false), ("id", false)], None, 0).await?;
    let want_ixp = ctx.query_get("ixp").and_then(|v| v.parse::<i64>().ok());
    let want_asn =
        ctx.query_get("asn").and_then(|v| v.trim().trim_start_matches(['A', 'S', 'a', 's']).parse::<i64>().ok());
    let chosen: Vec<Obj> = ixps.iter().filter(|i| want_ixp.is_none_or(|w| w == i.id)).cloned().collect();
    let mut pairs = peeringdb::available_peers_of_all(&ctx.db().conn, &chosen).await?;
    if let Some(asn) = want_asn {
        pairs.retain(|(_, n)| n.int("asn") == Some(asn));
    }
    let names: HashMap<i64, String> = ixps.iter().map(|i| (i.id, i.text("name").to_string())).collect();
    let options: Vec<Json> =
        ixps.iter().map(|i| json!({"id": i.id, "name": i.text("name"), "selected": want_ixp == Some(i.id)})).collect();
    let page = json!({
        "title": "Available IXP peers",
        "peers": {"rows": peer_rows(ctx, &pairs, &names).await?, "linked": true, "show_ixp": true},
        "ixps": options,
        "asn": want_asn,
    });
    ctx.render("available_peers.html", page).await
}

/// The AS "PeeringDB" tab: the network, its contacts, facilities shared
/// with the context AS, and the local values that differ from PeeringDB.
pub async fn as_tab(ctx: &Ctx, asys: &Obj, network: &Obj) -> AppResult<Json> {
    let db = &ctx.db().conn;
    let contacts = pm_db::load::fetch(
        db,
        &pdb::NETWORK_CONTACT,
        Condition::all().add(Expr::col("net_id").eq(network.id)),
        &[("name", false), ("id", false)],
        None,
        0,
    )
    .await?;
    let context = pm_db::session::get_pref(&ctx.prefs, "context.as").and_then(Json::as_i64);
    let mut facilities = vec![];
    if let Some(ctx_id) = context
        && let Some(ctx_as) = pm_db::load::get(db, &peering::AUTONOMOUS_SYSTEM, ctx_id, Condition::all()).await?
        && let Some(ctx_net) = peeringdb::network_by_asn(db, ctx_as.int("asn").unwrap_or(0)).await?
    {
        let ids = peeringdb::shared_facilities(db, network.id, ctx_net.id).await?;
        let (objs, _) = ops::reload(ctx.db(), &pdb::FACILITY, &ids, Mode::Brief).await?;
        facilities = objs
            .iter()
            .map(|f| json!({"name": f.text("name"), "city": f.text("city"), "country": f.text("country")}))
            .collect();
    }
    let details: Vec<Json> = [
        ("ASN", "asn"),
        ("Name", "name"),
        ("Also known as", "aka"),
        ("IRR AS-SET", "irr_as_set"),
        ("Website", "website"),
        ("Looking glass", "looking_glass"),
        ("Route server", "route_server"),
        ("Traffic", "info_traffic"),
        ("Ratio", "info_ratio"),
        ("Scope", "info_scope"),
        ("Type", "info_type"),
        ("IPv6 prefixes", "info_prefixes6"),
        ("IPv4 prefixes", "info_prefixes4"),
        ("Never via route servers", "info_never_via_route_servers"),
        ("General policy", "policy_general"),
        ("Locations", "policy_locations"),
        ("Contracts", "policy_contracts"),
        ("Policy URL", "policy_url"),
    ]
    .iter()
    .map(|(label, k)| {
        let v = match network.get(k) {
            Val::Bool(b) => {
                if *b {
                    "Yes".into()
                } else {
                    "No".into()
                }
            }
            other => match other.to_json() {
                Json::String(s) => s,
                Json::Null => String::new(),
                j => j.to_string(),
            },
        };
        json!({"label": label, "value": v})
    })
    .collect();
    Ok(json!({"peeringdb": {
        "details": details,
        "contacts": contacts.iter().map(|c| json!({"role": c.text("role"), "name": c.text("name"),
            "email": c.text("email"), "phone": c.text("phone"), "url": c.text("url")})).collect::<Vec<_>>(),
        "facilities": facilities,
        "has_context": context.is_some(),
        "divergence": divergence(ctx, asys, network),
    }}))
}

/// Divergence rows with what the "apply" button PATCHes.
pub fn divergence(ctx: &Ctx, asys: &Obj, network: &Obj) -> Vec<Json> {
    let can_change = ctx.perms().allows(&peering::AUTONOMOUS_SYSTEM, "change");
    peeringdb::divergence(asys, network)
        .into_iter()
        .map(|mut d| {
            d["patch"] = json!({d["local_key"].as_str().unwrap_or(""): d["peeringdb_value"]}).to_string().into();
            d["can_apply"] = json!(can_change);
            d["api"] = json!(format!("/api/peering/autonomous-systems/{}/", asys.id));
            d
        })
        .collect()
}

/// `/internet-exchanges/peeringdb-import/`: the context AS's PeeringDB
/// records not linked to a connection yet, grouped by IXLan; confirming
/// creates the IXPs and connections in one transaction.
pub async fn ixp_import(ctx: &mut Ctx) -> UiResult {
    let ixp_model = &peering::INTERNET_EXCHANGE;
    if !ctx.perms().allows(ixp_model, "add") || !ctx.perms().allows(&net::CONNECTION, "add") {
        return Err(pm_db::error::permission_denied());
    }
    let context = pm_db::session::get_pref(&ctx.prefs, "context.as").and_then(Json::as_i64);
    let Some(as_id) = context else {
        let page = json!({"title": "Import IXPs from PeeringDB", "no_context": true});
        return ctx.render("peeringdb_import.html", page).await;
    };
    let plan = peeringdb::ixp_import_plan(&ctx.db().conn, as_id).await?;
    if ctx.is_post() {
        let _ = ctx.form()?;
        let result = {
            let a = actor(ctx);
            let w = ctx.db().begin_write().await?;
            match peeringdb::ixp_import_apply(&w.txn, &a, as_id, &plan).await {
                Ok(n) => {
                    w.commit().await?;
                    Ok(n)
                }
                Err(e) => Err(e),
            }
        };
        match result {
            Ok((ixps, conns)) => {
                ctx.flash("success", format!("Imported {ixps} IXP(s) and {conns} connection(s) from PeeringDB.")).await;
                return Ok(redirect("/internet-exchanges/"));
            }
            Err(AppError::Validation(f)) => {
                ctx.message("danger", format!("Nothing was imported: {}", esc(&super::render::field_errors_text(&f))));
            }
            Err(e) => return Err(e),
        }
    }
    // The context AS is a preference the user typed: show it only if they may view it.
    let asys = match ctx.perms().scope(&peering::AUTONOMOUS_SYSTEM, "view") {
        Some(scope) => pm_db::load::get(&ctx.db().conn, &peering::AUTONOMOUS_SYSTEM, as_id, scope).await?,
        None => None,
    };
    let groups: Vec<Json> = plan
        .iter()
        .map(|g| {
            json!({"ix_name": g.ix_name, "ixlan": g.ixlan, "existing": g.existing_ixp,
                "connections": g.connections.iter().map(|(id, v6, v4)| json!({"id": id, "ipv6": v6, "ipv4": v4})).collect::<Vec<_>>()})
        })
        .collect();
    let page = json!({
        "title": "Import IXPs from PeeringDB",
        "import_as": asys.map(|a| format!("AS{} - {}", a.int("asn").unwrap_or(0), a.text("name"))),
        "groups": groups,
    });
    ctx.render("peeringdb_import.html", page).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn bandwidth_reads_like_peeringdb() {
        assert_eq!(super::bandwidth(100), "100 Mbps");
        assert_eq!(super::bandwidth(10_000), "10 Gbps");
        assert_eq!(super::bandwidth(2_500), "2.5 Gbps");
        assert_eq!(super::bandwidth(400_000), "400 Gbps");
        assert_eq!(super::bandwidth(1_000_000), "1 Tbps");
    }
}
