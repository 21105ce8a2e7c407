//! The query assistant against loopback stand-ins of each provider: the request shapes of
//! the public APIs (headers, auth, model, messages, max tokens, temperature; SigV4 for
//! Bedrock), the correction round for a query that does not plan and for a rule that fails
//! its checks, 429 with `retry-after`, timeouts, malformed answers, and keys never shown.

mod llm {
    pub mod canned;
}

use llm::canned::{self, Reply, answer};
use mantissa_backend::assist::llm::{Llm, client};
use mantissa_backend::assist::query::LakeView;
use mantissa_backend::assist::{self, Assistant, anthropic, bedrock, gemini, openai};
use mantissa_backend::model::settings::{LlmSettings, Provider};
use mantissa_backend::ports::TableSchema;
use mantissa_backend::services::Services;
use serde_json::json;
use std::time::Duration;

const GOOD_SQL: &str = "SELECT sourceipaddress, count(*) AS failures FROM cloudtrail_logs \
    WHERE dt >= '2026-11-30' AND eventname = 'ConsoleLogin' GROUP BY sourceipaddress HAVING count(*) > 5";
const WRONG_COLUMN_SQL: &str = "SELECT sourceip, count(*) AS failures FROM cloudtrail_logs \
    WHERE dt >= '2026-11-30' AND eventname = 'ConsoleLogin' GROUP BY sourceip";

fn settings(provider: Provider) -> LlmSettings {
    LlmSettings {
        provider,
        model: "general-model".into(),
        query_model: "query-model".into(),
        detection_model: "detection-model".into(),
        base_url: None,
        api_key_secret_id: None,
        max_tokens: 777,
        temperature: 0.25,
    }
}

fn provider(kind: Provider, base: &str, timeout: Duration) -> Box<dyn Llm> {
    let client = client(timeout);
    let base_url = Some(base.to_string());
    match kind {
        Provider::Anthropic => {
            Box::new(anthropic::Anthropic { client, base_url, api_key: "sk-ant-test-key".into() })
        }
        Provider::OpenAi => {
            Box::new(openai::OpenAi { client, base_url, api_key: Some("sk-openai-test-key".into()) })
        }
        Provider::Google => Box::new(gemini::Gemini { client, base_url, api_key: "AIza-test-key".into() }),
        Provider::Bedrock => {
            let creds =
                aws_credential_types::Credentials::new("AKIDEXAMPLE", "bedrock-secret", None, None, "test");
            Box::new(bedrock::Bedrock {
                client,
                base_url,
                region: "eu-west-1".into(),
                credentials: aws_credential_types::provider::SharedCredentialsProvider::new(creds),
            })
        }
    }
}

/// The lake's schemas from the embedded engine (no rows needed to plan).
async fn lake() -> (tempfile::TempDir, Services, Vec<TableSchema>, datafusion::prelude::SessionContext) {
    let dir = tempfile::tempdir().unwrap();
    let s = Services::local(dir.path()).await.unwrap();
    let tables = s.engine.tables().await.unwrap();
    let session = mantissa_backend::query::planning_session(&tables).unwrap();
    (dir, s, tables, session)
}

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

