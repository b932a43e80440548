//! Rendering benchmark (issue #4): a router with 1,000 IXP sessions over 10
//! IXPs and 100 direct sessions, rendered with a Junos-style template; then
//! all 20 routers of a 12,000-session dataset in one pass.
//!
//! `pm-render-bench --database URL [--template FILE] [--cli PATH]`
//! The database must be empty (it is migrated and filled here).

use std::time::Instant;

use pm_db::Db;
use sea_orm::ConnectionTrait;
use sea_query::{Query, SimpleExpr};

const ROUTERS: i64 = 20;
const IXPS: i64 = 50;
const PEERS: i64 = 2000;
const SESSIONS: i64 = 12_000;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Multi-row insert in chunks (the dataset is not what is measured).
async fn insert(db: &Db, table: &str, cols: &[&str], rows: Vec<Vec<SimpleExpr>>) -> anyhow::Result<()> {
    for chunk in rows.chunks(500) {
        let mut q = Query::insert();
        q.into_table(sea_query::Alias::new(table)).columns(cols.iter().map(|c| sea_query::Alias::new(*c)));
        for r in chunk {
            q.values_panic(r.clone());
        }
        db.conn.execute(&q).await?;
    }
    Ok(())
}

fn v<T: Into<sea_query::Value>>(x: T) -> SimpleExpr {
    SimpleExpr::Value(x.into())
}

