//! An in-process fake IRRd (whois framing of real-parts.md §3.2) shared by
//! the tests of this crate.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Default)]
pub struct Fake {
    pub sets: BTreeMap<String, Vec<String>>,
    pub v4: BTreeMap<String, Vec<String>>,
    pub v6: BTreeMap<String, Vec<String>>,
    /// Answer `!a` like a server that does not know it.
    pub no_a: bool,
    /// Wait this long before every answer after the handshake.
    pub delay: Option<Duration>,
    /// Close the connection on this query.
    pub cut_on: Option<String>,
}

impl Fake {
    pub fn as_test() -> Fake {
        let mut fake = Fake::default();
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        fake.sets.insert("AS-TEST".into(), list(&["AS65001", "AS-CUST"]));
        fake.sets.insert("AS-CUST".into(), list(&["AS65002", "AS-LOOP", "AS-MISSING"]));
        fake.sets.insert("AS-LOOP".into(), list(&["AS65003", "AS-TEST"]));
        fake.v4.insert("AS65001".into(), list(&["198.51.100.0/25", "198.51.100.128/25", "192.0.2.0/24"]));
        fake.v4.insert("AS65002".into(), list(&["203.0.113.0/24", "203.0.113.0/25"]));
        fake.v4.insert("AS65003".into(), list(&["198.18.0.0/24"]));
        fake.v4.insert("AS3333".into(), list(&["193.0.0.0/21"]));
        fake.v6.insert("AS65001".into(), list(&["2001:db8:1::/48", "2001:db8:1:100::/56"]));
        fake.v6.insert("AS65002".into(), list(&["2001:db8:2::/48"]));
        fake.v6.insert("AS65003".into(), list(&["2001:db8:3::/48"]));
        fake
    }

    fn expand(&self, name: &str, seen: &mut Vec<String>, out: &mut Vec<String>) {
        for member in self.sets.get(name).into_iter().flatten() {
            if self.sets.contains_key(member) {
                if !seen.contains(member) {
                    seen.push(member.clone());
                    self.expand(member, seen, out);
                }
            } else if member.starts_with("AS")
                && member[2..].bytes().all(|b| b.is_ascii_digit())
                && !out.contains(member)
            {
                out.push(member.clone());
            }
        }
    }

    fn answer(&self, query: &str) -> String {
        let data = |items: Vec<String>| {
            if items.is_empty() {
                return "D\n".to_string();
            }
            let text = items.join(" ");
            format!("A{}\n{text}\nC\n", text.len() + 1)
        };
        let routes = |family: &str, asns: &[String]| {
            let tables: Vec<&BTreeMap<String, Vec<String>>> = match family {
                "4" => vec![&self.v4],
                "6" => vec![&self.v6],
                _ => vec![&self.v4, &self.v6],
            };
            asns.iter()
                .flat_map(|asn| tables.iter().flat_map(move |t| t.get(asn).cloned().unwrap_or_default()))
                .collect()
        };
        if query.starts_with("!n") || query.starts_with("!s") {
            "C\n".into()
        } else if query == "!a" {
            if self.no_a {
                "F Unrecognised command: a\n".into()
            } else {
                "F Missing required set name for A query\n".into()
            }
        } else if let Some(rest) = query.strip_prefix("!a").filter(|_| !self.no_a) {
            let (family, name) = if rest.starts_with(['4', '6']) { rest.split_at(1) } else { ("", rest) };
            let name = name.to_uppercase();
            if !self.sets.contains_key(&name) {
                return "D\n".into();
            }
            let mut asns = Vec::new();
            self.expand(&name, &mut vec![name.clone()], &mut asns);
            data(routes(family, &asns))
        } else if let Some(rest) = query.strip_prefix("!i") {
            let (name, recursive) = match rest.strip_suffix(",1") {
                Some(name) => (name.to_uppercase(), true),
                None => (rest.to_uppercase(), false),
            };
            match (self.sets.get(&name), recursive) {
                (None, _) => "D\n".into(),
                (Some(members), false) => data(members.clone()),
                (Some(_), true) => {
                    let mut asns = Vec::new();
                    self.expand(&name, &mut vec![name.clone()], &mut asns);
                    data(asns)
                }
            }
        } else if let Some(asn) = query.strip_prefix("!g") {
            data(routes("4", &[asn.to_uppercase()]))
        } else if let Some(asn) = query.strip_prefix("!6") {
            data(routes("6", &[asn.to_uppercase()]))
        } else {
            format!("F Unrecognised command: {}\n", query.get(1..2).unwrap_or(""))
        }
    }

    /// Serves on a random loopback port; returns the address and a counter
    /// of accepted connections.
    pub async fn serve(self) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let fake = Arc::new(self);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let fake = fake.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let mut persistent = false;
                    while let Ok(Some(line)) = lines.next_line().await {
                        let query = line.trim();
                        if query == "!q" || fake.cut_on.as_deref() == Some(query) {
                            return;
                        }
                        if query == "!!" {
                            persistent = true;
                            continue;
                        }
                        if let Some(delay) = fake.delay.filter(|_| !query.starts_with("!n") && query != "!a") {
                            tokio::time::sleep(delay).await;
                        }
                        if write.write_all(fake.answer(query).as_bytes()).await.is_err() || !persistent {
                            return;
                        }
                    }
                });
            }
        });
        (addr, connections)
    }
}