fn header<'a>(seen: &'a canned::Seen, name: &str) -> &'a str {
    seen.headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn each_provider_gets_its_public_request_shape_and_the_sql_is_checked() {
    let (_dir, _s, tables, session) = lake().await;
    let sizes = [("cloudtrail_logs".to_string(), 4u64 << 20)].into();
    let view = LakeView { tables: &tables, session: &session, sizes: &sizes };
    for kind in Provider::ALL {
        let reply = answer(kind.name(), &format!("Here you are:\n```sql\n{GOOD_SQL};\n```"));
        let (base, server) = canned::start(vec![Reply::Json(200, reply)]).await;
        let a = Assistant::new(provider(kind, &base, Duration::from_secs(10)), settings(kind));
        let draft = assist::query::ask(&a, "failed console logins by IP, more than 5", &view, today(), 1)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(draft.sql, GOOD_SQL);
        assert!(!draft.corrected && draft.problem.is_none());
        assert_eq!(draft.scan.len(), 1);
        assert!(draft.scan[0].dt_filtered, "{:?}", draft.scan);
        assert!(
            draft.estimate().contains("cloudtrail_logs (days chosen by dt of 4.0 MB)"),
            "{}",
            draft.estimate()
        );
        let seen = server.seen();
        assert_eq!(seen.len(), 1, "{kind:?}");
        let (req, body) = (&seen[0], &seen[0].body);
        assert_eq!(header(req, "content-type"), "application/json");
        // Only schemas are sent: the prompt names tables and columns and the dt rule.
        let sent = body.to_string();
        assert!(sent.contains("cloudtrail_logs(") && sent.contains("partitioned by `dt`"), "{kind:?}");
        match kind {
            Provider::Anthropic => {
                assert_eq!(req.path, "/v1/messages");
                assert_eq!(header(req, "x-api-key"), "sk-ant-test-key");
                assert_eq!(header(req, "anthropic-version"), "2023-06-01");
                assert_eq!(body["model"], "query-model");
                assert_eq!(body["max_tokens"], 777);
                assert_eq!(body["temperature"], 0.25);
                assert!(body["system"].as_str().unwrap().contains("Today is 2026-12-01"));
                assert_eq!(
                    body["messages"],
                    json!([{"role": "user", "content": "failed console logins by IP, more than 5"}])
                );
            }
            Provider::OpenAi => {
                assert_eq!(req.path, "/chat/completions");
                assert_eq!(header(req, "authorization"), "Bearer sk-openai-test-key");
                assert_eq!(body["model"], "query-model");
                assert_eq!(body["max_tokens"], 777);
                assert_eq!(body["temperature"], 0.25);
                assert_eq!(body["messages"][0]["role"], "system");
                assert_eq!(
                    body["messages"][1],
                    json!({"role": "user", "content": "failed console logins by IP, more than 5"})
                );
            }
            Provider::Google => {
                assert_eq!(req.path, "/v1beta/models/query-model:generateContent");
                assert_eq!(header(req, "x-goog-api-key"), "AIza-test-key");
                assert_eq!(body["generationConfig"], json!({"maxOutputTokens": 777, "temperature": 0.25}));
                assert!(body["systemInstruction"]["parts"][0]["text"].as_str().unwrap().contains("dt"));
                assert_eq!(body["contents"][0]["role"], "user");
                assert_eq!(
                    body["contents"][0]["parts"][0]["text"],
                    "failed console logins by IP, more than 5"
                );
            }
            Provider::Bedrock => {
                assert_eq!(req.path, "/model/query-model/converse");
                let auth = header(req, "authorization");
                let day = chrono::Utc::now().format("%Y%m%d").to_string();
                assert!(
                    auth.starts_with(&format!(
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{day}/eu-west-1/bedrock/aws4_request"
                    )),
                    "{auth}"
                );
                assert!(auth.contains("SignedHeaders=") && auth.contains("Signature="), "{auth}");
                assert!(!header(req, "x-amz-date").is_empty());
                assert!(!sent.contains("bedrock-secret"));
                assert_eq!(body["inferenceConfig"], json!({"maxTokens": 777, "temperature": 0.25}));
                assert_eq!(
                    body["messages"][0]["content"][0]["text"],
                    "failed console logins by IP, more than 5"
                );
                assert!(body["system"][0]["text"].as_str().unwrap().contains("cloudtrail_logs"));
            }
        }
    }
}