async fn load(db: &Db) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    // Peer ASes and the local one (id 1).
    let mut ases = vec![vec![v(64500i64), v("Local"), v(true), v(0i64), v(0i64)]];
    for i in 0..PEERS {
        ases.push(vec![v(65000 + i), v(format!("Peer {i}")), v(false), v(100 + i % 50), v(50 + i % 30)]);
    }
    let ases = ases
        .into_iter()
        .map(|mut r| {
            r.extend([
                v(""),
                v(""),
                v(true),
                v(true),
                v(true),
                v(true),
                v(true),
                v("[]"),
                v(true),
                v(""),
                v(""),
                v(""),
                v(now),
                v(now),
            ]);
            r
        })
        .collect();
    insert(
        db,
        "peering_autonomoussystem",
        &[
            "asn",
            "name",
            "affiliated",
            "ipv4_max_prefixes",
            "ipv6_max_prefixes",
            "description",
            "comments",
            "name_peeringdb_sync",
            "irr_as_set_peeringdb_sync",
            "ipv6_max_prefixes_peeringdb_sync",
            "ipv4_max_prefixes_peeringdb_sync",
            "retrieve_prefixes",
            "as_list",
            "retrieve_as_list",
            "irr_sources_override",
            "irr_ipv6_prefixes_args_override",
            "irr_ipv4_prefixes_args_override",
            "created",
            "updated",
        ],
        ases,
    )
    .await?;
    // Policies (ids 1..4) and communities, attached to IXPs, groups and some sessions.
    let policies = (1..=4)
        .map(|i| {
            vec![
                v(format!("Policy {i}")),
                v(format!("policy-{i}")),
                v(""),
                v(if i % 2 == 0 { "export-policy" } else { "import-policy" }),
                v(i * 10),
                v(0i64),
                v(now),
                v(now),
            ]
        })
        .collect();
    insert(
        db,
        "peering_routingpolicy",
        &["name", "slug", "description", "type", "weight", "address_family", "created", "updated"],
        policies,
    )
    .await?;
    let communities = (1..=10)
        .map(|i| vec![v(format!("Community {i}")), v(format!("c-{i}")), v(""), v(format!("64500:{i}")), v(now), v(now)])
        .collect();
    insert(db, "bgp_community", &["name", "slug", "description", "value", "created", "updated"], communities).await?;
    let rel = vec![vec![v("Transit"), v("transit"), v(""), v("9e9e9e"), v(now), v(now)]];
    insert(db, "bgp_relationship", &["name", "slug", "description", "color", "created", "updated"], rel).await?;
    let groups = vec![vec![v("Transit"), v("transit"), v(""), v("enabled"), v(now), v(now)]];
    insert(db, "peering_bgpgroup", &["name", "slug", "description", "status", "created", "updated"], groups).await?;
    insert(
        db,
        "peering_bgpgroup_import_routing_policies",
        &["bgpgroup_id", "routingpolicy_id"],
        vec![vec![v(1i64), v(1i64)]],
    )
    .await?;
    // Routers (platform 2 = Juniper Junos, seeded).
    let routers = (1..=ROUTERS)
        .map(|i| {
            vec![
                v(format!("r{i}")),
                v(format!("r{i}.example.net")),
                v(2i64),
                v("enabled"),
                v(false),
                v(false),
                v(1i64),
                v(0i64),
                v(0i64),
                v(""),
                v(now),
                v(now),
            ]
        })
        .collect();
    insert(
        db,
        "devices_router",
        &[
            "name",
            "hostname",
            "platform_id",
            "status",
            "encrypt_passwords",
            "poll_bgp_sessions_state",
            "local_autonomous_system_id",
            "netbox_device_id",
            "napalm_timeout",
            "comments",
            "created",
            "updated",
        ],
        routers,
    )
    .await?;
    let ixps = (1..=IXPS)
        .map(|i| vec![v(format!("IX {i}")), v(format!("ix-{i}")), v(""), v("enabled"), v(1i64), v(now), v(now)])
        .collect();
    insert(
        db,
        "peering_internetexchange",
        &["name", "slug", "description", "status", "local_autonomous_system_id", "created", "updated"],
        ixps,
    )
    .await?;
    let ix_pol = (1..=IXPS).flat_map(|i| [vec![v(i), v(1i64)]]).collect();
    insert(
        db,
        "peering_internetexchange_import_routing_policies",
        &["internetexchange_id", "routingpolicy_id"],
        ix_pol,
    )
    .await?;
    let ix_pol = (1..=IXPS).map(|i| vec![v(i), v(2i64)]).collect();
    insert(
        db,
        "peering_internetexchange_export_routing_policies",
        &["internetexchange_id", "routingpolicy_id"],
        ix_pol,
    )
    .await?;
    // Connections: router 1 on IXPs 1..10; the other routers on two IXPs each (11..50).
    let mut conns = Vec::new();
    for ix in 1..=10i64 {
        conns.push((1i64, ix));
    }
    for r in 2..=ROUTERS {
        for k in 0..2 {
            conns.push((r, 11 + ((r - 2) * 2 + k) % (IXPS - 10)));
        }
    }
    let rows = conns
        .iter()
        .enumerate()
        .map(|(n, (r, ix))| {
            vec![
                v(*r),
                v(*ix),
                v("enabled"),
                v(format!("10.{}.{}.1/16", n / 250, n % 250)),
                v(format!("2001:db8:{n:x}::1/64")),
                v(format!("et-0/0/{n}")),
                v(""),
                v(""),
                v(now),
                v(now),
            ]
        })
        .collect();
    insert(
        db,
        "net_connection",
        &[
            "router_id",
            "internet_exchange_point_id",
            "status",
            "ipv4_address",
            "ipv6_address",
            "interface",
            "description",
            "comments",
            "created",
            "updated",
        ],
        rows,
    )
    .await?;
    // 1,000 sessions on router 1's 10 connections, the rest spread over the others.
    let mut sessions = Vec::new();
    let other = conns.len() as i64 - 10;
    for s in 0..SESSIONS {
        let conn = if s < 1000 { 1 + s / 100 } else { 11 + (s - 1000) % other };
        let peer = 2 + s % PEERS;
        let ip = if s % 2 == 0 {
            format!("100.{}.{}.{}", conn, (s / 250) % 250, s % 250)
        } else {
            format!("2001:db8:ffff:{conn:x}::{s:x}")
        };
        sessions.push(vec![
            v(peer),
            v(conn),
            v(ip),
            v("enabled"),
            v(1i64),
            v(false),
            v(false),
            v(0i64),
            v(0i64),
            v(0i64),
            v(""),
            v(now),
            v(now),
        ]);
    }
    insert(
        db,
        "peering_internetexchangepeeringsession",
        &[
            "autonomous_system_id",
            "ixp_connection_id",
            "ip_address",
            "status",
            "multihop_ttl",
            "passive",
            "is_route_server",
            "received_prefix_count",
            "accepted_prefix_count",
            "advertised_prefix_count",
            "comments",
            "created",
            "updated",
        ],
        sessions,
    )
    .await?;
    // 100 direct sessions on router 1.
    let direct = (0..100i64)
        .map(|s| {
            vec![
                v(1i64),
                v(2 + s),
                v(1i64),
                v(1i64),
                v(1i64),
                v(format!("203.0.{}.{}/31", s / 100, (s % 100) * 2 + 1)),
                v("enabled"),
                v(1i64),
                v(false),
                v(0i64),
                v(0i64),
                v(0i64),
                v(""),
                v(now),
                v(now),
            ]
        })
        .collect();
    insert(
        db,
        "peering_directpeeringsession",
        &[
            "local_autonomous_system_id",
            "autonomous_system_id",
            "relationship_id",
            "bgp_group_id",
            "router_id",
            "ip_address",
            "status",
            "multihop_ttl",
            "passive",
            "received_prefix_count",
            "accepted_prefix_count",
            "advertised_prefix_count",
            "comments",
            "created",
            "updated",
        ],
        direct,
    )
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = arg("--database").ok_or_else(|| anyhow::anyhow!("--database URL is required (an empty database)"))?;
    let template_path = arg("--template").unwrap_or_else(|| "../shared/fixtures/templates/juniper-junos.j2".into());
    let text = std::fs::read_to_string(&template_path).map_err(|e| anyhow::anyhow!("{template_path}: {e}"))?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let t = Instant::now();
    load(&db).await?;
    eprintln!(
        "dataset: {SESSIONS} IXP sessions, 100 direct, {ROUTERS} routers, {IXPS} IXPs, {PEERS} peers in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let source = pm_render::Source { name: template_path.clone(), text, trim: false, lstrip: false };

    // One router, fresh graph each time (what an API call does).
    let mut times = Vec::new();
    let mut statements = 0;
    let mut bytes = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let r = pm_render::render_router(&db, 1, Some(source.clone())).await?.expect("rendered");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        statements = r.queries;
        bytes = r.text.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| router r1 (1,000 IXP + 100 direct sessions) | median {:.1} ms | max {:.1} ms | {statements} statements | {} KB output |",
        times[times.len() / 2],
        times[times.len() - 1],
        bytes / 1024
    );

    // Every router in one pass (what `peering-manager render` does).
    let ids: Vec<i64> = (1..=ROUTERS).collect();
    let t = Instant::now();
    let all = pm_render::render_routers(&db, ids, Some(source.clone())).await?;
    let total: usize =
        all.iter().filter_map(|(_, r)| r.as_ref().ok().and_then(|r| r.as_ref()).map(|r| r.text.len())).sum();
    println!(
        "| all {ROUTERS} routers in one pass (in process) | {:.0} ms | | | {} KB output |",
        t.elapsed().as_secs_f64() * 1000.0,
        total / 1024
    );

    if let Some(cli) = arg("--cli") {
        let dir = std::env::temp_dir().join(format!("pm-render-bench-{}", std::process::id()));
        let t = Instant::now();
        let status = std::process::Command::new(cli)
            .args(["--database", &url, "render", "--template", &template_path, "--output"])
            .arg(&dir)
            .env("PM_LOG", "warn")
            .status()?;
        println!(
            "| all {ROUTERS} routers with the CLI (process start included) | {:.0} ms | | | exit {status} |",
            t.elapsed().as_secs_f64() * 1000.0
        );
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}
