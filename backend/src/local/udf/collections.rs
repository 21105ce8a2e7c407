//! Trino's `element_at`, `contains` (on arrays) and `split_part` (NULL past the end).

use super::strings;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int64Array, StringBuilder, UInt32Array,
};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use std::sync::Arc;

pub(super) fn element_type(container: &DataType) -> Result<DataType> {
    match container {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Ok(f.data_type().clone())
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => Ok(fields[1].data_type().clone()),
            other => exec_err!("element_at: unexpected map entries {other}"),
        },
        other => exec_err!("element_at: expected an array or a map, got {other}"),
    }
}

/// `element_at(array, i)`: 1-based, negative counts from the end, NULL when out of range.
/// `element_at(map, key)`: the value under `key` or NULL.
pub(super) fn element_at(container: &ArrayRef, key: &ArrayRef) -> Result<ArrayRef> {
    let list = match container.data_type() {
        DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            cast(container, &DataType::List(f.clone()))?
        }
        _ => container.clone(),
    };
    let mut picks: Vec<Option<u32>> = Vec::with_capacity(list.len());
    let values = match list.data_type() {
        DataType::List(_) => {
            let list = list.as_list::<i32>();
            let idx = cast(key, &DataType::Int64)?;
            let idx = idx.as_any().downcast_ref::<Int64Array>().expect("cast");
            for row in 0..list.len() {
                if list.is_null(row) || idx.is_null(row) {
                    picks.push(None);
                    continue;
                }
                let (start, end) = (list.value_offsets()[row] as i64, list.value_offsets()[row + 1] as i64);
                let i = idx.value(row);
                if i == 0 {
                    return exec_err!("element_at: SQL array indices start at 1");
                }
                let pos = if i > 0 { start + i - 1 } else { end + i };
                picks.push((pos >= start && pos < end).then_some(pos as u32));
            }
            list.values().clone()
        }
        DataType::Map(_, _) => {
            let map = list.as_map();
            let keys = strings(&cast(map.keys(), &DataType::Utf8)?, "element_at")?;
            let wanted = strings(&cast(key, &DataType::Utf8)?, "element_at")?;
            for row in 0..map.len() {
                let (start, end) = (map.value_offsets()[row] as usize, map.value_offsets()[row + 1] as usize);
                let hit = if map.is_null(row) || wanted.is_null(row) {
                    None
                } else {
                    (start..end).find(|&j| keys.is_valid(j) && keys.value(j) == wanted.value(row))
                };
                picks.push(hit.map(|j| j as u32));
            }
            map.values().clone()
        }
        other => return exec_err!("element_at: expected an array or a map, got {other}"),
    };
    Ok(take(&values, &UInt32Array::from(picks), None)?)
}

