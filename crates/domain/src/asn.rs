//! Autonomous system numbers.

/// Largest 32-bit ASN.
pub const ASN_MAX: i64 = 4_294_967_295;

/// Whether `asn` is acceptable for an `ASNField` (zero is reserved).
pub fn is_valid(asn: i64) -> bool {
    (1..=ASN_MAX).contains(&asn)
}

/// Reserved, documentation and private-use ASNs (RFC 1930, 5398, 6793, 6996,
/// 7300). Such ASes are never looked up in PeeringDB.
pub fn is_private(asn: i64) -> bool {
    matches!(asn, 0 | 23456 | 65535 | ASN_MAX)
        || (64496..=64511).contains(&asn)
        || (64512..=65534).contains(&asn)
        || (65536..=65551).contains(&asn)
        || (65552..=131_071).contains(&asn)
        || (4_200_000_000..=4_294_967_294).contains(&asn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_bounds() {
        assert!(!is_valid(0));
        assert!(is_valid(1));
        assert!(is_valid(ASN_MAX));
        assert!(!is_valid(ASN_MAX + 1));
        assert!(!is_valid(-1));
    }

    #[test]
    fn private_ranges() {
        for asn in [
            0,
            23456,
            64496,
            64511,
            64512,
            65000,
            65534,
            65535,
            65536,
            65551,
            65552,
            131_071,
            4_200_000_000,
            4_294_967_294,
            ASN_MAX,
        ] {
            assert!(is_private(asn), "{asn} should be private");
        }
    }

    #[test]
    fn public_asns() {
        for asn in [1, 13335, 15169, 23455, 23457, 64495, 131_072, 196_610, 4_199_999_999] {
            assert!(!is_private(asn), "{asn} should be public");
        }
    }
}
