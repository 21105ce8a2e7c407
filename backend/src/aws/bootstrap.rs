//! `mantissa aws bootstrap`: creates one environment's tables, queues, lake buckets, Glue
//! catalog and Athena workgroup as the deploy template would, for an emulator or a sandbox
//! account. Safe to run again: a rerun fixes settings that are missing and reports the rest.

use super::AwsSettings;
use super::bootstrap_lake::{Steps, bootstrap_lake, ensure_queue};
use super::dynamo::{
    ENABLED_RULES_INDEX, RULE_ALERTS_INDEX, SCHEDULE_INDEX, SEVERITY_INDEX, TYPE_INDEX, USER_TIME_INDEX,
};
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

const SPECS: [TableSpec; 8] = [
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
            (USER_TIME_INDEX, "user_id", Some("timestamp")),
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
    // One item an entry: `entry_key` is `<alert_id>#<time>#<id>`, so one alert's log is one
    // Query in time order and an append never rewrites the alert's item.
    TableSpec {
        table: Table::AlertActivity,
        hash: "user_id",
        range: Some("entry_key"),
        indexes: &[],
        ttl: None,
    },
    // One item a case; a user's cases are one Query.
    TableSpec { table: Table::Cases, hash: "user_id", range: Some("case_id"), indexes: &[], ttl: None },
    // Which rule runs on which schedule expression; the tick of one expression reads its GSI.
    TableSpec {
        table: Table::Schedules,
        hash: "user_id",
        range: Some("rule_id"),
        indexes: &[(SCHEDULE_INDEX, "expression", None)],
        ttl: None,
    },
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

/// Creates what is missing, fixes settings that differ, and says what it did, one line per
/// resource; the last line says when nothing needed changing.
pub async fn bootstrap(settings: &AwsSettings) -> Result<Vec<String>> {
    let conf = settings.sdk_config().await;
    let env = &settings.env;
    let mut steps = Steps::default();

    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    for spec in &SPECS {
        ensure_table(&ddb, spec, &spec.table.name(env), &mut steps).await?;
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
    let (_, dlq_arn) = ensure_queue(&sqs, &dlq_name, fifo(DLQ_RETENTION_SECS), &mut steps).await?;
    let mut attrs = fifo(RETENTION_SECS);
    attrs.insert(
        QueueAttributeName::RedrivePolicy,
        serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": crate::local::queue::MAX_RECEIVES })
            .to_string(),
    );
    let queue_name = names::alert_queue(env);
    ensure_queue(&sqs, &queue_name, attrs, &mut steps).await?;

    // The lake: buckets, ingest queue, catalog; the workgroup writes to the results bucket.
    let (buckets, lake) = bootstrap_lake(settings, &conf).await?;
    steps.lines.extend(lake.lines);
    steps.changed |= lake.changed;
    ensure_workgroup(settings, &conf, &buckets.results.url(""), &mut steps).await?;
    steps.lines.push(format!(
        "lake {} (raw logs in s3://{}, Athena results in {})",
        buckets.lake, buckets.raw, buckets.results
    ));
    if !steps.changed {
        steps.lines.push("nothing to change: every resource was already as configured".into());
    }
    Ok(steps.lines)
}

/// Waits until the table and its indexes are ACTIVE (TTL, PITR and a next index are refused
/// before) and returns its description.
async fn wait_active(
    ddb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<aws_sdk_dynamodb::types::TableDescription> {
    use aws_sdk_dynamodb::types::{IndexStatus, TableStatus};
    for _ in 0..120 {
        let t = ddb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| super::sdk_err("dynamodb DescribeTable", e))?;
        if let Some(t) = t.table
            && t.table_status == Some(TableStatus::Active)
            && t.global_secondary_indexes()
                .iter()
                .all(|g| g.index_status.as_ref().is_none_or(|s| *s == IndexStatus::Active))
        {
            return Ok(t);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(Error::backend(
        "dynamodb",
        format!("table {name} did not become ACTIVE within 60 s; run bootstrap again"),
    ))
}

async fn ensure_table(
    ddb: &aws_sdk_dynamodb::Client,
    spec: &TableSpec,
    name: &str,
    steps: &mut Steps,
) -> Result<()> {
    let mut attrs: Vec<&str> = vec![spec.hash];
    attrs.extend(spec.range);
    for (_, h, r) in spec.indexes {
        attrs.push(h);
        attrs.extend(r);
    }
    attrs.sort();
    attrs.dedup();
    let definition = |a: &str| {
        AttributeDefinition::builder()
            .attribute_name(a)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| Error::backend("attribute definition", e))
    };
    let index = |(name, h, r): &(&str, &str, Option<&str>)| {
        GlobalSecondaryIndex::builder()
            .index_name(*name)
            .set_key_schema(Some(keys(h, *r)?))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(|e| Error::backend("index", e))
    };
    let mut create = ddb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(keys(spec.hash, spec.range)?))
        .sse_specification(SseSpecification::builder().enabled(true).build());
    for a in attrs {
        create = create.attribute_definitions(definition(a)?);
    }
    for i in spec.indexes {
        create = create.global_secondary_indexes(index(i)?);
    }
    let existed = match create.send().await {
        Ok(_) => {
            steps.did(format!("created table {name}"));
            false
        }
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {
            steps.same(format!("table {name} exists"));
            true
        }
        Err(e) => return Err(super::sdk_err("dynamodb CreateTable", e)),
    };
    let table = wait_active(ddb, name).await?;
    if existed {
        // An index added in a later version is created on the table an earlier one made.
        let have: Vec<String> =
            table.global_secondary_indexes().iter().filter_map(|g| g.index_name.clone()).collect();
        for i in spec.indexes.iter().filter(|i| !have.iter().any(|h| h == i.0)) {
            let built = index(i)?;
            let create = aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                .index_name(i.0)
                .set_key_schema(Some(built.key_schema))
                .set_projection(built.projection)
                .build()
                .map_err(|e| Error::backend("index", e))?;
            let mut update = ddb.update_table().table_name(name).global_secondary_index_updates(
                aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder().create(create).build(),
            );
            for a in std::iter::once(i.1).chain(i.2) {
                update = update.attribute_definitions(definition(a)?);
            }
            update.send().await.map_err(|e| super::sdk_err("dynamodb UpdateTable (add index)", e))?;
            steps.did(format!("table {name}: index {} added", i.0));
            wait_active(ddb, name).await?;
        }
    }
    let pitr = ddb
        .describe_continuous_backups()
        .table_name(name)
        .send()
        .await
        .map_err(|e| super::sdk_err("dynamodb DescribeContinuousBackups", e))?
        .continuous_backups_description
        .and_then(|d| d.point_in_time_recovery_description)
        .and_then(|p| p.point_in_time_recovery_status);
    if pitr != Some(aws_sdk_dynamodb::types::PointInTimeRecoveryStatus::Enabled) {
        ddb.update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(|e| Error::backend("pitr", e))?,
            )
            .send()
            .await
            .map_err(|e| super::sdk_err("dynamodb UpdateContinuousBackups", e))?;
        steps.did(format!("table {name}: point-in-time recovery on"));
    }
    if let Some(attr) = spec.ttl {
        let ttl = ddb
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| super::sdk_err("dynamodb DescribeTimeToLive", e))?
            .time_to_live_description;
        let on = ttl.is_some_and(|t| {
            t.attribute_name.as_deref() == Some(attr)
                && matches!(
                    t.time_to_live_status,
                    Some(
                        aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled
                            | aws_sdk_dynamodb::types::TimeToLiveStatus::Enabling
                    )
                )
        });
        if !on {
            ddb.update_time_to_live()
                .table_name(name)
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
            steps.did(format!("table {name}: TTL on `{attr}`"));
        }
    }
    Ok(())
}