/// `contains(array, x)` as in Trino (NULL when not found but the array holds a NULL);
/// `contains('10.0.0.0/8', ip)` as Trino's IPPREFIX test (IPv4 and IPv6, the address as text:
/// the lake has no IPADDRESS type); `contains(string, substring)` as in DataFusion otherwise.
pub(super) fn contains(haystack: &ArrayRef, needle: &ArrayRef) -> Result<ArrayRef> {
    let mut out = BooleanBuilder::with_capacity(haystack.len());
    match haystack.data_type() {
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let list = cast(
                haystack,
                &DataType::List(Arc::new(datafusion::arrow::datatypes::Field::new(
                    "item",
                    DataType::Utf8,
                    true,
                ))),
            )?;
            let list = list.as_list::<i32>();
            let wanted = strings(&cast(needle, &DataType::Utf8)?, "contains")?;
            let items = list.values().as_string::<i32>();
            for row in 0..list.len() {
                if list.is_null(row) || wanted.is_null(row) {
                    out.append_null();
                    continue;
                }
                let (start, end) =
                    (list.value_offsets()[row] as usize, list.value_offsets()[row + 1] as usize);
                let w = wanted.value(row);
                let found = (start..end).any(|j| items.is_valid(j) && items.value(j) == w);
                let saw_null = (start..end).any(|j| items.is_null(j));
                if found {
                    out.append_value(true);
                } else if saw_null {
                    out.append_null();
                } else {
                    out.append_value(false);
                }
            }
        }
        _ => {
            let (h, n) = (strings(haystack, "contains")?, strings(needle, "contains")?);
            for (h, n) in h.iter().zip(n.iter()) {
                out.append_option(h.zip(n).map(|(h, n)| match cidr_contains(h, n) {
                    Some(inside) => inside,
                    None => h.contains(n),
                }));
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

/// An address as `ipaddress(x)` gives it: 32 hex digits of its 16 bytes (IPv4 mapped into
/// IPv6, as Trino's IPADDRESS holds it), so text order is address order.
pub(super) fn ip_key(ip: &str) -> Option<String> {
    let ip: std::net::IpAddr = ip.trim().parse().ok()?;
    let v6 = match ip {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        std::net::IpAddr::V6(v6) => v6,
    };
    Some(format!("{:032x}", u128::from(v6)))
}

/// `ipaddress(x)`: each address as its sortable key; text that is not an address is NULL.
pub(super) fn ipaddress(input: &ArrayRef) -> Result<ArrayRef> {
    let s = strings(input, "ipaddress")?;
    let out: datafusion::arrow::array::StringArray = s.iter().map(|v| v.and_then(ip_key)).collect();
    Ok(Arc::new(out))
}

/// An address as text or as an `ipaddress` key.
fn parse_ip(text: &str) -> Option<std::net::IpAddr> {
    let t = text.trim();
    if let Ok(ip) = t.parse() {
        return Some(ip);
    }
    if t.len() == 32 {
        let v6 = std::net::Ipv6Addr::from(u128::from_str_radix(t, 16).ok()?);
        return Some(v6.to_ipv4_mapped().map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4));
    }
    None
}

/// Whether `ip` is inside the network `cidr`; `None` when either is not one.
fn cidr_contains(cidr: &str, ip: &str) -> Option<bool> {
    use std::net::IpAddr;
    let (net, bits) = cidr.trim().split_once('/')?;
    let (net, bits): (IpAddr, u32) = (net.parse().ok()?, bits.parse().ok()?);
    let ip = parse_ip(ip)?;
    let (net, ip, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        (IpAddr::V4(n), IpAddr::V6(i)) => {
            (u32::from(n) as u128, i.to_ipv4_mapped().map(u32::from)? as u128, 32)
        }
        (IpAddr::V6(_), IpAddr::V4(_)) => return Some(false),
    };
    if bits > width {
        return None;
    }
    let mask = if bits == 0 { 0 } else { (u128::MAX << (128 - bits)) >> (128 - width) };
    Some(net & mask == ip & mask)
}

pub(super) fn split_part(input: &ArrayRef, delimiter: &ArrayRef, index: &ArrayRef) -> Result<ArrayRef> {
    let (s, d) = (strings(input, "split_part")?, strings(delimiter, "split_part")?);
    let idx = cast(index, &DataType::Int64)?;
    let idx = idx.as_any().downcast_ref::<Int64Array>().expect("cast");
    let mut out = StringBuilder::with_capacity(s.len(), s.len() * 8);
    for row in 0..s.len() {
        if s.is_null(row) || d.is_null(row) || idx.is_null(row) {
            out.append_null();
            continue;
        }
        let i = idx.value(row);
        if i <= 0 {
            return exec_err!("split_part: index must be greater than zero, got {i}");
        }
        let (text, delim) = (s.value(row), d.value(row));
        let part =
            if delim.is_empty() { (i == 1).then_some(text) } else { text.split(delim).nth(i as usize - 1) };
        out.append_option(part);
    }
    Ok(Arc::new(out.finish()))
}
