//! Python `ipaddress` objects as templates see them: Peering Manager's
//! address fields hold `IPv4Address`/`IPv6Address` (bare) or
//! `IPv4Interface`/`IPv6Interface` (with a prefix length), and the
//! `ipv4`/`ipv6` filters return the same kinds.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use minijinja::value::{Object, ObjectRepr, Value};
use minijinja::{Error, State};

use crate::objects::{err, in_repr};

/// An address, or an interface (address + prefix length), or a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ip {
    Address(IpAddr),
    Interface(IpNet),
    Network(IpNet),
}

impl Ip {
    /// Parse what a field or filter holds: `a.b.c.d` or `a.b.c.d/len`.
    pub fn parse(s: &str) -> Option<Ip> {
        match s.split_once('/') {
            Some(_) => s.parse::<IpNet>().ok().map(Ip::Interface),
            None => s.parse::<IpAddr>().ok().map(Ip::Address),
        }
    }

    pub fn value(self) -> Value {
        Value::from_object(self)
    }

    fn addr(&self) -> IpAddr {
        match self {
            Ip::Address(a) => *a,
            Ip::Interface(n) => n.addr(),
            Ip::Network(n) => n.network(),
        }
    }

    fn version(&self) -> u8 {
        if self.addr().is_ipv4() { 4 } else { 6 }
    }

    fn class(&self) -> String {
        let kind = match self {
            Ip::Address(_) => "Address",
            Ip::Interface(_) => "Interface",
            Ip::Network(_) => "Network",
        };
        format!("IPv{}{kind}", self.version())
    }

    fn exploded_addr(a: IpAddr) -> String {
        match a {
            IpAddr::V4(v) => v.to_string(),
            IpAddr::V6(v) => v.segments().iter().map(|s| format!("{s:04x}")).collect::<Vec<_>>().join(":"),
        }
    }

    fn net(&self) -> Option<IpNet> {
        match self {
            Ip::Address(_) => None,
            Ip::Interface(n) | Ip::Network(n) => Some(n.trunc()),
        }
    }

    fn attr(&self, name: &str) -> Option<Value> {
        let a = self.addr();
        let prefix = match self {
            Ip::Address(a) => Some(if a.is_ipv4() { 32 } else { 128 }),
            Ip::Interface(n) | Ip::Network(n) => Some(n.prefix_len()),
        };
        let str_with = |suffix: String| Value::from(format!("{}/{suffix}", self.host_text()));
        Some(match name {
            "version" => Value::from(self.version()),
            "max_prefixlen" => Value::from(if a.is_ipv4() { 32 } else { 128 }),
            "ip" if matches!(self, Ip::Interface(_)) => Ip::Address(a).value(),
            "network" => Ip::Network(self.net().unwrap_or_else(|| IpNet::from(a))).value(),
            "prefixlen" => Value::from(prefix?),
            "netmask" => Ip::Address(self.net().unwrap_or_else(|| IpNet::from(a)).netmask()).value(),
            "hostmask" => Ip::Address(self.net().unwrap_or_else(|| IpNet::from(a)).hostmask()).value(),
            "network_address" => Ip::Address(self.net()?.network()).value(),
            "broadcast_address" => Ip::Address(self.net()?.broadcast()).value(),
            "num_addresses" => {
                let bits = if a.is_ipv4() { 32 } else { 128 } - u32::from(prefix?);
                if bits >= 128 { Value::from(u128::MAX) } else { Value::from(1u128 << bits) }
            }
            "with_prefixlen" => str_with(prefix?.to_string()),
            "with_netmask" => str_with(self.net().unwrap_or_else(|| IpNet::from(a)).netmask().to_string()),
            "with_hostmask" => str_with(self.net().unwrap_or_else(|| IpNet::from(a)).hostmask().to_string()),
            "compressed" => Value::from(self.to_string()),
            "exploded" => Value::from(match self {
                Ip::Address(_) => Self::exploded_addr(a),
                _ => format!("{}/{}", Self::exploded_addr(a), prefix?),
            }),
            "reverse_pointer" => Value::from(match a {
                IpAddr::V4(v) => {
                    let o = v.octets();
                    format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
                }
                IpAddr::V6(v) => {
                    let hex: String = v.octets().iter().map(|b| format!("{b:02x}")).collect();
                    let mut nibbles: Vec<String> = hex.chars().rev().map(String::from).collect();
                    nibbles.push("ip6.arpa".into());
                    nibbles.join(".")
                }
            }),
            "is_private" => Value::from(match a {
                IpAddr::V4(v) => v.is_private() || v.is_loopback() || v.is_link_local() || v.is_documentation(),
                IpAddr::V6(v) => v.is_loopback() || (v.segments()[0] & 0xfe00) == 0xfc00 || v.segments()[0] == 0x2001,
            }),
            "is_loopback" => Value::from(a.is_loopback()),
            "is_multicast" => Value::from(a.is_multicast()),
            "is_unspecified" => Value::from(a.is_unspecified()),
            "is_link_local" => Value::from(match a {
                IpAddr::V4(v) => v.is_link_local(),
                IpAddr::V6(v) => (v.segments()[0] & 0xffc0) == 0xfe80,
            }),
            "ipv4_mapped" => match a {
                IpAddr::V6(v) => {
                    v.to_ipv4_mapped().map(|m| Ip::Address(IpAddr::V4(m)).value()).unwrap_or(Value::from(()))
                }
                IpAddr::V4(_) => return None,
            },
            _ => return None,
        })
    }

