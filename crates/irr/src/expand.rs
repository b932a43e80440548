//! What Peering Manager asks bgpq4 for, answered over a [`WhoisClient`]:
//! the prefix list of an AS-SET or ASN for one family, and the AS list of
//! a set. Results equal bgpq4 1.9's against the same server
//! (real-parts.md §3.3–3.4):
//!
//! * a set is expanded by the server (`!a4SET` / `!a6SET`, or `!iSET,1`
//!   then `!g`/`!6` per origin where `!a` is missing); loops and missing
//!   members inside a set are dropped by the server, as bgpq4 sees them;
//! * a single ASN is `!gAS…`/`!6AS…`; without `-p`, a private or reserved
//!   ASN gives an empty list, and private ASNs are left out of AS lists;
//! * a set the server does not know is [`IrrError::NotFound`] (bgpq4 prints
//!   an empty list then; callers that want PM's behaviour map it to `[]`).

use ipnet::IpNet;

use crate::{BgpqArgs, Family, IrrError, PrefixEntry, WhoisClient, aggregate};

/// What to expand: a set (or `AS<n>`) and the IRR sources to search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// `AS-FOO`, `AS65535:AS-FOO` or `AS65001`.
    pub name: &'a str,
    /// Comma-separated sources in priority order (`RIPE,RADB`); empty =
    /// the server's defaults.
    pub sources: &'a str,
}

/// bgpq4 (without `-p`) treats these origins as private or reserved: the
/// documentation and private 16-bit range, 65535, the reserved block
/// above 65535 and the 32-bit private range. AS_TRANS (23456) is kept.
pub fn is_private_asn(asn: u32) -> bool {
    (64496..=131071).contains(&asn) || asn >= 4_200_000_000
}

/// `AS65001` / `as65001` → 65001.
pub fn parse_asn(name: &str) -> Option<u32> {
    let digits = name.get(..2).filter(|p| p.eq_ignore_ascii_case("AS")).map(|_| &name[2..])?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The prefix list of `target` for `family`, shaped by `args`, refused
/// when the expansion has more than `max_entries` prefixes.
pub async fn prefix_list(
    client: &mut WhoisClient,
    target: &Target<'_>,
    family: Family,
    args: &BgpqArgs,
    max_entries: usize,
) -> Result<Vec<PrefixEntry>, IrrError> {
    let prefixes = raw_prefixes(client, target, family, args, max_entries).await?;
    Ok(aggregate::shape(family, prefixes, &args.shaping))
}

/// The unshaped prefixes of `target` (as registered, duplicates included).
pub async fn raw_prefixes(
    client: &mut WhoisClient,
    target: &Target<'_>,
    family: Family,
    args: &BgpqArgs,
    max_entries: usize,
) -> Result<Vec<IpNet>, IrrError> {
    let origin_query = |asn: u32| match family {
        Family::V4 => format!("!gAS{asn}"),
        Family::V6 => format!("!6AS{asn}"),
    };
    let mut prefixes = Vec::new();
    let mut collect = |answer: crate::Answer| -> Result<(), IrrError> {
        for word in answer.words() {
            // A malformed word is skipped, as bgpq4 skips it (with a warning).
            if let Ok(net) = word.parse::<IpNet>() {
                if prefixes.len() >= max_entries {
                    return Err(IrrError::TooManyEntries { limit: max_entries });
                }
                prefixes.push(net);
            }
        }
        Ok(())
    };
    if let Some(asn) = parse_asn(target.name) {
        if is_private_asn(asn) && !args.allow_private {
            return Ok(Vec::new());
        }
        // An origin without routes answers D: an empty list, not an error.
        let answer = with_sources(client, target, origin_query(asn)).await?;
        collect(answer)?;
    } else if client.supports_a() {
        let query = format!("!a{}{}", family.number(), target.name);
        match with_sources(client, target, query).await? {
            crate::Answer::NotFound => return Err(IrrError::NotFound { name: target.name.to_owned() }),
            answer => collect(answer)?,
        }
    } else {
        let origins = members(client, target).await?;
        let queries: Vec<String> = origins.iter().map(|&asn| origin_query(asn)).collect();
        for answer in client.pipeline(&queries).await? {
            collect(answer?)?;
        }
    }
    Ok(prefixes)
}

/// bgpq4's `-l as_list` of `target`: the origin ASNs of the set (or the
/// ASN itself), sorted, without private ones unless `-p`.
pub async fn as_list(client: &mut WhoisClient, target: &Target<'_>, args: &BgpqArgs) -> Result<Vec<u32>, IrrError> {
    let mut asns = match parse_asn(target.name) {
        Some(asn) => vec![asn],
        None => members(client, target).await?,
    };
    if !args.allow_private {
        asns.retain(|&asn| !is_private_asn(asn));
    }
    asns.sort_unstable();
    asns.dedup();
    Ok(asns)
}

/// The recursive member ASNs of a set (`!iSET,1`), sorted and unique.
async fn members(client: &mut WhoisClient, target: &Target<'_>) -> Result<Vec<u32>, IrrError> {
    let answer = with_sources(client, target, format!("!i{},1", target.name)).await?;
    if answer == crate::Answer::NotFound {
        return Err(IrrError::NotFound { name: target.name.to_owned() });
    }
    let mut asns: Vec<u32> = answer.words().filter_map(parse_asn).collect();
    asns.sort_unstable();
    asns.dedup();
    Ok(asns)
}

/// Sends `!s<sources>` (when given) and `query` in one write; the answer
/// of `query`. Sources stay selected on the connection, so every query
/// names its own.
async fn with_sources(client: &mut WhoisClient, target: &Target<'_>, query: String) -> Result<crate::Answer, IrrError> {
    let mut queries = Vec::with_capacity(2);
    if !target.sources.is_empty() {
        queries.push(format!("!s{}", target.sources));
    }
    queries.push(query);
    let mut answers = client.pipeline(&queries).await?.into_iter();
    let answer = answers.next_back().expect("one answer per query");
    if let Some(sources) = answers.next() {
        sources?;
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn_names() {
        assert_eq!(parse_asn("AS65001"), Some(65001));
        assert_eq!(parse_asn("as3333"), Some(3333));
        assert_eq!(parse_asn("AS-TEST"), None);
        assert_eq!(parse_asn("AS65535:AS-FOO"), None);
        assert_eq!(parse_asn("AS"), None);
        assert_eq!(parse_asn("AS99999999999"), None);
    }

    #[test]
    fn private_asns() {
        assert!(!is_private_asn(3333));
        assert!(!is_private_asn(23456));
        assert!(is_private_asn(64496));
        assert!(is_private_asn(65001));
        assert!(is_private_asn(65536));
        assert!(!is_private_asn(131072));
        assert!(is_private_asn(4_200_000_000));
    }
}
