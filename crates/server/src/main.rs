//! `peering-manager`: the one binary — server, migrations and admin commands.

mod config;

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pm_db::Db;

use config::Config;

/// Responses build many small allocations across threads; glibc's malloc
/// spent a quarter of the server's time in contention there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "peering-manager", version, about = "Peering Manager: the source of truth for BGP peering.")]
struct Cli {
    /// Database URL (`sqlite://FILE?mode=rwc` or `postgres://USER@HOST:PORT/DB`).
    #[arg(long, global = true, env = "PM_DATABASE_URL", default_value = config::DEFAULT_DATABASE)]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (applies migrations; creates an `admin` user on an empty database).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "PM_BIND", default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
        /// Do not run jobs in this process (run `peering-manager worker` elsewhere).
        #[arg(long, env = "PM_NO_WORKER")]
        no_worker: bool,
    },
    /// Run background jobs (and the scheduler) without the web server.
    Worker {
        /// Jobs run at the same time.
        #[arg(long, env = "PM_WORKER_CONCURRENCY", default_value_t = 16)]
        concurrency: usize,
        /// Do not fire scheduled jobs from this process.
        #[arg(long)]
        no_scheduler: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Create a superuser.
    Createsuperuser {
        /// Login name of the new user.
        #[arg(long)]
        username: String,
        /// E-mail address of the new user.
        #[arg(long)]
        email: String,
        /// Password; asked for nothing, generated and printed when omitted.
        #[arg(long)]
        password: Option<String>,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Delete change-log records and jobs past their retention, and expired sessions.
    Housekeeping,
    /// Load a small demo network around AS64500 to try the product and its
    /// templates; skipped (and said so) when AS64500 already exists.
    Demo,
    /// The PeeringDB cache.
    Peeringdb {
        #[command(subcommand)]
        action: PeeringdbCommand,
    },
    /// Render router configurations (every router when none is named; to
    /// stdout each one follows a `==> NAME <==` line when there are several).
    Render {
        /// Router name; repeat for several.
        #[arg(long = "router")]
        routers: Vec<String>,
        /// Render this template file instead of each router's own template.
        #[arg(long)]
        template: Option<std::path::PathBuf>,
        /// Write one file per router (`NAME.conf`) into this folder instead of stdout.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        /// Jinja2 `trim_blocks` for --template.
        #[arg(long)]
        trim: bool,
        /// Jinja2 `lstrip_blocks` for --template.
        #[arg(long)]
        lstrip: bool,
    },
}

#[derive(Subcommand)]
enum PeeringdbCommand {
    /// Download what changed in PeeringDB (everything the first time), then
    /// refresh autonomous systems. Progress on stderr, summary on stdout.
    #[command(after_help = "Environment:\n  \
        PM_PEERINGDB_URL       PeeringDB API to download from [default: https://www.peeringdb.com/api]\n  \
        PM_PEERINGDB_API_KEY   API key (contacts are only visible with one)\n  \
        PM_PEERINGDB_TIMEOUT   seconds allowed per download [default: 300]\n  \
        PM_PEERINGDB_ATTEMPTS  tries per namespace on rate limits, server errors and cut connections [default: 5]\n  \
        PM_PEERINGDB_BACKOFF   seconds before the first retry, doubled each time [default: 2]\n\
        A server that cannot be reached at all stops the sync at once.")]
    Sync {
        /// Empty the cache first (after adding an API key: contacts need one).
        #[arg(short, long)]
        flush: bool,
    },
    /// Empty the cache and forget past synchronisations.
    Flush,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for a user and print its key (shown only once).
    Create {
        /// Username the token acts as (its permissions apply).
        #[arg(long)]
        user: String,
        /// Allow writes (tokens are read-only otherwise).
        #[arg(long)]
        write: bool,
        /// Expiry date (`2027-01-31` or an ISO date-time).
        #[arg(long)]
        expires: Option<String>,
        /// Free text shown beside the token in the web UI.
        #[arg(long, default_value = "")]
        description: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PM_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm_migration=warn".into()),
        )
        // Colours only for a person at a terminal, not in log files and journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config = Config::from_env();
    let db =
        Db::connect(&cli.database).await.with_context(|| format!("cannot open database {}", redact(&cli.database)))?;
    db.migrate().await.context("migrating the database")?;
    match cli.command {
        Command::Serve { bind, no_worker } => serve(db, config, bind, no_worker).await,
        Command::Worker { concurrency, no_scheduler } => worker(db, config, concurrency, !no_scheduler).await,
        Command::Migrate => {
            println!("Database is up to date.");
            Ok(())
        }
        Command::Createsuperuser { username, email, password } => {
            let generated = password.is_none();
            let password = password.unwrap_or_else(random_password);
            pm_db::auth::create_user(&db.conn, &username, &email, &password, true).await?;
            if generated {
                println!("Superuser {username} created with password: {password}");
            } else {
                println!("Superuser {username} created.");
            }
            Ok(())
        }
        Command::Token { action: TokenCommand::Create { user, write, expires, description } } => {
            let id = pm_db::auth::user_id_by_name(&db.conn, &user)
                .await?
                .with_context(|| format!("no user named {user}"))?;
            let expires = match expires {
                Some(e) => Some(pm_db::query::filter::parse_datetime(&e).with_context(|| format!("bad date: {e}"))?),
                None => None,
            };
            let key = pm_db::auth::create_token(&db.conn, id, write, expires, &description, None).await?;
            println!("{key}");
            Ok(())
        }
        Command::Demo => {
            if pm_db::demo::load(&db, &config.settings).await? {
                println!("Demo network loaded (AS{}, routers edge1 and edge2).", pm_db::demo::DEMO_ASN);
            } else {
                let present = pm_db::demo::already_present(&db).await?.unwrap_or_default();
                println!(
                    "{present} already exists: the demo network was not loaded and nothing changed \
                     (it is built around that AS; load it into an empty database with --database)."
                );
            }
            Ok(())
        }
        Command::Render { routers, template, output, trim, lstrip } => {
            render(&db, &routers, template, output, trim, lstrip).await
        }
        Command::Peeringdb { action } => peeringdb(&db, &config, action).await,
        Command::Housekeeping => {
            let (changes, jobs) = pm_db::ops::housekeeping(&db, &config.settings).await?;
            println!("Removed {changes} change-log record(s) and {jobs} job(s) past retention.");
            Ok(())
        }
    }
}

async fn render(
    db: &Db,
    names: &[String],
    template: Option<std::path::PathBuf>,
    output: Option<std::path::PathBuf>,
    trim: bool,
    lstrip: bool,
) -> anyhow::Result<()> {
    let source = match &template {
        Some(path) => Some(pm_render::Source {
            name: path.display().to_string(),
            text: std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
            trim,
            lstrip,
        }),
        None => None,
    };
    let routers = pm_render::router_ids(db, names).await?;
    if let Some(missing) = names.iter().find(|n| !routers.iter().any(|(_, r)| r == *n)) {
        anyhow::bail!("no router named {missing}");
    }
    if let Some(dir) = &output {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut failed = false;
    let started = std::time::Instant::now();
    let results = pm_render::render_routers(db, routers.iter().map(|(id, _)| *id).collect(), source).await?;
    tracing::info!(routers = results.len(), elapsed_ms = started.elapsed().as_millis() as u64, "rendered");
    // Several configurations on stdout: each under a header, as `head` does
    // with several files, so they can be told apart (and split again).
    let headers = output.is_none() && routers.len() > 1;
    for ((_, name), (_, result)) in routers.iter().zip(results) {
        if let Ok(Some(r)) = &result {
            tracing::debug!(router = %name, statements = r.queries, "rendered");
        }
        match result {
            Ok(Some(r)) => match &output {
                Some(dir) => {
                    let path = dir.join(format!("{name}.conf"));
                    std::fs::write(&path, format!("{}\n", r.text))
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("{name}: {}", path.display());
                }
                None => {
                    let header = if headers { format!("==> {name} <==\n") } else { String::new() };
                    if !print(&format!("{header}{}\n", r.text))? {
                        return Ok(()); // the reader went away (`| head`): nothing more to say
                    }
                }
            },
            Ok(None) => eprintln!("{name}: no configuration template assigned, skipped"),
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        anyhow::bail!("some configurations could not be rendered");
    }
    Ok(())
}

/// Write to stdout; `false` once the reader has closed the pipe (`render |
/// head`), which is not an error (`println!` would panic there).
fn print(text: &str) -> anyhow::Result<bool> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
    }
}

// --- peeringdb: `peering-manager peeringdb sync|flush` (crates/peeringdb) ---
struct CliProgress;

impl pm_peeringdb::Progress for CliProgress {
    fn started(&self, index: usize, total: usize, tag: &str, since: i64) {
        eprintln!("[{}/{total}] {tag}: downloading changes since {since}", index + 1);
    }
    fn finished(&self, index: usize, total: usize, r: &pm_peeringdb::NsReport) {
        let c = r.counts;
        match &r.error {
            Some(e) => eprintln!("[{}/{total}] {}: FAILED, left unchanged: {e}", index + 1, r.tag),
            None => eprintln!(
                "[{}/{total}] {}: {} received, {} created, {} updated, {} deleted",
                index + 1,
                r.tag,
                r.received,
                c.created,
                c.updated,
                c.deleted
            ),
        }
    }
}

async fn peeringdb(db: &Db, config: &Config, action: PeeringdbCommand) -> anyhow::Result<()> {
    let flush = match action {
        PeeringdbCommand::Flush => {
            pm_peeringdb::flush::flush(db).await?;
            println!("PeeringDB cache emptied.");
            return Ok(());
        }
        PeeringdbCommand::Sync { flush } => flush,
    };
    if flush {
        pm_peeringdb::flush::flush(db).await?;
        eprintln!("PeeringDB cache emptied.");
    }
    let client = pm_peeringdb::Client::new(pm_peeringdb::ClientConfig::from_env())?;
    let started = std::time::Instant::now();
    let report = pm_peeringdb::synchronise(db, &client, &CliProgress).await?;
    let elapsed = started.elapsed();
    if let Some(e) = &report.unreachable {
        anyhow::bail!("PeeringDB is unreachable, nothing synchronised: {e} (check the network, or PM_PEERINGDB_URL)");
    }
    if report.totals().total() == 0 {
        println!("Nothing to synchronise.");
    } else {
        println!("{} ({:.2} s)", report.summary(), elapsed.as_secs_f64());
        let who = pm_peeringdb::autonomous::Who::sync();
        let outcomes = pm_peeringdb::autonomous::synchronise(db, &config.settings, &who, None).await?;
        println!("Updated {} autonomous systems.", pm_peeringdb::autonomous::tally(&outcomes).updated);
    }
    let failed = report.failed();
    if !failed.is_empty() {
        anyhow::bail!("not synchronised: {}", failed.join(", "));
    }
    Ok(())
}
// --- end peeringdb ---

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((creds, rest)) if creds.contains(':') && !creds.ends_with("//") => {
            let scheme_end = creds.find("://").map(|i| i + 3).unwrap_or(0);
            let user = creds[scheme_end..].split(':').next().unwrap_or("");
            format!("{}{user}:***@{rest}", &creds[..scheme_end])
        }
        _ => url.to_string(),
    }
}

