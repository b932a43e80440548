//! Splitting of an AS's free-text `irr_as_set` into IRR queries.

/// Returns the `(source, name)` pairs to resolve with bgpq3/bgpq4.
///
/// Several sets may be separated by `/`, `,`, `&` or whitespace. A piece
/// may carry an IRR source as `SOURCE::NAME` or `SOURCE:NAME`, but only when
/// SOURCE is one of `known_sources` (so `AS65535:AS-FOO` stays a set name);
/// an `ipv4:`/`ipv6:` prefix of the name is dropped. With no usable value,
/// the AS itself (`AS{asn}`) is queried.
/// IRR sources queried when neither the AS nor the settings name others
/// (Peering Manager's `BGPQ3_SOURCES` default).
pub const DEFAULT_SOURCES: &[&str] =
    &["RPKI", "RIPE", "ARIN", "APNIC", "AFRINIC", "LACNIC", "RIPE-NONAUTH", "RADB", "ALTDB", "NTTCOM", "LEVEL3", "TC"];

pub fn parse_irr_as_set(asn: i64, irr_as_set: Option<&str>, known_sources: &[&str]) -> Vec<(String, String)> {
    let value = irr_as_set.unwrap_or("");
    if value.trim().is_empty() {
        return vec![(String::new(), format!("AS{asn}"))];
    }
    value
        .split(|c: char| matches!(c, '/' | ',' | '&') || c.is_whitespace())
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (source, name) = split_source(piece, known_sources).unwrap_or(("", piece));
            let name = name.strip_prefix("ipv4:").or_else(|| name.strip_prefix("ipv6:")).unwrap_or(name).trim();
            (source.to_owned(), name.to_owned())
        })
        .collect()
}

/// Matches `SOURCE:+NAME` for the first known source that fits. As with a
/// greedy regex, colons are consumed but at least one character must remain
/// for the name.
fn split_source<'a>(piece: &'a str, known_sources: &[&'a str]) -> Option<(&'a str, &'a str)> {
    known_sources.iter().find_map(|&source| {
        let rest = piece.strip_prefix(source)?.strip_prefix(':')?;
        let name = rest.trim_start_matches(':');
        match (name.is_empty(), rest.is_empty()) {
            (false, _) => Some((source, name)),
            (true, false) => Some((source, &rest[rest.len() - 1..])),
            (true, true) => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: &[&str] = DEFAULT_SOURCES;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(s, n)| (s.to_string(), n.to_string())).collect()
    }

    #[test]
    fn empty_means_the_asn() {
        assert_eq!(parse_irr_as_set(65535, None, SOURCES), pairs(&[("", "AS65535")]));
        assert_eq!(parse_irr_as_set(65535, Some(""), SOURCES), pairs(&[("", "AS65535")]));
        assert_eq!(parse_irr_as_set(65535, Some(" \t "), SOURCES), pairs(&[("", "AS65535")]));
    }

    #[test]
    fn sources() {
        assert_eq!(parse_irr_as_set(1, Some("RIPE::AS65535:AS-FOO"), SOURCES), pairs(&[("RIPE", "AS65535:AS-FOO")]));
        assert_eq!(parse_irr_as_set(1, Some("RADB:AS-X"), SOURCES), pairs(&[("RADB", "AS-X")]));
        assert_eq!(parse_irr_as_set(1, Some("RIPE-NONAUTH::AS-X"), SOURCES), pairs(&[("RIPE-NONAUTH", "AS-X")]));
        assert_eq!(parse_irr_as_set(1, Some("AS65535:AS-FOO"), SOURCES), pairs(&[("", "AS65535:AS-FOO")]));
        // Source names are case-sensitive.
        assert_eq!(parse_irr_as_set(1, Some("ripe::AS-X"), SOURCES), pairs(&[("", "ripe::AS-X")]));
        assert_eq!(parse_irr_as_set(1, Some("FOO::AS-X"), &[]), pairs(&[("", "FOO::AS-X")]));
    }

    #[test]
    fn several_sets() {
        assert_eq!(parse_irr_as_set(1, Some("AS-BAR AS-BARv6"), SOURCES), pairs(&[("", "AS-BAR"), ("", "AS-BARv6")]));
        assert_eq!(
            parse_irr_as_set(1, Some("RIPE::AS-A, ARIN::AS-B/AS-C & AS-D\nAS-E"), SOURCES),
            pairs(&[("RIPE", "AS-A"), ("ARIN", "AS-B"), ("", "AS-C"), ("", "AS-D"), ("", "AS-E")])
        );
    }

    #[test]
    fn address_family_prefix() {
        assert_eq!(parse_irr_as_set(1, Some("ipv6:AS-FOO"), SOURCES), pairs(&[("", "AS-FOO")]));
        assert_eq!(parse_irr_as_set(1, Some("RIPE::ipv4:AS-FOO"), SOURCES), pairs(&[("RIPE", "AS-FOO")]));
    }

    #[test]
    fn degenerate_colons() {
        assert_eq!(parse_irr_as_set(1, Some("RIPE:::"), SOURCES), pairs(&[("RIPE", ":")]));
        assert_eq!(parse_irr_as_set(1, Some("RIPE:"), SOURCES), pairs(&[("", "RIPE:")]));
    }
}
