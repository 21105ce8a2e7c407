//! Each parser on good and malformed input, through the same path `mantissa ingest` takes.

use super::*;
use serde_json::json;
use std::io::Write;
use tempfile::TempDir;

fn lake() -> (TempDir, Lake) {
    let dir = TempDir::new().unwrap();
    let lake = Lake::new(dir.path());
    (dir, lake)
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn run(table: Table, name: &str, text: &[u8]) -> (IngestReport, Vec<Value>) {
    let (_dir, lake) = lake();
    let report = ingest_bytes(&lake, table, Path::new(name), text).unwrap();
    // Re-read what was written as JSON rows, to check the values.
    let mut rows = vec![];
    for f in &report.parquet_files {
        let file = std::fs::File::open(f).unwrap();
        let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let mut w = arrow_json::ArrayWriter::new(Vec::new());
            w.write(&batch).unwrap();
            w.finish().unwrap();
            let v: Vec<Value> = serde_json::from_slice(&w.into_inner()).unwrap();
            rows.extend(v);
        }
    }
    (report, rows)
}

const CT_EVENT: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"2024-11-20T10:15:30Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"e1","readOnly":false,"eventType":"AwsConsoleSignIn","recipientAccountId":"123456789012"}"#;

#[test]
fn cloudtrail_delivery_document_gzip() {
    let doc = format!(
        r#"{{"Records":[{CT_EVENT},{}]}}"#,
        CT_EVENT.replace("2024-11-20T10", "2024-11-21T10").replace("\"e1\"", "\"e2\"")
    );
    let (r, rows) = run(Table::CloudTrail, "ct.json.gz", &gzip(&doc));
    assert_eq!((r.read, r.written, r.skipped), (2, 2, 0), "{:?}", r.issues);
    assert_eq!(r.parquet_files.len(), 2, "one file per day");
    assert!(r.parquet_files[0].to_string_lossy().contains("cloudtrail_logs/dt=2024-11-20/"));
    assert_eq!(rows[0]["eventname"], "ConsoleLogin");
    assert_eq!(rows[0]["useridentity"]["type"], "Root");
    assert_eq!(rows[0]["additionaleventdata"], r#"{"MFAUsed":"No"}"#);
}

/// The lake's layout: rows in event-time order whatever order they came in, statistics and
/// the page index per page, bloom filters on the address and access key columns only.
#[test]
fn files_are_in_time_order_with_page_index_and_bloom_filters() {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let events: Vec<String> = ["10:15:30", "09:00:00", "23:59:59", "00:00:01"]
        .iter()
        .enumerate()
        .map(|(i, t)| CT_EVENT.replace("10:15:30", t).replace("\"e1\"", &format!("\"e{i}\"")))
        .collect();
    let (_dir, lake) = lake();
    let doc = format!(r#"{{"Records":[{}]}}"#, events.join(","));
    let report = ingest_bytes(&lake, Table::CloudTrail, Path::new("ct.json"), doc.as_bytes()).unwrap();
    let file = &report.parquet_files[0];
    let reader = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let column =
        |path: &str| (0..schema.num_columns()).find(|&i| schema.column(i).path().string() == path).unwrap();
    let group = meta.row_group(0);
    for bloom in ["sourceipaddress", "useridentity.accesskeyid"] {
        assert!(group.column(column(bloom)).bloom_filter_offset().is_some(), "{bloom} has a bloom filter");
    }
    assert!(group.column(column("eventname")).bloom_filter_offset().is_none(), "few distinct event names");
    assert!(group.column(column("eventtime")).offset_index_offset().is_some(), "page index written");
    assert!(group.column(column("eventtime")).column_index_offset().is_some(), "page statistics written");
    let (_, rows) = run(Table::CloudTrail, "ct.json", doc.as_bytes());
    let times: Vec<&str> = rows.iter().map(|r| r["eventtime"].as_str().unwrap()).collect();
    assert_eq!(
        times,
        ["2024-11-20T00:00:01Z", "2024-11-20T09:00:00Z", "2024-11-20T10:15:30Z", "2024-11-20T23:59:59Z"]
    );
}

#[test]
fn cloudtrail_json_lines_with_bad_lines_keep_the_rest() {
    let text = format!(
        "{CT_EVENT}\n{{\"eventName\": \n{}\n[1,2]\n{{\"eventName\":\"X\"}}\n",
        CT_EVENT.replace("e1", "e3")
    );
    let (r, rows) = run(Table::CloudTrail, "ct.jsonl", text.as_bytes());
    // `[1,2]` is an array (a shape events come in) of two things that are not events.
    assert_eq!((r.read, r.written, r.skipped), (6, 2, 4));
    assert_eq!(rows.len(), 2);
    let msgs: Vec<String> = r.issues.iter().map(|i| i.to_string()).collect();
    assert!(msgs[0].starts_with("ct.jsonl:2: invalid JSON"), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with("ct.jsonl:4: [1]: expected a CloudTrail event")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with("ct.jsonl:5: no event time: `eventtime`")), "{msgs:?}");
}

#[test]
fn cloudtrail_malformed_document_names_line_and_column() {
    let (r, _) = run(Table::CloudTrail, "bad.json", b"{\"Records\": [\n {\"eventName\": oops}\n]}");
    assert_eq!(r.written, 0);
    assert!(r.issues[0].place.starts_with("bad.json:2:"), "{:?}", r.issues);
    assert!(r.issues[0].reason.contains("invalid CloudTrail JSON"));
}

#[test]
fn truncated_gzip_keeps_complete_lines() {
    let mut lines = String::new();
    for i in 0..2000 {
        lines.push_str(&CT_EVENT.replace("\"e1\"", &format!("\"e{i}\"")));
        lines.push('\n');
    }
    let gz = gzip(&lines);
    let cut = &gz[..gz.len() / 2];
    let (r, rows) = run(Table::CloudTrail, "cut.json.gz", cut);
    assert!(r.issues.iter().any(|i| i.reason.contains("truncated or corrupt")), "{:?}", r.issues);
    assert!(r.written > 100 && r.written < 2000, "kept {}", r.written);
    assert_eq!(rows.len() as u64, r.written);
}

#[test]
fn vpc_flow_default_v2_and_dashes() {
    let text = "2 123456789012 eni-1 10.0.1.5 10.0.2.9 443 49152 6 10 840 1732097730 1732097790 ACCEPT OK\n\
                2 123456789012 eni-1 - - - - - - - 1732097730 1732097790 - NODATA\n";
    let (r, rows) = run(Table::VpcFlow, "flow.log", text.as_bytes());
    assert_eq!((r.read, r.written), (2, 2), "{:?}", r.issues);
    assert_eq!(rows[0]["dstport"], 49152);
    assert_eq!(rows[0]["action"], "ACCEPT");
    assert!(rows[1].get("srcaddr").is_none() || rows[1]["srcaddr"].is_null());
    assert_eq!(rows[1]["log_status"], "NODATA");
}

#[test]
fn vpc_flow_custom_header_and_wrong_field_count() {
    let text = "version vpc-id srcaddr dstaddr dstport start end action flow-direction bogus-field\n\
                5 vpc-9 10.0.0.1 10.0.0.2 22 1732097730 1732097790 REJECT ingress x\n\
                5 vpc-9 10.0.0.1 10.0.0.2 22 1732097730\n";
    let (r, rows) = run(Table::VpcFlow, "v5.log", text.as_bytes());
    assert_eq!((r.read, r.written, r.skipped), (2, 1, 1));
    assert_eq!(rows[0]["vpc_id"], "vpc-9");
    assert_eq!(rows[0]["flow_direction"], "ingress");
    let msgs: Vec<String> = r.issues.iter().map(|i| i.to_string()).collect();
    assert!(msgs.iter().any(|m| m.starts_with("v5.log:1: unknown flow log field `bogus-field`")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with("v5.log:3: expected 10 fields")), "{msgs:?}");
}

#[test]
fn vpc_flow_non_numeric_port_is_reported() {
    let text =
        "2 123456789012 eni-1 10.0.1.5 10.0.2.9 https 49152 6 10 840 1732097730 1732097790 ACCEPT OK\n";
    let (r, _) = run(Table::VpcFlow, "f.log", text.as_bytes());
    assert_eq!(r.written, 1, "the record is kept without the field");
    assert_eq!(
        r.issues[0].to_string(),
        "f.log:1: dropped `srcport`: `https` is not a whole number; the record's other fields were kept"
    );
}

const S3_LINE: &str = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes"#;

#[test]
fn s3_access_log_fields() {
    let text = format!(
        "{S3_LINE}\nnot enough fields here\nowner bucket [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - ID1 REST.GET.OBJECT key \"GET /key HTTP/1.1\n"
    );
    let (r, rows) = run(Table::S3Access, "s3.log", text.as_bytes());
    assert_eq!((r.read, r.written), (3, 1), "{:?}", r.issues);
    let row = &rows[0];
    assert_eq!(row["bucket_name"], "DOC-EXAMPLE-BUCKET1");
    assert_eq!(row["requestdatetime"], "06/Feb/2019:00:00:38 +0000");
    assert_eq!(row["request_uri"], "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1");
    assert_eq!(row["httpstatus"], "200");
    assert_eq!(row["bytessent"], 113);
    assert!(row.get("objectsize").is_none());
    assert_eq!(row["useragent"], "S3Console/0.4");
    assert_eq!(row["aclrequired"], "Yes");
    assert!(r.parquet_files[0].to_string_lossy().contains("dt=2019-02-06"));
    let msgs: Vec<String> = r.issues.iter().map(|i| i.to_string()).collect();
    assert!(msgs.iter().any(|m| m.starts_with("s3.log:2: expected at least 18 fields")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with("s3.log:3: unterminated quote")), "{msgs:?}");
}

#[test]
fn lambda_platform_runtime_and_json_lines() {
    let text = "2024-11-20T10:00:00.000Z START RequestId: 6f7f0961 Version: $LATEST\n\
                2024-11-20T10:00:00.010Z\t6f7f0961\tERROR\tInvoke Error {\"errorType\":\"TypeError\"}\n\
                [WARNING]\t2024-11-20T10:00:00.020Z\t6f7f0961\tslow call\n\
                END RequestId: 6f7f0961\n\
                REPORT RequestId: 6f7f0961\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 150.12 ms\n\
                {\"time\":\"2024-11-20T10:01:00Z\",\"type\":\"platform.report\",\"record\":{\"requestId\":\"abc\",\"metrics\":{\"durationMs\":5.5,\"billedDurationMs\":6,\"memorySizeMB\":128,\"maxMemoryUsedMB\":60}}}\n\
                {\"timestamp\":\"2024-11-20T10:02:00Z\",\"level\":\"ERROR\",\"requestId\":\"abd\",\"message\":\"boom\"}\n\
                {broken json\n";
    let (r, rows) = run(Table::Lambda, "logs/aws/lambda/payments/2024/11/20/stream.log", text.as_bytes());
    assert_eq!((r.read, r.written, r.skipped), (8, 7, 1), "{:?}", r.issues);
    assert_eq!(rows[0]["type"], "START");
    assert_eq!(rows[0]["function_name"], "payments");
    assert_eq!(rows[0]["log_group"], "/aws/lambda/payments");
    assert_eq!(rows[1]["level"], "ERROR");
    assert_eq!(rows[1]["request_id"], "6f7f0961");
    assert_eq!(rows[2]["level"], "WARNING");
    assert_eq!(rows[3]["type"], "END");
    // END and REPORT had no timestamp of their own: they take the last one seen.
    assert_eq!(rows[3]["timestamp"], rows[2]["timestamp"]);
    assert_eq!(rows[4]["duration_ms"], 102.25);
    assert_eq!(rows[4]["billed_duration_ms"], 103);
    assert_eq!(rows[4]["init_duration_ms"], 150.12);
    assert_eq!(rows[5]["type"], "REPORT");
    assert_eq!(rows[5]["max_memory_used_mb"], 60);
    assert_eq!(rows[6]["message"], "boom");
    assert!(r.issues[0].to_string().starts_with("logs/aws/lambda/payments/2024/11/20/stream.log:8:"));
}

#[test]
fn lambda_line_without_any_timestamp_is_reported() {
    let (r, _) = run(Table::Lambda, "fn.log", b"END RequestId: 1\n");
    assert_eq!(r.written, 0);
    assert!(r.issues[0].reason.contains("no timestamp"), "{:?}", r.issues);
}

#[test]
fn custom_json_lines() {
    let text = "{\"timestamp\":\"2024-11-20T10:00:00Z\",\"event_type\":\"login\",\"level\":\"warn\",\"msg\":\"hi\",\"user\":\"a\"}\n\
                {\"timestamp\":1732097730,\"source\":\"vpn\"}\n\
                {\"no_time\":true}\n\
                \"just a string\"\n";
    let (r, rows) = run(Table::Custom, "app.jsonl", text.as_bytes());
    assert_eq!((r.read, r.written, r.skipped), (4, 2, 2));
    assert_eq!(rows[0]["source"], "app");
    assert_eq!(rows[0]["event_type"], "login");
    assert_eq!(rows[0]["severity"], "warn");
    assert_eq!(rows[0]["message"], "hi");
    assert!(rows[0]["data"].as_str().unwrap().contains("\"user\":\"a\""));
    assert_eq!(rows[1]["source"], "vpn");
    let msgs: Vec<String> = r.issues.iter().map(|i| i.to_string()).collect();
    assert!(msgs[0].starts_with("app.jsonl:3: no `timestamp` field"), "{msgs:?}");
    assert!(msgs[1].starts_with("app.jsonl:4: expected a JSON object"), "{msgs:?}");
}

#[test]
fn same_file_twice_does_not_duplicate() {
    let (dir, lake) = lake();
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, format!("{CT_EVENT}\n")).unwrap();
    let first = ingest_paths(&lake, Table::CloudTrail, std::slice::from_ref(&file), &|_| {}).unwrap();
    let second = ingest_paths(&lake, Table::CloudTrail, std::slice::from_ref(&file), &|_| {}).unwrap();
    assert_eq!(first.parquet_files, second.parquet_files);
    let count = walkdir::WalkDir::new(lake.table_dir(Table::CloudTrail))
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        .count();
    assert_eq!(count, 1);
}

