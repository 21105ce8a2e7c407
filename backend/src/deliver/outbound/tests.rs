//! The URL policy through the real client: every address form of the deny list, as an IP
//! literal and as a name a fake resolver answers with it, refused before any connection;
//! allow-listed names reach a loopback server; answers read with a cap and never quoted.

use super::*;
use crate::deliver::senders::{self, SendContext};
use crate::model::{Alert, Integration, IntegrationKind, Severity};
use futures::future::BoxFuture;
use serde_json::json;
use std::collections::HashMap;

/// Answers names from a table, never the network.
struct FakeLookup(HashMap<String, Vec<IpAddr>>);

impl Lookup for FakeLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        let found = self.0.get(&host).cloned();
        Box::pin(async move {
            found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such name (fake)"))
        })
    }
}

fn ctx(allowed: &[&str], names: &[(&str, &str)]) -> SendContext {
    let table = names
        .iter()
        .map(|(n, ip)| (n.to_string(), ip.split(',').map(|i| i.parse().unwrap()).collect()))
        .collect();
    SendContext::with_lookup(allowed.iter().map(|s| s.to_string()).collect(), Arc::new(FakeLookup(table)))
}

/// Every form the policy refuses, with a word its message must carry.
const FORBIDDEN: &[(&str, &str)] = &[
    ("127.0.0.1", "loopback"),
    ("127.1.2.3", "loopback"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:0:127.0.0.1", "loopback"),
    ("::127.0.0.1", "loopback"),
    ("64:ff9b::127.0.0.1", "loopback"),
    ("2002:7f00:1::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("::ffff:192.168.1.1", "private"),
    ("64:ff9b::10.0.0.1", "private"),
    ("169.254.169.254", "metadata"),
    ("::ffff:169.254.169.254", "metadata"),
    ("64:ff9b::169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("169.254.10.10", "link-local"),
    ("fe80::1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.254", "benchmarking"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("0.1.2.3", "this network"),
    ("255.255.255.255", "broadcast"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("192.0.2.10", "documentation"),
    ("198.51.100.10", "documentation"),
    ("203.0.113.10", "documentation"),
    ("2001:db8::1", "documentation"),
    ("240.0.0.1", "reserved"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fec0::1", "site-local"),
];

fn literal_url(ip: &str) -> String {
    if ip.contains(':') { format!("https://[{ip}]:9/x") } else { format!("https://{ip}:9/x") }
}

#[tokio::test]
async fn every_forbidden_literal_is_refused_by_the_real_client() {
    let c = ctx(&[], &[]);
    for (ip, word) in FORBIDDEN {
        let e = senders::request(&c, reqwest::Method::POST, &literal_url(ip), |r| r).await.unwrap_err();
        assert!(e.message.contains("refused") && e.message.contains(word), "{ip}: {}", e.message);
        assert_eq!(e.http_status, None, "{ip}: nothing was dialled");
    }
    // The example, and IPv4 spellings the URL parser turns into 127.0.0.1.
    for url in
        ["https://[::ffff:127.0.0.1]", "https://[::ffff:7f00:1]/", "https://2130706433/", "https://0x7f.1/"]
    {
        let e = senders::request(&c, reqwest::Method::GET, url, |r| r).await.unwrap_err();
        assert!(e.message.contains("loopback address: refused"), "{url}: {}", e.message);
    }
}

#[tokio::test]
async fn a_name_answered_with_a_forbidden_address_is_refused_by_the_resolver() {
    let names: Vec<(String, String)> =
        FORBIDDEN.iter().enumerate().map(|(i, (ip, _))| (format!("n{i}.test"), ip.to_string())).collect();
    let table: Vec<(&str, &str)> = names.iter().map(|(n, ip)| (n.as_str(), ip.as_str())).collect();
    let c = ctx(&[], &table);
    for (i, (ip, word)) in FORBIDDEN.iter().enumerate() {
        let url = format!("https://n{i}.test:9/hook");
        let e = senders::request(&c, reqwest::Method::POST, &url, |r| r).await.unwrap_err();
        assert!(e.message.contains("refused") && e.message.contains(word), "{ip}: {}", e.message);
        assert!(e.message.starts_with(&format!("https://n{i}.test/…: ")), "no path or token: {}", e.message);
    }
}

#[tokio::test]
async fn the_allow_list_admits_restricted_addresses_but_never_metadata() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route("/ok", axum::routing::post(|| async { "fine" }))
        .route("/big", axum::routing::post(|| async { "x".repeat(MAX_ANSWER_BYTES + 1) }))
        .route(
            "/fail",
            axum::routing::post(|| async {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "<html>token=abc123 stack trace</html>")
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let c = ctx(
        &["hook.test"],
        &[("hook.test", "127.0.0.1"), ("other.test", "127.0.0.1"), ("md.test", "169.254.169.254")],
    );
    let (status, body) =
        senders::post_json(&c, &format!("http://hook.test:{port}/ok"), &json!({}), |r| r).await.unwrap();
    assert_eq!((status, body.as_str()), (200, "fine"));
    // The same loopback server under a name that is not allowed: refused, over https too.
    let e = senders::post_json(&c, &format!("https://other.test:{port}/ok"), &json!({}), |r| r)
        .await
        .unwrap_err();
    assert!(e.message.contains("loopback address: refused"), "{}", e.message);
    let e =
        senders::post_json(&c, &format!("http://other.test:{port}/ok"), &json!({}), |r| r).await.unwrap_err();
    assert!(e.message.contains("use https"), "{}", e.message);
    let c = ctx(&["hook.test", "md.test"], &[("hook.test", "127.0.0.1"), ("md.test", "169.254.169.254")]);
    let e = senders::post_json(&c, "https://md.test/latest/meta-data", &json!({}), |r| r).await.unwrap_err();
    assert!(e.message.contains("always refused"), "{}", e.message);
    // Answers: a large one is not read, a failure names the status and never the body.
    let e =
        senders::post_json(&c, &format!("http://hook.test:{port}/big"), &json!({}), |r| r).await.unwrap_err();
    assert!(e.message.contains("larger than 64 KiB"), "{}", e.message);
    let e = senders::post_json(&c, &format!("http://hook.test:{port}/fail"), &json!({}), |r| r)
        .await
        .unwrap_err();
    assert_eq!(e.message, "http://hook.test/…: HTTP 500 Internal Server Error");
    assert_eq!(e.http_status, Some(500));
}

#[tokio::test]
async fn a_mixed_answer_keeps_only_the_allowed_addresses() {
    let c = ctx(&[], &[("mixed.test", "127.0.0.1,93.184.216.34,::ffff:10.0.0.1")]);
    let got = c.resolver.checked("mixed.test").await.unwrap();
    assert_eq!(got, vec!["93.184.216.34".parse::<IpAddr>().unwrap()], "what is dialled is what was checked");
    let e = c.resolver.checked("nowhere.test").await.unwrap_err();
    assert!(e.0.contains("cannot resolve `nowhere.test`"), "{e}");
}

#[tokio::test]
async fn smtp_hosts_pass_the_same_policy_before_connecting() {
    let c = ctx(&[], &[("smtp.test", "10.0.0.25"), ("md.test", "169.254.169.254")]);
    let alert = Alert::by_hand("a1", "u", chrono::Utc::now());
    for (host, word) in [
        ("smtp.test", "private"),
        ("127.0.0.1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("md.test", "always refused"),
    ] {
        let email = Integration {
            id: "mail".into(),
            user_id: "u".into(),
            kind: IntegrationKind::Email,
            name: "mail".into(),
            enabled: true,
            min_severity: Severity::Info,
            config: json!({"host": host, "port": 2525, "tls": "none", "from": "siem@example.com", "to": ["soc@example.com"]}),
            secret_ref: None,
            created_at: chrono::Utc::now(),
        };
        let e = senders::send(&c, &email, None, &alert).await.unwrap_err();
        assert!(e.message.starts_with("email: ") && e.message.contains(word), "{host}: {}", e.message);
    }
}

#[test]
fn redaction_drops_tokens() {
    assert_eq!(redact("https://hooks.slack.com/services/T0/B0/secret"), "https://hooks.slack.com/…");
}