    fn host_text(&self) -> String {
        match self {
            Ip::Network(n) => n.network().to_string(),
            _ => self.addr().to_string(),
        }
    }
}

/// `int(address)`: the address as a number (None for a network, which Python refuses).
pub fn as_int(v: &Value) -> Option<u128> {
    match v.downcast_object_ref::<Ip>()? {
        ip @ (Ip::Address(_) | Ip::Interface(_)) => Some(ip_int(ip.addr())),
        Ip::Network(_) => None,
    }
}

fn ip_int(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ip::Address(a) => write!(f, "{a}"),
            Ip::Interface(n) => write!(f, "{n}"),
            Ip::Network(n) => write!(f, "{}", n.trunc()),
        }
    }
}

impl Object for Ip {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        // `in` on a network tests membership (see `get_value`).
        if matches!(**self, Ip::Network(_)) { ObjectRepr::Map } else { ObjectRepr::Plain }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(other) = key.downcast_object_ref::<Ip>() {
            let net = self.net()?;
            return net.contains(&other.addr()).then(|| Value::from(true));
        }
        self.attr(key.as_str()?)
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn custom_cmp(self: &Arc<Self>, other: &minijinja::value::DynObject) -> Option<std::cmp::Ordering> {
        let other = other.downcast_ref::<Ip>()?;
        Some(crate::order::inet_cmp(&self.to_string(), &other.to_string()))
    }

    fn call_method(self: &Arc<Self>, _: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let net = self.net().ok_or_else(|| err(format!("{} has no method {method}", self.class())))?;
        match method {
            "supernet" => Ok(net.supernet().map(|n| Ip::Network(n).value()).unwrap_or(Value::from(()))),
            "hosts" if net.prefix_len() + 16 >= net.max_prefix_len() => {
                let hosts: Vec<Value> = net.hosts().map(|h| Ip::Address(h).value()).collect();
                Ok(Value::from(hosts))
            }
            "subnets" => {
                let kw = args.iter().find_map(|a| minijinja::value::Kwargs::try_from(a.clone()).ok());
                let new: u8 = match kw.as_ref().and_then(|k| k.get::<u8>("new_prefix").ok()) {
                    Some(n) => n,
                    None => net.prefix_len() + 1,
                };
                if new < net.prefix_len() || new > net.prefix_len() + 16 {
                    return Err(err("new prefix must be longer, and at most 65536 subnets are listed"));
                }
                let subnets = net.subnets(new).map_err(|e| err(e.to_string()))?;
                Ok(Value::from(subnets.map(|n| Ip::Network(n).value()).collect::<Vec<_>>()))
            }
            _ => Err(err(format!("{} has no method {method}", self.class()))),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if in_repr() {
            return write!(f, "{}('{}')", self.class(), self);
        }
        fmt::Display::fmt(&**self, f)
    }
}
