//! `pm-bench`: start a Peering Manager server on a fresh database, load a
//! standard dataset through the REST API, then measure four request mixes
//! with concurrent clients on loopback.
//!
//! Targets are reported next to the figures, never asserted: the exit code
//! is non-zero only when a request failed (or the run could not happen).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

mod soak;
mod webhooks;

#[derive(Parser)]
#[command(name = "pm-bench", about = "Benchmark a Peering Manager server through its REST API.")]
struct Args {
    /// The `peering-manager` binary to benchmark.
    #[arg(long)]
    server_bin: PathBuf,
    /// `sqlite` (any `sqlite:` URL: a fresh temporary file is always used) or
    /// `postgres://USER@HOST:PORT/DB` (DB is dropped and re-created with psql).
    #[arg(long)]
    database: String,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Port for the server; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Only the webhook benchmark: a bulk update of 1,000 objects with one webhook.
    #[arg(long)]
    webhooks: bool,
    /// Only the soak test: half the clients write, half read, for
    /// `--duration-secs`; reports 5xx answers and lost writes (issue #11).
    #[arg(long)]
    soak: bool,
}

/// Objects posted per bulk request while loading.
const BULK: usize = 500;
const PEER_ASES: usize = 2_000;
const IXPS: usize = 50;
const ROUTERS: usize = 20;
const CONNECTIONS_PER_IXP: usize = 2;
const SESSIONS: usize = 12_000;
const SESSIONS_PER_CONNECTION: usize = SESSIONS / (IXPS * CONNECTIONS_PER_IXP);
/// Seeded by the migrations, in this order: Arista EOS, Juniper Junos, ...
const JUNIPER_PLATFORM_ID: i64 = 2;
const LOCAL_ASN: i64 = 64_500;
/// ASNs created by the write scenario; far from the loaded ones.
const FIRST_CREATED_ASN: u64 = 4_000_000_000;
const SUPERUSER_PASSWORD: &str = "pm-bench-admin";

