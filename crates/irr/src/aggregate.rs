//! Prefix-list shaping equivalent to bgpq4's `-R`, `-r` and `-A` (bgpq4 1.9).
//!
//! bgpq4 builds a radix tree of the expanded prefixes and then, in this
//! order, widens prefixes shorter than `-R len` into `prefix le len`
//! ("refine"), lowers the range start of prefixes not longer than `-r len`
//! ("refine low"), and with `-A` merges sibling halves into one entry with a
//! `ge`/`le` range. The rules below reproduce its results (same entries, same
//! order: address, then length) so that a router gets the same filter whether
//! PM ran bgpq4 or this native code.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;

/// One line of a prefix list, shaped like an item of bgpq4's `-j` output
/// (`{"prefix": …, "exact": …, "greater-equal"?: …, "less-equal"?: …}`),
/// which is what Peering Manager stores and templates read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PrefixEntry {
    pub prefix: IpNet,
    pub exact: bool,
    #[serde(rename = "greater-equal", skip_serializing_if = "Option::is_none", default)]
    pub greater_equal: Option<u8>,
    #[serde(rename = "less-equal", skip_serializing_if = "Option::is_none", default)]
    pub less_equal: Option<u8>,
}

/// The prefix-shaping arguments of bgpq4 that Peering Manager passes
/// (`BGPQ3_ARGS`, default `-A -r 8 -R 24` / `-A -r 16 -R 48`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shaping {
    /// `-A`: aggregate adjacent halves.
    pub aggregate: bool,
    /// `-R len`: accept more-specifics of shorter prefixes up to `len`.
    pub refine: Option<u8>,
    /// `-r len`: ranges of prefixes up to `len` long start at `len`.
    pub refine_low: Option<u8>,
    /// `-m len`: ignore prefixes longer than `len`.
    pub max_len: Option<u8>,
}

/// Address family of a prefix list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn max_len(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
    /// `4` or `6`, as in PM's settings and API (`af=4`).
    pub fn number(self) -> u8 {
        match self {
            Family::V4 => 4,
            Family::V6 => 6,
        }
    }
}

/// Builds the prefix list for `prefixes` of `family` (others are ignored,
/// as bgpq4 ignores them), shaped by `shaping`.
pub fn shape(family: Family, prefixes: impl IntoIterator<Item = IpNet>, shaping: &Shaping) -> Vec<PrefixEntry> {
    let mut root: Option<Box<Node>> = None;
    for prefix in prefixes {
        let (bits, len) = match (family, prefix.trunc()) {
            (Family::V4, IpNet::V4(net)) => ((u32::from(net.addr()) as u128) << 96, net.prefix_len()),
            (Family::V6, IpNet::V6(net)) => (u128::from(net.addr()), net.prefix_len()),
            _ => continue,
        };
        if shaping.max_len.is_some_and(|max| len > max) {
            continue;
        }
        insert(&mut root, bits, len);
    }
    if let Some(root) = root.as_deref_mut() {
        // bgpq4 1.9: `-r` without `-R` widens up to the family's maximum.
        let widen_to = shaping.refine.or(shaping.refine_low.map(|_| family.max_len()));
        if let Some(upto) = widen_to {
            refine(root, upto);
        }
        if let Some(from) = shaping.refine_low {
            refine_low(root, from, family.max_len());
        }
        if shaping.aggregate {
            aggregate(root);
        }
    }
    let mut out = Vec::new();
    if let Some(root) = root.as_deref() {
        walk(root, &mut |node| emit(node, family, &mut out));
    }
    out
}

/// A radix-tree node. `glue` nodes are structure only (or were absorbed by
/// an aggregate and are no longer printed); `son` carries a second range on
/// the same prefix, created when a real prefix also covers an aggregate of
/// its halves.
#[derive(Debug, Clone, Default)]
struct Node {
    bits: u128,
    len: u8,
    glue: bool,
    aggregated: bool,
    low: u8,
    high: u8,
    son: Option<Box<Node>>,
    left: Option<Box<Node>>,
    right: Option<Box<Node>>,
}

