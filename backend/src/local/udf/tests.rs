//! Each function against the result Trino gives for the same call.

use super::register_trino_functions;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;

async fn eval_all(sql: &str) -> Result<Vec<String>, String> {
    let ctx = SessionContext::new();
    register_trino_functions(&ctx);
    let df = ctx.sql(sql).await.map_err(|e| e.to_string())?;
    let batches = df.collect().await.map_err(|e| e.to_string())?;
    let opts = FormatOptions::default().with_null("NULL");
    let mut out = vec![];
    for b in batches {
        let f = ArrayFormatter::try_new(b.column(0).as_ref(), &opts).unwrap();
        for row in 0..b.num_rows() {
            out.push(f.value(row).to_string());
        }
    }
    Ok(out)
}

async fn eval(sql: &str) -> String {
    let mut v = eval_all(&format!("SELECT {sql}")).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(v.len(), 1, "{sql}");
    v.remove(0)
}

async fn eval_err(sql: &str) -> String {
    eval_all(&format!("SELECT {sql}")).await.expect_err(sql)
}

#[tokio::test]
async fn from_iso8601_timestamp_matches_trino() {
    assert_eq!(eval("from_iso8601_timestamp('2024-11-20T10:15:30Z')").await, "2024-11-20T10:15:30Z");
    assert_eq!(
        eval("from_iso8601_timestamp('2024-11-20T12:15:30.250+02:00')").await,
        "2024-11-20T10:15:30.250Z"
    );
    assert_eq!(eval("from_iso8601_timestamp('2024-02-29')").await, "2024-02-29T00:00:00Z");
    assert_eq!(eval("from_iso8601_timestamp(NULL)").await, "NULL");
    let e = eval_err("from_iso8601_timestamp('yesterday')").await;
    assert!(e.contains("`yesterday` is not an ISO 8601 timestamp"), "{e}");
    // Comparable with now() and interval arithmetic, as detections do.
    assert_eq!(
        eval("from_iso8601_timestamp('2024-11-20T10:00:00Z') > from_iso8601_timestamp('2024-11-20T10:00:00Z') - INTERVAL '1' HOUR").await,
        "true"
    );
}

#[tokio::test]
async fn unixtime_round_trip() {
    assert_eq!(eval("to_unixtime(from_iso8601_timestamp('2024-11-20T10:15:30.5Z'))").await, "1732097730.5");
    assert_eq!(eval("from_unixtime(1732097730)").await, "2024-11-20T10:15:30Z");
    assert_eq!(eval("from_unixtime(1732097730.25)").await, "2024-11-20T10:15:30.250Z");
    assert_eq!(eval("to_unixtime(from_unixtime(0))").await, "0.0");
    assert!(eval_err("from_unixtime('x')").await.contains("expected seconds"));
}

#[tokio::test]
async fn date_add_matches_trino() {
    let ts = "from_iso8601_timestamp('2024-01-31T10:00:00Z')";
    assert_eq!(eval(&format!("date_add('day', 1, {ts})")).await, "2024-02-01T10:00:00Z");
    assert_eq!(eval(&format!("date_add('hour', -11, {ts})")).await, "2024-01-30T23:00:00Z");
    // Month arithmetic clamps to the month's last day (leap year).
    assert_eq!(eval(&format!("date_add('month', 1, {ts})")).await, "2024-02-29T10:00:00Z");
    assert_eq!(
        eval(&format!("date_add('year', 1, date_add('month', 1, {ts}))")).await,
        "2025-02-28T10:00:00Z"
    );
    assert_eq!(eval(&format!("date_add('quarter', -1, {ts})")).await, "2023-10-31T10:00:00Z");
    assert_eq!(eval(&format!("date_add('week', 2, {ts})")).await, "2024-02-14T10:00:00Z");
    assert_eq!(eval("date_add('day', 1, DATE '2024-02-28')").await, "2024-02-29");
    assert!(eval_err(&format!("date_add('fortnight', 1, {ts})")).await.contains("unknown unit `fortnight`"));
}

