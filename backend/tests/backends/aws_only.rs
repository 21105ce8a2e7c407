//! What only the AWS backend has, on moto: the seed's item layout read back raw, the GSIs,
//! table/queue settings from bootstrap, EventBridge names and target input, Athena jobs,
//! and the three Lambda handlers called with real event JSON.

use super::moto::{self, REGION};
use super::suite::{alert, integration, webhook};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use mantissa_backend::aws::dynamo::DynamoStore;
use mantissa_backend::aws::events::EventBridgeScheduler;
use mantissa_backend::aws::names::{self, Table};
use mantissa_backend::deliver::worker::DeliveryWorker;
use mantissa_backend::model::{IntegrationKind, QueryState, Rule, Severity};
use mantissa_backend::ports::{PageRequest, ScheduledRule, Scheduler};
use mantissa_backend::{lambda, query};
use serde_json::json;

/// moto keeps one queue of configured Athena results per account, so Athena tests take turns.
pub static ATHENA: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn ddb(settings: &mantissa_backend::aws::AwsSettings) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&settings.sdk_config().await)
}

async fn raw_item(
    c: &aws_sdk_dynamodb::Client,
    table: String,
    key: &[(&str, &str)],
) -> std::collections::HashMap<String, AttributeValue> {
    let mut get = c.get_item().table_name(table);
    for (k, v) in key {
        get = get.key(*k, AttributeValue::S(v.to_string()));
    }
    get.send().await.unwrap().item.expect("item exists")
}

fn text(v: Option<&AttributeValue>) -> &str {
    v.and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("<not a string>")
}

