//! S3 server access, Lambda and custom (web app) logs: everyday use plus a mass download
//! from the bucket made public, the scanner guessing object names (403s), a Lambda error
//! burst and a credential-stuffing run.

use super::cloudtrail::{ACCOUNT, ATTACKER_IP, PUBLIC_BUCKET, SCANNER_IP};
use super::{per_day, time_in};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

type Window = (DateTime<Utc>, DateTime<Utc>);

fn count(window: Window, base: f64, scale: f64) -> usize {
    let days = ((window.1 - window.0).num_hours() as f64 / 24.0).max(1.0 / 24.0);
    (per_day(base, scale) as f64 * days) as usize
}

pub(super) fn generate(
    rng: &mut ChaCha8Rng,
    window: Window,
    scale: f64,
) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    (s3_access(rng, window, scale), lambda(rng, window, scale), custom(rng, window, scale))
}

#[allow(clippy::too_many_arguments)]
fn s3_row(
    rng: &mut ChaCha8Rng,
    at: DateTime<Utc>,
    bucket: &str,
    ip: &str,
    requester: Option<&str>,
    op: &str,
    key: &str,
    status: u16,
    bytes: u64,
    agent: &str,
) -> Value {
    let verb = if op.contains("PUT") { "PUT" } else { "GET" };
    json!({
        "bucketowner": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        "bucket_name": bucket,
        "requestdatetime": at.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
        "remoteip": ip,
        "requester": requester,
        "requestid": format!("{:016X}", rng.random::<u64>()),
        "operation": op,
        "key": key,
        "request_uri": format!("{verb} /{key} HTTP/1.1"),
        "httpstatus": status.to_string(),
        "errorcode": if status == 403 { Some("AccessDenied") } else { None },
        "bytessent": bytes,
        "objectsize": bytes,
        "totaltime": rng.random_range(5..120).to_string(),
        "turnaroundtime": rng.random_range(1..40).to_string(),
        "useragent": agent,
        "hostid": "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=",
        "sigv": "SigV4",
        "ciphersuite": "TLS_AES_128_GCM_SHA256",
        "authtype": if requester.is_some() { "AuthHeader" } else { "-" },
        "endpoint": format!("{bucket}.s3.us-east-1.amazonaws.com"),
        "tlsversion": "TLSv1.3",
    })
}

fn s3_access(rng: &mut ChaCha8Rng, window: Window, scale: f64) -> Vec<Value> {
    let mut out = vec![];
    for _ in 0..count(window, 3_000.0, scale) {
        let at = time_in(rng, window);
        let bucket = *["acme-assets", "acme-logs", "acme-backups", PUBLIC_BUCKET].choose(rng).expect("b");
        let user = *["alice", "bob", "deploy-bot"].choose(rng).expect("u");
        let requester = format!("arn:aws:iam::{ACCOUNT}:user/{user}");
        let ip = *["203.0.113.10", "203.0.113.25", "10.0.2.15"].choose(rng).expect("ip");
        let (op, status) =
            if rng.random_bool(0.7) { ("REST.GET.OBJECT", 200) } else { ("REST.PUT.OBJECT", 200) };
        let key = format!("data/{}/part-{:05}.csv", at.format("%Y/%m/%d"), rng.random_range(0..500));
        let size = rng.random_range(1_000..5_000_000);
        out.push(s3_row(
            rng,
            at,
            bucket,
            ip,
            Some(&requester),
            op,
            &key,
            status,
            size,
            "aws-sdk-java/2.25.0",
        ));
    }
    // Anonymous mass download from the bucket made public, from an address never seen before.
    let t0 = window.1 - Duration::hours(2);
    for i in 0..800 {
        let key = format!("payroll/2024/employee-{:05}.pdf", i);
        let size = rng.random_range(80_000..400_000);
        out.push(s3_row(
            rng,
            t0 + Duration::milliseconds(i * 1100),
            PUBLIC_BUCKET,
            ATTACKER_IP,
            None,
            "REST.GET.OBJECT",
            &key,
            200,
            size,
            "python-requests/2.31.0",
        ));
    }
    // The scanner guesses object names in the company's buckets, anonymously: all denied.
    let t1 = window.1 - Duration::minutes(340);
    let guesses = [
        ".env",
        "backup.sql",
        "db.sql.gz",
        "config.json",
        "credentials.csv",
        "id_rsa",
        "dump.tar.gz",
        "wp-config.php.bak",
        ".git/config",
        "terraform.tfstate",
        "users.csv",
        "secrets.yml",
    ];
    let mut i = 0;
    for bucket in ["acme-backups", "acme-logs", "acme-assets"] {
        for prefix in ["", "backup/", "prod/", "old/"] {
            for guess in guesses {
                let key = format!("{prefix}{guess}");
                out.push(s3_row(
                    rng,
                    t1 + Duration::milliseconds(i * 2500),
                    bucket,
                    SCANNER_IP,
                    None,
                    "REST.GET.OBJECT",
                    &key,
                    403,
                    243,
                    "Go-http-client/1.1",
                ));
                i += 1;
            }
        }
    }
    out
}

