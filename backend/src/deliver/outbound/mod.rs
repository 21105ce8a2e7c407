//! Where alerts may be sent, enforced where the connection is made: https only, except hosts
//! on an explicit allow-list (loopback for tests and dev); the client's DNS resolver drops
//! every address on the deny list ([`addr`]) so the address dialled is the one checked; IP
//! literals (which skip the resolver) are checked here. No proxies, no redirects. Answers are
//! read with a size cap, and what a remote says never goes into an error that is stored.

pub mod addr;
pub mod resolver;

pub use resolver::{Lookup, PolicyResolver, Refused, SystemLookup};

use reqwest::Url;
use std::net::IpAddr;
use std::sync::Arc;

/// The most of an answer that is read (a service's JSON reply is a few hundred bytes).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Checks `url` against the policy: scheme, and the address when the host is an IP literal
/// (names are checked by the resolver when they are dialled). The error says what to change.
pub fn check_url(url: &str, resolver: &PolicyResolver) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("`{}` is not a URL: {e}", redact(url)))?;
    // The URL parser normalises every IP form (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`).
    let shown = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{}` has no host", redact(url)))?;
    let shown = shown.to_string();
    let allowed = resolver.is_allowed(&shown);
    match parsed.scheme() {
        "https" => {}
        "http" if allowed => {}
        other => {
            return Err(format!(
                "{other}:// to `{shown}` refused: use https (plain http only for allow-listed hosts)"
            ));
        }
    }
    if let Ok(ip) = shown.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        resolver::check_ip(&shown, ip, allowed).map_err(|e| e.0)?;
    }
    Ok(parsed)
}

/// A URL for messages: path and query dropped (webhook URLs carry tokens there).
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "<invalid url>".into(),
    }
}

/// The HTTP client for alerts: names resolved by `resolver`, no proxy (a proxy would dial
/// the name itself), no redirects.
pub fn client(timeout_secs: u64, resolver: Arc<PolicyResolver>) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(resolver)
        .timeout(std::time::Duration::from_secs(timeout_secs))
        .connect_timeout(std::time::Duration::from_secs(5))
        .user_agent(concat!("mantissa-log/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("http client")
}

/// Why a request failed, for an error that is stored: the policy's refusal, or a short
/// kind (timed out, connection failed) and the host and port it was for (never the path or
/// query, which may hold a webhook's secret); never what the remote sent.
pub fn describe(e: &reqwest::Error) -> String {
    if let Some(r) = resolver::refusal_in(e) {
        return r.0.clone();
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused or unreachable"
    } else {
        "request failed"
    };
    match e.url().and_then(|u| Some((u.host_str()?.to_string(), u.port_or_known_default()?))) {
        Some((host, port)) => format!("{kind} ({host}:{port})"),
        None => kind.to_string(),
    }
}

/// `HTTP 503 Service Unavailable`: the status and its standard reason, not the remote's text.
pub fn status_text(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// The answer's body, at most `cap` bytes: a longer one is refused without reading the rest.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    let too_big = || format!("the answer is larger than {} KiB: not read", cap / 1024);
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_big());
    }
    let mut out = vec![];
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("reading the answer: {}", describe(&e)))? {
        if out.len() + chunk.len() > cap {
            return Err(too_big());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