#[tokio::main]
async fn main() -> ExitCode {
    // reqwest is built with `rustls-no-provider`; even plain http needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("pm-bench: some requests failed (see above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("pm-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Returns whether every measured request succeeded. The guards declared
/// here stop the server and delete the SQLite file however this returns.
async fn run(args: Args) -> anyhow::Result<bool> {
    let (database, _temp_file) = prepare_database(&args.database)?;
    let port = if args.port == 0 { free_port()? } else { args.port };
    let base = format!("http://127.0.0.1:{port}");

    let mut server = Server::spawn(&args.server_bin, &database, port)?;
    let http = reqwest::Client::builder()
        // A proxy from the environment must never sit between us and loopback.
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()?;
    server.wait_ready(&http, &base).await?;
    let token = create_token(&args.server_bin, &database)?;
    let api = Api { http, base, auth: format!("Token {token}") };
    if args.webhooks {
        let backend = if database.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
        return webhooks::run(&api, backend).await;
    }
    if args.soak {
        let backend = if database.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
        // One token per client: the server writes each one's `last_used` too.
        let mut tokens = Vec::new();
        for _ in 0..args.clients {
            tokens.push(format!("Token {}", create_token(&args.server_bin, &database)?));
        }
        return soak::run(&api, backend, tokens, Duration::from_secs(args.duration_secs)).await;
    }

    let started = Instant::now();
    let data = load_dataset(&api).await?;
    eprintln!(
        "Dataset loaded through the API in {:.1} s (server RSS peak while loading: {} MB)",
        started.elapsed().as_secs_f64(),
        mb(server.status_kb("VmHWM"))
    );
    if database.starts_with("postgres") {
        // Otherwise autovacuum vacuums and analyzes the fresh tables at some
        // arbitrary moment during the measurements (and plans until then use
        // empty-table statistics); do now what it would do shortly anyway.
        let started = Instant::now();
        psql(&database, &postgres_db_name(&database)?, "VACUUM ANALYZE")?;
        eprintln!("VACUUM ANALYZE took {:.1} s", started.elapsed().as_secs_f64());
    }

    let api = Arc::new(api);
    let duration = Duration::from_secs(args.duration_secs);
    let peers = Arc::new(data.peer_as_ids);
    let asn = Arc::new(AtomicU64::new(FIRST_CREATED_ASN));
    let mut rows = Vec::new();
    for scenario in Scenario::ALL {
        let peers = peers.clone();
        let asn = asn.clone();
        // Each request is built from a per-scenario sequence number.
        let request = move |api: &Api, n: u64| match scenario {
            Scenario::ListAses => api.get("/api/peering/autonomous-systems/?limit=50"),
            Scenario::ListSessions => api.get("/api/peering/internet-exchange-peering-sessions/?limit=100"),
            // Rotate over the peer ASes so no single row stays hot.
            Scenario::Retrieve => {
                api.get(&format!("/api/peering/autonomous-systems/{}/", peers[n as usize % peers.len()]))
            }
            Scenario::Create => {
                let asn = asn.fetch_add(1, Ordering::Relaxed);
                api.post("/api/peering/autonomous-systems/")
                    .json(&json!({"asn": asn, "name": format!("Bench AS{asn}")}))
            }
        };
        // Reset the kernel's peak-RSS counter so VmHWM covers this scenario only.
        let per_scenario_peak = server.reset_peak_rss();
        let cpu_before = server.cpu_ticks();
        let mut result = measure(api.clone(), args.clients, duration, request).await;
        result.server_cpu_ticks = server.cpu_ticks().saturating_sub(cpu_before);
        result.rss_peak_kb = server.status_kb("VmHWM");
        result.rss_now_kb = server.status_kb("VmRSS");
        if !per_scenario_peak {
            eprintln!("note: could not reset VmHWM, the RSS peak covers the server's whole life");
        }
        eprintln!("{}: done ({} ok, {} errors)", scenario.name(), result.ok, result.errors);
        if let Some(e) = &result.first_error {
            eprintln!("  first failure: {e}");
        }
        rows.push((scenario, result));
    }

    print_report(&args, &database, &rows);
    Ok(rows.iter().all(|(_, r)| r.errors == 0))
}

// ---------------------------------------------------------------- database

/// Deletes the SQLite database (and its WAL files) when dropped.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// A fresh, empty database every run, so figures are comparable.
fn prepare_database(url: &str) -> anyhow::Result<(String, TempFile)> {
    if url.starts_with("sqlite") {
        let path = std::env::temp_dir().join(format!("pm-bench-{}.sqlite3", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        return Ok((url, TempFile(Some(path))));
    }
    if url.starts_with("postgres") {
        recreate_postgres(url)?;
        return Ok((url.to_string(), TempFile(None)));
    }
    bail!("unsupported database URL {url:?} (expected sqlite or postgres://...)")
}

/// Drop and create the database; `DROP DATABASE` cannot share a
/// transaction, hence one psql call per statement.
fn recreate_postgres(url: &str) -> anyhow::Result<()> {
    let db = postgres_db_name(url)?;
    psql(url, "postgres", &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))?;
    psql(url, "postgres", &format!("CREATE DATABASE \"{db}\""))
}

fn postgres_db_name(url: &str) -> anyhow::Result<String> {
    let u = reqwest::Url::parse(url).with_context(|| format!("bad database URL {url}"))?;
    let db = u.path().trim_start_matches('/');
    // The name goes into SQL unescaped: allow only plain identifiers.
    if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("database name {db:?} must be non-empty and made of letters, digits and _");
    }
    Ok(db.to_string())
}

/// Run one SQL statement with psql against database `db` of the server in `url`.
fn psql(url: &str, db: &str, sql: &str) -> anyhow::Result<()> {
    let u = reqwest::Url::parse(url).with_context(|| format!("bad database URL {url}"))?;
    let user = if u.username().is_empty() { "postgres" } else { u.username() };
    let port = u.port().unwrap_or(5432).to_string();
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", u.host_str().unwrap_or("127.0.0.1")])
        .args(["-p", &port, "-U", user, "-d", db, "-c", sql]);
    if let Some(pw) = u.password() {
        cmd.env("PGPASSWORD", pw);
    }
    let out = cmd.output().context("running psql")?;
    if !out.status.success() {
        bail!("psql -c {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    // Bind port 0, note what the kernel chose, release it for the server.
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

// ---------------------------------------------------------------- server

/// The server child process; killed (and reaped) when dropped, also on errors.
struct Server(Child);

impl Server {
    fn spawn(bin: &PathBuf, database: &str, port: u16) -> anyhow::Result<Server> {
        let child = Command::new(bin)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("PM_DATABASE_URL", database)
            .env("PM_SUPERUSER_PASSWORD", SUPERUSER_PASSWORD)
            .env("PM_LOG", "warn")
            // stdout only announces the admin user; keep it out of the report.
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(Server(child))
    }

    /// Migrations run before the server listens; give them time.
    async fn wait_ready(&mut self, http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.0.try_wait()? {
                bail!("server exited before answering: {status}");
            }
            // Any HTTP answer (even 403) means the server is up.
            if http.get(format!("{base}/api/")).send().await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("server did not answer {base}/api/ within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A field of /proc/PID/status in kB (0 when unreadable).
    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// User + system CPU time of the server so far, in clock ticks
    /// (fields 14 and 15 of /proc/PID/stat; the name before them is in parentheses).
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        // after_name starts at field 3 (state): utime is the 12th item from here.
        after_name.split_whitespace().skip(11).take(2).filter_map(|v| v.parse::<u64>().ok()).sum()
    }

    /// Writing 5 to clear_refs resets VmHWM (Linux >= 4.0; our own child).
    fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.0.id()), "5").is_ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `peering-manager token create` prints the new key as its last line.
fn create_token(bin: &PathBuf, database: &str) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(["--database", database, "token", "create", "--user", "admin", "--write"])
        .env("PM_LOG", "warn")
        .output()
        .context("running token create")?;
    if !out.status.success() {
        bail!("token create failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let stdout = String::from_utf8(out.stdout)?;
    let key = stdout.lines().last().unwrap_or("").trim().to_string();
    if key.is_empty() {
        bail!("token create printed no key");
    }
    Ok(key)
}

// ---------------------------------------------------------------- API client

struct Api {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Api {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).header("Authorization", &self.auth)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).header("Authorization", &self.auth)
    }

    /// Bulk-create `objs` in lists of at most BULK; returns the id of each
    /// created object keyed by its `key` field (responses need not keep the
    /// input order: the server renders them in the model's ordering).
    async fn bulk(&self, path: &str, objs: &[Value], key: &str) -> anyhow::Result<HashMap<String, i64>> {
        let mut ids = HashMap::new();
        for chunk in objs.chunks(BULK) {
            let resp = self.post(path).json(chunk).send().await.with_context(|| format!("POST {path}"))?;
            let status = resp.status();
            let body = resp.text().await?;
            if status != reqwest::StatusCode::CREATED {
                bail!("POST {path} answered {status}: {}", truncate(&body));
            }
            let created: Vec<Value> = serde_json::from_str(&body).with_context(|| format!("POST {path} body"))?;
            for o in created {
                let k = match &o[key] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                ids.insert(k, o["id"].as_i64().context("created object without id")?);
            }
        }
        if ids.len() != objs.len() {
            bail!("POST {path}: {} objects sent, {} distinct ones returned", objs.len(), ids.len());
        }
        Ok(ids)
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(2000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

// ---------------------------------------------------------------- dataset

struct Dataset {
    peer_as_ids: Vec<i64>,
}

/// The standard dataset: 1 affiliated AS, 2,000 peer ASes, 20 routers,
/// 50 IXPs with 2 connections each, 12,000 IXP sessions, plus the tags,
/// communities and policies they all reference.
async fn load_dataset(api: &Api) -> anyhow::Result<Dataset> {
    let step = |what: &str, t: Instant, n: usize| eprintln!("  {n:>6} {what:<22} {:>6.2} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let objs: Vec<Value> =
        (1..=5).map(|n| json!({"name": format!("Tag {n}"), "slug": format!("tag-{n}"), "color": "2196f3"})).collect();
    let by = api.bulk("/api/extras/tags/", &objs, "slug").await?;
    let tags: Vec<i64> = (1..=5).map(|n| by[&format!("tag-{n}")]).collect();
    step("tags", t, tags.len());

    let t = Instant::now();
    let objs: Vec<Value> = (1..=20)
        .map(|n| {
            json!({"name": format!("Community {n}"), "slug": format!("community-{n}"), "value": format!("{LOCAL_ASN}:{n}")})
        })
        .collect();
    let by = api.bulk("/api/bgp/communities/", &objs, "slug").await?;
    let communities: Vec<i64> = (1..=20).map(|n| by[&format!("community-{n}")]).collect();
    step("communities", t, communities.len());

    // Policies 1-5 are import policies, 6-10 export ones; address family 0
    // ("all") so the session hook accepts them for any address.
    let t = Instant::now();
    let objs: Vec<Value> = (1..=10)
        .map(|n| {
            json!({
                "name": format!("Policy {n}"), "slug": format!("policy-{n}"),
                "type": if n <= 5 { "import-policy" } else { "export-policy" },
                "address_family": 0, "weight": n, "communities": [communities[n % 20]],
            })
        })
        .collect();
    let by = api.bulk("/api/peering/routing-policies/", &objs, "slug").await?;
    let import: Vec<i64> = (1..=5).map(|n| by[&format!("policy-{n}")]).collect();
    let export: Vec<i64> = (6..=10).map(|n| by[&format!("policy-{n}")]).collect();
    step("routing policies", t, by.len());

    let t = Instant::now();
    let objs: Vec<Value> = ["Private Peering", "Transit Provider", "Customer"]
        .iter()
        .map(|name| json!({"name": name, "slug": name.to_lowercase().replace(' ', "-")}))
        .collect();
    let by = api.bulk("/api/bgp/relationships/", &objs, "slug").await?;
    step("relationships", t, by.len());

    let t = Instant::now();
    let local = json!({"asn": LOCAL_ASN, "name": "Bench Networks", "affiliated": true, "tags": [tags[0]]});
    let by = api.bulk("/api/peering/autonomous-systems/", &[local], "asn").await?;
    let local_as = by[&LOCAL_ASN.to_string()];
    let objs: Vec<Value> = (0..PEER_ASES)
        .map(|i| {
            let asn = 65_000 + i as i64;
            json!({
                "asn": asn, "name": format!("Peer {i}"), "irr_as_set": format!("AS-PEER{i}"),
                "ipv4_max_prefixes": 100 + i, "ipv6_max_prefixes": 20 + i % 50,
                "tags": [tags[i % 5], tags[(i + 1) % 5]],
                "communities": [communities[i % 20], communities[(i + 7) % 20]],
                "import_routing_policies": [import[i % 5]],
                "export_routing_policies": [export[i % 5]],
            })
        })
        .collect();
    let by = api.bulk("/api/peering/autonomous-systems/", &objs, "asn").await?;
    let peer_as_ids: Vec<i64> = (0..PEER_ASES).map(|i| by[&(65_000 + i).to_string()]).collect();
    step("autonomous systems", t, peer_as_ids.len() + 1);

    let t = Instant::now();
    let objs: Vec<Value> = (0..ROUTERS)
        .map(|r| {
            json!({
                "name": format!("router{r}"), "hostname": format!("router{r}.bench.example"),
                "platform": JUNIPER_PLATFORM_ID, "local_autonomous_system": local_as,
                "communities": [communities[r % 20]], "tags": [tags[r % 5]],
            })
        })
        .collect();
    let by = api.bulk("/api/devices/routers/", &objs, "name").await?;
    let routers: Vec<i64> = (0..ROUTERS).map(|r| by[&format!("router{r}")]).collect();
    step("routers", t, routers.len());

    let t = Instant::now();
    let objs: Vec<Value> = (0..IXPS)
        .map(|x| {
            json!({
                "name": format!("IXP {x}"), "slug": format!("ixp-{x}"), "status": "enabled",
                "local_autonomous_system": local_as,
                "import_routing_policies": [import[x % 5]], "export_routing_policies": [export[x % 5]],
                "communities": [communities[x % 20]], "tags": [tags[x % 5]],
            })
        })
        .collect();
    let by = api.bulk("/api/peering/internet-exchanges/", &objs, "slug").await?;
    let ixps: Vec<i64> = (0..IXPS).map(|x| by[&format!("ixp-{x}")]).collect();
    step("internet exchanges", t, ixps.len());

    // Connection k of IXP x sits on router (2x + k) mod 20 with address 10.x.0.(k+1)/22.
    let t = Instant::now();
    let conn_addr = |x: usize, k: usize| format!("10.{x}.0.{}/22", k + 1);
    let objs: Vec<Value> = (0..IXPS)
        .flat_map(|x| (0..CONNECTIONS_PER_IXP).map(move |k| (x, k)))
        .map(|(x, k)| {
            json!({
                "internet_exchange_point": ixps[x], "router": routers[(x * CONNECTIONS_PER_IXP + k) % ROUTERS],
                "ipv4_address": conn_addr(x, k), "vlan": 100 + x, "interface": format!("et-0/0/{k}"),
                "tags": [tags[k % 5]],
            })
        })
        .collect();
    let by = api.bulk("/api/net/connections/", &objs, "ipv4_address").await?;
    step("connections", t, by.len());

    // Sessions of IXP x get 10.x.1.2 and up, unique within the IXP's /22;
    // each peer AS ends up with 6 sessions spread over the IXPs.
    let t = Instant::now();
    let per_ixp = CONNECTIONS_PER_IXP * SESSIONS_PER_CONNECTION;
    let objs: Vec<Value> = (0..SESSIONS)
        .map(|s| {
            let (x, m) = (s / per_ixp, s % per_ixp);
            let k = m / SESSIONS_PER_CONNECTION;
            json!({
                "autonomous_system": peer_as_ids[s % PEER_ASES],
                "ixp_connection": by[&conn_addr(x, k)],
                "ip_address": format!("10.{x}.{}.{}", 1 + m / 250, m % 250 + 2),
                "status": "enabled",
                "import_routing_policies": [import[s % 5]], "export_routing_policies": [export[s % 5]],
                "communities": [communities[s % 20]], "tags": [tags[s % 5]],
            })
        })
        .collect();
    let by = api.bulk("/api/peering/internet-exchange-peering-sessions/", &objs, "id").await?;
    step("IXP peering sessions", t, by.len());

    Ok(Dataset { peer_as_ids })
}

// ---------------------------------------------------------------- measuring

#[derive(Clone, Copy)]
enum Scenario {
    ListAses,
    ListSessions,
    Retrieve,
    Create,
}

impl Scenario {
    const ALL: [Scenario; 4] = [Scenario::ListAses, Scenario::ListSessions, Scenario::Retrieve, Scenario::Create];

    fn name(self) -> &'static str {
        match self {
            Scenario::ListAses => "list 50 ASes",
            Scenario::ListSessions => "list 100 IXP sessions",
            Scenario::Retrieve => "retrieve one AS",
            Scenario::Create => "create one AS",
        }
    }

    /// The targets: (minimum requests/s, maximum p99 in ms).
    fn target(self) -> (Option<f64>, Option<f64>) {
        match self {
            Scenario::ListAses => (Some(3_000.0), Some(20.0)),
            Scenario::ListSessions => (None, None),
            Scenario::Retrieve => (Some(8_000.0), None),
            Scenario::Create => (Some(1_000.0), None),
        }
    }
}

/// Server RSS target under load, in MB.
const RSS_TARGET_MB: f64 = 100.0;

#[derive(Default)]
struct Outcome {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    /// Latencies of successful requests, in microseconds.
    latencies_us: Vec<u64>,
    elapsed: Duration,
    rss_peak_kb: u64,
    rss_now_kb: u64,
    server_cpu_ticks: u64,
}

/// `clients` tasks send requests back to back (one in flight each) over one
/// shared keep-alive client until `duration` is over.
async fn measure<F>(api: Arc<Api>, clients: usize, duration: Duration, request: F) -> Outcome
where
    F: Fn(&Api, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let seq = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (api, request, seq) = (api.clone(), request.clone(), seq.clone());
            tokio::spawn(async move {
                let mut out = Outcome::default();
                while Instant::now() < deadline {
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    // The whole body is read: a response only counts once fully received.
                    let result = match request(&api, n).send().await {
                        Ok(resp) => {
                            let status = resp.status();
                            match resp.text().await {
                                Ok(_) if status.is_success() => Ok(()),
                                Ok(body) => Err(format!("HTTP {status}: {}", truncate(&body))),
                                Err(e) => Err(format!("HTTP {status}, body unreadable: {e}")),
                            }
                        }
                        Err(e) => Err(format!("request failed: {e}")),
                    };
                    match result {
                        Ok(()) => {
                            out.ok += 1;
                            out.latencies_us.push(t.elapsed().as_micros() as u64);
                        }
                        Err(e) => {
                            out.errors += 1;
                            out.first_error.get_or_insert(e);
                        }
                    }
                }
                out
            })
        })
        .collect();
    let mut total = Outcome::default();
    for task in tasks {
        let out = task.await.expect("client task panicked");
        total.ok += out.ok;
        total.errors += out.errors;
        total.latencies_us.extend(out.latencies_us);
        if total.first_error.is_none() {
            total.first_error = out.first_error;
        }
    }
    // Wall time until the last in-flight request finished.
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}

impl Outcome {
    /// Server CPU time per successful request, in ms. /proc reports ticks of
    /// USER_HZ, which is 100 on Linux whatever the kernel's HZ.
    fn server_cpu_ms_per_request(&self) -> f64 {
        if self.ok == 0 { 0.0 } else { self.server_cpu_ticks as f64 * 10.0 / self.ok as f64 }
    }

    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile, in ms.
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies_us.len() as f64).ceil() as usize;
        self.latencies_us[rank.clamp(1, self.latencies_us.len()) - 1] as f64 / 1000.0
    }
}

fn mb(kb: u64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

fn print_report(args: &Args, database: &str, rows: &[(Scenario, Outcome)]) {
    let backend = if database.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
    println!("\n### {backend}: {} clients, {} s per scenario\n", args.clients, args.duration_secs);
    println!(
        "| Scenario | OK | Errors | req/s | p50 ms | p99 ms | max ms | server CPU ms/req | RSS peak MB | RSS after MB | Target | Met |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for (scenario, r) in rows {
        let (min_rate, max_p99) = scenario.target();
        let mut target = Vec::new();
        let mut missed = Vec::new();
        if let Some(min) = min_rate {
            target.push(format!("≥ {min:.0} req/s"));
            if r.rate() < min {
                missed.push("req/s");
            }
        }
        if let Some(max) = max_p99 {
            target.push(format!("p99 ≤ {max:.0} ms"));
            if r.percentile_ms(99.0) > max {
                missed.push("p99");
            }
        }
        target.push(format!("RSS ≤ {RSS_TARGET_MB:.0} MB"));
        if r.rss_peak_kb as f64 / 1024.0 > RSS_TARGET_MB {
            missed.push("RSS");
        }
        let met = if missed.is_empty() { "yes".to_string() } else { format!("**no** ({})", missed.join(", ")) };
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {met} |",
            scenario.name(),
            r.ok,
            r.errors,
            r.rate(),
            r.percentile_ms(50.0),
            r.percentile_ms(99.0),
            r.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0,
            r.server_cpu_ms_per_request(),
            mb(r.rss_peak_kb),
            mb(r.rss_now_kb),
            target.join(", "),
        );
    }
}