#[test]
fn folders_are_walked_and_hidden_files_skipped() {
    let (dir, lake) = lake();
    let sub = dir.path().join("logs/2024/11");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("a.json"), format!("{CT_EVENT}\n")).unwrap();
    std::fs::write(sub.join("b.json.gz"), gzip(&format!("{}\n", CT_EVENT.replace("e1", "e9")))).unwrap();
    std::fs::write(sub.join(".hidden"), "garbage").unwrap();
    let r = ingest_paths(&lake, Table::CloudTrail, &[dir.path().join("logs")], &|_| {}).unwrap();
    assert_eq!((r.files, r.written), (2, 2));
}

/// Every number from a file is range-checked: a value past its column's range is reported with
/// file:line and never wrapped, saturated or turned into 0: a port or an event time out of range
/// refuses its record, another field out of its column's range is dropped from it.
#[test]
fn numbers_out_of_range_are_reported_with_their_line_and_the_rest_kept() {
    let good = "2 123456789012 eni-1 10.0.1.5 10.0.2.9 443 49152 6 10 840 1732097730 1732097790 ACCEPT OK";
    let text = [
        good.to_string(),
        good.replace(" 840 ", " 99999999999999999999 "),
        good.replace(" 49152 ", " 70000 "),
        good.replace("1732097730 1732097790", "9223372036854775807 9223372036854775807"),
        good.replace(" 840 ", " -99999999999999999999 "),
    ]
    .join("\n");
    let (r, rows) = run(Table::VpcFlow, "flow.log", text.as_bytes());
    let msgs: Vec<String> = r.issues.iter().map(|i| i.to_string()).collect();
    assert_eq!((r.read, r.written, r.skipped), (5, 3, 2), "{msgs:?}");
    assert_eq!(rows[0]["bytes"], 840);
    assert!(rows[1..].iter().all(|row| row.get("bytes").is_none()), "{rows:?}");
    assert_eq!(
        msgs[1],
        "flow.log:2: dropped `bytes`: 99999999999999999999 is out of range for a 64-bit integer; the record's other fields were kept"
    );
    assert_eq!(msgs[0], "flow.log:3: `dstport`: 70000 is out of range (0 to 65535)");
    assert_eq!(msgs[2], "flow.log:4: `start`: 9223372036854775807 is out of range for an event time");
    assert!(
        msgs[3].starts_with("flow.log:5: dropped `bytes`: -99999999999999999999 is out of range"),
        "{msgs:?}"
    );

    let huge = "9".repeat(400);
    let lambda = format!(
        "2024-11-20T10:00:00.000Z START RequestId: 1 Version: $LATEST\n\
         REPORT RequestId: 1\tDuration: {huge} ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\n\
         REPORT RequestId: 1\tDuration: 2.5 ms\tBilled Duration: 99999999999999999999 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\n"
    );
    let (r, rows) = run(Table::Lambda, "fn.log", lambda.as_bytes());
    let msgs: Vec<String> = r.issues.iter().map(|i| i.to_string()).collect();
    assert_eq!((r.read, r.written), (3, 3), "{msgs:?}");
    assert_eq!(rows[0]["type"], "START");
    assert!(rows[1].get("duration_ms").is_none() && rows[2]["duration_ms"] == 2.5, "{rows:?}");
    assert_eq!(
        msgs[0],
        format!(
            "fn.log:2: dropped `duration_ms`: {huge} is out of range for a 64-bit float; the record's other fields were kept"
        )
    );
    assert_eq!(
        msgs[1],
        "fn.log:3: dropped `billed_duration_ms`: 99999999999999999999 is out of range for a 64-bit integer; the record's other fields were kept"
    );

    let custom = "{\"timestamp\": 1e300, \"message\": \"a\"}\n\
                  {\"timestamp\": \"-1e20\", \"message\": \"b\"}\n\
                  {\"timestamp\": \"NaN\", \"message\": \"c\"}\n\
                  {\"timestamp\": 1732097730, \"message\": \"d\"}\n";
    let (r, rows) = run(Table::Custom, "app.jsonl", custom.as_bytes());
    let msgs: Vec<String> = r.issues.iter().map(|i| i.to_string()).collect();
    assert_eq!((r.read, r.written), (4, 1), "{msgs:?}");
    assert_eq!(rows[0]["message"], "d");
    assert!(
        msgs[0].starts_with("app.jsonl:1: `timestamp`: 1e+300 is out of range for a timestamp"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].starts_with("app.jsonl:2: `timestamp`: -1e20 is out of range for a timestamp"),
        "{msgs:?}"
    );
    assert!(msgs[2].starts_with("app.jsonl:3: `timestamp`: `NaN` is not a timestamp"), "{msgs:?}");
}

