//! The lake part of `aws bootstrap`: the lake bucket (SSE, versioning, public access blocked,
//! lifecycle tiers), the raw bucket and its ObjectCreated notifications to the ingest queue
//! (with its DLQ), the Athena results bucket, and the Glue catalog. Each setting is read
//! first and written only when missing or different, so a rerun reports what it fixed.

use super::{AwsSettings, Buckets, LakeSettings, catalog, names, sdk_err};
use crate::error::{Error, Result};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, Event, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, NotificationConfiguration,
    PublicAccessBlockConfiguration, QueueConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Transition, TransitionStorageClass,
    VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::HashMap;

/// Athena results can be re-run; they are kept 30 days.
const RESULTS_EXPIRE_DAYS: i32 = 30;
/// The ingest Lambda's timeout is 300 s; SQS wants the visibility timeout at least 6x it.
const INGEST_VISIBILITY_SECS: u32 = 1800;
const INGEST_RETENTION_SECS: u32 = 4 * 24 * 3600;
const INGEST_DLQ_RETENTION_SECS: u32 = 14 * 24 * 3600;
/// Receives before an S3 notification goes to the ingest DLQ.
pub const INGEST_MAX_RECEIVES: u32 = 3;

/// What a bootstrap step did: its lines, and whether it changed anything.
#[derive(Default)]
pub struct Steps {
    pub lines: Vec<String>,
    pub changed: bool,
}

impl Steps {
    pub(super) fn same(&mut self, line: String) {
        self.lines.push(line);
    }
    pub(super) fn did(&mut self, line: String) {
        self.lines.push(line);
        self.changed = true;
    }
}

fn build<T, E: std::fmt::Display>(what: &'static str, r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| Error::backend(what, e))
}

/// The lifecycle rules of each bucket.
fn lifecycle(kind: BucketKind, lake: &LakeSettings) -> Result<LifecycleRule> {
    let rule = LifecycleRule::builder()
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build());
    let rule = match kind {
        BucketKind::Lake => rule
            .id("mantissa-tiers")
            .transitions(
                Transition::builder()
                    .days(lake.glacier_ir_days)
                    .storage_class(TransitionStorageClass::GlacierIr)
                    .build(),
            )
            .transitions(
                Transition::builder()
                    .days(lake.deep_archive_days)
                    .storage_class(TransitionStorageClass::DeepArchive)
                    .build(),
            )
            .expiration(LifecycleExpiration::builder().days(lake.expire_days).build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder().noncurrent_days(30).build(),
            ),
        BucketKind::Raw => rule
            .id("mantissa-raw-retention")
            .expiration(LifecycleExpiration::builder().days(lake.raw_retention_days).build()),
        BucketKind::Results => rule
            .id("mantissa-results-expiry")
            .expiration(LifecycleExpiration::builder().days(RESULTS_EXPIRE_DAYS).build()),
    };
    build("s3 lifecycle rule", rule.build())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BucketKind {
    Lake,
    Raw,
    Results,
}

/// `(id, [(days, class)], expiry days)` of a rule, to compare what S3 has with what we want.
type RuleKey = (Option<String>, Vec<(Option<i32>, String)>, Option<i32>);

fn rule_key(r: &LifecycleRule) -> RuleKey {
    let mut t: Vec<_> = r
        .transitions()
        .iter()
        .map(|t| (t.days(), t.storage_class().map(|c| c.as_str().to_string()).unwrap_or_default()))
        .collect();
    t.sort();
    (r.id().map(str::to_string), t, r.expiration().and_then(|e| e.days()))
}

