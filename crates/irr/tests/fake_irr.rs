//! The native IRR client against an in-process fake IRRd (whois framing of
//! real-parts.md §3.2) — results, and the failure cases a real server
//! rarely shows on demand: slow answers, cut connections, huge sets.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::Fake;

use pm_irr::expand::{Target, as_list, prefix_list};
use pm_irr::{BgpqArgs, Family, IrrError, Limits, WhoisClient};

fn limits() -> Limits {
    Limits { timeout: Duration::from_secs(20), ..Limits::default() }
}

fn show(entries: &[pm_irr::PrefixEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match (e.exact, e.greater_equal, e.less_equal) {
            (true, _, _) => e.prefix.to_string(),
            (false, Some(ge), Some(le)) => format!("{} ge {ge} le {le}", e.prefix),
            (false, _, Some(le)) => format!("{} le {le}", e.prefix),
            _ => unreachable!(),
        })
        .collect()
}

const TEST: Target<'static> = Target { name: "AS-TEST", sources: "TESTDB" };

async fn as_test_lists(fake: Fake) -> (Vec<String>, Vec<String>, usize) {
    let (addr, connections) = fake.serve().await;
    let mut client = WhoisClient::connect(&addr, "peering-manager", limits()).await.unwrap();
    let v4 = prefix_list(&mut client, &TEST, Family::V4, &BgpqArgs::pm_default(Family::V4), 1000).await.unwrap();
    let v6 = prefix_list(&mut client, &TEST, Family::V6, &BgpqArgs::pm_default(Family::V6), 1000).await.unwrap();
    client.close().await;
    (show(&v4), show(&v6), connections.load(Ordering::SeqCst))
}

#[tokio::test]
async fn set_prefix_lists_match_bgpq4_with_and_without_bang_a() {
    let expected_v4 =
        ["192.0.2.0/24", "198.18.0.0/24", "198.51.100.0/24 ge 25 le 25", "203.0.113.0/24", "203.0.113.0/25"];
    let expected_v6 = ["2001:db8:1::/48", "2001:db8:1:100::/56", "2001:db8:2::/47 ge 48 le 48"];
    let (v4, v6, connections) = as_test_lists(Fake::as_test()).await;
    assert_eq!((v4, v6, connections), (to_vec(&expected_v4), to_vec(&expected_v6), 1));
    // A server without `!a`: `!i…,1` then `!g`/`!6` per origin, same result.
    let (v4, v6, connections) = as_test_lists(Fake { no_a: true, ..Fake::as_test() }).await;
    assert_eq!((v4, v6, connections), (to_vec(&expected_v4), to_vec(&expected_v6), 1));
}