#[tokio::test]
async fn date_diff_matches_trino() {
    let a = "from_iso8601_timestamp('2024-01-31T10:00:00Z')";
    let b = "from_iso8601_timestamp('2024-03-01T09:00:00Z')";
    assert_eq!(eval(&format!("date_diff('day', {a}, {b})")).await, "29");
    assert_eq!(eval(&format!("date_diff('hour', {b}, {a})")).await, "-719");
    // One whole month (Jan 31 -> Feb 29 10:00) has passed, not two.
    assert_eq!(eval(&format!("date_diff('month', {a}, {b})")).await, "1");
    assert_eq!(eval(&format!("date_diff('month', {b}, {a})")).await, "-1");
    assert_eq!(eval(&format!("date_diff('year', {a}, {b})")).await, "0");
    assert_eq!(
        eval("date_diff('second', from_iso8601_timestamp('2024-01-01T00:00:00Z'), from_iso8601_timestamp('2024-01-01T00:01:01.900Z'))").await,
        "61"
    );
}

#[tokio::test]
async fn json_extract_matches_trino() {
    let doc = r#"'{"bucketName":"prod-data","policy":{"Statement":[{"Effect":"Allow","Principal":"*"}]},"n":3,"ok":true,"nil":null}'"#;
    assert_eq!(eval(&format!("json_extract_scalar({doc}, '$.bucketName')")).await, "prod-data");
    assert_eq!(eval(&format!("json_extract_scalar({doc}, '$.policy.Statement[0].Principal')")).await, "*");
    assert_eq!(eval(&format!("json_extract_scalar({doc}, '$.n')")).await, "3");
    assert_eq!(eval(&format!("json_extract_scalar({doc}, '$.ok')")).await, "true");
    // Not a scalar, missing, null, malformed JSON: NULL.
    assert_eq!(eval(&format!("json_extract_scalar({doc}, '$.policy')")).await, "NULL");
    assert_eq!(eval(&format!("json_extract_scalar({doc}, '$.missing')")).await, "NULL");
    assert_eq!(eval(&format!("json_extract_scalar({doc}, '$.nil')")).await, "NULL");
    assert_eq!(eval("json_extract_scalar('{not json', '$.a')").await, "NULL");
    assert_eq!(
        eval(&format!("json_extract({doc}, '$.policy.Statement[0]')")).await,
        r#"{"Effect":"Allow","Principal":"*"}"#
    );
    assert_eq!(eval(&format!("json_extract({doc}, '$.bucketName')")).await, r#""prod-data""#);
    assert!(eval_err(&format!("json_extract({doc}, 'bucketName')")).await.contains("invalid JSON path"));
    // Trino's json_format(json) -> varchar: the JSON text.
    assert_eq!(
        eval(&format!("json_format(json_extract({doc}, '$.policy.Statement'))")).await,
        r#"[{"Effect":"Allow","Principal":"*"}]"#
    );
}

#[tokio::test]
async fn regexp_like_matches_trino() {
    // Trino's regexp_like finds the pattern anywhere (not a full match).
    assert_eq!(eval(r"regexp_like('1a 2b 14m', '\d+b')").await, "true");
    assert_eq!(eval("regexp_like('aws-cli/2.13.0', '^aws-cli/')").await, "true");
    assert_eq!(eval("regexp_like('Mozilla/5.0', '^aws-cli/')").await, "false");
    assert_eq!(eval("regexp_like(NULL, 'a')").await, "NULL");
}

#[tokio::test]
async fn element_at_matches_trino() {
    assert_eq!(eval("element_at(make_array('a', 'b', 'c'), 1)").await, "a");
    assert_eq!(eval("element_at(make_array('a', 'b', 'c'), -1)").await, "c");
    assert_eq!(eval("element_at(make_array('a', 'b', 'c'), 4)").await, "NULL");
    assert_eq!(eval("element_at(make_array(10, 20), 2)").await, "20");
    assert_eq!(eval("element_at(map(['k1', 'k2'], ['v1', 'v2']), 'k2')").await, "v2");
    assert_eq!(eval("element_at(map(['k1'], ['v1']), 'zz')").await, "NULL");
    assert!(eval_err("element_at(make_array(1), 0)").await.contains("indices start at 1"));
}

#[tokio::test]
async fn cardinality_matches_trino() {
    assert_eq!(eval("cardinality(make_array(1, 2, 3))").await, "3");
    assert_eq!(eval("cardinality(map(['a', 'b'], [1, 2]))").await, "2");
}

#[tokio::test]
async fn contains_matches_trino() {
    assert_eq!(eval("contains(make_array('s3:GetObject', 's3:PutObject'), 's3:PutObject')").await, "true");
    assert_eq!(eval("contains(make_array(1, 2, 3), 4)").await, "false");
    assert_eq!(eval("contains(make_array(1, 2, 3), 2)").await, "true");
    // Trino: not found and the array holds a NULL -> NULL.
    assert_eq!(eval("contains(make_array(1, NULL), 4)").await, "NULL");
    assert_eq!(eval("contains('Mozilla/5.0 (sqlmap)', 'sqlmap')").await, "true");
}

#[tokio::test]
async fn split_part_matches_trino() {
    assert_eq!(eval("split_part('arn:aws:iam::123456789012:user/alice', ':', 5)").await, "123456789012");
    assert_eq!(eval("split_part('a,b', ',', 1)").await, "a");
    // Past the last field Trino gives NULL (DataFusion's own gives '').
    assert_eq!(eval("split_part('a,b', ',', 3)").await, "NULL");
    assert!(eval_err("split_part('a,b', ',', 0)").await.contains("greater than zero"));
}

#[tokio::test]
async fn functions_work_on_columns_row_by_row() {
    let rows = eval_all(
        "SELECT json_extract_scalar(doc, '$.user') FROM (VALUES ('{\"user\":\"a\"}'), ('{\"user\":\"b\"}'), (NULL)) AS t(doc)",
    )
    .await
    .unwrap();
    assert_eq!(rows, vec!["a", "b", "NULL"]);
}

#[tokio::test]
async fn date_format_matches_trino() {
    let ts = "from_iso8601_timestamp('2024-03-05T07:08:09.123Z')";
    assert_eq!(eval(&format!("date_format({ts}, '%Y-%m-%d')")).await, "2024-03-05");
    assert_eq!(eval(&format!("date_format({ts}, '%H:%i:%s')")).await, "07:08:09");
    assert_eq!(
        eval(&format!("date_format({ts}, '%c/%e/%y %T %M %W')")).await,
        "3/5/24 07:08:09 March Tuesday"
    );
    assert_eq!(eval("date_format(DATE '2024-11-20' - INTERVAL '1' DAY, '%Y-%m-%d')").await, "2024-11-19");
    // The demo rules' partition filter parses and plans.
    assert_eq!(eval("length(date_format(current_date - interval '1' day, '%Y-%m-%d'))").await, "10");
}

#[tokio::test]
async fn parse_datetime_reads_java_patterns() {
    // S3 access logs' requestdatetime, as every guide parses it.
    assert_eq!(
        eval("parse_datetime('06/Feb/2019:00:00:38 +0000', 'dd/MMM/yyyy:HH:mm:ss Z')").await,
        "2019-02-06T00:00:38Z"
    );
    assert_eq!(
        eval("parse_datetime('2024-11-20 10:15:30.250', 'yyyy-MM-dd HH:mm:ss.SSS')").await,
        "2024-11-20T10:15:30.250Z"
    );
    assert_eq!(
        eval("parse_datetime('2024-11-20T10:15', 'yyyy-MM-dd''T''HH:mm')").await,
        "2024-11-20T10:15:00Z"
    );
    assert_eq!(eval("parse_datetime('nope', 'yyyy')").await, "NULL");
}

#[tokio::test]
async fn date_fields_and_iso_text_match_trino() {
    assert_eq!(eval("date('2024-11-20T10:15:30Z')").await, "2024-11-20");
    assert_eq!(eval("date(from_iso8601_timestamp('2024-11-20T23:59:59Z'))").await, "2024-11-20");
    assert_eq!(
        eval("to_iso8601(from_iso8601_timestamp('2024-11-20T10:15:30Z'))").await,
        "2024-11-20T10:15:30.000Z"
    );
    assert_eq!(eval("to_iso8601(date('2024-11-20'))").await, "2024-11-20");
    assert_eq!(eval("from_iso8601_date('2024-11-20')").await, "2024-11-20");
    assert_eq!(
        eval("format_datetime(from_iso8601_timestamp('2024-11-20T10:15:30Z'), 'yyyy-MM-dd HH:mm')").await,
        "2024-11-20 10:15"
    );
    assert_eq!(eval("try(date_parse('nope', '%Y'))").await, "NULL");
    // 2024-11-20 is a Wednesday: ISO day 3, week 47, day 325 of a leap year.
    for (f, want) in [
        ("day_of_week", "3"),
        ("dow", "3"),
        ("day_of_year", "325"),
        ("week", "47"),
        ("year", "2024"),
        ("quarter", "4"),
        ("month", "11"),
        ("day", "20"),
        ("hour", "10"),
        ("minute", "15"),
        ("second", "30"),
    ] {
        assert_eq!(eval(&format!("{f}(from_iso8601_timestamp('2024-11-20T10:15:30Z'))")).await, want, "{f}");
    }
    // The zone changes how Trino shows the instant, not the instant.
    assert_eq!(eval("to_unixtime(from_unixtime(1732097730, 'America/New_York'))").await, "1732097730.0");
}

#[tokio::test]
async fn regex_replace_split_and_urls_match_trino() {
    assert_eq!(eval("regexp_extract('arn:aws:iam::123456789012:user/alice', 'user/(.*)', 1)").await, "alice");
    assert_eq!(
        eval("regexp_extract('arn:aws:iam::123456789012:user/alice', '[0-9]{12}')").await,
        "123456789012"
    );
    assert_eq!(eval("regexp_extract('no digits', '[0-9]+')").await, "NULL");
    assert!(eval_err("regexp_extract('x', '(a)', 2)").await.contains("no group 2"));
    assert_eq!(eval("regexp_extract_all('a1b22c333', '[0-9]+')").await, "[1, 22, 333]");
    assert_eq!(eval("regexp_extract_all('k=v, x=y', '(\\w)=(\\w)', 2)").await, "[v, y]");
    assert_eq!(eval("replace('Mozilla/5.0 (X11)', ' ')").await, "Mozilla/5.0(X11)");
    assert_eq!(eval("replace('a-b-c', '-', '+')").await, "a+b+c");
    assert_eq!(eval("split('arn:aws:iam::1:role/x', ':')[5]").await, "1");
    assert_eq!(eval("cardinality(split('a,b,c', ','))").await, "3");
    let url = "'https://example.com:8443/path/to?key=a%20b&x=1#frag'";
    assert_eq!(eval(&format!("url_extract_host({url})")).await, "example.com");
    assert_eq!(eval(&format!("url_extract_path({url})")).await, "/path/to");
    assert_eq!(eval(&format!("url_extract_port({url})")).await, "8443");
    assert_eq!(eval(&format!("url_extract_protocol({url})")).await, "https");
    assert_eq!(eval(&format!("url_extract_query({url})")).await, "key=a%20b&x=1");
    assert_eq!(eval(&format!("url_extract_fragment({url})")).await, "frag");
    assert_eq!(eval(&format!("url_extract_parameter({url}, 'key')")).await, "a b");
    assert_eq!(eval("url_extract_host('not a url')").await, "NULL");
}

#[tokio::test]
async fn approx_percentile_is_trinos_name_for_the_continuous_one() {
    let got =
        eval_all("SELECT approx_percentile(v, 0.5) FROM (VALUES (1.0), (2.0), (3.0)) t(v)").await.unwrap();
    assert_eq!(got, ["2.0"]);
}

#[tokio::test]
async fn contains_tests_an_address_against_a_network_as_trino_does() {
    for (call, want) in [
        ("contains('10.0.0.0/8', '10.20.30.40')", "true"),
        ("contains('10.0.0.0/8', '11.0.0.1')", "false"),
        ("contains('192.168.1.0/24', '192.168.1.255')", "true"),
        ("contains('0.0.0.0/0', '203.0.113.7')", "true"),
        ("contains('2001:db8::/32', '2001:db8:1::1')", "true"),
        ("contains('2001:db8::/32', '2001:db9::1')", "false"),
        ("contains('10.0.0.0/8', '::ffff:10.1.2.3')", "true"),
        ("contains('10.0.0.0/8', ipaddress('10.1.2.3'))", "true"),
        ("ipaddress('10.0.0.9') < ipaddress('10.0.0.10')", "true"),
        ("ipaddress('192.168.0.1') > ipaddress('10.255.255.255')", "true"),
        ("ipaddress('not an address') IS NULL", "true"),
        // Not a network: DataFusion's substring test, as before.
        ("contains('ConsoleLogin', 'Login')", "true"),
    ] {
        assert_eq!(eval(call).await, want, "{call}");
    }
}
