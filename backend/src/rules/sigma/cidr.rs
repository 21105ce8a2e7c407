//! IPv4 CIDR matching written with text functions, as the query engines have no IP functions.

use super::Failure;
use super::sql::Pred;

/// Whole-octet prefixes become LIKE and the one partial octet is compared numerically; TRY_CAST
/// turns text that is not an IPv4 address (e.g. "AWS Internal") into a non-match, not a query error.
pub(crate) fn cidr(expr: &str, value: &str) -> Result<Pred, Failure> {
    let value = value.trim();
    let construct = || format!("cidr `{value}`");
    if value.contains(':') {
        return Err(Failure::new(
            construct(),
            "IPv6 ranges are not supported (the engines have no IP functions); use IPv4 ranges, or match the \
             address text with startswith",
        ));
    }
    let (address, prefix) = value.split_once('/').unwrap_or((value, "32"));
    let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(|| {
        Failure::new(construct(), "the prefix length must be a number from 0 to 32, as in 10.0.0.0/8")
    })?;
    let octets: Vec<u8> = address.split('.').filter_map(|o| o.parse().ok()).collect();
    let [a, b, c, d] = octets[..] else {
        return Err(Failure::new(construct(), "not an IPv4 range; write it like 192.168.0.0/16"));
    };
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    let network = (u32::from_be_bytes([a, b, c, d]) & mask).to_be_bytes();
    if prefix == 32 {
        return Ok(Pred::leaf(format!("{expr} = '{a}.{b}.{c}.{d}'")));
    }
    let whole = (prefix / 8) as usize;
    let fixed: Vec<String> = network[..whole].iter().map(u8::to_string).collect();
    let like = Pred::leaf(format!("{expr} LIKE '{}.%'", fixed.join(".")));
    let partial = prefix % 8;
    if partial == 0 && whole > 0 {
        return Ok(like);
    }
    // For /0 the "partial" octet is the whole first one, so any IPv4 address matches.
    let low = network[whole];
    let high = u32::from(low) + (1u32 << (8 - partial)) - 1;
    let range = Pred::leaf(format!(
        "TRY_CAST(split_part({expr}, '.', {}) AS BIGINT) BETWEEN {low} AND {high}",
        whole + 1
    ));
    Ok(if whole == 0 { range } else { Pred::and(vec![like, range]) })
}

#[cfg(test)]
mod tests {
    use super::super::sql::inline;
    use super::*;

    fn cidr_sql(value: &str) -> String {
        inline(&cidr("ip", value).unwrap())
    }

    #[test]
    fn cidr_uses_like_for_whole_octets_and_ranges_for_the_rest() {
        assert_eq!(cidr_sql("10.0.0.0/8"), "ip LIKE '10.%'");
        assert_eq!(cidr_sql("192.168.1.0/24"), "ip LIKE '192.168.1.%'");
        assert_eq!(cidr_sql("1.2.3.4/32"), "ip = '1.2.3.4'");
        assert_eq!(cidr_sql("1.2.3.4"), "ip = '1.2.3.4'");
        assert_eq!(
            cidr_sql("172.16.0.0/12"),
            "ip LIKE '172.%' AND TRY_CAST(split_part(ip, '.', 2) AS BIGINT) BETWEEN 16 AND 31"
        );
        assert_eq!(cidr_sql("0.0.0.0/0"), "TRY_CAST(split_part(ip, '.', 1) AS BIGINT) BETWEEN 0 AND 255");
        // Host bits in the written range are ignored, as the network address is meant.
        assert_eq!(cidr_sql("10.1.2.3/8"), "ip LIKE '10.%'");
        assert_eq!(
            cidr_sql("100.64.0.0/10"),
            "ip LIKE '100.%' AND TRY_CAST(split_part(ip, '.', 2) AS BIGINT) BETWEEN 64 AND 127"
        );
    }

    #[test]
    fn cidr_rejects_bad_ranges() {
        assert!(cidr("ip", "fe80::/10").unwrap_err().message.contains("IPv6"));
        assert!(cidr("ip", "10.0.0.0/33").is_err());
        assert!(cidr("ip", "10.0.0/8").is_err());
    }
}
