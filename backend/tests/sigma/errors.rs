//! Constructs that cannot be translated give errors naming the rule and the construct, and one
//! failing document never stops the others. Also metadata mapping (levels).

use crate::common;
use crate::common::{cloudtrail, convert, error, rule};
use mantissa_backend::rules::sigma::convert_yaml;

fn sel(item: &str) -> String {
    format!("  sel:\n    {item}\n  condition: sel")
}

#[test]
fn unsupported_modifiers_name_the_modifier() {
    for (item, construct) in [
        ("eventName|base64: x", "modifier `base64`"),
        ("eventName|base64offset|contains: x", "modifier `base64offset`"),
        ("eventName|wide|base64: x", "modifier `wide`"),
        ("eventName|windash|contains: -x", "modifier `windash`"),
        ("eventTime|hour: 3", "modifier `hour`"),
    ] {
        let e = error(&cloudtrail(&sel(item)));
        assert_eq!(e.rule, "Test rule", "{item}");
        assert_eq!(e.construct, construct, "{item}");
    }
}

#[test]
fn placeholders_ask_for_values() {
    let e = error(&cloudtrail(&sel("sourceIPAddress|expand: '%Admin_IPs%'")));
    assert_eq!(e.construct, "placeholder `%Admin_IPs%`");
    assert!(e.message.contains("replace it with the list of values"), "{e}");
    let e = error(&cloudtrail(&sel("awsRegion: '%Legitimate_Countries%'")));
    assert_eq!(e.construct, "placeholder `%Legitimate_Countries%`");
    assert!(e.message.contains("replace it with the list of values"), "{e}");
    // A `%` inside a longer value is ordinary text.
    assert!(
        convert(&cloudtrail(&sel("userAgent|contains: '%20'"))).query.contains(r"LIKE '%\%20%' ESCAPE '\'")
    );
}

#[test]
fn keyword_detections_ask_for_a_field() {
    let e = error(&cloudtrail("  keywords:\n    - mimikatz\n    - rubeus\n  condition: keywords"));
    assert_eq!(e.construct, "keyword search");
    assert!(e.message.contains("name the field"), "{e}");
}

#[test]
fn unknown_fields_list_close_column_names() {
    let e = error(&cloudtrail(&sel("eventNme: x")));
    assert_eq!(e.construct, "field `eventNme`");
    assert!(e.message.starts_with("cloudtrail_logs has no such column; close names: eventname"), "{e}");
    let e = error(&cloudtrail(&sel("userIdentity.sessionContext.sessionIssuer.rn: x")));
    assert!(e.message.contains("has no sub-field `rn`; it has: type, principalid, arn"), "{e}");
    let e = error(&cloudtrail(&sel("userIdentity: x")));
    assert!(e.message.contains("`useridentity` is a struct"), "{e}");
    let e = error(&cloudtrail(&sel("resources.ARN: x")));
    assert_eq!(e.construct, "field `resources.ARN`");
    assert!(e.message.contains("array of structs"), "{e}");
    let e = error(&common::vpc(&sel("srcaddr.x: y")));
    assert!(e.message.contains("no sub-fields"), "{e}");
}

#[test]
fn unknown_logsources_are_named() {
    let e = error(&rule("product: windows\n  category: process_creation", &sel("Image|endswith: cmd.exe")));
    assert_eq!(e.construct, "logsource `product: windows, category: process_creation`");
    assert!(e.message.contains("service: cloudtrail"), "{e}");
}

#[test]
fn logsource_mappings() {
    let table = |logsource: &str| convert(&rule(logsource, &sel("action: ACCEPT"))).table;
    assert_eq!(table("product: aws\n  service: vpcflowlogs"), "vpc_flow_logs");
    assert_eq!(table("product: AWS\n  category: firewall"), "vpc_flow_logs");
    let table = |logsource: &str| convert(&rule(logsource, &sel("operation: REST.GET.OBJECT"))).table;
    assert_eq!(table("product: aws\n  service: s3"), "s3_access_logs");
}

#[test]
fn one_failing_document_does_not_stop_the_others() {
    let good = cloudtrail(&sel("eventName: DeleteTrail"));
    let bad = cloudtrail(&sel("eventName|base64: x")).replace("Test rule", "Bad rule");
    let text = format!("{good}---\n{bad}---\n{}", good.replace("Test rule", "Another rule"));
    let results = convert_yaml(&text, 3600);
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().title, "Test rule");
    let e = results[1].as_ref().unwrap_err();
    assert_eq!(
        e.to_string(),
        "rule `Bad rule`: cannot translate modifier `base64`: encoded-value modifiers are not supported; match the decoded value instead"
    );
    assert_eq!(results[2].as_ref().unwrap().title, "Another rule");
}