/// A gzip bomb is refused with the file and the cap, without decoding past the cap; a plain
/// file over the cap is refused unread; the other files of the batch are ingested.
#[test]
fn a_gzip_bomb_is_refused_and_the_batch_goes_on() {
    let (dir, lake) = lake();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..64 {
        bomb.write_all(&zeros).unwrap(); // 64 MiB of text, about 64 KiB compressed
    }
    std::fs::write(logs.join("a-bomb.json.gz"), bomb.finish().unwrap()).unwrap();
    std::fs::write(logs.join("b-big.json"), vec![b' '; (2 << 20) + 1]).unwrap();
    std::fs::write(logs.join("c-good.json"), format!("{CT_EVENT}\n")).unwrap();
    let r =
        ingest_paths_with(&lake, Table::CloudTrail, std::slice::from_ref(&logs), &|_| {}, 2 << 20).unwrap();
    let msgs: Vec<String> = r.issues.iter().map(|i| i.to_string()).collect();
    assert_eq!((r.files, r.written), (3, 1), "{msgs:?}");
    let bomb_name = logs.join("a-bomb.json.gz").display().to_string();
    assert!(
        msgs[0].starts_with(&format!("{bomb_name}: decodes to more than 2 MiB (the decoded-size cap)")),
        "{msgs:?}"
    );
    assert!(msgs[0].contains("--max-decoded-size"), "{msgs:?}");
    assert!(msgs[1].contains("b-big.json: decodes to more than 2 MiB"), "{msgs:?}");
    // Raised, the cap lets the big (blank) file through.
    let r =
        ingest_paths_with(&lake, Table::CloudTrail, &[logs.join("b-big.json")], &|_| {}, 4 << 20).unwrap();
    assert!(r.issues.iter().all(|i| !i.reason.contains("decoded-size cap")), "{:?}", r.issues);
}

