//! The lake on AWS, on moto: bootstrap twice (buckets, Glue tables with projection read back
//! through GetTable, nothing changed the second time); raw CloudTrail put into the raw bucket,
//! its real S3 notification taken from the ingest queue and handed to the ingest handler,
//! the Parquet read back from S3 by DataFusion, a rule over the S3 lake firing to a loopback
//! webhook, and the same query on Athena checked as sent; the Athena DDL parsed as Hive.

use super::moto::{self, REGION};
use super::suite::{integration, webhook};
use aws_sdk_sqs::types::MessageSystemAttributeName as A;
use datafusion::arrow::array::{Array, StringArray};
use mantissa_backend::aws::catalog;
use mantissa_backend::aws::lake::S3Lake;
use mantissa_backend::aws::s3::S3Stores;
use mantissa_backend::aws::{AwsSettings, names};
use mantissa_backend::deliver::DeliveryWorker;
use mantissa_backend::lambda::ingest::{Ingest, Routes, handle};
use mantissa_backend::local::LocalQueryEngine;
use mantissa_backend::model::{IntegrationKind, Rule, Severity, Table};
use object_store::{ObjectStoreExt, PutPayload};
use serde_json::json;
use std::io::Write;
use std::sync::Arc;

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

/// A CloudTrail file as JSON lines: `n` failed console logins from 203.0.113.9 in `region`,
/// then a torn line, then a record without an event time.
pub fn cloudtrail_lines(n: usize, minute: u32, region: &str) -> String {
    let mut lines = vec![];
    for i in 0..n {
        lines.push(
            json!({
                "eventVersion": "1.08", "eventTime": format!("2024-11-20T10:{minute:02}:{:02}Z", i % 60),
                "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": region,
                "sourceIPAddress": "203.0.113.9", "errorMessage": "Failed authentication",
                "userIdentity": {"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::123456789012:user/alice"},
                "eventID": format!("ev-{region}-{minute}-{i}"), "recipientAccountId": "123456789012"
            })
            .to_string(),
        );
    }
    lines.push(r#"{"eventTime": "2024-11-20T10:00:00Z", "eventName": "Consol"#.into());
    lines.push(json!({"eventName": "ListUsers", "awsRegion": "us-east-1"}).to_string());
    lines.join("\n")
}

async fn stores(settings: &AwsSettings) -> S3Stores {
    S3Stores::new(settings, &settings.sdk_config().await).unwrap()
}

/// The SQS event Lambda hands the ingest function, for messages just received.
fn sqs_event(settings: &AwsSettings, messages: &[aws_sdk_sqs::types::Message]) -> serde_json::Value {
    let records: Vec<_> = messages
        .iter()
        .map(|m| {
            let attrs = m.attributes.clone().unwrap_or_default();
            let get = |k: A| attrs.get(&k).cloned().unwrap_or_default();
            json!({
                "messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": get(A::ApproximateReceiveCount), "SentTimestamp": get(A::SentTimestamp),
                    "SenderId": get(A::SenderId), "ApproximateFirstReceiveTimestamp": get(A::ApproximateFirstReceiveTimestamp)
                },
                "messageAttributes": {}, "md5OfBody": m.md5_of_body, "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:{}", names::ingest_queue(&settings.env)),
                "awsRegion": REGION
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Everything on the ingest queue now (S3's test event and the notifications).
async fn drain_ingest_queue(settings: &AwsSettings) -> Vec<aws_sdk_sqs::types::Message> {
    let sqs = aws_sdk_sqs::Client::new(&settings.sdk_config().await);
    let url = sqs
        .get_queue_url()
        .queue_name(names::ingest_queue(&settings.env))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let mut all = vec![];
    for _ in 0..5 {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .message_system_attribute_names(A::All)
            .send()
            .await
            .unwrap();
        let got = out.messages.unwrap_or_default();
        if got.is_empty() {
            break;
        }
        all.extend(got);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_makes_the_lake_and_catalog_and_a_rerun_changes_nothing() {
    let mut settings = moto::settings();
    settings.lake.glacier_ir_days = 60;
    let first = mantissa_backend::aws::bootstrap::bootstrap(&settings).await.unwrap();
    let text = first.join("\n");
    for want in [
        "created bucket mantissa-log-lake-",
        "created Glue database",
        "created Glue table",
        "created queue mantissa-log-ingest-",
    ] {
        assert!(text.contains(want), "{want}:\n{text}");
    }
    assert!(!text.contains("nothing to change"), "{text}");
    let conf = settings.sdk_config().await;
    let buckets = settings.buckets(&conf).await.unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build(),
    );
    let lake = &buckets.lake.bucket;
    assert!(mantissa_backend::aws::bootstrap_lake::versioning_enabled(&s3, lake).await, "versioning on");
    let pab = s3
        .get_public_access_block()
        .bucket(lake)
        .send()
        .await
        .unwrap()
        .public_access_block_configuration
        .unwrap();
    assert_eq!((pab.block_public_acls, pab.restrict_public_buckets), (Some(true), Some(true)));
    assert!(
        s3.get_bucket_encryption()
            .bucket(lake)
            .send()
            .await
            .unwrap()
            .server_side_encryption_configuration
            .is_some()
    );
    let rules = s3.get_bucket_lifecycle_configuration().bucket(lake).send().await.unwrap();
    let tiers = rules.rules()[0].transitions();
    let tiers: Vec<(Option<i32>, String)> =
        tiers.iter().map(|t| (t.days(), t.storage_class().unwrap().as_str().to_string())).collect();
    assert_eq!(tiers, [(Some(60), "GLACIER_IR".to_string()), (Some(365), "DEEP_ARCHIVE".to_string())]);
    assert_eq!(rules.rules()[0].expiration().and_then(|e| e.days()), Some(2555));

    let glue = aws_sdk_glue::Client::new(&conf);
    for table in Table::ALL {
        let t = glue
            .get_table()
            .database_name(&settings.athena.database)
            .name(table.name())
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        let p = t.parameters().unwrap();
        assert_eq!(p["projection.enabled"], "true", "{table}");
        assert_eq!(p["projection.dt.type"], "date");
        assert_eq!(p["projection.dt.format"], "yyyy-MM-dd");
        assert_eq!(p["projection.dt.range"], format!("{},NOW", settings.lake.start_date));
        assert_eq!(
            p["storage.location.template"],
            format!("{}{}/dt=${{dt}}/", buckets.lake.url(""), table.name())
        );
        assert_eq!(t.partition_keys().iter().map(|k| k.name()).collect::<Vec<_>>(), ["dt"]);
        let sd = t.storage_descriptor().unwrap();
        assert!(sd.serde_info().and_then(|s| s.serialization_library()).unwrap().contains("Parquet"));
        let cols: Vec<(String, String)> =
            sd.columns().iter().map(|c| (c.name().to_string(), c.r#type().unwrap().to_string())).collect();
        assert_eq!(cols, catalog::columns(table), "{table}: Glue has the schema of model/tables.rs");
    }
    // The engine's table list on AWS comes from Glue.
    let s = mantissa_backend::services::Services::aws(&settings).await.unwrap();
    let tables = s.engine.tables().await.unwrap();
    assert_eq!(tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), {
        let mut n: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
        n.sort();
        n
    });
    assert!(tables[0].schema.field_with_name("dt").is_ok());

    let again = mantissa_backend::aws::bootstrap::bootstrap(&settings).await.unwrap();
    let text = again.join("\n");
    assert_eq!(
        again.last().map(String::as_str),
        Some("nothing to change: every resource was already as configured"),
        "{text}"
    );
    for changed in ["created", "updated", "set ", "now ", "blocked public access", " on `"] {
        assert!(!text.contains(changed), "`{changed}` on a rerun:\n{text}");
    }

    // What Athena sees is what rule checks plan against: a column added in Glue (a table
    // changed by hand or by a newer deploy) plans on AWS, and not on the built-in schemas.
    let t = glue
        .get_table()
        .database_name(&settings.athena.database)
        .name("custom_logs")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let mut sd = t.storage_descriptor().unwrap().clone();
    let mut cols = sd.columns().to_vec();
    cols.push(aws_sdk_glue::types::Column::builder().name("tenant").r#type("string").build().unwrap());
    sd.columns = Some(cols);
    let input = aws_sdk_glue::types::TableInput::builder()
        .name("custom_logs")
        .set_partition_keys(Some(t.partition_keys().to_vec()))
        .set_parameters(t.parameters().cloned())
        .set_table_type(t.table_type().map(str::to_string))
        .storage_descriptor(sd)
        .build()
        .unwrap();
    glue.update_table().database_name(&settings.athena.database).table_input(input).send().await.unwrap();
    let sql = "SELECT tenant FROM custom_logs WHERE dt = '2024-11-20'";
    let on_aws = mantissa_backend::query::planning_session(&s.engine.tables().await.unwrap()).unwrap();
    on_aws.state().create_logical_plan(sql).await.expect("Glue's column plans");
    let built_in =
        mantissa_backend::query::planning_session(&mantissa_backend::query::lake_tables()).unwrap();
    assert!(built_in.state().create_logical_plan(sql).await.is_err(), "the built-in schema has no tenant");

    // A setting removed by hand is put back by the next run, which says so.
    s3.delete_bucket_lifecycle().bucket(lake).send().await.unwrap();
    let fixed = mantissa_backend::aws::bootstrap::bootstrap(&settings).await.unwrap().join("\n");
    assert!(fixed.contains(&format!("bucket {lake}: lifecycle Standard -> Glacier IR at 60 d")), "{fixed}");
    assert!(!fixed.contains("nothing to change"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_cloudtrail_is_ingested_queried_and_alerted_on_the_s3_lake_without_athena() {
    let (settings, mut s) = moto::aws_services().await;
    let conf = settings.sdk_config().await;
    let buckets = settings.buckets(&conf).await.unwrap();
    let stores = stores(&settings).await;
    let raw = stores.bucket(&buckets.raw).unwrap();
    let key = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/11/20/123456789012_CloudTrail_us-east-1_20241120T1005Z_a1.json.gz";
    raw.put(&key.into(), PutPayload::from(gzip(&cloudtrail_lines(6, 5, "us-east-1")))).await.unwrap();

    // The notification S3 (moto) sent to the ingest queue, handed over as Lambda would.
    let messages = drain_ingest_queue(&settings).await;
    assert!(messages.iter().any(|m| m.body().unwrap_or("").contains("ObjectCreated")), "{messages:?}");
    let event: aws_lambda_events::sqs::SqsEvent =
        serde_json::from_value(sqs_event(&settings, &messages)).unwrap();
    let lake = S3Lake::new(buckets.lake.clone(), stores.bucket(&buckets.lake.bucket).unwrap());
    let ingest = Ingest {
        lake: lake.clone(),
        stores: stores.clone(),
        routes: Routes::default(),
        max_decoded: mantissa_backend::ingest::DEFAULT_MAX_DECODED_BYTES,
    };
    let (response, summary) = handle(&ingest, event.clone()).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    assert_eq!((summary.objects, summary.records_written, summary.parquet_files), (1, 6, 1), "{summary:?}");
    assert_eq!(summary.records_skipped, 2, "the torn line and the record without a time");
    let files = lake.files(Table::CloudTrail, "2024-11-20").await.unwrap();
    assert_eq!(files.len(), 1, "{files:?}");

    // The same notification again (SQS delivers at least once): nothing is written twice.
    let (response, again) = handle(&ingest, event).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!((again.already_ingested, again.records_written), (1, 0), "{again:?}");
    assert_eq!(lake.files(Table::CloudTrail, "2024-11-20").await.unwrap(), files);

    // DataFusion reads the S3 lake.
    let engine = Arc::new(LocalQueryEngine::with_context(lake.session().await.unwrap()));
    let sql = "SELECT eventname, useridentity.username AS who, count(*) AS n FROM cloudtrail_logs \
               WHERE dt = '2024-11-20' GROUP BY 1, 2";
    let out = mantissa_backend::query::run_to_end(engine.as_ref(), sql).await.unwrap();
    assert_eq!(out.num_rows(), 1);
    let b = &out.batches[0];
    let who = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(who.value(0), "alice");
    assert!(out.status.stats.bytes_scanned > 0);

    // A rule over the S3 lake fires, and its alert reaches a loopback webhook.
    s.engine = engine;
    let (url, hits) = webhook(200).await;
    let mut hook = integration("alice", "soc-hook", IntegrationKind::Webhook);
    hook.config = json!({ "url": url });
    hook.secret_ref = None;
    s.integrations.put_integration(&hook).await.unwrap();
    let mut rule = Rule::new(
        "console-brute-force",
        "Console login failures",
        "SELECT sourceipaddress, count(*) AS failures FROM cloudtrail_logs WHERE dt = '2024-11-20' \
         AND eventtime >= {window_start} AND eventtime < {window_end} \
         AND eventname = 'ConsoleLogin' AND errormessage = 'Failed authentication' GROUP BY 1 HAVING count(*) >= 5",
        Severity::High,
        "rate(15 minutes)".parse().unwrap(),
    );
    rule.threshold = mantissa_backend::model::Threshold::count(0);
    s.rules.put_rule("alice", &rule).await.unwrap();
    // The run's window ends the lateness allowance (15 minutes) before it fires.
    let at = chrono::DateTime::parse_from_rfc3339("2024-11-20T10:30:00Z").unwrap().to_utc();
    let fired = mantissa_backend::detect::fire(&s, "alice", &rule, at).await;
    assert_eq!(fired.error, None);
    assert_eq!(fired.alert_ids.len(), 1, "six failures from one address: one alert");
    let alert_id = fired.alert_ids[0].clone();
    let worker = DeliveryWorker::new(s.clone());
    for _ in 0..10 {
        worker.run_once(10).await.unwrap();
        if hits.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "the alert reached the webhook");
    let stored = s.alerts.get_alert("alice", &alert_id).await.unwrap().unwrap();
    assert_eq!(stored.result_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_many_files_makes_one_parquet_file_per_table_and_day() {
    let (settings, _) = moto::aws_services().await;
    let conf = settings.sdk_config().await;
    let buckets = settings.buckets(&conf).await.unwrap();
    let stores = stores(&settings).await;
    let raw = stores.bucket(&buckets.raw).unwrap();
    // Three regions, a file every 5 minutes for an hour: 36 deliveries.
    let per_file: usize =
        std::env::var("LAKE_EVENTS_PER_FILE").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
        for minute in (0..60).step_by(5) {
            let key = format!(
                "AWSLogs/123456789012/CloudTrail/{region}/2024/11/20/123456789012_CloudTrail_{region}_20241120T10{minute:02}Z_x.json.gz"
            );
            raw.put(
                &key.as_str().into(),
                PutPayload::from(gzip(&cloudtrail_lines(per_file, minute, region))),
            )
            .await
            .unwrap();
        }
    }
    let messages = drain_ingest_queue(&settings).await;
    let event: aws_lambda_events::sqs::SqsEvent =
        serde_json::from_value(sqs_event(&settings, &messages)).unwrap();
    let lake = S3Lake::new(buckets.lake.clone(), stores.bucket(&buckets.lake.bucket).unwrap());
    let ingest = Ingest {
        lake: lake.clone(),
        stores,
        routes: Routes::default(),
        max_decoded: mantissa_backend::ingest::DEFAULT_MAX_DECODED_BYTES,
    };
    let started = std::time::Instant::now();
    let (response, summary) = handle(&ingest, event).await;
    let secs = started.elapsed().as_secs_f64();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(summary.objects, 36, "{summary:?}");
    let files = lake.files(Table::CloudTrail, "2024-11-20").await.unwrap();
    assert_eq!(files.len(), 1, "36 deliveries, one batch: one file for the day ({files:?})");
    eprintln!(
        "ingest handler: {} objects, {} records written in {secs:.2} s ({:.0} events/s), {} file(s) for the day",
        summary.objects,
        summary.records_written,
        summary.records_written as f64 / secs,
        files.len()
    );
}

/// sqlparser's Hive dialect, plus the nested types (`struct<a:string>`, `map<k,v>`) that
/// Hive and Athena DDL have and sqlparser enables only for other dialects.
#[derive(Debug)]
struct HiveDdl;

impl datafusion::sql::sqlparser::dialect::Dialect for HiveDdl {
    fn dialect(&self) -> std::any::TypeId {
        std::any::TypeId::of::<datafusion::sql::sqlparser::dialect::HiveDialect>()
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        datafusion::sql::sqlparser::dialect::HiveDialect {}.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        datafusion::sql::sqlparser::dialect::HiveDialect {}.is_identifier_part(ch)
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        datafusion::sql::sqlparser::dialect::HiveDialect {}.is_delimited_identifier_start(ch)
    }
    fn supports_struct_literal(&self) -> bool {
        true
    }
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        true
    }
}

#[test]
fn athena_ddl_parses_as_hive_and_matches_the_local_schema_column_for_column() {
    use datafusion::sql::sqlparser::ast::{HiveDistributionStyle, Statement};
    use datafusion::sql::sqlparser::dialect::Dialect as _;
    use datafusion::sql::sqlparser::parser::Parser;
    let lake =
        mantissa_backend::aws::s3::S3Url::parse("s3://mantissa-log-lake-123456789012-us-east-1-dev").unwrap();
    // sqlparser prints `map<k,v>` as `MAP(k, v)`.
    let squash = |t: &str| t.to_ascii_lowercase().replace([' ', ':'], "").replace('(', "<").replace(')', ">");
    for table in Table::ALL {
        let ddl = catalog::ddl(&lake, table, "2024-01-01");
        assert!(HiveDdl.supports_struct_literal());
        let parsed = Parser::parse_sql(&HiveDdl, &ddl).unwrap_or_else(|e| panic!("{table}: {e}\n{ddl}"));
        let Statement::CreateTable(create) = &parsed[0] else { panic!("{table}: not a CREATE TABLE") };
        assert!(create.external && create.if_not_exists, "{table}");
        let schema = table.file_schema();
        assert_eq!(create.columns.len(), schema.fields().len(), "{table}");
        for (col, field) in create.columns.iter().zip(schema.fields()) {
            assert_eq!(col.name.value, *field.name(), "{table}");
            assert_eq!(
                squash(&col.data_type.to_string()),
                squash(&catalog::hive_type(field.data_type())),
                "{table}.{}",
                field.name()
            );
        }
        let HiveDistributionStyle::PARTITIONED { columns } = &create.hive_distribution else {
            panic!("{table}: not partitioned")
        };
        assert_eq!(columns.iter().map(|c| c.name.value.as_str()).collect::<Vec<_>>(), ["dt"]);
        assert!(ddl.contains("STORED AS PARQUET") && ddl.contains("'projection.dt.type'='date'"), "{ddl}");
        assert!(ddl.contains(&format!("LOCATION '{}/{}/'", lake, table.name())), "{ddl}");
    }
}

#[test]
fn the_deploy_template_has_the_glue_tables_of_the_schema_code() {
    let text = std::fs::read_to_string(moto::workspace_root().join("backend/deploy/template.yaml")).unwrap();
    for table in Table::ALL {
        let start = text
            .find(&format!("Name: {}\n", table.name()))
            .unwrap_or_else(|| panic!("{table} in the template"));
        let block = &text[start..];
        let block = &block[..block[1..].find("Type: AWS::").map(|i| i + 1).unwrap_or(block.len())];
        let cols: Vec<(String, String)> = block
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- { Name: "))
            .filter_map(|l| {
                let (name, rest) = l.split_once(", Type: \"")?;
                Some((name.to_string(), rest.trim_end_matches("\" }").to_string()))
            })
            .collect();
        assert_eq!(
            cols,
            catalog::columns(table),
            "{table}: template.yaml columns drifted from model/tables.rs"
        );
        assert!(
            block.contains("projection.dt.type: date") && block.contains("storage.location.template"),
            "{table}"
        );
    }
    assert!(text.contains("target/lambda/mantissa-ingest/"), "the ingest Lambda is deployed");
    assert!(text.contains("FunctionResponseTypes: [ReportBatchItemFailures]"));
    assert!(text.contains("MaximumBatchingWindowInSeconds: 300"));
}
