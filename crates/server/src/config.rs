//! Configuration from `PM_*` environment variables (the CLI flags override
//! the database URL and bind address).

use pm_db::Settings;
use pm_web::WebConfig;

pub const DEFAULT_DATABASE: &str = "sqlite://peering-manager.sqlite3?mode=rwc";

#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub web: WebConfig,
}

fn env_bool(name: &str, default: bool) -> bool {
    match std::env::var(name) {
        Ok(v) => matches!(v.trim().to_lowercase().as_str(), "1" | "true" | "yes" | "on"),
        Err(_) => default,
    }
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

impl Config {
    pub fn from_env() -> Config {
        let d = Settings::default();
        let w = WebConfig::default();
        Config {
            settings: Settings {
                validate_bgp_community: env_bool("PM_VALIDATE_BGP_COMMUNITY_VALUE", d.validate_bgp_community),
                changelog_retention_days: env_num("PM_CHANGELOG_RETENTION", d.changelog_retention_days),
                job_retention_days: env_num("PM_JOB_RETENTION", d.job_retention_days),
                paginate_count: env_num("PM_PAGINATE_COUNT", d.paginate_count),
                max_page_size: env_num("PM_MAX_PAGE_SIZE", d.max_page_size),
            },
            web: WebConfig {
                login_required: env_bool("PM_LOGIN_REQUIRED", w.login_required),
                trusted_proxies: std::env::var("PM_TRUST_PROXY_HEADERS")
                    .map(|v| WebConfig::parse_trusted_proxies(&v))
                    .unwrap_or(w.trusted_proxies),
                secure_cookies: env_bool("PM_SECURE_COOKIES", w.secure_cookies),
                login_max_failures: env_num("PM_LOGIN_MAX_FAILURES", w.login_max_failures),
                login_max_failures_per_address: env_num(
                    "PM_LOGIN_MAX_FAILURES_PER_ADDRESS",
                    w.login_max_failures_per_address,
                ),
                max_body_bytes: env_num("PM_MAX_BODY_BYTES", w.max_body_bytes),
                strict_filters: env_bool("PM_STRICT_FILTERS", w.strict_filters),
            },
        }
    }
}