fn lambda_row(
    at: DateTime<Utc>,
    function: &str,
    request_id: &str,
    kind: &str,
    level: Option<&str>,
    message: String,
) -> Value {
    json!({
        "timestamp": at.timestamp_millis(), "function_name": function,
        "log_group": format!("/aws/lambda/{function}"),
        "log_stream": format!("{}/[$LATEST]3f1c9a7e", at.format("%Y/%m/%d")),
        "request_id": request_id, "type": kind, "level": level, "message": message,
    })
}

fn invocation(rng: &mut ChaCha8Rng, at: DateTime<Utc>, function: &str, failure: Option<&str>) -> Vec<Value> {
    let id = uuid::Builder::from_random_bytes(rng.random()).into_uuid().to_string();
    let duration: f64 = if failure.is_some() { 3000.0 } else { rng.random_range(20.0..900.0) };
    let end = at + Duration::milliseconds(duration as i64);
    let mut rows =
        vec![lambda_row(at, function, &id, "START", None, format!("START RequestId: {id} Version: $LATEST"))];
    match failure {
        None => rows.push(lambda_row(
            at + Duration::milliseconds(5),
            function,
            &id,
            "log",
            Some("INFO"),
            format!("processed request {}", &id[..8]),
        )),
        Some(error) => {
            rows.push(lambda_row(
                at + Duration::milliseconds(5),
                function,
                &id,
                "log",
                Some("ERROR"),
                error.to_string(),
            ));
            rows.push(lambda_row(
                end,
                function,
                &id,
                "log",
                Some("ERROR"),
                format!("{id} Task timed out after 3.00 seconds"),
            ));
        }
    }
    rows.push(lambda_row(end, function, &id, "END", None, format!("END RequestId: {id}")));
    let mut report = lambda_row(
        end,
        function,
        &id,
        "REPORT",
        None,
        format!("REPORT RequestId: {id}\tDuration: {duration:.2} ms"),
    );
    report["duration_ms"] = json!(duration);
    report["billed_duration_ms"] = json!(duration.ceil() as i64);
    report["memory_size_mb"] = json!(512);
    report["max_memory_used_mb"] = json!(rng.random_range(70..200));
    rows.push(report);
    rows
}

fn lambda(rng: &mut ChaCha8Rng, window: Window, scale: f64) -> Vec<Value> {
    let mut out = vec![];
    for _ in 0..count(window, 250.0, scale) {
        let at = time_in(rng, window);
        let f = *["api-handler", "thumbnailer", "payments-processor"].choose(rng).expect("f");
        out.extend(invocation(rng, at, f, None));
    }
    // payments-processor starts failing: its payment gateway times out for ten minutes.
    let t0 = window.1 - Duration::hours(1);
    for i in 0..60 {
        out.extend(invocation(
            rng,
            t0 + Duration::seconds(i * 10),
            "payments-processor",
            Some("PaymentGatewayTimeout: upstream did not answer within 3000 ms"),
        ));
    }
    out
}

/// Web app records as the app writes them, shaped like `mantissa ingest custom` would.
fn custom(rng: &mut ChaCha8Rng, window: Window, scale: f64) -> Vec<Value> {
    let raw = webapp_records(rng, window, scale);
    raw.into_iter()
        .map(|r| {
            let obj = r.as_object().expect("records are objects");
            crate::ingest::custom::to_row(obj, &r.to_string(), "webapp").expect("records have a timestamp")
        })
        .collect()
}

fn webapp_records(rng: &mut ChaCha8Rng, window: Window, scale: f64) -> Vec<Value> {
    let mut out = vec![];
    let users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    for _ in 0..count(window, 500.0, scale) {
        let at = time_in(rng, window);
        let user = *users.choose(rng).expect("u");
        let ok = rng.random_bool(0.96);
        out.push(json!({
            "timestamp": at.to_rfc3339(), "source": "webapp",
            "event_type": if ok { "login_success" } else { "login_failure" },
            "severity": if ok { "info" } else { "warning" },
            "message": format!("user {user} {}", if ok { "signed in" } else { "failed to sign in" }),
            "user": user, "src_ip": format!("203.0.113.{}", rng.random_range(10..60)),
        }));
    }
    // Credential stuffing: many accounts, one address, a few minutes.
    let t0 = window.1 - Duration::hours(8);
    for i in 0..150 {
        let user = format!("{}{}", users[i % users.len()], i);
        out.push(json!({
            "timestamp": (t0 + Duration::seconds(i as i64 * 2)).to_rfc3339(), "source": "webapp",
            "event_type": "login_failure", "severity": "warning",
            "message": format!("user {user} failed to sign in"), "user": user, "src_ip": ATTACKER_IP,
        }));
    }
    out
}
