//! VPC flow records: web, DNS and NTP traffic with a trickle of internet noise, plus the
//! intruder's look at the web app, a port scan with its rejected flows, a compromised host
//! calling out to rare ports (4444, IRC) and sending gigabytes out, and an SSH/RDP sweep that
//! gets in where SSH was opened to the world.

use super::cloudtrail::{ACCOUNT, ATTACKER_IP, SCANNER_IP};
use super::{per_day, time_in};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const HOSTS: [&str; 6] = ["10.0.1.25", "10.0.1.26", "10.0.2.14", "10.0.2.15", "10.0.3.7", "10.0.3.8"];
/// Sprays SSH and RDP at every host.
const SSH_SCANNER_IP: &str = "193.32.162.159";
const ENIS: [&str; 3] = ["eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002", "eni-0a1b2c3d4e5f60003"];

#[allow(clippy::too_many_arguments)]
fn flow(
    at: DateTime<Utc>,
    eni: &str,
    src: &str,
    dst: &str,
    sport: u32,
    dport: u32,
    proto: u32,
    packets: u64,
    bytes: u64,
    action: &str,
) -> Value {
    let start = at.timestamp();
    json!({
        "version": 2, "account_id": ACCOUNT, "interface_id": eni,
        "srcaddr": src, "dstaddr": dst, "srcport": sport, "dstport": dport, "protocol": proto,
        "packets": packets, "bytes": bytes, "start": start, "end": start + 60,
        "action": action, "log_status": "OK"
    })
}

fn internet_ip(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.random_range(11..223),
        rng.random_range(0..255),
        rng.random_range(0..255),
        rng.random_range(1..254)
    )
}

pub(super) fn background(
    rng: &mut ChaCha8Rng,
    window: (DateTime<Utc>, DateTime<Utc>),
    scale: f64,
) -> Vec<Value> {
    let days = ((window.1 - window.0).num_hours() as f64 / 24.0).max(1.0 / 24.0);
    let n = (per_day(10_000.0, scale) as f64 * days) as usize;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let at = time_in(rng, window);
        let host = *HOSTS.choose(rng).expect("hosts");
        let eni = *ENIS.choose(rng).expect("enis");
        let eph = rng.random_range(32768..61000);
        let roll: f64 = rng.random();
        out.push(if roll < 0.55 {
            let remote = internet_ip(rng);
            let port = *[443u32, 443, 443, 80].choose(rng).expect("ports");
            flow(
                at,
                eni,
                host,
                &remote,
                eph,
                port,
                6,
                rng.random_range(5..400),
                rng.random_range(800..900_000),
                "ACCEPT",
            )
        } else if roll < 0.75 {
            flow(at, eni, host, "10.0.0.2", eph, 53, 17, 2, rng.random_range(120..300), "ACCEPT")
        } else if roll < 0.85 {
            flow(at, eni, host, "169.254.169.123", 123, 123, 17, 1, 76, "ACCEPT")
        } else if roll < 0.97 {
            let peer = *HOSTS.choose(rng).expect("hosts");
            flow(
                at,
                eni,
                host,
                peer,
                eph,
                *[5432u32, 6379, 8080].choose(rng).expect("p"),
                6,
                rng.random_range(10..2000),
                rng.random_range(2_000..5_000_000),
                "ACCEPT",
            )
        } else {
            // Internet background noise hitting closed ports.
            let remote = internet_ip(rng);
            let port = *[22u32, 23, 3389, 445, 8080].choose(rng).expect("p");
            flow(at, eni, &remote, host, eph, port, 6, 1, 44, "REJECT")
        });
    }
    out
}

pub(super) fn stories(rng: &mut ChaCha8Rng, end: DateTime<Utc>) -> Vec<Value> {
    let mut out = vec![];
    // A scanner sweeps 600 ports of a web host in three minutes; almost all are rejected.
    let t0 = end - Duration::hours(6);
    for (i, port) in (1u32..=600).enumerate() {
        let at = t0 + Duration::milliseconds(i as i64 * 300);
        let action = if port == 443 || port == 80 { "ACCEPT" } else { "REJECT" };
        out.push(flow(
            at,
            ENIS[0],
            SCANNER_IP,
            HOSTS[0],
            rng.random_range(40000..60000),
            port,
            6,
            1,
            44,
            action,
        ));
    }
    // Before the password spray on carol (the CloudTrail story), the intruder's machine looks
    // over the company's web app: a few accepted HTTPS flows, quiet on their own, that its
    // timeline ties to the rest. Fixed values: the random draws of the stories after it stay.
    let t_recon = end - Duration::minutes(330);
    for i in 0..8 {
        out.push(flow(
            t_recon + Duration::seconds(i * 40),
            ENIS[0],
            ATTACKER_IP,
            HOSTS[0],
            51_200 + i as u32,
            443,
            6,
            12 + i as u64,
            4_800 + 610 * i as u64,
            "ACCEPT",
        ));
    }
    // A compromised host calls a rare port outside, every five minutes for an hour.
    let t1 = end - Duration::hours(3);
    for i in 0..12 {
        out.push(flow(
            t1 + Duration::minutes(i * 5),
            ENIS[2],
            HOSTS[2],
            "198.51.100.77",
            rng.random_range(40000..60000),
            4444,
            6,
            rng.random_range(20..80),
            rng.random_range(4_000..40_000),
            "ACCEPT",
        ));
    }
    // The same host joins an IRC channel, a classic botnet control path.
    for i in 0..3 {
        out.push(flow(
            t1 + Duration::minutes(7 + i * 20),
            ENIS[2],
            HOSTS[2],
            "192.0.2.66",
            rng.random_range(40000..60000),
            6667,
            6,
            rng.random_range(10..40),
            rng.random_range(1_000..6_000),
            "ACCEPT",
        ));
    }
    // ...and pushes about 2.4 GB to its controller over HTTPS in half an hour.
    let t2 = end - Duration::minutes(150);
    for i in 0..30 {
        out.push(flow(
            t2 + Duration::minutes(i),
            ENIS[2],
            HOSTS[2],
            "198.51.100.77",
            rng.random_range(40000..60000),
            443,
            6,
            rng.random_range(55_000..70_000),
            rng.random_range(70_000_000..90_000_000),
            "ACCEPT",
        ));
    }
    // Half an hour after bob opened SSH to the world (the CloudTrail story), a second scanner
    // sprays SSH and RDP at every host: the two web hosts behind that security group now
    // accept SSH; everything else is rejected.
    let t3 = end - Duration::minutes(210);
    let mut i = 0;
    for round in 0..15 {
        for (h, host) in HOSTS.iter().enumerate() {
            for port in [22u32, 3389] {
                let open = port == 22 && h < 2;
                out.push(flow(
                    t3 + Duration::seconds(i * 4),
                    ENIS[h % ENIS.len()],
                    SSH_SCANNER_IP,
                    host,
                    rng.random_range(40000..60000),
                    port,
                    6,
                    if open { 14 + round % 5 } else { 1 },
                    if open { 3_400 + 40 * round } else { 44 },
                    if open { "ACCEPT" } else { "REJECT" },
                ));
                i += 1;
            }
        }
    }
    out
}