#[test]
fn documents_the_parser_rejects_are_reported_in_place() {
    let good = cloudtrail(&sel("eventName: DeleteTrail"));
    let text = format!(
        "{good}---\ntitle: Broken YAML\ndetection: [unclosed\n---\nlogsource:\n  product: aws\n---\n\
         title: Bad modifier\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    \
         eventName|nosuchmodifier: x\n  condition: sel\n---\n{}",
        good.replace("Test rule", "Last rule")
    );
    let results = convert_yaml(&text, 3600);
    assert_eq!(results.len(), 5, "{results:#?}");
    assert_eq!(results[0].as_ref().unwrap().title, "Test rule");
    let e = results[1].as_ref().unwrap_err();
    assert_eq!((e.rule.as_str(), e.construct.as_str()), ("Broken YAML", "Sigma document"));
    let e = results[2].as_ref().unwrap_err();
    assert_eq!(e.rule, "<document 3>");
    assert!(e.message.contains("title"), "{e}");
    let e = results[3].as_ref().unwrap_err();
    assert_eq!(e.rule, "Bad modifier");
    assert!(e.message.contains("nosuchmodifier"), "{e}");
    assert_eq!(results[4].as_ref().unwrap().title, "Last rule");
}

#[test]
fn global_action_documents_are_merged_into_later_ones() {
    let text = "action: global\ntitle: Trail changes\nlogsource:\n  product: aws\n  service: cloudtrail\n\
                detection:\n  src:\n    eventSource: cloudtrail.amazonaws.com\n  condition: src and sel\n---\n\
                detection:\n  sel:\n    eventName: StopLogging\n---\ndetection:\n  sel:\n    eventName: DeleteTrail\n";
    let results = convert_yaml(text, 3600);
    assert_eq!(results.len(), 2);
    for (result, name) in results.iter().zip(["stoplogging", "deletetrail"]) {
        let query = &result.as_ref().unwrap().query;
        assert_eq!(
            common::condition(query),
            format!("lower(eventsource) = 'cloudtrail.amazonaws.com'\n  AND lower(eventname) = '{name}'")
        );
    }
}

#[test]
fn repeat_action_documents_build_on_the_previous_one() {
    let text = format!(
        "{}---\naction: repeat\ntitle: Trail deleted\ndetection:\n  sel:\n    eventName: DeleteTrail\n",
        cloudtrail("  sel:\n    eventName: StopLogging\n  condition: sel | count() by awsRegion > 2")
    );
    let results = convert_yaml(&text, 3600);
    assert_eq!(results.len(), 2);
    let repeated = results[1].as_ref().unwrap();
    assert_eq!(repeated.title, "Trail deleted");
    assert_eq!(common::condition(&repeated.query), "lower(eventname) = 'deletetrail'");
    assert!(repeated.query.ends_with("GROUP BY awsregion\nHAVING count(*) > 2"), "{}", repeated.query);
}

#[test]
fn filters_that_target_nothing_are_reported() {
    let text = format!(
        "{}---\ntitle: Stray filter\nlogsource:\n  product: aws\n  service: cloudtrail\nfilter:\n  rules: [other-rule]\n  \
         selection:\n    eventName: x\n  condition: not selection\n",
        cloudtrail(&sel("eventName: DeleteTrail"))
    );
    let results = convert_yaml(&text, 3600);
    assert_eq!(results.len(), 2);
    let e = results[1].as_ref().unwrap_err();
    assert_eq!((e.rule.as_str(), e.construct.as_str()), ("Stray filter", "filter"));
}

#[test]
fn levels_map_to_severities() {
    for (level, severity) in [
        ("informational", "info"),
        ("low", "low"),
        ("medium", "medium"),
        ("high", "high"),
        ("critical", "critical"),
    ] {
        let text = format!("{}level: {level}\n", cloudtrail(&sel("eventName: x")));
        assert_eq!(convert(&text).severity, severity);
    }
    assert_eq!(convert(&cloudtrail(&sel("eventName: x"))).severity, "medium");
}

#[test]
fn display_format() {
    let e = mantissa_backend::rules::sigma::ConvertError {
        rule: "R".into(),
        construct: "modifier `x`".into(),
        message: "do y".into(),
    };
    assert_eq!(e.to_string(), "rule `R`: cannot translate modifier `x`: do y");
}

#[test]
fn empty_text_gives_nothing() {
    assert!(convert_yaml("", 3600).is_empty());
    assert!(convert_yaml("# just a comment\n---\n", 3600).is_empty());
}

/// Suggestions name only columns close in spelling or in meaning, never five random ones.
#[test]
fn suggestions_are_close_in_name_or_meaning() {
    let message = |item: &str| error(&cloudtrail(&sel(item))).message;
    let m = message("ClientIP: 1.2.3.4");
    assert!(m.ends_with("close names: sourceipaddress"), "{m}");
    let m = message("UserName: bob");
    assert!(m.contains("useridentity.username") && !m.contains("eventname"), "{m}");
    let m = error(&common::vpc(&sel("ListeningPort: 22"))).message;
    assert!(m.contains("dstport") && m.contains("srcport"), "{m}");
    // A Windows field on CloudTrail is close to nothing: no guesses, and where to look.
    let m = message("Image|endswith: \\mimikatz.exe");
    assert!(
        m.contains("nor one close to it in name or meaning") && m.contains("DESCRIBE cloudtrail_logs"),
        "{m}"
    );
}
