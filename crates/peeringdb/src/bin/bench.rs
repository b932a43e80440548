//! PeeringDB sync benchmark: a fake PeeringDB on 127.0.0.1 serving a
//! PeeringDB-sized dataset, then `peering-manager peeringdb sync` run as a
//! child process (first sync, then a sync of ~100 changes) on SQLite and on
//! PostgreSQL. Reports wall time and the child's peak RSS (`wait4` rusage).
//!
//! ```sh
//! cargo build --release -p peering-manager -p pm-peeringdb --features pm-peeringdb/fake
//! target/release/pm-peeringdb-bench [--postgres postgres://postgres@127.0.0.1:5432/postgres] [--no-postgres]
//! ```

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pm_peeringdb::dataset::{self, FULL};
use pm_peeringdb::fake::FakePeeringDb;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

struct Run {
    wall: Duration,
    peak_rss_mb: f64,
    ok: bool,
    summary: String,
}

/// Run the CLI, reading its `VmHWM` (peak resident set of the process's own
/// memory, fresh after `exec`) until it exits. `wait4`'s `ru_maxrss` would
/// count this benchmark's own memory, which the child shared until `exec`.
fn run_child(bin: &PathBuf, db: &str, url: &str) -> Run {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["--database", db, "peeringdb", "sync"])
        .env("PM_PEERINGDB_URL", url)
        .env("PM_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start peering-manager");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    // VmHWM only grows; a zombie's status has none, so the last reading is the peak.
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed();
    let mut summary = String::new();
    if let Some(mut out) = child.stdout.take() {
        use std::io::Read;
        let _ = out.read_to_string(&mut summary);
    }
    Run {
        wall,
        peak_rss_mb: peak_kb as f64 / 1024.0,
        ok: status.success(),
        summary: summary.lines().next().unwrap_or("").to_string(),
    }
}

fn migrate(bin: &PathBuf, db: &str) {
    let ok = Command::new(bin)
        .args(["--database", db, "migrate"])
        .env("PM_LOG", "warn")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "migrate {db}");
}

fn report(backend: &str, what: &str, r: &Run) {
    println!(
        "| {backend} | {what} | {:.2} s | {:.0} MB | {} | {} |",
        r.wall.as_secs_f64(),
        r.peak_rss_mb,
        if r.ok { "ok" } else { "FAILED" },
        r.summary
    );
}

async fn bench(bin: &PathBuf, fake: &FakePeeringDb, backend: &str, db: &str, round: i64) {
    migrate(bin, db);
    let url = fake.url();
    let (b, d, u) = (bin.clone(), db.to_string(), url.clone());
    let first = tokio::task::spawn_blocking(move || run_child(&b, &d, &u)).await.unwrap();
    report(backend, "first sync", &first);
    // A day of changes, stamped after everything the cache holds.
    let at = format!("2024-0{}-01T00:00:00Z", round + 1);
    dataset::change(fake, &FULL, 100, &at, round);
    let (b, d, u) = (bin.clone(), db.to_string(), url.clone());
    let incremental = tokio::task::spawn_blocking(move || run_child(&b, &d, &u)).await.unwrap();
    report(backend, "100 changes", &incremental);
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let pg_admin = arg("--postgres").unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let no_pg = args.iter().any(|a| a == "--no-postgres");
    let bin = std::env::current_exe().unwrap().with_file_name("peering-manager");
    assert!(bin.exists(), "build peering-manager first: {}", bin.display());

    let fake = FakePeeringDb::start(None).await;
    let t = Instant::now();
    dataset::generate(&fake, &FULL);
    eprintln!("dataset: {} objects generated in {:.1} s", FULL.total(), t.elapsed().as_secs_f64());

    println!("| database | sync | wall time | peak RSS | exit | summary |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let dir = std::env::temp_dir().join(format!("pm-pdb-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite3").display());
    bench(&bin, &fake, "SQLite", &sqlite, 0).await;
    std::fs::remove_dir_all(&dir).ok();

    if !no_pg {
        let name = format!("pm_pdb_bench_{}", std::process::id());
        let admin = sea_orm::Database::connect(&pg_admin).await.expect("PostgreSQL reachable");
        let exec = |sql: String| Statement::from_string(DbBackend::Postgres, sql);
        admin.execute_raw(exec(format!("CREATE DATABASE \"{name}\""))).await.unwrap();
        let base = pg_admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
        let sep = if pg_admin.contains('?') { "&" } else { "?" };
        let url = format!("{base}/{name}{sep}sslmode=disable");
        bench(&bin, &fake, "PostgreSQL", &url, 1).await;
        admin.execute_raw(exec(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).await.unwrap();
    }
}
