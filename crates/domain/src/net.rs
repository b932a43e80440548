//! IP address, prefix and MAC address parsing with the renderings Peering
//! Manager exposes (Postgres `inet`/`cidr`/`macaddr` semantics).

use std::net::IpAddr;

use ipnet::IpNet;

pub const INVALID_IP: &str = "Enter a valid IPv4 or IPv6 address.";
pub const INVALID_CIDR: &str = "Enter a valid CIDR address.";
pub const INVALID_MAC: &str = "Enter a valid MAC address.";

/// Parses `addr` or `addr/len` into an interface; a missing length means a
/// host route (/32 or /128), as Postgres `inet` does.
fn parse_interface(input: &str) -> Option<IpNet> {
    let input = input.trim();
    let (addr, len) = match input.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (input, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        // Only plain decimal lengths: rejects "+24", " 24" and netmask forms.
        Some(len) if !len.is_empty() && len.len() <= 3 && len.bytes().all(|b| b.is_ascii_digit()) => {
            len.parse::<u8>().ok()?
        }
        Some(_) => return None,
        None => max,
    };
    IpNet::new(addr, len).ok()
}

/// Normalises an inet value that keeps its prefix length: `192.0.2.1/24`,
/// `2001:db8::1/64`; a bare address gets /32 or /128.
pub fn parse_inet_with_prefix(input: &str) -> Result<String, String> {
    parse_interface(input).map(|net| net.to_string()).ok_or_else(|| INVALID_IP.to_owned())
}

/// Normalises an inet value stored without prefix length: any `/len` given
/// is validated and then dropped.
pub fn parse_inet_host(input: &str) -> Result<String, String> {
    parse_interface(input).map(|net| net.addr().to_string()).ok_or_else(|| INVALID_IP.to_owned())
}

/// The address part of `addr/len` (the input itself when it has no length).
pub fn host_part(s: &str) -> &str {
    s.split_once('/').map_or(s, |(host, _)| host)
}

/// 4 or 6 for an address with or without prefix length, `None` if invalid.
pub fn ip_version(s: &str) -> Option<u8> {
    match host_part(s.trim()).parse::<IpAddr>().ok()? {
        IpAddr::V4(_) => Some(4),
        IpAddr::V6(_) => Some(6),
    }
}

/// Normalises a `cidr` value (`192.0.2.0/24`). Unlike inet, host bits set
/// to the right of the mask are an error rather than silently kept.
pub fn parse_cidr(input: &str) -> Result<String, String> {
    let net = parse_interface(input).ok_or_else(|| INVALID_CIDR.to_owned())?;
    if net.addr() != net.network() {
        return Err(format!("{} has host bits set.", input.trim()));
    }
    Ok(net.to_string())
}

/// Parses the EUI-48 notations netaddr understands (`aa:bb:cc:dd:ee:ff`,
/// dashes, `aabb.ccdd.eeff`, `aabbcc-ddeeff`, bare hex; any case) and
/// renders the lower-case colon form.
pub fn parse_mac(input: &str) -> Result<String, String> {
    let input = input.trim();
    let groups: Vec<&str> = input.split([':', '-', '.']).collect();
    // Each notation fixes how many groups there are and how wide they are;
    // single-digit groups are only meaningful in the six-group form.
    let (min, max) = match groups.len() {
        1 => (12, 12),
        2 => (6, 6),
        3 => (4, 4),
        6 => (1, 2),
        _ => return Err(INVALID_MAC.to_owned()),
    };
    let separators: Vec<char> = input.chars().filter(|c| matches!(c, ':' | '-' | '.')).collect();
    if separators.windows(2).any(|w| w[0] != w[1]) {
        return Err(INVALID_MAC.to_owned());
    }
    let mut hex = String::with_capacity(12);
    for group in &groups {
        if group.len() < min || group.len() > max || !group.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(INVALID_MAC.to_owned());
        }
        // Left-pad short groups of the six-group form ("0:1b:..." → "00:1b").
        for _ in group.len()..max {
            hex.push('0');
        }
        hex.push_str(&group.to_ascii_lowercase());
    }
    let octets: Vec<&str> = (0..6).map(|i| &hex[i * 2..i * 2 + 2]).collect();
    Ok(octets.join(":"))
}

