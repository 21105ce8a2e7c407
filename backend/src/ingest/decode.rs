//! Bytes to text under a decoded-size cap. Gzip is decoded twice: a counting pass that keeps
//! nothing (so a gzip bomb is refused after reading at most the cap, holding only a 64 KiB
//! buffer), then a pass into a buffer of exactly the counted size. The cost is a second
//! gunzip of files that pass, small beside parsing their JSON.

use super::Parsed;
use std::io::Read;

/// The decoded size refused by default: 2 GiB (a day of CloudTrail for a large account is a
/// few hundred MB per file at most; anything past this is a bomb or a mistake).
pub const DEFAULT_MAX_DECODED_BYTES: u64 = 2 << 30;

/// `2GiB`, `512MiB`, `100MB`, `64k` or plain bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 =
        digits.parse().map_err(|_| format!("`{text}` is not a size: write e.g. 2GiB, 512MiB or 1000000"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        other => {
            return Err(format!("`{text}`: unknown unit `{other}`; use B, KiB, MiB, GiB (or kB, MB, GB)"));
        }
    };
    n.checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is out of range (1 B to 16 EiB)"))
}

/// A size for messages: `2 GiB`, `64 KiB`, `1500 B`.
pub fn show_size(n: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
        if n >= size {
            return format!("{:.1} {unit}", n as f64 / size as f64);
        }
    }
    format!("{n} B")
}

/// The refusal of a file over the cap; names the cap and how to raise it (to twice as much).
pub fn over_cap(max: u64) -> String {
    let twice = max.saturating_mul(2);
    let flag = match show_size(twice) {
        s if s.contains('.') => twice.to_string(),
        s => s.replace(' ', ""),
    };
    format!(
        "decodes to more than {} (the decoded-size cap): not ingested; the other files go on. \
         If the file is genuine, raise the cap: `mantissa ingest --max-decoded-size {flag} ...`",
        show_size(max)
    )
}

/// The file's text, or `None` (with the reason in `parsed`) when it is over the cap. A
/// truncated or corrupt gzip stream keeps the complete lines decoded before the damage.
pub(crate) fn decode(name: &str, raw: &[u8], max: u64, parsed: &mut Parsed) -> Option<String> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        if raw.len() as u64 > max {
            parsed.issue(name, over_cap(max));
            return None;
        }
        return Some(String::from_utf8_lossy(raw).into_owned());
    }
    let mut counter = flate2::read::MultiGzDecoder::new(raw);
    let mut buf = vec![0u8; 64 * 1024];
    let mut size: u64 = 0;
    let mut damage = None;
    loop {
        match counter.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                size += n as u64;
                if size > max {
                    parsed.issue(name, over_cap(max));
                    return None;
                }
            }
            Err(e) => {
                damage = Some(e);
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    if let Err(e) = flate2::read::MultiGzDecoder::new(raw).take(size).read_to_end(&mut out) {
        damage.get_or_insert(e);
    }
    if let Some(e) = damage {
        parsed.issue(
            name,
            format!(
                "gzip stream is truncated or corrupt after {} bytes ({e}); kept the complete lines \
                 before it: re-copy the file to ingest the rest",
                out.len()
            ),
        );
        match out.iter().rposition(|&b| b == b'\n') {
            Some(end) => out.truncate(end + 1),
            None => out.clear(),
        }
    }
    Some(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(vec![], flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn sizes_parse_and_show() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(parse_size("2 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_size("99999999999TiB").unwrap_err().contains("out of range"));
        assert_eq!(show_size(2 << 30), "2 GiB");
        assert_eq!(show_size(64 << 10), "64 KiB");
        assert_eq!(show_size(1500), "1.5 KiB");
        assert_eq!(show_size(100), "100 B");
        assert!(over_cap(2 << 30).contains("--max-decoded-size 4GiB"), "{}", over_cap(2 << 30));
        assert!(over_cap(1500).contains("--max-decoded-size 3000 "), "{}", over_cap(1500));
    }

    #[test]
    fn a_bomb_is_refused_at_the_cap_and_a_small_file_passes() {
        let bomb = gzip(&vec![b'0'; 8 << 20]);
        assert!(bomb.len() < 64 << 10, "{} bytes compressed", bomb.len());
        let mut parsed = Parsed::default();
        assert!(decode("bomb.json.gz", &bomb, 1 << 20, &mut parsed).is_none());
        assert_eq!(parsed.issues[0].place, "bomb.json.gz");
        assert!(
            parsed.issues[0].reason.contains("more than 1 MiB (the decoded-size cap)"),
            "{:?}",
            parsed.issues
        );
        let mut parsed = Parsed::default();
        let text = decode("ok.json.gz", &gzip(b"{\"a\": 1}\n"), 1 << 20, &mut parsed).unwrap();
        assert_eq!((text.as_str(), parsed.issues.len()), ("{\"a\": 1}\n", 0));
        let mut parsed = Parsed::default();
        assert!(decode("plain.json", &vec![b' '; 2048], 1024, &mut parsed).is_none());
        assert!(parsed.issues[0].reason.contains("more than 1 KiB"));
    }

    #[test]
    fn a_truncated_stream_keeps_its_whole_lines() {
        let full = gzip(b"line one\nline two\nline three that is cut\n".repeat(200).as_slice());
        let mut parsed = Parsed::default();
        let text = decode("cut.gz", &full[..full.len() - 20], 1 << 20, &mut parsed).unwrap();
        assert!(text.ends_with('\n') && !text.is_empty(), "{text:?}");
        assert!(parsed.issues[0].reason.contains("truncated or corrupt"), "{:?}", parsed.issues);
    }
}