fn to_vec(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn single_asns_and_as_lists_follow_bgpq4_private_asn_rules() {
    let (addr, _) = Fake::as_test().serve().await;
    let mut client = WhoisClient::connect(&addr, "pm", limits()).await.unwrap();
    let none = BgpqArgs::default();
    let private = BgpqArgs { allow_private: true, ..BgpqArgs::default() };
    let as65001 = Target { name: "AS65001", sources: "" };
    // bgpq4 without -p: a private origin has no prefixes, a set's AS list no private ASNs.
    assert!(prefix_list(&mut client, &as65001, Family::V4, &none, 100).await.unwrap().is_empty());
    assert_eq!(prefix_list(&mut client, &as65001, Family::V4, &private, 100).await.unwrap().len(), 3);
    let as3333 = Target { name: "AS3333", sources: "" };
    assert_eq!(show(&prefix_list(&mut client, &as3333, Family::V4, &none, 100).await.unwrap()), ["193.0.0.0/21"]);
    assert!(prefix_list(&mut client, &as3333, Family::V6, &none, 100).await.unwrap().is_empty());
    assert_eq!(as_list(&mut client, &TEST, &none).await.unwrap(), Vec::<u32>::new());
    assert_eq!(as_list(&mut client, &TEST, &private).await.unwrap(), [65001, 65002, 65003]);
    assert_eq!(as_list(&mut client, &as3333, &none).await.unwrap(), [3333]);
}

#[tokio::test]
async fn a_missing_set_is_a_clear_error() {
    let (addr, _) = Fake::as_test().serve().await;
    let mut client = WhoisClient::connect(&addr, "pm", limits()).await.unwrap();
    let missing = Target { name: "AS-MISSING", sources: "TESTDB" };
    let args = BgpqArgs::pm_default(Family::V4);
    let err = prefix_list(&mut client, &missing, Family::V4, &args, 100).await.unwrap_err();
    assert_eq!(err, IrrError::NotFound { name: "AS-MISSING".into() });
    assert_eq!(err.to_string(), "IRR object AS-MISSING not found");
    assert!(matches!(as_list(&mut client, &missing, &args).await, Err(IrrError::NotFound { .. })));
    // The connection is still usable afterwards.
    assert_eq!(prefix_list(&mut client, &TEST, Family::V6, &args, 100).await.unwrap().len(), 3);
    // A server error answers that query only.
    let answers = client.pipeline(&["!xyz".to_string(), "!gAS65003".to_string()]).await.unwrap();
    assert!(matches!(&answers[0], Err(IrrError::Server { message, .. }) if message == "Unrecognised command: x"));
    assert_eq!(answers[1], Ok(pm_irr::Answer::Data("198.18.0.0/24\n".into())));
}

#[tokio::test]
async fn slow_and_cut_servers_fail_with_clear_errors() {
    let (addr, _) = Fake { delay: Some(Duration::from_secs(30)), ..Fake::as_test() }.serve().await;
    let quick = Limits { timeout: Duration::from_millis(300), ..Limits::default() };
    let mut client = WhoisClient::connect(&addr, "pm", quick).await.unwrap();
    let err = prefix_list(&mut client, &TEST, Family::V4, &BgpqArgs::default(), 100).await.unwrap_err();
    assert!(matches!(err, IrrError::Timeout { .. }), "{err}");

    let (addr, _) = Fake { cut_on: Some("!a4AS-TEST".into()), ..Fake::as_test() }.serve().await;
    let mut client = WhoisClient::connect(&addr, "pm", limits()).await.unwrap();
    let err = prefix_list(&mut client, &TEST, Family::V4, &BgpqArgs::default(), 100).await.unwrap_err();
    assert!(matches!(err, IrrError::Io { .. }), "{err}");

    let err = WhoisClient::connect("127.0.0.1:1", "pm", limits()).await.err().unwrap();
    assert!(matches!(err, IrrError::Io { .. } | IrrError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn a_100000_prefix_set_expands_and_the_entry_limit_holds() {
    let mut fake = Fake::default();
    let mut members = Vec::new();
    for asn in 0..100u32 {
        let name = format!("AS{}", 200_000 + asn);
        // 1,000 /24s per origin, in disjoint /13s; odd ones only, so that
        // nothing aggregates and the list keeps 100,000 entries.
        let routes = (0..1000u32)
            .map(|i| {
                let third = i * 2 + 1;
                format!("{}.{}.{}.0/24", 10 + asn / 32, (asn % 32) * 8 + third / 256, third % 256)
            })
            .collect();
        fake.v4.insert(name.clone(), routes);
        members.push(name);
    }
    fake.sets.insert("AS-BIG".into(), members);
    let (addr, _) = fake.serve().await;
    let big = Target { name: "AS-BIG", sources: "" };
    let mut client = WhoisClient::connect(&addr, "pm", limits()).await.unwrap();
    let list = prefix_list(&mut client, &big, Family::V4, &BgpqArgs::pm_default(Family::V4), 200_000).await.unwrap();
    assert_eq!(list.len(), 100_000);
    let err = prefix_list(&mut client, &big, Family::V4, &BgpqArgs::default(), 85_325).await.unwrap_err();
    assert_eq!(err, IrrError::TooManyEntries { limit: 85_325 });

    // An answer above the byte limit is refused, and says which query.
    let small = Limits { max_answer: 1 << 20, ..limits() };
    let mut client = WhoisClient::connect(&addr, "pm", small).await.unwrap();
    let err = prefix_list(&mut client, &big, Family::V4, &BgpqArgs::default(), 200_000).await.unwrap_err();
    assert!(matches!(&err, IrrError::TooLarge { query, .. } if query == "!a4AS-BIG"), "{err}");
}
