//! A stand-in PeeringDB to try the PeeringDB features without an account or
//! internet access: serves PeeringDB's API wire format from memory.
//!
//! ```sh
//! cargo run -p pm-peeringdb --features fake --bin pm-peeringdb-fake -- --demo
//! PM_PEERINGDB_URL=http://127.0.0.1:8001/api peering-manager serve
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use pm_peeringdb::dataset;
use pm_peeringdb::fake::FakePeeringDb;

#[derive(Parser)]
#[command(about = "A fake PeeringDB API for trying Peering Manager offline")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8001")]
    bind: SocketAddr,
    /// Records matching `peering-manager demo` (its IXPs, ports and networks to peer with).
    #[arg(long)]
    demo: bool,
    /// How many new networks to put on Demo-IX with `--demo` (at most 150).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(i64).range(0..=150))]
    demo_peers: i64,
    /// Also serve a folder of saved API answers (`<namespace>.json`).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// Also serve a generated PeeringDB-sized dataset (~195,000 objects).
    #[arg(long)]
    full: bool,
    /// Accept only this API key (`Authorization: Api-Key …`).
    #[arg(long)]
    api_key: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fake = FakePeeringDb::start_on(args.bind, args.api_key.as_deref()).await?;
    if args.full {
        dataset::generate(&fake, &dataset::FULL);
    }
    if let Some(dir) = &args.fixtures {
        fake.load_dir(dir)?;
    }
    if args.demo {
        dataset::demo(&fake, args.demo_peers);
    }
    let total: usize = pm_peeringdb::namespaces::NAMESPACES.iter().map(|ns| fake.count(ns.tag)).sum();
    println!("Fake PeeringDB with {total} objects at {}", fake.url());
    println!("Point Peering Manager at it: PM_PEERINGDB_URL={}", fake.url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
