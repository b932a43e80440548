//! BGP community value classification (standard, extended, large).

use std::net::Ipv4Addr;

pub const INVALID_COMMUNITY: &str = "BGP community does not match the standard, extended or large notation";

const MAX_16: u64 = 65_535;
const MAX_32: u64 = 4_294_967_295;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommunityKind {
    Standard,
    Extended,
    Large,
}

impl CommunityKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Extended => "extended",
            Self::Large => "large",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Standard => "Community",
            Self::Extended => "Extended Community",
            Self::Large => "Large Community",
        }
    }
}

/// Classifies a community value; `None` means it fits no notation. Kinds are
/// tried in the order standard, extended, large and the first match wins.
pub fn kind_of(value: &str) -> Option<CommunityKind> {
    let parts: Vec<&str> = value.split(':').collect();
    if is_standard(&parts) {
        Some(CommunityKind::Standard)
    } else if is_extended(&parts) {
        Some(CommunityKind::Extended)
    } else if is_large(&parts) {
        Some(CommunityKind::Large)
    } else {
        None
    }
}

/// A run of ASCII digits as a number; digit strings too long for `u64` become
/// `u64::MAX` so range checks still reject (or classify) them correctly.
fn number(part: &str) -> Option<u64> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(part.parse().unwrap_or(u64::MAX))
}

fn is_standard(parts: &[&str]) -> bool {
    match parts {
        [asn, value] => matches!(
            (number(asn), number(value)),
            (Some(asn), Some(value)) if (1..=MAX_16).contains(&asn) && value <= MAX_16
        ),
        _ => false,
    }
}

fn is_extended(parts: &[&str]) -> bool {
    let [kind, admin, assigned] = parts else {
        return false;
    };
    if !matches!(*kind, "origin" | "target") {
        return false;
    }
    // An IPv4 administrator counts by its integer value, so it always takes
    // the 16-bit assigned-number branch (any address above 0.0.255.255).
    let admin = match number(admin) {
        Some(n) => n,
        None => match admin.parse::<Ipv4Addr>() {
            Ok(ip) => u64::from(u32::from(ip)),
            Err(_) => return false,
        },
    };
    let max = if admin > MAX_16 { MAX_16 } else { MAX_32 };
    number(assigned).is_some_and(|n| (1..=max).contains(&n))
}

fn is_large(parts: &[&str]) -> bool {
    let [global, local1, local2] = parts else {
        return false;
    };
    match (number(global), number(local1), number(local2)) {
        (Some(g), Some(l1), Some(l2)) => (1..=MAX_32).contains(&g) && l1 <= MAX_32 && l2 <= MAX_32,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::CommunityKind::*;
    use super::*;

    #[test]
    fn standard_communities() {
        assert_eq!(kind_of("65000:100"), Some(Standard));
        assert_eq!(kind_of("1:0"), Some(Standard));
        assert_eq!(kind_of("65535:65535"), Some(Standard));
        assert_eq!(kind_of("0:100"), None);
        assert_eq!(kind_of("65536:1"), None);
        assert_eq!(kind_of("1:65536"), None);
        assert_eq!(kind_of("-1:5"), None);
        assert_eq!(kind_of("+1:5"), None);
        assert_eq!(kind_of(" 1:5"), None);
    }

    #[test]
    fn extended_communities() {
        assert_eq!(kind_of("target:65000:100"), Some(Extended));
        assert_eq!(kind_of("origin:65000:4294967295"), Some(Extended));
        assert_eq!(kind_of("target:65000:4294967296"), None);
        assert_eq!(kind_of("target:65000:0"), None);
        // 4-byte administrator leaves 16 bits for the assigned number.
        assert_eq!(kind_of("target:4200000000:65535"), Some(Extended));
        assert_eq!(kind_of("target:4200000000:65536"), None);
        assert_eq!(kind_of("target:65536:65535"), Some(Extended));
        assert_eq!(kind_of("target:65536:65536"), None);
        assert_eq!(kind_of("target:192.0.2.1:100"), Some(Extended));
        assert_eq!(kind_of("target:192.0.2.1:70000"), None);
        // 0.0.255.255 == 65535 still allows a 32-bit assigned number.
        assert_eq!(kind_of("target:0.0.255.255:70000"), Some(Extended));
        assert_eq!(kind_of("target:192.0.2.256:1"), None);
        assert_eq!(kind_of("Target:65000:100"), None);
        assert_eq!(kind_of("route:65000:100"), None);
        assert_eq!(kind_of("target:65000"), None);
    }

    #[test]
    fn large_communities() {
        assert_eq!(kind_of("4200000000:0:0"), Some(Large));
        assert_eq!(kind_of("1:4294967295:4294967295"), Some(Large));
        assert_eq!(kind_of("65000:1:2"), Some(Large));
        assert_eq!(kind_of("0:1:2"), None);
        assert_eq!(kind_of("4294967296:1:2"), None);
        assert_eq!(kind_of("1:4294967296:2"), None);
        assert_eq!(kind_of("1:2:4294967296"), None);
        assert_eq!(kind_of("1:2:3:4"), None);
        assert_eq!(kind_of("1:2:99999999999999999999999"), None);
    }

    #[test]
    fn garbage() {
        for value in ["", "65000", ":", "a:b", "65000:", ":100", "no-export", "1::2"] {
            assert_eq!(kind_of(value), None, "{value:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(Standard.as_str(), "standard");
        assert_eq!(Extended.as_str(), "extended");
        assert_eq!(Large.as_str(), "large");
        assert_eq!(Large.label(), "Large Community");
    }
}