impl Node {
    fn new(bits: u128, len: u8, glue: bool) -> Box<Node> {
        Box::new(Node { bits, len, glue, ..Node::default() })
    }
    fn range(&self) -> (u8, u8) {
        (self.low, self.high)
    }
    fn set_range(&mut self, (low, high): (u8, u8)) {
        self.aggregated = true;
        self.low = low;
        self.high = high;
    }
}

fn mask(len: u8) -> u128 {
    if len == 0 { 0 } else { !0u128 << (128 - u32::from(len)) }
}

fn bit(bits: u128, index: u8) -> bool {
    (bits >> (127 - u32::from(index))) & 1 == 1
}

fn insert(slot: &mut Option<Box<Node>>, bits: u128, len: u8) {
    let Some(node) = slot else {
        *slot = Some(Node::new(bits, len, false));
        return;
    };
    let equal_bits = ((node.bits ^ bits).leading_zeros() as u8).min(node.len).min(len);
    if equal_bits == node.len && node.len == len {
        node.glue = false;
    } else if equal_bits == node.len {
        let child = if bit(bits, node.len) { &mut node.right } else { &mut node.left };
        insert(child, bits, len);
    } else {
        let old = slot.take().expect("checked above");
        let mut parent = if equal_bits == len {
            Node::new(bits, len, false)
        } else {
            let mut glue = Node::new(bits & mask(equal_bits), equal_bits, true);
            let new = Node::new(bits, len, false);
            *(if bit(bits, equal_bits) { &mut glue.right } else { &mut glue.left }) = Some(new);
            glue
        };
        let at = parent.len;
        let side = bit(old.bits, at);
        *(if side { &mut parent.right } else { &mut parent.left }) = Some(old);
        *slot = Some(parent);
    }
}

fn walk<'a>(node: &'a Node, visit: &mut impl FnMut(&'a Node)) {
    visit(node);
    for child in [&node.left, &node.right].into_iter().flatten() {
        walk(child, visit);
    }
}

fn walk_mut(node: &mut Node, visit: &mut impl FnMut(&mut Node)) {
    visit(node);
    for child in [&mut node.left, &mut node.right].into_iter().flatten() {
        walk_mut(child, visit);
    }
}

fn children(node: &mut Node) -> impl Iterator<Item = &mut Box<Node>> {
    [&mut node.left, &mut node.right].into_iter().flatten()
}

/// `-R upto`: a real prefix shorter than `upto` becomes `prefix le upto`,
/// and what it now covers (up to `upto` long) stops being printed.
fn refine(node: &mut Node, upto: u8) {
    if !node.glue && node.len < upto {
        node.set_range((node.len, upto));
        for child in children(node) {
            walk_mut(child, &mut |n| n.glue |= n.len <= upto);
            refine(child, upto);
        }
    } else if node.len == upto || node.glue {
        // Exactly `upto` long (nothing to widen) or structure only: look deeper.
        for child in children(node) {
            refine(child, upto);
        }
    }
}

/// `-r from`: a real prefix not longer than `from` accepts lengths `from`
/// up to its range end (or the family's maximum).
fn refine_low(node: &mut Node, from: u8, max_len: u8) {
    if !node.glue && node.len <= from {
        if node.aggregated {
            node.low = from;
        } else {
            node.set_range((from, max_len));
        }
        for child in children(node) {
            walk_mut(child, &mut |n| n.glue |= n.len <= from);
            refine_low(child, from, max_len);
        }
    } else if node.glue {
        for child in children(node) {
            refine_low(child, from, max_len);
        }
    }
}

