//! One source file to conformed rows grouped by `dt`, without writing them anywhere: what
//! the local lake, the S3 lake, the ingest Lambda and the backfill all share. Lambda logs may
//! also come as CloudWatch Logs subscription payloads (gzip JSON, or lines of base64 gzip).

use super::writer::Partitions;
use super::{IngestReport, Issue, Parsed, decode, event_time_ms, shape};
use crate::model::Table;
use base64::Engine;
use chrono::{DateTime, SecondsFormat};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// A source file converted: its report (no Parquet files yet), its rows by day, and the name
/// its output takes (`ingest-<20 hex of SHA-256 over table and content>`), so the same file
/// always makes the same output name and is recognised when it comes again.
pub struct Converted {
    pub table: Table,
    pub source: String,
    pub report: IngestReport,
    pub partitions: Partitions,
}

/// The content-derived name of a source file's output.
pub fn source_name(table: Table, raw: &[u8]) -> String {
    let digest = Sha256::new().chain_update(table.name()).chain_update(raw).finalize();
    format!("ingest-{}", &hex::encode(digest)[..20])
}

/// Converts one file's content (plain or gzip) as `table`; bad records are reported by place
/// and left out, the rest kept. A file decoding to more than `max_decoded` bytes is refused.
pub fn convert(table: Table, file: &Path, raw: &[u8], max_decoded: u64) -> Converted {
    let name = file.display().to_string();
    let mut parsed = Parsed::default();
    let Some(text) = decode::decode(&name, raw, max_decoded, &mut parsed) else {
        let report = IngestReport { files: 1, issues: parsed.issues, ..Default::default() };
        return Converted {
            table,
            source: source_name(table, raw),
            report,
            partitions: Partitions::default(),
        };
    };
    match table {
        Table::CloudTrail => super::cloudtrail::parse(&name, &text, &mut parsed),
        Table::VpcFlow => super::vpc_flow::parse(&name, &text, &mut parsed),
        Table::S3Access => super::s3_access::parse(&name, &text, &mut parsed),
        Table::Lambda => match subscription_payloads(&name, &text, &mut parsed) {
            Some(payloads) => {
                for (i, p) in payloads.into_iter().enumerate() {
                    let hint = format!("{}/{}", p.log_group, p.log_stream);
                    super::lambda::parse(
                        &format!("{name}#payload{i}"),
                        Path::new(&hint),
                        &p.lines(),
                        &mut parsed,
                    )
                }
            }
            None => super::lambda::parse(&name, file, &text, &mut parsed),
        },
        Table::Custom => super::custom::parse(&name, file, &text, &mut parsed),
    }
    let mut report = IngestReport { files: 1, ..Default::default() };
    report.read = parsed.records.len() as u64 + parsed.bad;
    let mut partitions = Partitions::default();
    for (place, record) in parsed.records {
        match shape(table, &record) {
            Ok((dt, conformed)) => {
                let at = event_time_ms(table, &conformed.row);
                report.earliest_ms = super::earliest(report.earliest_ms, at);
                report.latest_ms = report.latest_ms.max(at);
                for note in conformed.notes {
                    parsed.issues.push(Issue { place: place.clone(), reason: note });
                }
                partitions.push(dt, conformed.row)
            }
            Err(reason) => parsed.issues.push(Issue { place, reason }),
        }
    }
    report.written = partitions.len() as u64;
    report.skipped = report.read.saturating_sub(report.written);
    report.issues = parsed.issues;
    Converted { table, source: source_name(table, raw), report, partitions }
}

/// One CloudWatch Logs subscription payload (`DATA_MESSAGE`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payload {
    #[serde(default)]
    message_type: String,
    #[serde(default)]
    log_group: String,
    #[serde(default)]
    log_stream: String,
    #[serde(default)]
    log_events: Vec<LogEvent>,
}

#[derive(Debug, Deserialize)]
struct LogEvent {
    timestamp: i64,
    message: String,
}

impl Payload {
    /// The events as CloudWatch export lines (`<ISO time> <message>`), one per event, so the
    /// Lambda log parser reads them; a message's own line breaks become spaces.
    fn lines(&self) -> String {
        let mut out = String::new();
        for e in &self.log_events {
            let Some(t) = DateTime::from_timestamp_millis(e.timestamp) else { continue };
            out.push_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true));
            out.push(' ');
            out.push_str(&e.message.trim_end().replace(['\r', '\n'], " "));
            out.push('\n');
        }
        out
    }
}

