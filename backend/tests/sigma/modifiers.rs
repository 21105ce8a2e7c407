//! Value matching and every supported field modifier, checked against the exact SQL.

use crate::common;
use crate::common::{cloudtrail, cloudtrail_condition as ct, error, s3, vpc_condition as vpc};

fn sel(item: &str) -> String {
    format!("  sel:\n    {item}\n  condition: sel")
}

#[test]
fn plain_values_match_case_insensitively() {
    assert_eq!(ct(&sel("eventName: ConsoleLogin")), "lower(eventname) = 'consolelogin'");
}

#[test]
fn values_without_letters_skip_lower() {
    assert_eq!(ct(&sel("sourceIPAddress: 1.2.3.4")), "sourceipaddress = '1.2.3.4'");
}

#[test]
fn contains_startswith_endswith_wrap_with_percent() {
    assert_eq!(ct(&sel("eventName|contains: Trail")), "lower(eventname) LIKE '%trail%'");
    assert_eq!(ct(&sel("eventName|startswith: Delete")), "lower(eventname) LIKE 'delete%'");
    assert_eq!(ct(&sel("eventName|endswith: Trail")), "lower(eventname) LIKE '%trail'");
}

#[test]
fn lists_are_or_and_plain_lists_use_in() {
    assert_eq!(
        ct(&sel("eventName: [StopLogging, DeleteTrail]")),
        "lower(eventname) IN ('stoplogging', 'deletetrail')"
    );
    assert_eq!(
        ct(&sel("eventName: [StopLogging, 'Delete*', UpdateTrail]")),
        "(lower(eventname) IN ('stoplogging', 'updatetrail') OR lower(eventname) LIKE 'delete%')"
    );
    assert_eq!(
        ct(&sel("eventName|contains: [Trail, Logging]")),
        "(lower(eventname) LIKE '%trail%' OR lower(eventname) LIKE '%logging%')"
    );
}

#[test]
fn all_joins_values_with_and() {
    assert_eq!(
        ct(&sel("userAgent|contains|all: [aws-cli, Boto]")),
        "lower(useragent) LIKE '%aws-cli%'\n  AND lower(useragent) LIKE '%boto%'"
    );
}

