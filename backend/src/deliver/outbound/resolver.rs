//! The DNS resolver of the alert HTTP client (and the SMTP sender): it resolves a name and
//! keeps only the addresses the policy allows, so what is dialled is what was checked (no
//! window for DNS rebinding between a check and the connect).

use super::addr::{Verdict, verdict};
use futures::future::BoxFuture;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Name resolution; the system resolver in production, a fake in tests.
pub trait Lookup: Send + Sync {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver (getaddrinfo on the blocking pool).
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        Box::pin(
            async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|a| a.ip()).collect()) },
        )
    }
}

/// A connection the policy refused; the message names the host, the address and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Judges one address for `host`; `allowed`: the host is on the allow-list.
pub fn check_ip(host: &str, ip: IpAddr, allowed: bool) -> Result<(), Refused> {
    match verdict(ip) {
        Verdict::Public => Ok(()),
        Verdict::Restricted(_) if allowed => Ok(()),
        Verdict::Restricted(what) => Err(Refused(format!(
            "`{host}` is {ip}, a {what} address: refused (add the host to the allow-list to permit it)"
        ))),
        Verdict::Never(what) => Err(Refused(format!("`{host}` is {ip}, a {what} address: always refused"))),
    }
}

/// Resolves names under the outbound policy.
#[derive(Clone)]
pub struct PolicyResolver {
    lookup: Arc<dyn Lookup>,
    allowed_hosts: Arc<Vec<String>>,
}

impl PolicyResolver {
    pub fn new(lookup: Arc<dyn Lookup>, allowed_hosts: Vec<String>) -> Self {
        PolicyResolver { lookup, allowed_hosts: Arc::new(allowed_hosts) }
    }

    pub fn is_allowed(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(bare))
    }

    /// The addresses of `host` the policy permits (an IP literal is judged as it is); refused
    /// when none is left. Refused addresses are dropped, never dialled.
    pub async fn checked(&self, host: &str) -> Result<Vec<IpAddr>, Refused> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let allowed = self.is_allowed(bare);
        let ips = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => self
                .lookup
                .lookup(bare.to_string())
                .await
                .map_err(|e| Refused(format!("cannot resolve `{bare}`: {e}")))?,
        };
        let mut first_refusal = None;
        let mut ok = vec![];
        for ip in ips {
            match check_ip(bare, ip, allowed) {
                Ok(()) => ok.push(ip),
                Err(e) if first_refusal.is_none() => first_refusal = Some(e),
                Err(_) => {}
            }
        }
        match (ok.is_empty(), first_refusal) {
            (false, _) => Ok(ok),
            (true, Some(refusal)) => Err(refusal),
            (true, None) => Err(Refused(format!("`{bare}` has no address"))),
        }
    }
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let ips = this
                .checked(&host)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            // Port 0: reqwest puts the URL's port (or the scheme's) in.
            let addrs: reqwest::dns::Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The policy's refusal inside a client error, if that is what stopped the request.
pub fn refusal_in<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r);
        }
        cur = err.source();
    }
    None
}