mod fuzz {
    //! Property tests: no parser panics on arbitrary input, and every record it accepts has a
    //! partition day. Cases proptest finds are kept in `proptest-regressions/`.
    use super::*;
    use proptest::prelude::*;

    fn no_panic(table: Table, bytes: &[u8]) {
        let dir = TempDir::new().unwrap();
        let lake = Lake::new(dir.path());
        let r = ingest_bytes(&lake, table, Path::new("fuzz.log"), bytes).unwrap();
        assert_eq!(r.read, r.written + r.skipped);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn vpc_lines(lines in prop::collection::vec("[0-9a-z\\- .]{0,80}", 0..8)) {
            no_panic(Table::VpcFlow, lines.join("\n").as_bytes());
        }

        #[test]
        fn s3_lines(lines in prop::collection::vec("[\\[\\]\"a-zA-Z0-9 /:+\\-]{0,200}", 0..6)) {
            no_panic(Table::S3Access, lines.join("\n").as_bytes());
        }

        #[test]
        fn lambda_lines(lines in prop::collection::vec("(START |END |REPORT |\\{|2024-11-20T10:00:00Z )?[\\PC\t]{0,60}", 0..6)) {
            no_panic(Table::Lambda, lines.join("\n").as_bytes());
        }

        #[test]
        fn json_sources(lines in prop::collection::vec("\\{(\"[a-zA-Z]{1,8}\":(\"[^\"]{0,10}\"|[0-9]{1,12}|\\{\\}|null),?){0,4}\\}?", 0..6)) {
            no_panic(Table::CloudTrail, lines.join("\n").as_bytes());
            no_panic(Table::Custom, lines.join("\n").as_bytes());
        }

        #[test]
        fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            for t in Table::ALL {
                no_panic(t, &bytes);
            }
        }