#[test]
fn re_is_case_sensitive_and_i_adds_the_flag() {
    assert_eq!(ct(&sel("userAgent|re: '^aws-cli/[0-9]+'")), "regexp_like(useragent, '^aws-cli/[0-9]+')");
    assert_eq!(ct(&sel("userAgent|re|i: '^AWS-CLI'")), "regexp_like(useragent, '(?i)^AWS-CLI')");
    assert_eq!(ct(&sel("userAgent|re|i|m: '^x$'")), "regexp_like(useragent, '(?im)^x$')");
    // Regex text is raw: Sigma wildcards and backslashes pass through, quotes are doubled.
    assert_eq!(ct(&sel(r#"userAgent|re: "it's \\d*""#)), r"regexp_like(useragent, 'it''s \d*')");
}

#[test]
fn cidr_becomes_an_ipv4_text_range() {
    assert_eq!(vpc(&sel("srcaddr|cidr: 10.0.0.0/8")), "srcaddr LIKE '10.%'");
    assert_eq!(
        vpc(&sel("src_ip|cidr: [192.168.0.0/16, 172.16.0.0/12]")),
        "(\n    srcaddr LIKE '192.168.%'\n    \
         OR (srcaddr LIKE '172.%' AND TRY_CAST(split_part(srcaddr, '.', 2) AS BIGINT) BETWEEN 16 AND 31)\n  )"
    );
    assert_eq!(
        ct(&sel("sourceIPAddress|cidr: 203.0.113.0/25")),
        "sourceipaddress LIKE '203.0.113.%'\n  AND TRY_CAST(split_part(sourceipaddress, '.', 4) AS BIGINT) BETWEEN 0 AND 127"
    );
}

#[test]
fn cidr_rejects_ipv6() {
    let e = error(&cloudtrail(&sel("sourceIPAddress|cidr: '2001:db8::/32'")));
    assert_eq!(e.construct, "cidr `2001:db8::/32`");
    assert!(e.message.contains("IPv6"), "{e}");
}

#[test]
fn exists_checks_presence() {
    assert_eq!(ct(&sel("errorCode|exists: true")), "errorcode IS NOT NULL");
    assert_eq!(ct(&sel("errorCode|exists: false")), "errorcode IS NULL");
    // json_extract (not _scalar) so that a JSON object or array counts as present.
    assert_eq!(
        ct(&sel("requestParameters.policy|exists: true")),
        "json_extract(requestparameters, '$.policy') IS NOT NULL"
    );
}

#[test]
fn numeric_comparisons() {
    assert_eq!(vpc(&sel("bytes|gt: 1000000")), "bytes > 1000000");
    assert_eq!(vpc(&sel("dstport|gte: 1024")), "dstport >= 1024");
    assert_eq!(vpc(&sel("packets|lt: 3")), "packets < 3");
    assert_eq!(vpc(&sel("srcport|lte: '1023'")), "srcport <= 1023");
    assert_eq!(vpc(&sel("bytes|gt: 1.5")), "bytes > 1.5");
    // Text columns and JSON values are cast, so non-numbers never match instead of failing.
    assert_eq!(
        ct(&sel("requestParameters.maxResults|gte: 100")),
        "TRY_CAST(json_extract_scalar(requestparameters, '$.maxResults') AS DOUBLE) >= 100"
    );
    let e = error(&vpc_rule(&sel("bytes|gt: lots")));
    assert_eq!(e.construct, "`bytes|gt`");
    assert_eq!(error(&vpc_rule(&sel("bytes|gt: inf"))).construct, "`bytes|gt`");
    // YAML reads 1e3 as a number; quoted, it is text that SQL would not read as one.
    assert_eq!(vpc(&sel("dstport: 1e3")), "dstport = 1000");
    assert_eq!(vpc(&sel("dstport: '1e3'")), "lower(CAST(dstport AS VARCHAR)) = '1e3'");
}

fn vpc_rule(detection: &str) -> String {
    common::vpc(detection)
}

#[test]
fn neq_negates_the_whole_item() {
    assert_eq!(ct(&sel("eventName|neq: ConsoleLogin")), "lower(eventname) <> 'consolelogin'");
    assert_eq!(
        ct(&sel("eventName|neq: [ConsoleLogin, GetObject]")),
        "lower(eventname) NOT IN ('consolelogin', 'getobject')"
    );
    assert_eq!(ct(&sel("eventName|contains|neq: Get")), "lower(eventname) NOT LIKE '%get%'");
    assert_eq!(vpc(&sel("dstport|neq: 443")), "dstport <> 443");
    assert_eq!(ct(&sel("userAgent|re|neq: '^aws-cli'")), "NOT regexp_like(useragent, '^aws-cli')");
}

#[test]
fn cased_matches_exactly() {
    assert_eq!(ct(&sel("eventName|cased: ConsoleLogin")), "eventname = 'ConsoleLogin'");
    assert_eq!(ct(&sel("eventName|contains|cased: Login")), "eventname LIKE '%Login%'");
}

#[test]
fn wildcards_become_like_patterns() {
    assert_eq!(ct(&sel("eventName: 'Delete*Trail?'")), "lower(eventname) LIKE 'delete%trail_'");
}

#[test]
fn escaped_wildcards_are_literal_and_sql_wildcards_are_escaped() {
    assert_eq!(ct(&sel(r"userAgent: 'Get\*'")), "lower(useragent) = 'get*'");
    assert_eq!(ct(&sel(r"userAgent: 'a\?b*'")), "lower(useragent) LIKE 'a?b%'");
    assert_eq!(
        ct(&sel("userAgent|contains: '100%_done'")),
        r"lower(useragent) LIKE '%100\%\_done%' ESCAPE '\'"
    );
    assert_eq!(ct(&sel(r"userAgent|endswith: 'c:\dir'")), r"lower(useragent) LIKE '%c:\\dir' ESCAPE '\'");
}

#[test]
fn null_means_missing() {
    assert_eq!(ct(&sel("errorCode: null")), "errorcode IS NULL");
    assert_eq!(
        ct(&sel("errorCode: [AccessDenied, null]")),
        "(lower(errorcode) = 'accessdenied' OR errorcode IS NULL)"
    );
    assert_eq!(ct(&sel("errorCode|neq: null")), "errorcode IS NOT NULL");
}

#[test]
fn numbers_follow_the_column_type() {
    assert_eq!(vpc(&sel("dstport: 22")), "dstport = 22");
    assert_eq!(vpc(&sel("dst_port: [22, '3389']")), "dstport IN (22, 3389)");
    assert_eq!(vpc(&sel("dstport|startswith: 80")), "CAST(dstport AS VARCHAR) LIKE '80%'");
    assert_eq!(ct(&sel("errorCode: 403")), "errorcode = '403'");
    assert_eq!(
        ct(&sel("requestParameters.maxItems: 5")),
        "json_extract_scalar(requestparameters, '$.maxItems') = '5'"
    );
}

#[test]
fn booleans_compare_as_text() {
    assert_eq!(ct(&sel("readOnly: false")), "lower(readonly) = 'false'");
    assert_eq!(
        ct(&sel("requestParameters.isMultiRegionTrail: true")),
        "lower(json_extract_scalar(requestparameters, '$.isMultiRegionTrail')) = 'true'"
    );
    assert_eq!(error(&vpc_rule(&sel("dstport: true"))).construct, "value `true` of `dstport`");
}

#[test]
fn quotes_in_values_are_doubled() {
    assert_eq!(ct(&sel(r#"errorMessage: "it's denied""#)), "lower(errormessage) = 'it''s denied'");
}

#[test]
fn fields_map_to_columns_structs_and_json_paths() {
    assert_eq!(
        ct(&sel("userIdentity.sessionContext.sessionIssuer.arn|endswith: /Admin")),
        "lower(useridentity.sessioncontext.sessionissuer.arn) LIKE '%/admin'"
    );
    assert_eq!(
        ct(&sel("requestParameters.bucketPolicy.Statement: x")),
        "lower(json_extract_scalar(requestparameters, '$.bucketPolicy.Statement')) = 'x'"
    );
    assert_eq!(
        ct(&sel("requestParameters.x-amz-acl: public-read")),
        r#"lower(json_extract_scalar(requestparameters, '$["x-amz-acl"]')) = 'public-read'"#
    );
    // JSON arrays and objects have no scalar value, so substring search falls back to their text.
    assert_eq!(
        ct(&sel("requestParameters.layers|contains: arn")),
        "lower(coalesce(json_extract_scalar(requestparameters, '$.layers'), json_format(json_extract(requestparameters, '$.layers')))) LIKE '%arn%'"
    );
}

#[test]
fn s3_access_logs_use_the_partition_only() {
    let rule = common::convert(&s3(&sel("operation|startswith: REST.GET")));
    assert_eq!(rule.table, "s3_access_logs");
    assert_eq!(
        rule.query,
        "SELECT *\nFROM s3_access_logs\nWHERE dt BETWEEN {window_start_dt} AND {window_end_dt}\n  \
         AND lower(operation) LIKE 'rest.get%'"
    );
}

#[test]
fn vpc_flow_logs_quote_the_reserved_end_column() {
    assert_eq!(vpc(&sel("end|lt: 5")), "\"end\" < 5");
}

#[test]
fn conflicting_modifiers_are_rejected() {
    let e = error(&cloudtrail(&sel("eventName|contains|startswith: x")));
    assert_eq!(e.construct, "modifiers `contains|startswith`");
    let e = error(&cloudtrail(&sel("eventName|i: x")));
    assert!(e.message.contains("need `re`"), "{e}");
}

#[test]
fn fieldref_compares_two_fields_of_the_event() {
    // An assumed-role session named after its own role; a JSON path on either side works too.
    assert_eq!(
        ct(&sel("userIdentity.userName|fieldref: userIdentity.sessionContext.sessionIssuer.userName")),
        "lower(useridentity.username) = lower(useridentity.sessioncontext.sessionissuer.username)"
    );
    assert_eq!(
        ct(&sel("requestParameters.userName|fieldref|cased: userIdentity.userName")),
        "json_extract_scalar(requestparameters, '$.userName') = useridentity.username"
    );
    assert_eq!(
        ct(&sel("userIdentity.userName|fieldref|neq: requestParameters.userName")),
        "NOT (lower(useridentity.username) = lower(json_extract_scalar(requestparameters, '$.userName')))"
    );
    assert_eq!(error(&cloudtrail(&sel("eventName|fieldref: nosuchfield"))).construct, "field `nosuchfield`");
}
