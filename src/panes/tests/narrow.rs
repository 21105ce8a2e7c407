//! Component snapshots at 60x20, a small SSH window: the alert detail wraps notes and long
//! values to the real width without losing words, and the grid gives long ARNs the room the
//! row has.

use super::*;

#[test]
fn alert_detail_at_60x20() {
    let mut a = app();
    let mut alert = alert("a1", Severity::Critical, 5, DeliveryStatus::Delivered);
    // Fixed times: the snapshot shows them.
    let at = chrono::DateTime::parse_from_rfc3339("2024-11-20T10:15:30Z").unwrap().with_timezone(&Utc);
    (alert.created_at, alert.window_start, alert.window_end) = (at, at, at);
    alert.attempts.iter_mut().for_each(|a| a.at = at);
    alert.description =
        "The account's root user signed in or called an API. Root should be locked away with \
                         MFA and used only for the few tasks that require it."
            .into();
    alert.notes =
        vec!["analyst: called the account owner, who did not sign in; rotating the root password now".into()];
    alert.sample_rows = vec![serde_json::json!({
        "principal": "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
        "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\"}]}"
    })];
    a.update(Msg::Alerts(vec![alert]));
    a.pane = Pane::Alerts;
    special(&mut a, KeyCode::Enter);
    insta::assert_snapshot!(draw(&a, 60, 20));
    // Line by line to the end, every word is there: notes wrap under their indent, and the
    // policy kept as a string inside the sample row reads as JSON.
    let mut seen = String::new();
    for _ in 0..60 {
        seen.push_str(&draw(&a, 60, 20));
        press(&mut a, "j");
    }
    let words: Vec<&str> =
        seen.split(|c: char| c.is_whitespace() || c == '│').filter(|w| !w.is_empty()).collect();
    let text = words.join(" ");
    assert!(text.contains("who did not sign in; rotating the root password now"), "{seen}");
    assert!(text.contains("\"Statement\": ["), "the policy is decoded: {seen}");
}

#[test]
fn grid_with_long_arns_at_60x20() {
    let mut a = app();
    let schema = Arc::new(Schema::new(vec![
        Field::new("useridentity.arn", DataType::Utf8, true),
        Field::new("n", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![
                "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
                "arn:aws:iam::123456789012:user/alice",
            ])),
            Arc::new(Int64Array::from(vec![7, 12345])),
        ],
    )
    .unwrap();
    a.update(Msg::QueryResults(vec![batch]));
    let screen = draw(&a, 60, 20);
    assert!(
        screen.contains("arn:aws:iam::123456789012:role/Organization"),
        "the ARN reads further than a third:\n{screen}"
    );
    assert!(screen.contains("    7") || screen.contains("     7"), "numbers align right:\n{screen}");
    insta::assert_snapshot!(screen);
}