#[tokio::test]
async fn an_unknown_column_gets_one_correction_round_then_the_error_is_shown() {
    let (_dir, _s, tables, session) = lake().await;
    let view = LakeView { tables: &tables, session: &session, sizes: &Default::default() };
    let wrong = answer("anthropic", &format!("```sql\n{WRONG_COLUMN_SQL}\n```"));
    let right = answer("anthropic", &format!("```sql\n{GOOD_SQL}\n```"));
    let (base, server) = canned::start(vec![Reply::Json(200, wrong.clone()), Reply::Json(200, right)]).await;
    let a = Assistant::new(
        provider(Provider::Anthropic, &base, Duration::from_secs(10)),
        settings(Provider::Anthropic),
    );
    let draft = assist::query::ask(&a, "failed logins by ip", &view, today(), 1).await.unwrap();
    assert_eq!(draft.sql, GOOD_SQL);
    assert!(draft.corrected && draft.problem.is_none());
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    // The second request carries the first answer and the engine's words about it.
    let turns = seen[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(turns.len(), 3);
    assert_eq!(turns[1]["role"], "assistant");
    let fix = turns[2]["content"].as_str().unwrap();
    assert!(fix.contains("sourceip") && fix.contains("sourceipaddress"), "{fix}");

    // Wrong twice: the SQL is offered with the error, and no third request is made.
    let (base, server) = canned::start(vec![Reply::Json(200, wrong.clone()), Reply::Json(200, wrong)]).await;
    let a = Assistant::new(
        provider(Provider::Anthropic, &base, Duration::from_secs(10)),
        settings(Provider::Anthropic),
    );
    let draft = assist::query::ask(&a, "failed logins by ip", &view, today(), 1).await.unwrap();
    assert_eq!(draft.sql, WRONG_COLUMN_SQL);
    assert!(draft.problem.as_deref().unwrap().contains("sourceipaddress"), "{:?}", draft.problem);
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn rate_limits_timeouts_and_malformed_answers_say_what_happened_without_the_key() {
    let (_dir, _s, tables, session) = lake().await;
    let view = LakeView { tables: &tables, session: &session, sizes: &Default::default() };
    let ok = answer("openai", GOOD_SQL);
    let view = &view;
    let ask = |base: String, timeout: Duration| async move {
        let a = Assistant::new(provider(Provider::OpenAi, &base, timeout), settings(Provider::OpenAi));
        assist::query::ask(&a, "failed logins", view, today(), 1).await
    };
    // A short retry-after is waited out once.
    let (base, server) = canned::start(vec![Reply::RateLimited("1"), Reply::Json(200, ok.clone())]).await;
    let started = std::time::Instant::now();
    assert_eq!(ask(base, Duration::from_secs(10)).await.unwrap().sql, GOOD_SQL);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.seen().len(), 2);
    // A long one is reported with the wait.
    let (base, server) = canned::start(vec![Reply::RateLimited("120")]).await;
    let e = ask(base, Duration::from_secs(10)).await.unwrap_err().to_string();
    assert!(e.contains("openai is rate-limiting requests (429): try again in 120 s"), "{e}");
    assert_eq!(server.seen().len(), 1);
    // A server that does not answer in time.
    let (base, _) = canned::start(vec![Reply::Slow(Duration::from_secs(5))]).await;
    let e = ask(base, Duration::from_millis(500)).await.unwrap_err().to_string();
    assert!(e.contains("openai did not answer in time at 127.0.0.1:"), "{e}");
    // Not JSON; JSON without the answer's text; an error body that echoes the key.
    let (base, _) = canned::start(vec![Reply::Raw(200, "<html>gateway</html>")]).await;
    let e = ask(base, Duration::from_secs(10)).await.unwrap_err().to_string();
    assert!(e.contains("openai sent an answer that is not JSON"), "{e}");
    let (base, _) = canned::start(vec![Reply::Json(200, json!({"choices": []}))]).await;
    let e = ask(base, Duration::from_secs(10)).await.unwrap_err().to_string();
    assert!(e.contains("openai sent an answer with no text in it"), "{e}");
    let echo = json!({"error": {"message": "Incorrect API key provided: sk-openai-test-key.", "type": "invalid_request_error"}});
    let (base, _) = canned::start(vec![Reply::Json(401, echo)]).await;
    let e = ask(base, Duration::from_secs(10)).await.unwrap_err().to_string();
    assert!(e.contains("openai answered 401 Unauthorized: Incorrect API key provided: <api key>."), "{e}");
    assert!(!e.contains("sk-openai-test-key"), "{e}");
    // An answer with no query in it, twice.
    let words = answer("openai", "I am not able to help with that.");
    let (base, _) = canned::start(vec![Reply::Json(200, words.clone()), Reply::Json(200, words)]).await;
    let e = ask(base, Duration::from_secs(10)).await.unwrap_err().to_string();
    assert!(e.contains("holds no SELECT query"), "{e}");
}

#[tokio::test]
async fn with_no_provider_nothing_is_sent_and_the_error_says_how_to_set_one() {
    let (_dir, s, _, _) = lake().await;
    let (base, server) = canned::start(vec![]).await;
    let e = Assistant::connect(&s, "analyst", Duration::from_secs(5)).await.err().unwrap().to_string();
    assert!(e.contains("mantissa settings set llm_provider"), "{e}");
    // A provider without its key is refused before anything is sent, too.
    mantissa_backend::settings::set(&s, "analyst", "llm_provider", "anthropic").await.unwrap();
    mantissa_backend::settings::set(&s, "analyst", "llm_base_url", &base).await.unwrap();
    let e = Assistant::connect(&s, "analyst", Duration::from_secs(5)).await.err().unwrap().to_string();
    assert!(e.contains("anthropic needs an API key: `:set llm_api_key` in the console"), "{e}");
    assert!(server.seen().is_empty());
    // With the key set through the settings, the stored key is what is sent.
    mantissa_backend::settings::set(&s, "analyst", "llm_api_key", "sk-ant-from-store").await.unwrap();
    let a = Assistant::connect(&s, "analyst", Duration::from_secs(5)).await.unwrap();
    assert_eq!(a.settings.query_model, "claude-sonnet-4-5");
    let (base2, server2) = canned::start(vec![Reply::Json(200, answer("anthropic", "ok"))]).await;
    mantissa_backend::settings::set(&s, "analyst", "llm_base_url", &base2).await.unwrap();
    let a = Assistant::connect(&s, "analyst", Duration::from_secs(5)).await.unwrap();
    assert_eq!(a.complete(assist::Task::Query, "sys", &[assist::llm::Turn::user("hi")]).await.unwrap(), "ok");
    assert_eq!(header(&server2.seen()[0], "x-api-key"), "sk-ant-from-store");
}

const RULE_WITHOUT_NEGATIVE: &str = r#"
```yaml
id: aws-root-console-login
name: Root console login
description: The root user signed in to the AWS console.
severity: high
schedule: rate(5 minutes)
dedup: {fields: [sourceipaddress], window: 1h}
tags: [attack.initial_access, attack.t1078.004]
runbook: Ask who holds the root credentials and whether they signed in.
false_positives: [Account recovery by the owner]
query: |
  SELECT eventtime, sourceipaddress FROM cloudtrail_logs
  WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
    AND eventtime >= {window_start_iso} AND eventtime < {window_end_iso}
    AND eventname = 'ConsoleLogin' AND useridentity.type = 'Root'
tests:
  - name: a root sign-in fires
    table: cloudtrail_logs
    expect: {alert: true, count: 1}
    records:
      - {eventVersion: "1.09", eventTime: "2024-11-20T10:00:00Z", eventSource: signin.amazonaws.com, eventName: ConsoleLogin, awsRegion: us-east-1, sourceIPAddress: 198.51.100.7, userIdentity: {type: Root, arn: "arn:aws:iam::111122223333:root", accountId: "111122223333"}}
```"#;

const NEGATIVE_TEST: &str = r#"  - name: an IAM user's sign-in does not fire
    table: cloudtrail_logs
    expect: {alert: false, count: 0}
    records:
      - {eventVersion: "1.09", eventTime: "2024-11-20T10:00:00Z", eventSource: signin.amazonaws.com, eventName: ConsoleLogin, awsRegion: us-east-1, sourceIPAddress: 198.51.100.7, userIdentity: {type: IAMUser, arn: "arn:aws:iam::111122223333:user/alice", accountId: "111122223333", userName: alice}}
"#;

#[tokio::test]
async fn a_rule_draft_must_pass_validate_and_its_own_tests_after_one_correction() {
    let (dir, _s, tables, session) = lake().await;
    let view = LakeView { tables: &tables, session: &session, sizes: &Default::default() };
    let lake = mantissa_backend::local::Lake::new(dir.path());
    let fixed = RULE_WITHOUT_NEGATIVE.replace("\n```", &format!("\n{NEGATIVE_TEST}```"));
    let (base, server) = canned::start(vec![
        Reply::Json(200, answer("google", RULE_WITHOUT_NEGATIVE)),
        Reply::Json(200, answer("google", &fixed)),
    ])
    .await;
    let a = Assistant::new(
        provider(Provider::Google, &base, Duration::from_secs(10)),
        settings(Provider::Google),
    );
    let draft = assist::rule::draft(&a, "alert when the root user signs in", &view, &lake).await.unwrap();
    assert!(draft.passes(), "{:?}", draft.problems);
    assert!(draft.corrected);
    assert_eq!(draft.tests_passed, (2, 2));
    assert!(draft.yaml.starts_with("id: aws-root-console-login"));
    let seen = server.seen();
    assert_eq!(seen[0].path, "/v1beta/models/detection-model:generateContent");
    let fix = seen[1].body["contents"][2]["parts"][0]["text"].as_str().unwrap();
    assert!(fix.contains("has 1 tests; at least 2 are required"), "{fix}");

    // A rule whose positive test does not fire, twice: shown with the failing test.
    let wrong = fixed.replace("useridentity.type = 'Root'", "useridentity.type = 'root'");
    let (base, _) = canned::start(vec![
        Reply::Json(200, answer("google", &wrong)),
        Reply::Json(200, answer("google", &wrong)),
    ])
    .await;
    let a = Assistant::new(
        provider(Provider::Google, &base, Duration::from_secs(10)),
        settings(Provider::Google),
    );
    let draft = assist::rule::draft(&a, "root sign-in", &view, &lake).await.unwrap();
    assert!(!draft.passes());
    assert_eq!(draft.tests_passed, (1, 2));
    assert!(draft.problems[0].contains("test `a root sign-in fires` fails"), "{:?}", draft.problems);
}

#[tokio::test]
async fn an_alert_explanation_sends_its_samples_and_checks_each_follow_up_query() {
    let (_dir, _s, tables, session) = lake().await;
    let view = LakeView { tables: &tables, session: &session, sizes: &Default::default() };
    let mut alert = mantissa_backend::model::Alert::by_hand("a1", "analyst", chrono::Utc::now());
    alert.rule_name = "Console login without MFA".into();
    alert.sample_rows = (0..15).map(|i| json!({"sourceipaddress": "185.220.101.47", "n": i})).collect();
    let text = json!({
        "summary": "carol signed in without MFA from a Tor exit node.",
        "queries": [
            {"title": "What carol did next", "sql": "SELECT eventname FROM cloudtrail_logs WHERE dt >= '2026-11-30' AND useridentity.username = 'carol'"},
            {"title": "Broken", "sql": "SELECT nosuch FROM cloudtrail_logs"},
        ]
    });
    let (base, server) =
        canned::start(vec![Reply::Json(200, answer("bedrock", &format!("```json\n{text}\n```")))]).await;
    let a = Assistant::new(
        provider(Provider::Bedrock, &base, Duration::from_secs(10)),
        settings(Provider::Bedrock),
    );
    let e = assist::explain::explain(&a, &alert, &view).await.unwrap();
    assert!(e.summary.contains("Tor exit node"));
    assert_eq!(e.queries.len(), 2);
    assert!(e.queries[0].2.is_none(), "{:?}", e.queries[0]);
    assert!(e.queries[1].2.as_deref().unwrap().contains("nosuch"));
    let sent = server.seen()[0].body["messages"][0]["content"][0]["text"].as_str().unwrap().to_string();
    let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(sent["rule_name"], "Console login without MFA");
    assert_eq!(sent["sample_rows"].as_array().unwrap().len(), assist::explain::MAX_SAMPLES_SENT);
    assert_eq!(server.seen()[0].path, "/model/detection-model/converse");
}