/// The Athena workgroup, always with a result location (the results bucket unless
/// `MANTISSA_ATHENA_OUTPUT` names one); an existing workgroup without one gets it.
async fn ensure_workgroup(
    settings: &AwsSettings,
    conf: &aws_config::SdkConfig,
    output: &str,
    steps: &mut Steps,
) -> Result<()> {
    use aws_sdk_athena::types::{
        ResultConfiguration, ResultConfigurationUpdates, WorkGroupConfigurationUpdates,
    };
    let athena = aws_sdk_athena::Client::new(conf);
    let wg = &settings.athena.workgroup;
    let athena_err = |what: &'static str, e: String| Error::backend(what, e);
    // A missing workgroup is an error on AWS and an empty answer on some emulators.
    let existing = athena.get_work_group().work_group(wg).send().await.ok().and_then(|o| o.work_group);
    match existing {
        Some(found) => {
            let location =
                found.configuration.and_then(|c| c.result_configuration).and_then(|r| r.output_location);
            match location {
                Some(l) => steps.same(format!("Athena workgroup {wg} exists (results to {l})")),
                None => {
                    athena
                        .update_work_group()
                        .work_group(wg)
                        .configuration_updates(
                            WorkGroupConfigurationUpdates::builder()
                                .result_configuration_updates(
                                    ResultConfigurationUpdates::builder().output_location(output).build(),
                                )
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(|e| {
                            athena_err(
                                "athena UpdateWorkGroup",
                                aws_sdk_athena::error::DisplayErrorContext(e).to_string(),
                            )
                        })?;
                    steps.did(format!("Athena workgroup {wg}: results now go to {output}"));
                }
            }
        }
        None => {
            let config = aws_sdk_athena::types::WorkGroupConfiguration::builder()
                .enforce_work_group_configuration(false)
                .publish_cloud_watch_metrics_enabled(true)
                .result_configuration(ResultConfiguration::builder().output_location(output).build())
                .build();
            athena.create_work_group().name(wg).configuration(config).send().await.map_err(|e| {
                athena_err(
                    "athena CreateWorkGroup",
                    aws_sdk_athena::error::DisplayErrorContext(e).to_string(),
                )
            })?;
            steps.did(format!("created Athena workgroup {wg} (results to {output})"));
        }
    }
    Ok(())
}
