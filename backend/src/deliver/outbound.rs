//! Where alerts may be sent: https only, except hosts on an explicit allow-list (loopback for
//! tests and dev); link-local and cloud metadata addresses always refused; private ranges
//! refused unless allowed. Redirects are never followed.

use reqwest::Url;
use std::net::IpAddr;

fn is_link_local_or_metadata(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(), // 169.254.0.0/16, incl. 169.254.169.254
        IpAddr::V6(v6) => {
            v6.segments()[0] & 0xffc0 == 0xfe80
                || v6 == "fd00:ec2::254".parse::<std::net::Ipv6Addr>().expect("valid")
        }
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_unspecified(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Checks `url` against the policy, resolving its host; the error says what to change.
pub async fn check_url(url: &str, allowed_hosts: &[String]) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("`{}` is not a URL: {e}", redact(url)))?;
    let host = parsed.host_str().ok_or_else(|| format!("`{}` has no host", redact(url)))?.to_string();
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let allowed = allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&bare));
    match parsed.scheme() {
        "https" => {}
        "http" if allowed => {}
        other => {
            return Err(format!(
                "{other}:// to `{host}` refused: use https (plain http only for allow-listed hosts)"
            ));
        }
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let ips: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((bare.as_str(), port))
            .await
            .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
            .map(|a| a.ip())
            .collect(),
    };
    for ip in ips {
        if is_link_local_or_metadata(ip) {
            return Err(format!("`{host}` resolves to {ip}, a link-local/metadata address: always refused"));
        }
        if is_private(ip) && !allowed {
            return Err(format!(
                "`{host}` resolves to private address {ip}: add the host to the allow-list to permit it"
            ));
        }
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

pub fn client(timeout_secs: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(timeout_secs))
        .connect_timeout(std::time::Duration::from_secs(5))
        .user_agent(concat!("mantissa-log/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("http client")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow() -> Vec<String> {
        vec!["127.0.0.1".into(), "localhost".into()]
    }

    #[tokio::test]
    async fn policy() {
        assert!(check_url("https://93.184.216.34/x", &[]).await.is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook", &allow()).await.is_ok());
        let e = check_url("http://93.184.216.34/x", &[]).await.unwrap_err();
        assert!(e.contains("use https"), "{e}");
        let e = check_url("https://169.254.169.254/latest/meta-data", &["169.254.169.254".into()])
            .await
            .unwrap_err();
        assert!(e.contains("always refused"), "{e}");
        let e = check_url("https://[fd00:ec2::254]/", &[]).await.unwrap_err();
        assert!(e.contains("always refused"), "{e}");
        let e = check_url("https://10.1.2.3/", &[]).await.unwrap_err();
        assert!(e.contains("private address"), "{e}");
        let e = check_url("https://127.0.0.1/", &[]).await.unwrap_err();
        assert!(e.contains("allow-list"), "{e}");
        assert!(check_url("https://localhost/", &allow()).await.is_ok());
        assert!(check_url("ftp://x/", &[]).await.is_err());
    }

    #[test]
    fn redaction_drops_tokens() {
        assert_eq!(redact("https://hooks.slack.com/services/T0/B0/secret"), "https://hooks.slack.com/…");
    }
}