        #[test]
        fn gzip_prefixes(cut in 0usize..200) {
            let gz = gzip(&format!("{CT_EVENT}\n{CT_EVENT}\n"));
            no_panic(Table::CloudTrail, &gz[..cut.min(gz.len())]);
        }
    }
}

/// The shapes CloudTrail arrives in besides AWS's own deliveries (each shape as the tool that
/// writes it does: `aws cloudtrail lookup-events`, attack-simulation tools' JSON arrays,
/// EventBridge rules on CloudTrail, Logstash's json codec and Filebeat's nested fields).
#[test]
fn cloudtrail_arrives_in_every_shape_tools_write() {
    let second = CT_EVENT.replace("\"e1\"", "\"e2\"");
    let event: Value = serde_json::from_str(CT_EVENT).unwrap();
    let pretty_array =
        serde_json::to_string_pretty(&json!([event, serde_json::from_str::<Value>(&second).unwrap()]))
            .unwrap();
    let one_line_array = format!("[{CT_EVENT},{second}]");
    let lookup = json!({"Events": [
        {"EventId": "e1", "EventName": "ConsoleLogin", "CloudTrailEvent": CT_EVENT},
        {"EventId": "e2", "EventName": "ConsoleLogin", "CloudTrailEvent": second},
    ]})
    .to_string();
    let eventbridge = format!(
        r#"{{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.signin","time":"2024-11-20T10:15:31Z","detail":{CT_EVENT}}}"#
    );
    let mut timeless = event.clone();
    timeless.as_object_mut().unwrap().remove("eventTime");
    let logstash =
        json!({"@timestamp": "2024-11-20T10:15:30.000Z", "@version": "1", "message": timeless.to_string()})
            .to_string();
    let beats =
        json!({"@timestamp": "2024-11-20T10:15:30.000Z", "agent": {"type": "filebeat"}, "json": event})
            .to_string();
    let pretty_delivery = serde_json::to_string_pretty(&json!({"Records": [event]})).unwrap();
    for (what, text, rows) in [
        ("pretty-printed array", pretty_array.as_str(), 2),
        ("one-line array", one_line_array.as_str(), 2),
        ("lookup-events", lookup.as_str(), 2),
        ("EventBridge event", eventbridge.as_str(), 1),
        ("Logstash message", logstash.as_str(), 1),
        ("Beats nested object", beats.as_str(), 1),
        ("pretty delivery", pretty_delivery.as_str(), 1),
    ] {
        let (r, out) = run(Table::CloudTrail, "ct.json", text.as_bytes());
        assert_eq!((r.written, r.issues.len()), (rows, 0), "{what}: {:?}", r.issues);
        assert_eq!(out[0]["eventname"], "ConsoleLogin", "{what}");
        assert_eq!(out[0]["useridentity"]["type"], "Root", "{what}");
    }
}

