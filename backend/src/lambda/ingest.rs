//! The ingest Lambda: SQS messages whose bodies are S3 ObjectCreated notifications for raw
//! log files (CloudTrail, VPC Flow, S3 access logs, CloudWatch Logs subscription payloads);
//! each object is converted with the same ingest code as the CLI, and the whole batch is
//! written as one Parquet file per table and day. Bad records are logged by object key, line
//! and reason (never their content); a message that could not be handled is returned in
//! `batchItemFailures`, so SQS retries it and, after three receives, dead-letters it.

use crate::aws::lake::{S3Lake, SourceOutcome};
use crate::aws::s3::{S3Stores, get_bytes};
use crate::error::{Error, Result};
use crate::ingest::convert::{Converted, convert};
use crate::model::Table;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Which table a raw object belongs to, from where AWS writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Table(Table),
    /// Not a log file (a CloudTrail digest, a folder marker): acknowledged, not ingested.
    Skip(&'static str),
}

/// Key prefixes for the sources AWS does not name in the key (S3 access logs, Lambda logs via
/// a CloudWatch Logs subscription and Firehose, custom JSON), as `source=prefix` pairs.
#[derive(Debug, Clone)]
pub struct Routes {
    prefixes: Vec<(String, Table)>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            prefixes: vec![
                ("s3-access-logs/".into(), Table::S3Access),
                ("cloudwatch-logs/".into(), Table::Lambda),
                ("lambda-logs/".into(), Table::Lambda),
                ("custom/".into(), Table::Custom),
            ],
        }
    }
}

impl Routes {
    /// `MANTISSA_INGEST_PREFIXES="s3access=access/,lambda=cwl/"`; the defaults otherwise.
    pub fn from_env() -> Result<Self> {
        match std::env::var("MANTISSA_INGEST_PREFIXES").ok().filter(|v| !v.trim().is_empty()) {
            None => Ok(Routes::default()),
            Some(v) => Routes::parse(&v),
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        let mut prefixes = vec![];
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (source, prefix) = pair.split_once('=').ok_or_else(|| {
                Error::invalid(
                    "MANTISSA_INGEST_PREFIXES",
                    format!("`{pair}`: expected source=prefix, e.g. s3access=access-logs/"),
                )
            })?;
            let table: Table =
                source.trim().parse().map_err(|e: String| Error::invalid("MANTISSA_INGEST_PREFIXES", e))?;
            prefixes.push((prefix.trim().to_string(), table));
        }
        Ok(Routes { prefixes })
    }

    /// The table of an object key: AWS's own layouts first, then the configured prefixes.
    pub fn route(&self, key: &str) -> Option<Route> {
        if key.ends_with('/') {
            return Some(Route::Skip("a folder marker"));
        }
        if key.contains("/CloudTrail-Digest/") {
            return Some(Route::Skip("a CloudTrail digest file (integrity, not events)"));
        }
        if key.contains("/CloudTrail/") || key.contains("/CloudTrail-Insight/") {
            return Some(Route::Table(Table::CloudTrail));
        }
        if key.contains("/vpcflowlogs/") {
            return Some(Route::Table(Table::VpcFlow));
        }
        self.prefixes.iter().find(|(p, _)| key.starts_with(p.as_str())).map(|(_, t)| Route::Table(*t))
    }
}

/// What the handler needs, built once per Lambda container.
#[derive(Clone)]
pub struct Ingest {
    pub lake: S3Lake,
    pub stores: S3Stores,
    pub routes: Routes,
    /// Decoded bytes a raw object may reach before it is refused (`MANTISSA_INGEST_MAX_DECODED`).
    pub max_decoded: u64,
}

/// One invocation's figures (also logged).
#[derive(Debug, Default, Serialize, Clone)]
pub struct IngestSummary {
    pub messages: usize,
    pub objects: usize,
    pub records_read: u64,
    pub records_written: u64,
    pub records_skipped: u64,
    pub already_ingested: usize,
    pub parquet_files: usize,
    pub failed_messages: usize,
}