/// `-A`: bottom-up, two halves with the same shape become one entry on
/// their parent (or a second range on it when the parent is a real prefix
/// with a different shape).
fn aggregate(node: &mut Node) {
    for child in children(node) {
        aggregate(child);
    }
    let (bits, len, glue) = (node.bits, node.len, node.glue);
    let range_of = |low: u8, high: u8| Box::new(Node { bits, len, aggregated: true, low, high, ..Node::default() });
    let (Some(left), Some(right)) = (node.left.as_deref_mut(), node.right.as_deref_mut()) else {
        return;
    };
    let halves = left.len == len + 1 && right.len == len + 1;
    let mut range = None;
    let mut son = None;
    if !left.aggregated && !right.aggregated && !left.glue && !right.glue && left.len == right.len {
        if halves {
            left.glue = true;
            right.glue = true;
            range = Some((if glue { right.len } else { len }, right.len));
        }
        if let (Some(ls), Some(rs)) = (left.son.as_deref_mut(), right.son.as_deref_mut())
            && halves
            && ls.aggregated
            && rs.aggregated
            && ls.range() == rs.range()
        {
            ls.glue = true;
            rs.glue = true;
            son = Some(range_of(rs.low, rs.high));
        }
    } else if left.aggregated && right.aggregated && left.range() == right.range() {
        if halves {
            left.glue = true;
            right.glue = true;
            if glue {
                range = Some(right.range());
            } else if right.len == right.low {
                range = Some((len, right.high));
            } else {
                let mut new = range_of(right.low, right.high);
                if let (Some(ls), Some(rs)) = (left.son.as_deref_mut(), right.son.as_deref_mut())
                    && ls.range() == rs.range()
                {
                    ls.glue = true;
                    rs.glue = true;
                    new.son = Some(range_of(rs.low, rs.high));
                }
                son = Some(new);
            }
        }
    } else if let Some(ls) = left.son.as_deref_mut()
        && right.aggregated
        && ls.aggregated
        && right.range() == ls.range()
    {
        if halves {
            right.glue = true;
            ls.glue = true;
            if glue {
                range = Some(right.range());
            } else {
                son = Some(range_of(right.low, right.high));
            }
        }
    } else if let Some(rs) = right.son.as_deref_mut()
        && left.aggregated
        && rs.aggregated
        && left.range() == rs.range()
        && halves
    {
        left.glue = true;
        rs.glue = true;
        if glue {
            range = Some(left.range());
        } else {
            son = Some(range_of(left.low, left.high));
        }
    }
    if let Some(range) = range {
        node.set_range(range);
        node.glue = false;
    }
    if son.is_some() {
        node.son = son;
    }
}

