//! Which IP addresses alerts may reach: an IPv6 address that carries an IPv4 one (mapped,
//! compatible, translated, NAT64, 6to4) is judged as that IPv4 address, then every address is
//! matched against the deny list of special-purpose ranges (IANA's registries).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the policy says about one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A public unicast address: may be reached.
    Public,
    /// Refused unless the host is on the allow-list (loopback, private, shared, ...); names
    /// the range.
    Restricted(&'static str),
    /// Refused even for an allow-listed host (cloud metadata, link-local, multicast, ...).
    Never(&'static str),
}

use Verdict::{Never, Restricted};

/// IPv4 ranges, most specific first: (network, prefix length, verdict).
const V4: &[(u32, u8, Verdict)] = &[
    (0xA9FE_A9FE, 32, Never("the cloud metadata service")), // 169.254.169.254
    (0xFFFF_FFFF, 32, Never("broadcast")),
    (0x0000_0000, 32, Never("unspecified")),
    (0x0000_0000, 8, Never("\"this network\" (0.0.0.0/8)")),
    (0xA9FE_0000, 16, Never("link-local")),
    (0xE000_0000, 4, Never("multicast")),
    (0x7F00_0000, 8, Restricted("loopback")),
    (0x0A00_0000, 8, Restricted("private (10.0.0.0/8)")),
    (0xAC10_0000, 12, Restricted("private (172.16.0.0/12)")),
    (0xC0A8_0000, 16, Restricted("private (192.168.0.0/16)")),
    (0x6440_0000, 10, Restricted("carrier-grade NAT (100.64.0.0/10)")),
    (0xC612_0000, 15, Restricted("benchmarking (198.18.0.0/15)")),
    (0xC000_0000, 24, Restricted("IETF protocol assignments (192.0.0.0/24)")),
    (0xC000_0200, 24, Restricted("documentation (192.0.2.0/24)")),
    (0xC633_6400, 24, Restricted("documentation (198.51.100.0/24)")),
    (0xCB00_7100, 24, Restricted("documentation (203.0.113.0/24)")),
    (0xC058_6300, 24, Restricted("6to4 relay anycast (192.88.99.0/24)")),
    (0xF000_0000, 4, Restricted("reserved (240.0.0.0/4)")),
];

/// IPv6 ranges (after the embedded-IPv4 forms are taken out), most specific first.
const V6: &[(u128, u8, Verdict)] = &[
    (0xfd00_0ec2_0000_0000_0000_0000_0000_0254, 128, Never("the cloud metadata service")),
    (0, 128, Never("unspecified")),
    (1, 128, Restricted("loopback")),
    (0xfe80 << 112, 10, Never("link-local")),
    (0xff00 << 112, 8, Never("multicast")),
    (0xfc00 << 112, 7, Restricted("unique local (fc00::/7)")),
    (0xfec0 << 112, 10, Restricted("site-local (fec0::/10)")),
    (0x2001_0db8 << 96, 32, Restricted("documentation (2001:db8::/32)")),
    (0x3fff << 112, 20, Restricted("documentation (3fff::/20)")),
    (0x0064_ff9b_0001 << 80, 48, Restricted("NAT64 local use (64:ff9b:1::/48)")),
    (0x0100 << 112, 64, Restricted("discard-only (100::/64)")),
    (0x2001 << 112, 23, Restricted("IETF protocol assignments (2001::/23, incl. Teredo)")),
    // What is left of ::/8 after the IPv4-carrying forms (reserved by the IETF).
    (0, 8, Restricted("reserved (::/8)")),
];

fn in_range(addr: u128, net: u128, prefix: u8, bits: u32) -> bool {
    let shift = bits - u32::from(prefix);
    if shift >= bits {
        return true;
    }
    addr >> shift == net >> shift
}

/// The IPv4 address an IPv6 address stands for, if it carries one: IPv4-mapped
/// `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`
/// (not `::` or `::1`), NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::/48`.
pub fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let n = u128::from(v6);
    let low = Ipv4Addr::from((n & 0xffff_ffff) as u32);
    let high96 = n >> 32;
    match high96 {
        0xffff | 0xffff_0000 => Some(low),
        0 if n > 1 => Some(low),
        0x0064_ff9b_0000_0000_0000_0000 => Some(low),
        _ if n >> 112 == 0x2002 => Some(Ipv4Addr::from(((n >> 80) & 0xffff_ffff) as u32)),
        _ => None,
    }
}

/// The address to judge: an IPv6 address carrying an IPv4 one becomes that IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The policy's verdict on `ip` (judged in its canonical form).
pub fn verdict(ip: IpAddr) -> Verdict {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let n = u32::from(v4);
            V4.iter()
                .find(|(net, prefix, _)| in_range(u128::from(n), u128::from(*net), *prefix, 32))
                .map_or(Verdict::Public, |(_, _, v)| *v)
        }
        IpAddr::V6(v6) => {
            let n = u128::from(v6);
            V6.iter()
                .find(|(net, prefix, _)| in_range(n, *net, *prefix, 128))
                .map_or(Verdict::Public, |(_, _, v)| *v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Verdict {
        verdict(s.parse().unwrap())
    }

    #[test]
    fn embedded_ipv4_forms_are_judged_as_ipv4() {
        for (form, v4) in [
            ("::ffff:127.0.0.1", "127.0.0.1"),
            ("::ffff:0:10.0.0.1", "10.0.0.1"),
            ("::169.254.169.254", "169.254.169.254"),
            ("64:ff9b::c0a8:101", "192.168.1.1"),
            ("2002:a9fe:a9fe::1", "169.254.169.254"),
        ] {
            assert_eq!(canonical(form.parse().unwrap()), v4.parse::<IpAddr>().unwrap(), "{form}");
        }
        assert_eq!(canonical("::1".parse().unwrap()), "::1".parse::<IpAddr>().unwrap());
        assert_eq!(v("64:ff9b::8.8.8.8"), Verdict::Public, "NAT64 to a public address is fine");
    }

    #[test]
    fn ranges_are_matched_by_prefix() {
        assert_eq!(v("172.15.255.255"), Verdict::Public);
        assert!(matches!(v("172.16.0.1"), Restricted(_)));
        assert!(matches!(v("172.31.255.255"), Restricted(_)));
        assert_eq!(v("172.32.0.0"), Verdict::Public);
        assert_eq!(v("100.63.255.255"), Verdict::Public);
        assert!(matches!(v("100.127.255.255"), Restricted(_)));
        assert_eq!(v("100.128.0.0"), Verdict::Public);
        assert!(matches!(v("198.19.255.255"), Restricted(_)));
        assert_eq!(v("198.20.0.0"), Verdict::Public);
        assert_eq!(v("2001:4860:4860::8888"), Verdict::Public);
        assert_eq!(v("2606:4700::1111"), Verdict::Public);
        assert_eq!(v("169.254.169.254"), Never("the cloud metadata service"));
        assert_eq!(v("fd00:ec2::254"), Never("the cloud metadata service"));
        assert!(matches!(v("fd00:ec2::253"), Restricted(_)));
    }
}