#[test]
fn cloudtrail_that_fits_no_shape_says_which_shapes_are_accepted() {
    let (r, _) = run(Table::CloudTrail, "broken.json", b"{\"Records\": [ {\"eventName\": ");
    assert_eq!(r.written, 0);
    assert!(r.issues[0].place.starts_with("broken.json:1:"), "{:?}", r.issues);
    assert!(
        r.issues[0].reason.contains("lookup-events") && r.issues[0].reason.contains("@timestamp"),
        "{:?}",
        r.issues
    );
    let (r, _) = run(Table::CloudTrail, "other.json", br#"{"hello": "world"}"#);
    assert_eq!(r.written, 0);
    assert!(
        r.issues[0].reason.contains("not a CloudTrail event") && r.issues[0].reason.contains("Records"),
        "{:?}",
        r.issues
    );
}

#[test]
fn a_field_of_the_wrong_type_is_dropped_and_the_record_kept() {
    let odd = CT_EVENT.replace(
        r#""userIdentity":{"type":"Root","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"}"#,
        r#""userIdentity":"root""#,
    );
    assert_ne!(odd, CT_EVENT);
    let doubled = CT_EVENT
        .replace(r#""eventName":"ConsoleLogin""#, r#""eventName":"ConsoleLogin","EventName":"Other""#);
    let (r, out) = run(Table::CloudTrail, "ct.json", format!("{odd}\n{doubled}\n").as_bytes());
    assert_eq!((r.read, r.written), (2, 2), "{:?}", r.issues);
    assert_eq!(out.len(), 2);
    assert!(out.iter().any(|row| row["eventname"] == "ConsoleLogin" && row.get("useridentity").is_none()));
    let reasons: Vec<String> = r.issues.iter().map(|i| format!("{}: {}", i.place, i.reason)).collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("ct.json:1") && r.contains("dropped `useridentity`")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("ct.json:2") && r.contains("differ only in case")),
        "{reasons:?}"
    );
}