fn emit(node: &Node, family: Family, out: &mut Vec<PrefixEntry>) {
    if !node.glue {
        let prefix = match family {
            Family::V4 => {
                IpNet::V4(Ipv4Net::new(Ipv4Addr::from((node.bits >> 96) as u32), node.len).expect("len ≤ 32"))
            }
            Family::V6 => IpNet::V6(Ipv6Net::new(Ipv6Addr::from(node.bits), node.len).expect("len ≤ 128")),
        };
        out.push(match node.aggregated {
            false => PrefixEntry { prefix, exact: true, greater_equal: None, less_equal: None },
            true => PrefixEntry {
                prefix,
                exact: false,
                greater_equal: (node.low > node.len).then_some(node.low),
                less_equal: Some(node.high),
            },
        });
    }
    if let Some(son) = node.son.as_deref() {
        emit(son, family, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(items: &[&str]) -> Vec<IpNet> {
        items.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn show(entries: &[PrefixEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match (e.exact, e.greater_equal, e.less_equal) {
                (true, _, _) => e.prefix.to_string(),
                (false, Some(ge), Some(le)) => format!("{} ge {ge} le {le}", e.prefix),
                (false, None, Some(le)) => format!("{} le {le}", e.prefix),
                _ => unreachable!(),
            })
            .collect()
    }

    const PM_V4: Shaping = Shaping { aggregate: true, refine: Some(24), refine_low: Some(8), max_len: None };
    const PM_V6: Shaping = Shaping { aggregate: true, refine: Some(48), refine_low: Some(16), max_len: None };

    /// The AS-TEST expansion of real-parts.md §3.3, with PM's default
    /// arguments: bgpq4's answer there.
    #[test]
    fn pm_defaults_match_bgpq4_on_as_test() {
        let v4 = nets(&[
            "198.51.100.0/25",
            "198.51.100.128/25",
            "192.0.2.0/24",
            "203.0.113.0/24",
            "203.0.113.0/25",
            "198.18.0.0/24",
        ]);
        assert_eq!(
            show(&shape(Family::V4, v4, &PM_V4)),
            ["192.0.2.0/24", "198.18.0.0/24", "198.51.100.0/24 ge 25 le 25", "203.0.113.0/24", "203.0.113.0/25"]
        );
        let v6 = nets(&["2001:db8:1::/48", "2001:db8:1:100::/56", "2001:db8:2::/48", "2001:db8:3::/48"]);
        assert_eq!(
            show(&shape(Family::V6, v6, &PM_V6)),
            ["2001:db8:1::/48", "2001:db8:1:100::/56", "2001:db8:2::/47 ge 48 le 48"]
        );
    }

    #[test]
    fn without_arguments_every_prefix_is_exact_sorted_and_unique() {
        let v4 = nets(&["10.0.1.0/24", "10.0.0.0/24", "10.0.0.0/16", "10.0.1.0/24"]);
        assert_eq!(show(&shape(Family::V4, v4, &Shaping::default())), ["10.0.0.0/16", "10.0.0.0/24", "10.0.1.0/24"]);
    }

    #[test]
    fn other_family_and_too_long_prefixes_are_ignored() {
        let mixed = nets(&["10.0.0.0/24", "2001:db8::/32", "10.0.0.0/30"]);
        let shaping = Shaping { max_len: Some(24), ..Shaping::default() };
        assert_eq!(show(&shape(Family::V4, mixed, &shaping)), ["10.0.0.0/24"]);
    }

    #[test]
    fn refine_widens_shorter_prefixes_and_hides_what_they_cover() {
        let v4 = nets(&["10.1.0.0/16", "10.1.0.0/24", "10.1.1.0/25", "10.2.0.0/24"]);
        let shaping = Shaping { refine: Some(24), ..Shaping::default() };
        // The /24 inside the /16 is covered by "le 24"; the /25 is longer and stays.
        assert_eq!(show(&shape(Family::V4, v4, &shaping)), ["10.1.0.0/16 le 24", "10.1.1.0/25", "10.2.0.0/24"]);
    }

    #[test]
    fn refine_low_starts_ranges_at_the_given_length() {
        let v4 = nets(&["10.0.0.0/8", "11.0.0.0/16"]);
        let shaping = Shaping { refine_low: Some(8), ..Shaping::default() };
        // Without -R, bgpq4 1.9 widens every prefix to /32 as well.
        assert_eq!(show(&shape(Family::V4, v4.clone(), &shaping)), ["10.0.0.0/8 le 32", "11.0.0.0/16 le 32"]);
        let shaping = Shaping { refine_low: Some(12), refine: Some(24), ..Shaping::default() };
        assert_eq!(show(&shape(Family::V4, v4, &shaping)), ["10.0.0.0/8 ge 12 le 24", "11.0.0.0/16 le 24"]);
    }

    #[test]
    fn aggregation_merges_runs_of_halves() {
        let v4 = nets(&["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]);
        let shaping = Shaping { aggregate: true, ..Shaping::default() };
        assert_eq!(show(&shape(Family::V4, v4, &shaping)), ["10.0.0.0/22 ge 24 le 24"]);
    }

    #[test]
    fn aggregation_keeps_a_real_parent_and_adds_the_range_to_it() {
        let v4 = nets(&["10.0.0.0/23", "10.0.0.0/24", "10.0.1.0/24"]);
        let shaping = Shaping { aggregate: true, ..Shaping::default() };
        assert_eq!(show(&shape(Family::V4, v4, &shaping)), ["10.0.0.0/23 le 24"]);
    }
}