fn looks_like_payload(text: &str) -> bool {
    let head: String = text.trim_start().chars().take(4096).collect();
    head.starts_with('{') && head.contains("\"messageType\"") && head.contains("\"logGroup\"")
}

/// The subscription payloads in a file, if it holds them: concatenated JSON documents (as
/// Firehose writes them to S3), or lines of base64 gzip JSON (Kinesis records). None when the
/// file is not in this format; CONTROL_MESSAGE payloads are dropped.
pub(crate) fn subscription_payloads(name: &str, text: &str, out: &mut Parsed) -> Option<Vec<Payload>> {
    let mut payloads = vec![];
    if looks_like_payload(text) {
        let stream = serde_json::Deserializer::from_str(text).into_iter::<Payload>();
        for (i, p) in stream.enumerate() {
            match p {
                Ok(p) => payloads.push(p),
                Err(e) => {
                    out.bad(
                        format!("{name}#payload{i}"),
                        format!("invalid CloudWatch Logs payload ({e}); the payloads after it are skipped"),
                    );
                    break;
                }
            }
        }
    } else {
        let first = text.lines().find(|l| !l.trim().is_empty())?;
        // Not this format unless its first line is a payload.
        base64_gzip(first.trim())?;
        for (n, line) in super::lines(text) {
            let decoded = base64_gzip(line.trim()).and_then(|t| serde_json::from_str::<Payload>(&t).ok());
            match decoded {
                Some(p) => payloads.push(p),
                None => out.bad(format!("{name}:{n}"), "not a base64 gzip CloudWatch Logs payload"),
            }
        }
    }
    Some(payloads.into_iter().filter(|p| p.message_type != "CONTROL_MESSAGE").collect())
}

/// A base64 text that decodes to gzip, gunzipped (bounded: 64 MB per record).
fn base64_gzip(line: &str) -> Option<String> {
    use std::io::Read;
    if line.len() < 16 || !line.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(line).ok()?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(&raw[..]).take(64 << 20).read_to_string(&mut text).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(text: &str) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap()
    }

    fn payload(group: &str) -> String {
        serde_json::json!({
            "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
            "logStream": "2024/11/20/[$LATEST]abc", "subscriptionFilters": ["mantissa"],
            "logEvents": [
                {"id": "1", "timestamp": 1_732_096_800_000i64, "message": "START RequestId: r-1 Version: $LATEST\n"},
                {"id": "2", "timestamp": 1_732_096_800_100i64,
                 "message": "2024-11-20T10:00:00.100Z\tr-1\tERROR\tboom\nat line 3\n"},
            ]
        })
        .to_string()
    }

    #[test]
    fn firehose_and_kinesis_payloads_become_lambda_rows() {
        let firehose = gzip(&format!("{}{}", payload("/aws/lambda/pay"), payload("/aws/lambda/ship")));
        let c = convert(
            Table::Lambda,
            Path::new("cwl/2024/11/20/x.gz"),
            &firehose,
            crate::ingest::DEFAULT_MAX_DECODED_BYTES,
        );
        assert_eq!((c.report.read, c.report.written), (4, 4), "{:?}", c.report.issues);
        let rows: Vec<_> = c.partitions.into_days().into_values().flatten().collect();
        assert_eq!(rows[0]["function_name"], "pay");
        assert_eq!(rows[0]["type"], "START");
        assert_eq!(rows[1]["level"], "ERROR");
        assert_eq!(rows[1]["message"], "boom at line 3");
        assert_eq!(rows[2]["function_name"], "ship");

        let b64 = base64::engine::general_purpose::STANDARD;
        let kinesis = format!("{}\nnot base64 at all\n", b64.encode(gzip(&payload("/aws/lambda/pay"))));
        let c = convert(
            Table::Lambda,
            Path::new("kinesis.txt"),
            kinesis.as_bytes(),
            crate::ingest::DEFAULT_MAX_DECODED_BYTES,
        );
        assert_eq!(c.report.written, 2);
        assert_eq!(c.report.issues.len(), 1);
        assert_eq!(c.report.issues[0].place, "kinesis.txt:2");
        assert!(!c.report.issues[0].reason.contains("not base64 at all"), "never the record's content");
    }

    #[test]
    fn the_same_content_gets_the_same_name() {
        assert_eq!(source_name(Table::CloudTrail, b"x"), source_name(Table::CloudTrail, b"x"));
        assert_ne!(source_name(Table::CloudTrail, b"x"), source_name(Table::VpcFlow, b"x"));
        assert_eq!(source_name(Table::CloudTrail, b"x").len(), "ingest-".len() + 20);
    }
}