/// Configures the rows moto returns for the next Athena query (the header row first).
async fn athena_results(columns: &[(&str, &str)], rows: &[Vec<Option<&str>>]) {
    let header = json!({"Data": columns.iter().map(|(n, _)| json!({"VarCharValue": n})).collect::<Vec<_>>()});
    let data = rows.iter().map(|r| {
        json!({"Data": r.iter().map(|c| match c { Some(v) => json!({"VarCharValue": v}), None => json!({}) }).collect::<Vec<_>>()})
    });
    let body = json!({
        "region": REGION,
        "results": [{
            "rows": std::iter::once(header).chain(data).collect::<Vec<_>>(),
            "column_info": columns.iter().map(|(n, t)| json!({"Name": n, "Label": n, "Type": t, "Nullable": "NULLABLE"})).collect::<Vec<_>>(),
        }],
    });
    let url = format!("{}/moto-api/static/athena/query-results", moto::moto().endpoint);
    let resp = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_read_back_in_the_seed_layout() {
    let (settings, s) = moto::aws_services().await;
    let c = ddb(&settings).await;
    let mut rule =
        Rule::new("root-use", "Root use", "SELECT 1", Severity::High, "rate(5 minutes)".parse().unwrap());
    rule.threshold = mantissa_backend::model::Threshold::count(2);
    s.rules.put_rule("alice", &rule).await.unwrap();
    let item =
        raw_item(&c, Table::Rules.name(&settings.env), &[("user_id", "alice"), ("rule_id", "root-use")])
            .await;
    assert_eq!(text(item.get("enabled")), "true", "a GSI key: the string, not a boolean");
    assert_eq!(text(item.get("schedule")), "rate(5 minutes)");
    assert_eq!(text(item.get("severity")), "high");
    assert_eq!(text(item.get("query")), "SELECT 1");
    assert!(text(item.get("last_executed")).ends_with('Z'));
    let threshold = item["threshold"].as_m().unwrap();
    assert_eq!((text(threshold.get("type")), threshold["value"].as_n().unwrap().as_str()), ("count", "2"));
    assert!(!item.contains_key("id"), "the key is rule_id");

    let a = alert("alice", "root-use", Severity::Critical, 0);
    s.alerts.put_alert(&a).await.unwrap();
    s.alerts
        .record_attempt(
            "alice",
            &a.id,
            &super::suite::attempt("hook-1", 1, mantissa_backend::model::DeliveryStatus::Delivered),
        )
        .await
        .unwrap();
    let item =
        raw_item(&c, Table::AlertHistory.name(&settings.env), &[("user_id", "alice"), ("alert_id", &a.id)])
            .await;
    assert_eq!(text(item.get("rule_id")), "root-use");
    assert_eq!(text(item.get("severity")), "critical");
    assert_eq!(text(item.get("summary")), a.summary);
    assert_eq!(item["result_count"].as_n().unwrap(), "3");
    assert_eq!(text(item.get("timestamp")), mantissa_backend::aws::dynamo::timestamp(a.created_at));
    let attempts = item["delivery_attempts"].as_l().unwrap();
    assert_eq!(text(attempts[0].as_m().unwrap().get("status")), "delivered");

    let i = integration("alice", "slack-1", IntegrationKind::Slack);
    s.integrations.put_integration(&i).await.unwrap();
    s.secrets
        .put_secret(
            i.secret_ref.as_deref().unwrap(),
            r#"{"webhook_url":"https://hooks.slack.com/services/T0/B0/sekrit"}"#,
        )
        .await
        .unwrap();
    let item = raw_item(
        &c,
        Table::Integrations.name(&settings.env),
        &[("user_id", "alice"), ("integration_id", "slack-1")],
    )
    .await;
    assert_eq!(text(item.get("type")), "slack");
    assert_eq!(text(item.get("secret_ref")), names::integration_secret("alice", "slack-1"));
    assert!(!format!("{item:?}").contains("sekrit"), "the table holds the secret's name only");

    let until = Utc::now() + chrono::Duration::minutes(5);
    s.dedup.insert_if_absent("dk", "a1", until).await.unwrap();
    let item = raw_item(&c, Table::DedupCache.name(&settings.env), &[("dedup_key", "dk")]).await;
    assert_eq!(item["expires_at"].as_n().unwrap(), &until.timestamp().to_string(), "TTL: epoch seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_makes_the_template_tables_queues_and_is_idempotent() {
    let (settings, _) = moto::aws_services().await;
    let again = mantissa_backend::aws::bootstrap::bootstrap(&settings).await.unwrap();
    assert!(again.iter().any(|l| l.contains("exists")), "{again:?}");
    let c = ddb(&settings).await;
    let alerts = c
        .describe_table()
        .table_name(Table::AlertHistory.name(&settings.env))
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let mut gsis: Vec<String> =
        alerts.global_secondary_indexes().iter().filter_map(|g| g.index_name.clone()).collect();
    gsis.sort();
    assert_eq!(gsis, ["rule-alerts-index", "severity-index", "user-time-index"]);
    // A table made before an index existed gets it on the next run.
    let name = Table::AlertHistory.name(&settings.env);
    c.update_table()
        .table_name(&name)
        .global_secondary_index_updates(
            aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                .delete(
                    aws_sdk_dynamodb::types::DeleteGlobalSecondaryIndexAction::builder()
                        .index_name("user-time-index")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let fixed = mantissa_backend::aws::bootstrap::bootstrap(&settings).await.unwrap();
    assert!(fixed.contains(&format!("table {name}: index user-time-index added")), "{fixed:?}");
    let table = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
    assert_eq!(table.global_secondary_indexes().len(), 3, "{table:?}");
    assert!(alerts.sse_description.is_some(), "SSE on");
    let ttl =
        c.describe_time_to_live().table_name(Table::DedupCache.name(&settings.env)).send().await.unwrap();
    assert_eq!(ttl.time_to_live_description.and_then(|t| t.attribute_name), Some("expires_at".into()));
    let pitr =
        c.describe_continuous_backups().table_name(Table::Rules.name(&settings.env)).send().await.unwrap();
    let status = pitr
        .continuous_backups_description
        .and_then(|d| d.point_in_time_recovery_description)
        .and_then(|p| p.point_in_time_recovery_status);
    assert_eq!(status.map(|s| s.as_str().to_string()), Some("ENABLED".into()));

    let (sqs, url) = alert_queue(&settings).await;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    assert_eq!(attrs[&Q::FifoQueue], "true");
    assert_eq!(attrs[&Q::ContentBasedDeduplication], "true");
    let redrive: serde_json::Value = serde_json::from_str(&attrs[&Q::RedrivePolicy]).unwrap();
    assert_eq!(redrive["maxReceiveCount"].to_string().trim_matches('"'), "3");
    assert!(
        redrive["deadLetterTargetArn"].as_str().unwrap().ends_with(&names::dead_letter_queue(&settings.env))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gsis_list_enabled_rules_and_integrations_by_type() {
    let (settings, s) = moto::aws_services().await;
    let store = DynamoStore::new(ddb(&settings).await, &settings.env);
    let on = Rule::new("on", "On", "SELECT 1", Severity::Low, "rate(1 hour)".parse().unwrap());
    let mut off = Rule::new("off", "Off", "SELECT 1", Severity::Low, "rate(1 hour)".parse().unwrap());
    off.enabled = false;
    s.rules.put_rule("alice", &on).await.unwrap();
    s.rules.put_rule("alice", &off).await.unwrap();
    s.rules.put_rule("bob", &on).await.unwrap();
    let mut enabled: Vec<(String, String)> =
        store.enabled_rules().await.unwrap().into_iter().map(|(u, r)| (u, r.id)).collect();
    enabled.sort();
    assert_eq!(enabled, [("alice".to_string(), "on".to_string()), ("bob".into(), "on".into())]);
    for (id, kind) in
        [("s1", IntegrationKind::Slack), ("s2", IntegrationKind::Slack), ("p1", IntegrationKind::PagerDuty)]
    {
        s.integrations.put_integration(&integration("alice", id, kind)).await.unwrap();
    }
    s.integrations.put_integration(&integration("bob", "s9", IntegrationKind::Slack)).await.unwrap();
    let mut slack: Vec<String> =
        store.integrations_of_type("alice", "slack").await.unwrap().into_iter().map(|i| i.id).collect();
    slack.sort();
    assert_eq!(slack, ["s1", "s2"]);
    assert_eq!(s.integrations.integration_users().await.unwrap(), ["alice", "bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbridge_has_one_rule_per_schedule_expression_and_its_tick_runs_every_users_rules() {
    let _turn = ATHENA.lock().await;
    let (settings, s) = moto::aws_services().await;
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:mantissa-log-detection-test";
    let store = std::sync::Arc::new(mantissa_backend::aws::dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&settings.sdk_config().await),
        &settings.env,
    ));
    let events = EventBridgeScheduler::new(
        aws_sdk_eventbridge::Client::new(&settings.sdk_config().await),
        &settings.env,
        arn,
        store,
    );
    let client = aws_sdk_eventbridge::Client::new(&settings.sdk_config().await);
    // A rule the seed's deploy scheduled on its own: replaced by the schedule's rule.
    let legacy = mantissa_backend::aws::names::detection_rule("user-000", "filter-0", &settings.env);
    client.put_rule().name(&legacy).schedule_expression("rate(5 minutes)").send().await.unwrap();

    // 20 users x 15 rules on 3 expressions: 300 schedules, which the seed's design would have
    // made 300 EventBridge rules (the default quota of a bus).
    let expressions = ["rate(5 minutes)", "rate(15 minutes)", "cron(0 * * * ? *)"];
    let mut on_five = 0;
    for u in 0..20 {
        let user = format!("user-{u:03}");
        for r in 0..15 {
            let expression = expressions[r % 3];
            let mut rule = Rule::new(
                &format!("filter-{r}"),
                &format!("Filter {r}"),
                &format!(
                    "SELECT eventtime, eventname FROM cloudtrail_logs WHERE dt >= {{window_start_dt}} \
                     AND eventtime >= {{window_start_iso}} AND eventname = 'Probe{}'",
                    // Half of the users share the same rules; the others have their own.
                    if u < 10 { r.to_string() } else { format!("{u}-{r}") }
                ),
                Severity::Medium,
                expression.parse().unwrap(),
            );
            rule.enabled = !(u == 0 && r == 0);
            s.rules.put_rule(&user, &rule).await.unwrap();
            let entry = ScheduledRule {
                user_id: user.clone(),
                rule_id: rule.id.clone(),
                schedule: rule.schedule.clone(),
                enabled: rule.enabled,
            };
            events.put_schedule(&entry).await.unwrap();
            on_five += usize::from(expression == expressions[0] && rule.enabled);
        }
    }
    let mut made = events.schedule_rules().await.unwrap();
    made.sort();
    let mut want: Vec<String> = expressions.iter().map(|e| e.to_string()).collect();
    want.sort();
    assert_eq!(made, want, "one EventBridge rule per expression, for 300 schedules");
    assert!(client.describe_rule().name(&legacy).send().await.is_err(), "the seed's per-rule rule is gone");
    let name = events.rule_name("rate(5 minutes)");
    assert!(
        name.len() <= 64 && name.starts_with("detection-schedule-") && name.ends_with(&settings.env),
        "{name}"
    );
    let targets = client.list_targets_by_rule().rule(&name).send().await.unwrap().targets.unwrap();
    assert_eq!(targets[0].arn, arn);
    let raw: serde_json::Value = serde_json::from_str(targets[0].input.as_deref().unwrap()).unwrap();
    assert_eq!(raw, json!({"schedule": "rate(5 minutes)"}));
    assert_eq!(events.target_input("rate(5 minutes)").await.unwrap().unwrap().schedule, "rate(5 minutes)");
    assert_eq!(events.list_schedules("user-003").await.unwrap().len(), 15);
    assert_eq!(events.on_schedule("rate(15 minutes)").await.unwrap().len(), 100);

    // The tick runs every enabled rule on its expression, every user's, in few queries: the
    // ten users' shared rules run once each, all filters of the table share scans.
    let before = athena_query_count(&settings).await;
    let report = lambda::detection::handle(&s, raw).await.unwrap();
    assert_eq!(report.rules, on_five);
    assert!(report.fired.iter().all(|f| f.error.is_none() && f.window_end.is_some()));
    let distinct: usize = 5 + 10 * 5;
    assert_eq!(
        report.queries,
        distinct.div_ceil(64),
        "{} queries for {} rules",
        report.queries,
        report.rules
    );
    assert_eq!(athena_query_count(&settings).await - before, report.queries);
    let ran = s.rules.get_rule("user-007", "filter-3").await.unwrap().unwrap();
    assert_eq!(ran.executions, 1);
    let disabled = s.rules.get_rule("user-000", "filter-0").await.unwrap().unwrap();
    assert_eq!(disabled.executions, 0, "a disabled rule does not run");
    let other = s.rules.get_rule("user-007", "filter-1").await.unwrap().unwrap();
    assert_eq!(other.executions, 0, "a rule on another expression does not run");

    // Moving rules off an expression removes its EventBridge rule with the last of them.
    for u in 0..20 {
        for r in (2..15).step_by(3) {
            events.delete_schedule(&format!("user-{u:03}"), &format!("filter-{r}")).await.unwrap();
        }
    }
    let left = events.schedule_rules().await.unwrap();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.iter().any(|e| e.starts_with("cron")));
    events.delete_schedule("user-000", "filter-2").await.unwrap();
}

async fn athena_query_count(settings: &mantissa_backend::aws::AwsSettings) -> usize {
    let athena = aws_sdk_athena::Client::new(&settings.sdk_config().await);
    let mut n = 0;
    let mut pages = athena.list_query_executions().into_paginator().send();
    while let Some(page) = pages.try_next().await.unwrap() {
        n += page.query_execution_ids.unwrap_or_default().len();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn athena_jobs_run_page_type_and_cancel() {
    let _turn = ATHENA.lock().await;
    let (_, s) = moto::aws_services().await;
    athena_results(
        &[("eventname", "varchar"), ("n", "bigint"), ("at", "timestamp")],
        &[
            vec![Some("ConsoleLogin"), Some("7"), Some("2024-11-20 10:00:00.000")],
            vec![Some("StopLogging"), None, None],
        ],
    )
    .await;
    let id = s
        .engine
        .start("SELECT eventname, count(*) AS n, max(eventtime) AS at FROM cloudtrail_logs GROUP BY 1")
        .await
        .unwrap();
    let status = query::wait(s.engine.as_ref(), &id).await.unwrap();
    assert_eq!(status.state, QueryState::Succeeded);
    // Rows come from GetQueryRuntimeStatistics (moto's answer counts 2 output rows).
    assert_eq!(status.stats.rows, 2, "{status:?}");
    let page = s.engine.results(&id, PageRequest::first(100)).await.unwrap();
    assert_eq!(page.num_rows(), 2, "the header row is not data");
    let b = &page.batches[0];
    assert_eq!(b.schema().field(1).data_type(), &datafusion::arrow::datatypes::DataType::Int64);
    let names = b.column(0).as_any().downcast_ref::<datafusion::arrow::array::StringArray>().unwrap();
    assert_eq!((names.value(0), names.value(1)), ("ConsoleLogin", "StopLogging"));
    assert!(b.column(1).is_null(1));
    assert!(page.next_token.is_none());
    let out = query::run_to_end(s.engine.as_ref(), "SELECT 1").await.unwrap();
    assert_eq!(out.num_rows(), 0, "no configured rows left: an empty result, not an error");
    let id = s.engine.start("SELECT * FROM vpc_flow_logs").await.unwrap();
    s.engine.cancel(&id).await.unwrap();
    assert_eq!(s.engine.status(&id).await.unwrap().state, QueryState::Cancelled);
    assert_eq!(s.engine.tables().await.unwrap().len(), 5);
}

/// The SQS event Lambda hands the delivery function, for a message just received.
fn sqs_event(
    settings: &mantissa_backend::aws::AwsSettings,
    m: &aws_sdk_sqs::types::Message,
) -> serde_json::Value {
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    let attrs = m.attributes.clone().unwrap_or_default();
    let get = |k: A| attrs.get(&k).cloned().unwrap_or_default();
    json!({"Records": [{
        "messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
        "attributes": {
            "ApproximateReceiveCount": get(A::ApproximateReceiveCount), "SentTimestamp": get(A::SentTimestamp),
            "SequenceNumber": get(A::SequenceNumber), "MessageGroupId": get(A::MessageGroupId),
            "SenderId": get(A::SenderId), "MessageDeduplicationId": get(A::MessageDeduplicationId),
            "ApproximateFirstReceiveTimestamp": get(A::ApproximateFirstReceiveTimestamp)
        },
        "messageAttributes": {}, "md5OfBody": m.md5_of_body, "eventSource": "aws:sqs",
        "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:{}", names::alert_queue(&settings.env)),
        "awsRegion": REGION
    }]})
}

/// An SQS client and the URL of the environment's alert queue.
async fn alert_queue(settings: &mantissa_backend::aws::AwsSettings) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&settings.sdk_config().await);
    let url = sqs
        .get_queue_url()
        .queue_name(names::alert_queue(&settings.env))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (sqs, url)
}

async fn receive_one(settings: &mantissa_backend::aws::AwsSettings) -> aws_sdk_sqs::types::Message {
    let (sqs, url) = alert_queue(settings).await;
    let out = sqs
        .receive_message()
        .queue_url(url)
        .visibility_timeout(60)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    out.messages.unwrap_or_default().pop().expect("a message on the queue")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambdas_detect_deliver_and_report_partial_batch_failures() {
    let (settings, mut s) = moto::aws_services().await;
    // The handlers' metric lines, as the Lambdas print them to stdout.
    let emf = Lines::default();
    s.counters = std::sync::Arc::new(mantissa_backend::aws::emf::EmfCounters::to_writer(
        "MantissaLog",
        &settings.env,
        Box::new(emf.clone()),
    ));
    let (ok_url, ok_hits) = webhook(200).await;
    let (bad_url, bad_hits) = webhook(500).await;
    for (id, url) in [("hook-ok", &ok_url), ("hook-bad", &bad_url)] {
        let mut i = integration("alice", id, IntegrationKind::Webhook);
        i.config = json!({"url": url});
        i.secret_ref = None;
        s.integrations.put_integration(&i).await.unwrap();
    }
    let rule = Rule::new(
        "console-fail",
        "Console login failures",
        "SELECT * FROM cloudtrail_logs",
        Severity::High,
        "rate(5 minutes)".parse().unwrap(),
    );
    s.rules.put_rule("alice", &rule).await.unwrap();

    // Detection: EventBridge's constant target input, exactly as the scheduler stores it.
    let fired = {
        let _turn = ATHENA.lock().await;
        athena_results(
            &[("sourceipaddress", "varchar")],
            &[vec![Some("203.0.113.9")], vec![Some("198.51.100.7")]],
        )
        .await;
        let report = lambda::detection::handle(&s, json!({"rule_id": "console-fail", "user_id": "alice"}))
            .await
            .unwrap();
        assert_eq!((report.rules, report.queries), (1, 1));
        report.fired[0].clone()
    };
    assert_eq!(fired.error, None);
    assert_eq!(fired.alert_ids.len(), 1, "two rows of one incident (no dedup fields): one alert");
    let alert_id = fired.alert_ids[0].clone();
    let stored = s.alerts.get_alert("alice", &alert_id).await.unwrap().unwrap();
    assert_eq!(stored.result_count, 2);
    assert_eq!(s.rules.get_rule("alice", "console-fail").await.unwrap().unwrap().executions, 1);
    assert_eq!(s.queue.depth().await.unwrap().queued, 2, "one message per integration");
    // A scheduled event whose detail names the rule also works; a bad event is refused.
    let scheduled = json!({
        "version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-23T12:00:00Z", "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:123456789012:rule/detection-alice-console-fail-dev")],
        "detail": {"rule_id": "nope", "user_id": "alice"}
    });
    assert_eq!(
        lambda::detection::parse_input(&scheduled).unwrap(),
        lambda::detection::DetectionInput::One { rule_id: "nope".into(), user_id: "alice".into() }
    );
    let err = lambda::detection::handle(&s, scheduled).await.unwrap_err().to_string();
    assert!(err.contains("alice/nope") && err.contains("not found"), "{err}");
    assert!(lambda::detection::handle(&s, json!({"detail-type": "Scheduled Event"})).await.is_err());

    // Delivery: one SQS record at a time (batch size 1), as the event source mapping sends.
    let worker = DeliveryWorker::new(s.clone());
    let mut failures = vec![];
    for _ in 0..2 {
        let m = receive_one(&settings).await;
        let event: aws_lambda_events::sqs::SqsEvent =
            serde_json::from_value(sqs_event(&settings, &m)).unwrap();
        let response = lambda::delivery::handle(&worker, event).await;
        let wire = serde_json::to_value(&response).unwrap();
        let ids: Vec<String> = wire["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
            .collect();
        if m.attributes.as_ref().unwrap()[&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId]
            == "alice:hook-bad"
        {
            assert_eq!(ids, [m.message_id.clone().unwrap()], "the failed message, and only it");
        } else {
            assert!(ids.is_empty(), "delivered: {wire}");
        }
        failures.extend(ids);
    }
    assert_eq!(failures.len(), 1);
    assert_eq!(ok_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(bad_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    let after = s.alerts.get_alert("alice", &alert_id).await.unwrap().unwrap();
    let mut statuses: Vec<String> = after
        .attempts
        .iter()
        .filter(|a| a.status != mantissa_backend::model::DeliveryStatus::Pending)
        .map(|a| format!("{}:{:?}", a.integration_id, a.status))
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["hook-bad:Retrying", "hook-ok:Delivered"]);
    let retry = after
        .attempts
        .iter()
        .find(|a| a.status == mantissa_backend::model::DeliveryStatus::Retrying)
        .unwrap();
    assert_eq!(retry.retry_in_secs, Some(5), "the backoff the worker chose, which SQS now applies");

    // Health: every user with integrations, stored in settings.
    let report = lambda::health::handle(&s).await.unwrap();
    assert_eq!((report.users, report.integrations), (1, 2));
    assert_eq!(report.unhealthy, ["alice/hook-bad"]);
    let stored = s.settings.get_setting("alice", "integration_health").await.unwrap().unwrap();
    assert_eq!(stored.as_array().unwrap().len(), 2);
    check_emf_lines(&emf, &settings.env);
}

/// What an EMF writer was given.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every line is an EMF document CloudWatch accepts: its metrics' names and units declared,
/// each dimension and metric present as a member, `Env` a dimension; no user id in it.
fn check_emf_lines(emf: &Lines, env: &str) {
    let text = String::from_utf8(emf.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("alice"), "no user id in the metric lines: {text}");
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // Per line: the metric, its dimension names, its (metric name, unit) pairs.
    type Declared = (String, Vec<String>, Vec<(String, String)>);
    let mut seen: Vec<Declared> = vec![];
    for line in &lines {
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "MantissaLog");
        assert!(line["_aws"]["Timestamp"].as_i64().is_some_and(|t| t > 1_600_000_000_000), "{line}");
        let dims: Vec<String> = directive["Dimensions"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        assert_eq!(dims[0], "Env");
        assert_eq!(line["Env"], env);
        for d in &dims {
            assert!(line[d].is_string(), "dimension {d} has a value: {line}");
        }
        let metrics: Vec<(String, String)> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["Name"].as_str().unwrap().to_string(), m["Unit"].as_str().unwrap().to_string()))
            .collect();
        for (name, _) in &metrics {
            assert!(line[name].is_number(), "metric {name} has a value: {line}");
        }
        seen.push((line["Metric"].as_str().unwrap().to_string(), dims, metrics));
    }
    let of = |metric: &str| seen.iter().filter(|(m, _, _)| m == metric).collect::<Vec<_>>();
    let runs = of("RuleRuns");
    assert!(!runs.is_empty(), "{text}");
    assert_eq!(runs[0].1, ["Env", "Outcome"]);
    let units: Vec<(&str, &str)> = runs[0].2.iter().map(|(n, u)| (n.as_str(), u.as_str())).collect();
    assert_eq!(units, [("RuleRuns", "Count"), ("QueryMs", "Milliseconds"), ("BytesScanned", "Bytes")]);
    let routed = of("AlertsRouted");
    assert_eq!(routed.len(), 2, "one a target integration: {text}");
    assert_eq!(routed[0].1, ["Env", "Severity", "IntegrationType"]);
    let deliveries = of("Deliveries");
    assert_eq!(deliveries.len(), 2, "{text}");
    assert_eq!(deliveries[0].1, ["Env", "Outcome", "IntegrationType"]);
    assert!(deliveries[0].2.contains(&("DeliveryLatency".to_string(), "Milliseconds".to_string())));
    let outcomes: std::collections::BTreeSet<&str> = lines
        .iter()
        .filter(|l| l["Metric"] == "Deliveries")
        .map(|l| l["Outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["delivered", "retrying"].into_iter().collect());
    let routed_line = lines.iter().find(|l| l["Metric"] == "AlertsRouted").unwrap();
    assert_eq!(
        (&routed_line["Severity"], &routed_line["IntegrationType"]),
        (&json!("high"), &json!("webhook"))
    );
    let run_line = lines.iter().find(|l| l["Metric"] == "RuleRuns").unwrap();
    assert_eq!(
        (&run_line["RuleId"], &run_line["Table"], &run_line["Outcome"]),
        (&json!("console-fail"), &json!("cloudtrail_logs"), &json!("success"))
    );
}