/// The IPv4 network or broadcast address of a subnet larger than /31 cannot
/// be a BGP neighbour; IPv6 has no broadcast so it is never checked.
fn network_or_broadcast(value: &str, net: &IpNet) -> Option<String> {
    let IpNet::V4(v4) = net else {
        return None;
    };
    if v4.prefix_len() >= 31 {
        return None;
    }
    let kind = if v4.addr() == v4.network() {
        "network"
    } else if v4.addr() == v4.broadcast() {
        "broadcast"
    } else {
        return None;
    };
    Some(format!("IP address {value} is a {kind} address, please use a host address."))
}

/// DirectPeeringSession address rules. `ip` and `local_ip` are normalised
/// `addr/len` strings; returns `(field, message)` pairs, empty when valid.
/// Unparsable inputs are skipped: field parsing reports those.
pub fn check_direct_session_addresses(
    ip: &str,
    local_ip: Option<&str>,
    multihop_ttl: i64,
) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let remote = parse_interface(ip);
    if let Some(message) = remote.as_ref().and_then(|net| network_or_broadcast(ip, net)) {
        errors.push(("ip_address", message));
    }

    let Some(local_ip) = local_ip.filter(|s| !s.trim().is_empty()) else {
        return errors;
    };
    let Some(local) = parse_interface(local_ip) else {
        return errors;
    };
    if remote.is_some_and(|remote| local.addr() == remote.addr()) {
        errors.push((
            "local_ip_address",
            format!("Local IP address {local_ip} cannot be the same as remote IP address {ip}."),
        ));
    }
    if let Some(message) = network_or_broadcast(local_ip, &local) {
        errors.push(("local_ip_address", message));
    }
    // Directly connected neighbours must share the exact same subnet
    // (network address and length); an unparsable remote cannot match.
    if multihop_ttl == 1 && remote.is_none_or(|remote| remote.trunc() != local.trunc()) {
        errors.push(("local_ip_address", format!("{local_ip} and {ip} don't belong to the same subnet.")));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_with_prefix() {
        assert_eq!(parse_inet_with_prefix("192.0.2.1").unwrap(), "192.0.2.1/32");
        assert_eq!(parse_inet_with_prefix("192.0.2.1/24").unwrap(), "192.0.2.1/24");
        assert_eq!(parse_inet_with_prefix(" 192.0.2.1/0 ").unwrap(), "192.0.2.1/0");
        assert_eq!(parse_inet_with_prefix("2001:DB8:0:0::1").unwrap(), "2001:db8::1/128");
        assert_eq!(parse_inet_with_prefix("2001:0db8:0000:0000:0000:0000:0000:0001/64").unwrap(), "2001:db8::1/64");
        assert_eq!(parse_inet_with_prefix("::ffff:192.0.2.1").unwrap(), "::ffff:192.0.2.1/128");
        for bad in [
            "",
            "192.0.2.1/33",
            "2001:db8::1/129",
            "192.0.2",
            "192.0.2.256",
            "192.0.2.1/",
            "192.0.2.1/+4",
            "192.0.2.1/255.255.255.0",
            "192.0.2.1/24/1",
            "example.com",
            "fe80::1%eth0",
        ] {
            assert_eq!(parse_inet_with_prefix(bad), Err(INVALID_IP.to_owned()), "{bad:?}");
        }
    }

    #[test]
    fn inet_host() {
        assert_eq!(parse_inet_host("192.0.2.1/24").unwrap(), "192.0.2.1");
        assert_eq!(parse_inet_host("192.0.2.1").unwrap(), "192.0.2.1");
        assert_eq!(parse_inet_host("2001:db8::a/64").unwrap(), "2001:db8::a");
        assert!(parse_inet_host("192.0.2.1/40").is_err());
    }

    #[test]
    fn host_and_version() {
        assert_eq!(host_part("192.0.2.1/24"), "192.0.2.1");
        assert_eq!(host_part("2001:db8::1"), "2001:db8::1");
        assert_eq!(ip_version("192.0.2.1/24"), Some(4));
        assert_eq!(ip_version("2001:db8::1"), Some(6));
        assert_eq!(ip_version("2001:db8::1/64"), Some(6));
        assert_eq!(ip_version("nope"), None);
    }

    #[test]
    fn cidr() {
        assert_eq!(parse_cidr("192.0.2.0/24").unwrap(), "192.0.2.0/24");
        assert_eq!(parse_cidr("192.0.2.1").unwrap(), "192.0.2.1/32");
        assert_eq!(parse_cidr("2001:DB8::/32").unwrap(), "2001:db8::/32");
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap(), "0.0.0.0/0");
        assert_eq!(parse_cidr("192.0.2.1/24"), Err("192.0.2.1/24 has host bits set.".to_owned()));
        assert!(parse_cidr("2001:db8::1/64").is_err());
        assert_eq!(parse_cidr("bogus"), Err(INVALID_CIDR.to_owned()));
    }

    #[test]
    fn mac_forms() {
        let expected = "00:1b:77:49:54:fd";
        for input in [
            "00:1b:77:49:54:fd",
            "00:1B:77:49:54:FD",
            "00-1b-77-49-54-fd",
            "001b.7749.54fd",
            "001b774954fd",
            "001B774954FD",
            "001b77-4954fd",
            "001b77:4954fd",
            "0:1b:77:49:54:fd",
            " 00:1b:77:49:54:fd ",
        ] {
            assert_eq!(parse_mac(input).as_deref(), Ok(expected), "{input:?}");
        }
        for bad in [
            "",
            "00:1b:77:49:54",
            "00:1b:77:49:54:fd:00",
            "00:1b:77:49:54:fg",
            "00:1b-77:49:54:fd",
            "001b.7749.54f",
            "001b774954f",
            "001:b77:49:54:fd:0",
            "00::77:49:54:fd",
        ] {
            assert_eq!(parse_mac(bad), Err(INVALID_MAC.to_owned()), "{bad:?}");
        }
    }

    #[test]
    fn direct_session_valid() {
        assert!(check_direct_session_addresses("192.0.2.1/24", Some("192.0.2.2/24"), 1).is_empty());
        assert!(check_direct_session_addresses("192.0.2.0/31", Some("192.0.2.1/31"), 1).is_empty());
        assert!(check_direct_session_addresses("192.0.2.1/32", None, 1).is_empty());
        assert!(check_direct_session_addresses("2001:db8::/64", Some("2001:db8::1/64"), 1).is_empty());
        // Multihop sessions may use unrelated addresses.
        assert!(check_direct_session_addresses("192.0.2.1/32", Some("198.51.100.1/32"), 2).is_empty());
    }

    #[test]
    fn direct_session_network_and_broadcast() {
        assert_eq!(
            check_direct_session_addresses("192.0.2.0/24", None, 1),
            vec![("ip_address", "IP address 192.0.2.0/24 is a network address, please use a host address.".to_owned())]
        );
        assert_eq!(
            check_direct_session_addresses("192.0.2.3/30", None, 1),
            vec![(
                "ip_address",
                "IP address 192.0.2.3/30 is a broadcast address, please use a host address.".to_owned()
            )]
        );
        assert_eq!(
            check_direct_session_addresses("192.0.2.1/24", Some("192.0.2.255/24"), 1),
            vec![(
                "local_ip_address",
                "IP address 192.0.2.255/24 is a broadcast address, please use a host address.".to_owned()
            )]
        );
    }

    #[test]
    fn direct_session_same_address_and_subnet() {
        assert_eq!(
            check_direct_session_addresses("2001:db8:1::1/64", Some("2001:db8:1::1/64"), 1),
            vec![(
                "local_ip_address",
                "Local IP address 2001:db8:1::1/64 cannot be the same as remote IP address 2001:db8:1::1/64."
                    .to_owned()
            )]
        );
        assert_eq!(
            check_direct_session_addresses("2001:db8:0:1::1:1/64", Some("2001:db8:1::1/64"), 1),
            vec![(
                "local_ip_address",
                "2001:db8:1::1/64 and 2001:db8:0:1::1:1/64 don't belong to the same subnet.".to_owned()
            )]
        );
        // Same network address but different lengths are different subnets.
        assert_eq!(check_direct_session_addresses("192.0.2.1/24", Some("192.0.2.2/25"), 1).len(), 1);
        assert_eq!(check_direct_session_addresses("192.0.2.1/32", Some("2001:db8::1/128"), 1).len(), 1);
    }
}