async fn ensure_bucket(
    s3: &aws_sdk_s3::Client,
    name: &str,
    region: &str,
    kind: BucketKind,
    lake: &LakeSettings,
    steps: &mut Steps,
) -> Result<()> {
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => steps.same(format!("bucket {name} exists")),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {
            let mut create = s3.create_bucket().bucket(name);
            if region != "us-east-1" {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(region))
                        .build(),
                );
            }
            match create.send().await {
                Ok(_) => steps.did(format!("created bucket {name}")),
                // Made by a bootstrap running at the same time (a shared results bucket).
                Err(e) if e.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => {
                    steps.same(format!("bucket {name} exists"))
                }
                Err(e) => {
                    return Err(sdk_err(
                        "s3 CreateBucket (bucket names are global: set MANTISSA_LAKE_URL)",
                        e,
                    ));
                }
            }
        }
        Err(e) => return Err(sdk_err("s3 HeadBucket (is the bucket another account's?)", e)),
    }
    let blocked = s3.get_public_access_block().bucket(name).send().await.ok().and_then(|o| {
        o.public_access_block_configuration.map(|c| {
            [c.block_public_acls, c.ignore_public_acls, c.block_public_policy, c.restrict_public_buckets]
                .iter()
                .all(|v| *v == Some(true))
        })
    });
    if blocked == Some(true) {
        steps.same(format!("bucket {name}: public access blocked"));
    } else {
        s3.put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_err("s3 PutPublicAccessBlock", e))?;
        steps.did(format!("bucket {name}: blocked public access"));
    }
    let encrypted = s3.get_bucket_encryption().bucket(name).send().await.ok().is_some_and(|o| {
        o.server_side_encryption_configuration
            .is_some_and(|c| c.rules().iter().any(|r| r.apply_server_side_encryption_by_default().is_some()))
    });
    if encrypted {
        steps.same(format!("bucket {name}: encrypted"));
    } else {
        let default = build(
            "s3 encryption",
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build(),
        )?;
        let config = build(
            "s3 encryption",
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(default)
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build(),
        )?;
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(config)
            .send()
            .await
            .map_err(|e| sdk_err("s3 PutBucketEncryption", e))?;
        steps.did(format!("bucket {name}: default encryption SSE-S3"));
    }
    if kind == BucketKind::Lake {
        let versioned = versioning_enabled(s3, name).await;
        if versioned {
            steps.same(format!("bucket {name}: versioning on"));
        } else {
            s3.put_bucket_versioning()
                .bucket(name)
                .versioning_configuration(
                    VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build(),
                )
                .send()
                .await
                .map_err(|e| sdk_err("s3 PutBucketVersioning", e))?;
            steps.did(format!("bucket {name}: versioning on"));
        }
    }
    let want = lifecycle(kind, lake)?;
    let have = s3.get_bucket_lifecycle_configuration().bucket(name).send().await.ok();
    let matches = have.is_some_and(|h| h.rules().iter().any(|r| rule_key(r) == rule_key(&want)));
    if matches {
        steps.same(format!("bucket {name}: lifecycle as configured"));
    } else {
        let line = match kind {
            BucketKind::Lake => format!(
                "bucket {name}: lifecycle Standard -> Glacier IR at {} d -> Deep Archive at {} d -> expire at {} d",
                lake.glacier_ir_days, lake.deep_archive_days, lake.expire_days
            ),
            BucketKind::Raw => format!("bucket {name}: raw files expire after {} d", lake.raw_retention_days),
            BucketKind::Results => format!("bucket {name}: results expire after {RESULTS_EXPIRE_DAYS} d"),
        };
        s3.put_bucket_lifecycle_configuration()
            .bucket(name)
            .lifecycle_configuration(build(
                "s3 lifecycle",
                BucketLifecycleConfiguration::builder().rules(want).build(),
            )?)
            .send()
            .await
            .map_err(|e| sdk_err("s3 PutBucketLifecycleConfiguration", e))?;
        steps.did(line);
    }
    Ok(())
}

/// Whether versioning is on. Some emulators (moto 5.2) answer with a misnamed XML root that
/// the SDK refuses; the status is then read from the raw answer.
pub async fn versioning_enabled(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(o) => o.status == Some(BucketVersioningStatus::Enabled),
        Err(e) => e
            .raw_response()
            .and_then(|r| r.body().bytes())
            .is_some_and(|b| String::from_utf8_lossy(b).contains("<Status>Enabled</Status>")),
    }
}

/// A standard queue with these attributes: created when missing, attributes fixed when they
/// differ. Returns (url, arn).
pub(super) async fn ensure_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attrs: HashMap<QueueAttributeName, String>,
    steps: &mut Steps,
) -> Result<(String, String)> {
    let url = match sqs.get_queue_url().queue_name(name).send().await {
        Ok(o) => o.queue_url.unwrap_or_default(),
        Err(_) => {
            let out = sqs
                .create_queue()
                .queue_name(name)
                .set_attributes(Some(attrs.clone()))
                .send()
                .await
                .map_err(|e| sdk_err("sqs CreateQueue", e))?;
            steps.did(format!("created queue {name}"));
            out.queue_url.unwrap_or_default()
        }
    };
    let have = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .map_err(|e| sdk_err("sqs GetQueueAttributes", e))?
        .attributes
        .unwrap_or_default();
    let same = |k: &QueueAttributeName, v: &String| match k {
        QueueAttributeName::Policy | QueueAttributeName::RedrivePolicy => {
            have.get(k).and_then(|h| serde_json::from_str::<serde_json::Value>(h).ok()).is_some_and(|h| {
                serde_json::from_str::<serde_json::Value>(v).ok().is_some_and(|w| json_eq(&h, &w))
            })
        }
        _ => have.get(k) == Some(v),
    };
    let differ: HashMap<_, _> = attrs.into_iter().filter(|(k, v)| !same(k, v)).collect();
    if differ.is_empty() {
        steps.same(format!("queue {name} as configured"));
    } else {
        let keys: Vec<&str> = differ.keys().map(|k| k.as_str()).collect();
        let line = format!("queue {name}: set {}", keys.join(", "));
        sqs.set_queue_attributes()
            .queue_url(&url)
            .set_attributes(Some(differ))
            .send()
            .await
            .map_err(|e| sdk_err("sqs SetQueueAttributes", e))?;
        steps.did(line);
    }
    let arn = have.get(&QueueAttributeName::QueueArn).cloned().unwrap_or_default();
    Ok((url, arn))
}

