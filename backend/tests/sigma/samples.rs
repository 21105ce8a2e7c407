//! Converts every sample rule in tests/data (real SigmaHQ and Mantissa rules, see its README for
//! their licences) and checks each one's outcome.

use crate::common;
use std::path::Path;

use mantissa_backend::rules::sigma::{ConvertError, ConvertedRule, convert_yaml};

enum Expect {
    Converted { table: &'static str, severity: &'static str, window: u64, fragments: &'static [&'static str] },
    Fails { construct: &'static str },
}

const CASES: &[(&str, Expect)] = &[
    (
        "aws_cloudtrail_console_login_success_without_mfa.yml",
        Expect::Converted {
            table: "cloudtrail_logs",
            severity: "medium",
            window: 3600,
            fragments: &[
                "AND lower(eventname) = 'consolelogin'\n",
                "AND lower(json_extract_scalar(additionaleventdata, '$.MFAUsed')) = 'no'\n",
                "AND lower(json_extract_scalar(responseelements, '$.ConsoleLogin')) = 'success'",
            ],
        },
    ),
    (
        "aws_cloudtrail_disable_logging.yml",
        Expect::Converted {
            table: "cloudtrail_logs",
            severity: "medium",
            window: 3600,
            fragments: &[
                "AND lower(eventsource) = 'cloudtrail.amazonaws.com'\n",
                "AND lower(eventname) IN ('stoplogging', 'updatetrail', 'deletetrail')",
            ],
        },
    ),
    (
        "aws_cloudtrail_imds_malicious_usage.yml",
        Expect::Converted {
            table: "cloudtrail_logs",
            severity: "high",
            window: 3600,
            fragments: &[
                "AND regexp_like(useridentity.arn, '.+:assumed-role/aws:.+')\n",
                "AND NOT coalesce(\n    lower(eventsource) = 'ssm.amazonaws.com'\n    \
                 OR lower(eventname) = 'registermanagedinstance'\n    \
                 OR lower(sourceipaddress) = 'aws internal',\n    false\n  )",
            ],
        },
    ),
    (
        "aws_enum_buckets.yml",
        Expect::Converted {
            table: "cloudtrail_logs",
            severity: "low",
            window: 3600,
            fragments: &[
                "AND lower(eventsource) = 's3.amazonaws.com'\n",
                "AND lower(eventname) = 'listbuckets'\n",
                "AND NOT coalesce(lower(useridentity.type) = 'assumedrole', false)",
            ],
        },
    ),
    (
        "aws_new_lambda_layer_attached.yml",
        Expect::Converted {
            table: "cloudtrail_logs",
            severity: "low",
            window: 3600,
            fragments: &[
                "AND lower(eventsource) = 'lambda.amazonaws.com'\n",
                "AND lower(eventname) LIKE 'updatefunctionconfiguration%'\n",
                // `contains: '*'` asks for any value; `layers` is a JSON array, so its text is tested.
                "AND coalesce(json_extract_scalar(requestparameters, '$.layers'), \
                 json_format(json_extract(requestparameters, '$.layers'))) LIKE '%'",
            ],
        },
    ),
    (
        "aws_root_account_usage.yml",
        Expect::Converted {
            table: "cloudtrail_logs",
            severity: "medium",
            window: 3600,
            fragments: &[
                "AND lower(useridentity.type) = 'root'\n",
                "AND NOT coalesce(lower(eventtype) = 'awsserviceevent', false)",
            ],
        },
    ),
    (
        // count(sourceIPAddress) by sourceIPAddress is 1 in every group, so `>= 10` never holds.
        "mantissa_cloudtrail_brute_force_login.yml",
        Expect::Fails { construct: "count(`sourceIPAddress`) grouped by the same field" },
    ),
    (
        "mantissa_vpc_flow_port_scanning.yml",
        Expect::Converted {
            table: "vpc_flow_logs",
            severity: "medium",
            window: 300,
            fragments: &[
                "SELECT\n  srcaddr,\n  count(DISTINCT dstport) AS value_count,",
                "AND start >= {window_start_unix}\n  AND start < {window_end_unix}\n",
                "AND lower(action) = 'reject'\n",
                "GROUP BY srcaddr\nHAVING count(DISTINCT dstport) > 50",
            ],
        },
    ),
];

fn data(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigma/data").join(name))
        .expect("sample file")
}

fn check(name: &str, expect: &Expect, result: &Result<ConvertedRule, ConvertError>) {
    match (expect, result) {
        (Expect::Converted { table, severity, window, fragments }, Ok(rule)) => {
            assert_eq!(rule.table, *table, "{name}");
            assert_eq!(rule.severity, *severity, "{name}");
            assert_eq!(rule.window_secs, *window, "{name}");
            assert!(rule.sigma_id.is_some(), "{name}");
            assert!(!rule.tags.is_empty() && !rule.references.is_empty(), "{name}");
            for fragment in *fragments {
                assert!(rule.query.contains(fragment), "{name}: missing\n{fragment}\nin\n{}", rule.query);
            }
        }
        (Expect::Fails { construct }, Err(e)) => {
            assert_eq!(e.construct, *construct, "{name}: {e}");
            assert!(!e.message.is_empty());
        }
        (_, other) => panic!("{name}: unexpected outcome {other:#?}"),
    }
}

#[test]
fn every_sample_file_has_its_expected_outcome() {
    let mut files: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigma/data"))
            .expect("tests/sigma/data")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8 name"))
            .filter(|n| n.ends_with(".yml"))
            .collect();
    files.sort();
    let mut covered: Vec<String> = CASES.iter().map(|(n, _)| n.to_string()).collect();
    covered.sort();
    assert_eq!(files, covered, "every sample file needs an expected outcome");

    for (name, expect) in CASES {
        let results = convert_yaml(&data(name), common::WINDOW);
        assert_eq!(results.len(), 1, "{name}");
        check(name, expect, &results[0]);
        if let Ok(rule) = &results[0] {
            assert_eq!(rule.title, data(name).lines().next().unwrap().trim_start_matches("title: "));
        }
    }
}

#[test]
fn all_samples_in_one_text_convert_in_order() {
    let text: Vec<String> = CASES.iter().map(|(name, _)| data(name)).collect();
    let results = convert_yaml(&text.join("\n---\n"), common::WINDOW);
    assert_eq!(results.len(), CASES.len());
    for ((name, expect), result) in CASES.iter().zip(&results) {
        check(name, expect, result);
    }
}

/// Every query the samples convert to plans and runs on the embedded lake (DataFusion with
/// the Trino functions), not just reads right.
#[tokio::test]
async fn converted_samples_run_on_the_lake() {
    let dir = tempfile::TempDir::new().unwrap();
    let lake = mantissa_backend::local::Lake::new(dir.path());
    let ctx = lake.session().await.unwrap();
    let mut ran = 0;
    for (name, _) in CASES {
        for rule in convert_yaml(&data(name), common::WINDOW).into_iter().flatten() {
            let sql = mantissa_backend::model::RunWindow::last_day(chrono::Utc::now()).render(&rule.query);
            let df = ctx.sql(&sql).await.unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
            df.collect().await.unwrap_or_else(|e| panic!("{name}: {e}\n{}", rule.query));
            ran += 1;
        }
    }
    assert!(ran >= 6, "only {ran} sample queries converted");
}
