//! `mantissa aws bootstrap`: creates one environment's tables, queues and Athena workgroup as
//! the deploy template would, for an emulator or a sandbox account. Safe to run again.

use super::AwsSettings;
use super::dynamo::{ENABLED_RULES_INDEX, RULE_ALERTS_INDEX, SEVERITY_INDEX, TYPE_INDEX};
use super::names::{self, Table};
use crate::error::{Error, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType, SseSpecification,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::HashMap;

/// Seconds SQS keeps messages: 4 days on the queue, 14 in the DLQ (the seed's design).
const RETENTION_SECS: u32 = 4 * 24 * 3600;
const DLQ_RETENTION_SECS: u32 = 14 * 24 * 3600;
/// The delivery Lambda's timeout is 60 s; SQS wants the visibility timeout at least 6x it.
const VISIBILITY_SECS: u32 = 360;

/// What one table looks like: hash, optional range, and GSIs (name, hash, optional range).
struct TableSpec {
    table: Table,
    hash: &'static str,
    range: Option<&'static str>,
    indexes: &'static [(&'static str, &'static str, Option<&'static str>)],
    ttl: Option<&'static str>,
}

const SPECS: [TableSpec; 5] = [
    TableSpec {
        table: Table::Rules,
        hash: "user_id",
        range: Some("rule_id"),
        indexes: &[(ENABLED_RULES_INDEX, "enabled", Some("last_executed"))],
        ttl: None,
    },
    TableSpec {
        table: Table::Integrations,
        hash: "user_id",
        range: Some("integration_id"),
        indexes: &[(TYPE_INDEX, "type", Some("created_at"))],
        ttl: None,
    },
    TableSpec {
        table: Table::AlertHistory,
        hash: "user_id",
        range: Some("alert_id"),
        indexes: &[
            (RULE_ALERTS_INDEX, "rule_id", Some("timestamp")),
            (SEVERITY_INDEX, "severity", Some("timestamp")),
        ],
        ttl: None,
    },
    TableSpec {
        table: Table::DedupCache,
        hash: "dedup_key",
        range: None,
        indexes: &[],
        ttl: Some("expires_at"),
    },
    TableSpec { table: Table::UserSettings, hash: "user_id", range: None, indexes: &[], ttl: None },
];

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| Error::backend("key schema", e))
}

fn keys(hash: &str, range: Option<&str>) -> Result<Vec<KeySchemaElement>> {
    let mut k = vec![key(hash, KeyType::Hash)?];
    if let Some(r) = range {
        k.push(key(r, KeyType::Range)?);
    }
    Ok(k)
}

/// Creates what is missing and says what it did, one line per resource.
pub async fn bootstrap(settings: &AwsSettings) -> Result<Vec<String>> {
    let conf = settings.sdk_config().await;
    let env = &settings.env;
    let mut report = vec![];

    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    for spec in &SPECS {
        let name = spec.table.name(env);
        let mut attrs: Vec<&str> = vec![spec.hash];
        attrs.extend(spec.range);
        for (_, h, r) in spec.indexes {
            attrs.push(h);
            attrs.extend(r);
        }
        attrs.sort();
        attrs.dedup();
        let mut create = ddb
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(keys(spec.hash, spec.range)?))
            .sse_specification(SseSpecification::builder().enabled(true).build());
        for a in attrs {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(a)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| Error::backend("attribute definition", e))?,
            );
        }
        for (index, h, r) in spec.indexes {
            create = create.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(*index)
                    .set_key_schema(Some(keys(h, *r)?))
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()
                    .map_err(|e| Error::backend("index", e))?,
            );
        }
        match create.send().await {
            Ok(_) => report.push(format!("created table {name}")),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {
                report.push(format!("table {name} exists"));
                continue;
            }
            Err(e) => return Err(super::sdk_err("dynamodb CreateTable", e)),
        }
        ddb.update_continuous_backups()
            .table_name(&name)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(|e| Error::backend("pitr", e))?,
            )
            .send()
            .await
            .map_err(|e| super::sdk_err("dynamodb UpdateContinuousBackups", e))?;
        if let Some(attr) = spec.ttl {
            ddb.update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attr)
                        .enabled(true)
                        .build()
                        .map_err(|e| Error::backend("ttl", e))?,
                )
                .send()
                .await
                .map_err(|e| super::sdk_err("dynamodb UpdateTimeToLive", e))?;
        }
    }

    let sqs = aws_sdk_sqs::Client::new(&conf);
    let fifo = |retention: u32| {
        HashMap::from([
            (QueueAttributeName::FifoQueue, "true".to_string()),
            (QueueAttributeName::ContentBasedDeduplication, "true".to_string()),
            (QueueAttributeName::MessageRetentionPeriod, retention.to_string()),
            (QueueAttributeName::VisibilityTimeout, VISIBILITY_SECS.to_string()),
        ])
    };
    let dlq_name = names::dead_letter_queue(env);
    let dlq_url = sqs
        .create_queue()
        .queue_name(&dlq_name)
        .set_attributes(Some(fifo(DLQ_RETENTION_SECS)))
        .send()
        .await
        .map_err(|e| super::sdk_err("sqs CreateQueue", e))?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| super::sdk_err("sqs GetQueueAttributes", e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    report.push(format!("queue {dlq_name} ready"));
    let mut attrs = fifo(RETENTION_SECS);
    attrs.insert(
        QueueAttributeName::RedrivePolicy,
        serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": crate::local::queue::MAX_RECEIVES })
            .to_string(),
    );
    let queue_name = names::alert_queue(env);
    sqs.create_queue()
        .queue_name(&queue_name)
        .set_attributes(Some(attrs))
        .send()
        .await
        .map_err(|e| super::sdk_err("sqs CreateQueue", e))?;
    report
        .push(format!("queue {queue_name} ready (DLQ after {} receives)", crate::local::queue::MAX_RECEIVES));

    let athena = aws_sdk_athena::Client::new(&conf);
    let wg = &settings.athena.workgroup;
    let mut config = aws_sdk_athena::types::WorkGroupConfiguration::builder()
        .enforce_work_group_configuration(false)
        .publish_cloud_watch_metrics_enabled(true);
    if let Some(out) = &settings.athena.output_location {
        config = config.result_configuration(
            aws_sdk_athena::types::ResultConfiguration::builder().output_location(out).build(),
        );
    }
    match athena.create_work_group().name(wg).configuration(config.build()).send().await {
        Ok(_) => report.push(format!("created Athena workgroup {wg}")),
        Err(e) if format!("{}", aws_sdk_athena::error::DisplayErrorContext(&e)).contains("already") => {
            report.push(format!("Athena workgroup {wg} exists"))
        }
        Err(e) => {
            return Err(Error::backend(
                "athena CreateWorkGroup",
                aws_sdk_athena::error::DisplayErrorContext(e),
            ));
        }
    }
    Ok(report)
}