/// S3 keys in notifications are URL-encoded, with `+` for spaces (and `%2B` for a plus).
pub fn decode_key(key: &str) -> String {
    percent_encoding::percent_decode_str(&key.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn failure(id: &str) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id.to_string();
    f
}

/// The parts of an S3 event notification the handler reads (the rest of AWS's shape, such
/// as `userIdentity`, is not needed and not required).
#[derive(serde::Deserialize)]
struct Notification {
    #[serde(rename = "Records")]
    records: Vec<NotificationRecord>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationRecord {
    #[serde(default)]
    event_name: Option<String>,
    s3: NotificationEntity,
}

#[derive(serde::Deserialize)]
struct NotificationEntity {
    bucket: NamedBucket,
    object: NamedObject,
}

#[derive(serde::Deserialize)]
struct NamedBucket {
    name: String,
}

#[derive(serde::Deserialize)]
struct NamedObject {
    key: String,
}

/// The objects a message names, or why it cannot be used.
fn objects_of(body: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("the body is not JSON ({e}); expected an S3 event notification"))?;
    if value.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
        return Ok(vec![]);
    }
    let event: Notification = serde_json::from_value(value).map_err(|e| {
        format!("not an S3 event notification ({e}); point only S3 notifications at this queue")
    })?;
    Ok(event
        .records
        .into_iter()
        .filter(|r| r.event_name.as_deref().is_none_or(|n| n.starts_with("ObjectCreated")))
        .map(|r| (r.s3.bucket.name, decode_key(&r.s3.object.key)))
        .collect())
}

/// Handles one SQS batch.
pub async fn handle(ingest: &Ingest, event: SqsEvent) -> (SqsBatchResponse, IngestSummary) {
    let started = std::time::Instant::now();
    let mut summary = IngestSummary { messages: event.records.len(), ..Default::default() };
    let mut failed: Vec<String> = vec![];
    // Converted objects with the message they came from.
    let mut converted: Vec<(String, Converted)> = vec![];
    let mut fetches = vec![];
    for m in &event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let objects = match objects_of(m.body.as_deref().unwrap_or("")) {
            Ok(o) => o,
            Err(reason) => {
                tracing::error!(message_id = %id, reason = %reason, "ingest message refused");
                failed.push(id);
                continue;
            }
        };
        for (bucket, key) in objects {
            let table = match ingest.routes.route(&key) {
                Some(Route::Table(t)) => t,
                Some(Route::Skip(why)) => {
                    tracing::info!(object = %key, reason = why, "skipped");
                    continue;
                }
                None => {
                    tracing::warn!(object = %key, reason = "no source matches this key: set MANTISSA_INGEST_PREFIXES (e.g. s3access=access-logs/)", "skipped");
                    continue;
                }
            };
            summary.objects += 1;
            let ingest = ingest.clone();
            fetches.push((
                id.clone(),
                tokio::spawn(async move {
                    let store = ingest.stores.bucket(&bucket)?;
                    let raw = get_bytes(store.as_ref(), &bucket, &key).await?;
                    let name = format!("s3://{bucket}/{key}");
                    let cap = ingest.max_decoded;
                    let c = tokio::task::spawn_blocking(move || convert(table, Path::new(&name), &raw, cap))
                        .await
                        .map_err(|e| Error::backend("ingest convert", e))?;
                    Ok::<_, Error>(c)
                }),
            ));
        }
    }
    for (id, task) in fetches {
        match task.await.map_err(|e| Error::backend("ingest task", e)).and_then(|r| r) {
            Ok(c) => converted.push((id, c)),
            Err(e) => {
                // The error names the object; its message is retried (after the visibility
                // timeout), then dead-lettered.
                tracing::error!(message_id = %id, error = %e, "ingest object failed");
                failed.push(id);
            }
        }
    }
    for (_, c) in &converted {
        summary.records_read += c.report.read;
        summary.records_skipped += c.report.skipped;
        for issue in &c.report.issues {
            tracing::warn!(place = %issue.place, reason = %issue.reason, "record skipped");
        }
    }
    // Messages with a failed object are retried whole, so nothing of theirs is written now.
    converted.retain(|(id, _)| !failed.contains(id));
    let mut by_table: BTreeMap<Table, Vec<usize>> = BTreeMap::new();
    for (i, (_, c)) in converted.iter().enumerate() {
        by_table.entry(c.table).or_default().push(i);
    }
    let mut files = std::collections::BTreeSet::new();
    for (table, idx) in by_table {
        let sources: Vec<&Converted> = idx.iter().map(|&i| &converted[i].1).collect();
        match ingest.lake.write_batch(table, &sources).await {
            Ok(outcomes) => {
                for (&i, outcome) in idx.iter().zip(outcomes) {
                    let (id, c) = &converted[i];
                    match outcome {
                        SourceOutcome::Written(f) => {
                            summary.records_written += c.report.written;
                            files.extend(f);
                        }
                        SourceOutcome::AlreadyIngested(_) => summary.already_ingested += 1,
                        SourceOutcome::Busy => failed.push(id.clone()),
                        SourceOutcome::Empty => {}
                    }
                }
            }
            Err(e) => {
                tracing::error!(table = %table, error = %e, "lake write failed");
                failed.extend(idx.iter().map(|&i| converted[i].0.clone()));
            }
        }
    }
    failed.sort();
    failed.dedup();
    summary.failed_messages = failed.len();
    summary.parquet_files = files.len();
    tracing::info!(
        messages = summary.messages,
        objects = summary.objects,
        read = summary.records_read,
        written = summary.records_written,
        skipped = summary.records_skipped,
        already_ingested = summary.already_ingested,
        parquet_files = summary.parquet_files,
        failed_messages = summary.failed_messages,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "ingest batch"
    );
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed.iter().map(|id| failure(id)).collect();
    (response, summary)
}

