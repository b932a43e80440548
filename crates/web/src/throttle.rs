//! Password guessing, slowed down: failed logins are counted per account and
//! per client address; past a limit the key is locked for 30 s, doubling
//! with each further failure (at most 15 minutes). Password checks (argon2:
//! ~20 MB and tens of milliseconds each) run on the blocking pool, a few at
//! a time, so a login flood cannot starve the rest of the server.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pm_db::auth::{Candidate, User};
use pm_db::{AppError, AppResult};
use tokio::sync::Semaphore;

use crate::state::WebConfig;

const FIRST_LOCK: Duration = Duration::from_secs(30);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// Failures are forgotten this long after the last one.
const MEMORY: Duration = Duration::from_secs(3600);
/// Counters kept at most (a flood of made-up usernames must not grow memory).
const MAX_KEYS: usize = 100_000;
/// How long a login waits for a free password checker before giving up.
const QUEUE_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

pub struct LoginGuard {
    failures: Mutex<HashMap<Key, Failures>>,
    checkers: Semaphore,
    max_account: u32,
    max_address: u32,
}

/// Why a login was not checked.
pub enum Refused {
    /// Locked for this long.
    Throttled(Duration),
    Error(AppError),
}

impl From<AppError> for Refused {
    fn from(e: AppError) -> Self {
        Refused::Error(e)
    }
}

/// IPv6 clients usually hold a whole /64: count them as one.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().unwrap()),
        v4 => v4,
    }
}

fn lock_for(count: u32, limit: u32) -> Option<Duration> {
    if limit == 0 || count < limit {
        return None;
    }
    let doublings = (count - limit).min(16);
    Some((FIRST_LOCK * 2u32.pow(doublings)).min(LONGEST_LOCK))
}

impl LoginGuard {
    pub fn new(config: &WebConfig) -> LoginGuard {
        // Leave a core for everything else.
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        LoginGuard {
            failures: Mutex::new(HashMap::new()),
            checkers: Semaphore::new(cores.saturating_sub(1).max(1)),
            max_account: config.login_max_failures,
            max_address: config.login_max_failures_per_address,
        }
    }

    fn keys(&self, username: &str, ip: Option<IpAddr>) -> Vec<(Key, u32)> {
        let mut keys = vec![(Key::Account(username.to_lowercase()), self.max_account)];
        if let Some(ip) = ip {
            keys.push((Key::Address(address_key(ip)), self.max_address));
        }
        keys
    }

    /// How much longer the account or the address is locked, if at all.
    fn locked(&self, username: &str, ip: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        self.keys(username, ip)
            .iter()
            .filter_map(|(k, limit)| {
                let f = map.get(k)?;
                let until = f.last + lock_for(f.count, *limit)?;
                until.checked_duration_since(now).filter(|d| !d.is_zero())
            })
            .max()
    }

    fn failed(&self, username: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, f| now.duration_since(f.last) < MEMORY);
        }
        if map.len() >= MAX_KEYS {
            // Still full: keep the locked keys, drop those merely counting.
            let (a, b) = (self.max_account, self.max_address);
            map.retain(|k, f| f.count >= if matches!(k, Key::Account(_)) { a } else { b });
        }
        for (k, _) in self.keys(username, ip) {
            let f = map.entry(k).or_insert(Failures { count: 0, last: now });
            if now.duration_since(f.last) >= MEMORY {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
        }
    }

    fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Key::Account(username.to_lowercase()));
    }

    /// Check a username and password: refused at once while the account or
    /// the address is locked, otherwise checked (the same work whether the
    /// user exists or not) and counted.
    pub async fn login(
        &self,
        db: &pm_db::Db,
        username: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<Option<User>, Refused> {
        if let Some(wait) = self.locked(username, ip) {
            return Err(Refused::Throttled(wait));
        }
        let candidate = pm_db::auth::login_candidate(&db.conn, username).await?;
        let user = self.check(candidate, password).await?;
        match &user {
            Some(_) => self.succeeded(username),
            None => self.failed(username, ip),
        }
        Ok(user)
    }

    /// The argon2 check on the blocking pool, a few at a time.
    async fn check(&self, candidate: Candidate, password: &str) -> AppResult<Option<User>> {
        let busy = || AppError::ServiceUnavailable("Too many logins at once; try again in a moment.".into());
        let _permit = tokio::time::timeout(QUEUE_WAIT, self.checkers.acquire()).await.map_err(|_| busy())?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || candidate.check(&password))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("password check failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_after_the_limit() {
        assert_eq!(lock_for(4, 5), None);
        assert_eq!(lock_for(5, 5), Some(Duration::from_secs(30)));
        assert_eq!(lock_for(6, 5), Some(Duration::from_secs(60)));
        assert_eq!(lock_for(50, 5), Some(LONGEST_LOCK));
        assert_eq!(lock_for(100, 0), None);
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