/// JSON equality where numbers and their string forms are the same (SQS echoes
/// `maxReceiveCount` either way).
fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_eq(v, w)),
        (Number(n), String(s)) | (String(s), Number(n)) => n.to_string() == *s,
        _ => a == b,
    }
}

/// Buckets, the ingest queue and DLQ, the raw bucket's notifications, and the catalog.
pub async fn bootstrap_lake(
    settings: &AwsSettings,
    conf: &aws_config::SdkConfig,
) -> Result<(Buckets, Steps)> {
    settings.lake.check()?;
    let region = conf.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let buckets = settings.buckets(conf).await?;
    let mut steps = Steps::default();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf).force_path_style(settings.endpoint_url.is_some()).build(),
    );
    ensure_bucket(&s3, &buckets.lake.bucket, &region, BucketKind::Lake, &settings.lake, &mut steps).await?;
    ensure_bucket(&s3, &buckets.raw, &region, BucketKind::Raw, &settings.lake, &mut steps).await?;
    ensure_bucket(&s3, &buckets.results.bucket, &region, BucketKind::Results, &settings.lake, &mut steps)
        .await?;

    let sqs = aws_sdk_sqs::Client::new(conf);
    let dlq_name = names::ingest_dead_letter_queue(&settings.env);
    let (_, dlq_arn) = ensure_queue(
        &sqs,
        &dlq_name,
        HashMap::from([(QueueAttributeName::MessageRetentionPeriod, INGEST_DLQ_RETENTION_SECS.to_string())]),
        &mut steps,
    )
    .await?;
    let queue_name = names::ingest_queue(&settings.env);
    let raw_arn = format!("arn:aws:s3:::{}", buckets.raw);
    // The queue's own ARN for the policy: account and region as the DLQ's.
    let queue_arn =
        dlq_arn.rsplit_once(':').map(|(head, _)| format!("{head}:{queue_name}")).unwrap_or_default();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "raw-bucket-notifications",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnLike": {"aws:SourceArn": raw_arn}}
        }]
    });
    let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": INGEST_MAX_RECEIVES});
    let (_, queue_arn) = ensure_queue(
        &sqs,
        &queue_name,
        HashMap::from([
            (QueueAttributeName::MessageRetentionPeriod, INGEST_RETENTION_SECS.to_string()),
            (QueueAttributeName::VisibilityTimeout, INGEST_VISIBILITY_SECS.to_string()),
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (QueueAttributeName::Policy, policy.to_string()),
        ]),
        &mut steps,
    )
    .await?;

    let notifies = s3
        .get_bucket_notification_configuration()
        .bucket(&buckets.raw)
        .send()
        .await
        .ok()
        .is_some_and(|n| n.queue_configurations().iter().any(|q| q.queue_arn() == queue_arn));
    if notifies {
        steps.same(format!("bucket {}: new objects notify {queue_name}", buckets.raw));
    } else {
        let q = build(
            "s3 notification",
            QueueConfiguration::builder()
                .id("mantissa-ingest")
                .queue_arn(&queue_arn)
                .events(Event::S3ObjectCreated)
                .build(),
        )?;
        s3.put_bucket_notification_configuration()
            .bucket(&buckets.raw)
            .notification_configuration(NotificationConfiguration::builder().queue_configurations(q).build())
            .send()
            .await
            .map_err(|e| sdk_err("s3 PutBucketNotificationConfiguration", e))?;
        steps.did(format!("bucket {}: new objects now notify {queue_name}", buckets.raw));
    }

    let glue = aws_sdk_glue::Client::new(conf);
    let (lines, changed) =
        catalog::ensure(&glue, &settings.athena.database, &buckets.lake, &settings.lake.start_date).await?;
    steps.lines.extend(lines);
    steps.changed |= changed;
    Ok((buckets, steps))
}