fn random_password() -> String {
    let bytes: [u8; 12] = rand_bytes();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let key = pm_db::auth::new_token_key();
    for (i, c) in key.as_bytes().chunks(2).take(N).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap();
    }
    out
}

// --- jobs: `worker` and the engine embedded in `serve` (crates/jobs) ---
async fn start_engine(
    db: &Db,
    config: &Config,
    concurrency: Option<usize>,
    scheduler: bool,
) -> anyhow::Result<pm_jobs::Engine> {
    let mut engine_config = pm_jobs::EngineConfig::from_env(config.settings.clone());
    if let Some(c) = concurrency {
        engine_config.concurrency = c.max(1);
    }
    let mut registry = pm_jobs::Registry::builtin();
    pm_peeringdb::job::register(&mut registry);
    pm_irr::job::register(&mut registry);
    Ok(pm_jobs::Engine::start(db.clone(), engine_config, registry, scheduler).await?)
}

async fn worker(db: Db, config: Config, concurrency: usize, scheduler: bool) -> anyhow::Result<()> {
    let engine = start_engine(&db, &config, Some(concurrency), scheduler).await?;
    shutdown_signal().await;
    tracing::info!("stopping: finishing running jobs");
    engine.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
// --- end jobs ---

async fn serve(db: Db, config: Config, bind: SocketAddr, no_worker: bool) -> anyhow::Result<()> {
    ensure_admin(&db).await?;
    let engine = if no_worker { None } else { Some(start_engine(&db, &config, None, true).await?) };
    let state = pm_web::AppState::new(db, config.settings.clone(), config.web.clone());
    let app = pm_web::router(state);
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!("Peering Manager listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    if let Some(engine) = engine {
        engine.stop().await;
    }
    Ok(())
}

/// A fresh install gets an `admin` superuser so someone can log in at all.
async fn ensure_admin(db: &Db) -> anyhow::Result<()> {
    if pm_db::auth::user_count(&db.conn).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match std::env::var("PM_SUPERUSER_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (random_password(), true),
    };
    match pm_db::auth::create_user(&db.conn, "admin", "", &password, true).await {
        Ok(_) if generated => {
            println!("Created superuser 'admin' with password: {password}");
            println!("(shown once; set PM_SUPERUSER_PASSWORD to choose it)");
        }
        Ok(_) => println!("Created superuser 'admin' with the password from PM_SUPERUSER_PASSWORD."),
        // Another server process on the same database created it first.
        Err(e) if pm_db::auth::user_count(&db.conn).await? > 0 => tracing::debug!("admin already created: {e}"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