/// The handler's parts from the Lambda's environment (`MANTISSA_LAKE_URL`, set by the template).
pub async fn from_env() -> Result<Ingest> {
    let env = std::env::var("MANTISSA_ENV").unwrap_or_else(|_| "dev".into());
    let settings = crate::aws::AwsSettings::new(&env);
    let conf = settings.sdk_config().await;
    let stores = S3Stores::new(&settings, &conf)?;
    let buckets = settings.buckets(&conf).await?;
    let lake = S3Lake::new(buckets.lake.clone(), stores.bucket(&buckets.lake.bucket)?);
    let max_decoded = match std::env::var("MANTISSA_INGEST_MAX_DECODED").ok().filter(|v| !v.trim().is_empty())
    {
        None => crate::ingest::DEFAULT_MAX_DECODED_BYTES,
        Some(v) => {
            crate::ingest::parse_size(&v).map_err(|e| Error::invalid("MANTISSA_INGEST_MAX_DECODED", e))?
        }
    };
    Ok(Ingest { lake, stores, routes: Routes::from_env()?, max_decoded })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_route_to_their_tables() {
        let r = Routes::default();
        let ct = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/11/20/123456789012_CloudTrail_us-east-1_20241120T1005Z_abc.json.gz";
        assert_eq!(r.route(ct), Some(Route::Table(Table::CloudTrail)));
        assert!(matches!(
            r.route("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/11/20/x.json.gz"),
            Some(Route::Skip(_))
        ));
        assert_eq!(
            r.route("AWSLogs/1/vpcflowlogs/us-east-1/2024/11/20/1_vpcflowlogs_us-east-1_fl-1_20241120T1000Z_h.log.gz"),
            Some(Route::Table(Table::VpcFlow))
        );
        assert_eq!(r.route("s3-access-logs/2024-11-20-10-00-00-ABCDEF"), Some(Route::Table(Table::S3Access)));
        assert_eq!(r.route("elsewhere/x.json"), None);
        let custom = Routes::parse("s3access=access/, lambda = cwl/").unwrap();
        assert_eq!(custom.route("cwl/2024/11/20/x.gz"), Some(Route::Table(Table::Lambda)));
        assert!(Routes::parse("syslog=x/").unwrap_err().to_string().contains("MANTISSA_INGEST_PREFIXES"));
    }

    #[test]
    fn notification_keys_are_url_decoded() {
        assert_eq!(decode_key("custom/my+file%3D1.json"), "custom/my file=1.json");
        assert_eq!(decode_key("a%2"), "a%2");
        assert_eq!(decode_key("100%"), "100%");
        assert_eq!(decode_key("a%2Bb+c"), "a+b c", "an encoded plus stays a plus");
    }

    #[test]
    fn test_events_and_non_notifications_are_told_apart() {
        assert_eq!(objects_of(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#), Ok(vec![]));
        assert!(objects_of("hello").unwrap_err().contains("not JSON"));
        assert!(objects_of(r#"{"Records": 3}"#).unwrap_err().contains("S3 event"));
    }
}
