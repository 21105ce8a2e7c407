//! Seven and a half hours of simulated time: CloudTrail files land every five minutes (one
//! late), the scheduler is down for an hour, incidents span many runs. Exactly the expected
//! alerts appear, each once, with its evidence window and event count, each delivered once.

use super::world::{USER, World, event, key_rule, login_rule, minutes, t0};
use chrono::{DateTime, Utc};
use mantissa_backend::detect::SchedulerRunner;
use mantissa_backend::model::Alert;
use mantissa_backend::ports::AlertQuery;
use serde_json::Value;
use std::collections::BTreeMap;

struct Incident {
    rule: &'static str,
    principal: &'static str,
    /// Minutes after t0 of each event.
    at: &'static [i64],
}

const INCIDENTS: [Incident; 6] = [
    // Spans five runs of a 5-minute rule: folded into one alert.
    Incident { rule: "login-no-mfa", principal: "alice", at: &[10, 15, 20, 25, 30] },
    // Gaps under the 1 h dedup window: one alert.
    Incident { rule: "login-no-mfa", principal: "bob", at: &[62, 100, 150] },
    // Bob again 90 minutes later, while the scheduler is down: a second alert, caught up.
    Incident { rule: "login-no-mfa", principal: "bob", at: &[240] },
    // Delivered 13 minutes late (inside the 15-minute allowance).
    Incident { rule: "login-no-mfa", principal: "carol", at: &[300, 301] },
    Incident { rule: "key-created", principal: "arn:aws:iam::111122223333:user/mallory", at: &[50, 130] },
    // 200 minutes after the last: past the 2 h window, a new alert.
    Incident { rule: "key-created", principal: "arn:aws:iam::111122223333:user/mallory", at: &[330] },
];

const DOWN_FROM: i64 = 210;
const DOWN_UNTIL: i64 = 270;
const LATE_BUCKET: i64 = 300;

fn user_of(principal: &str) -> &str {
    principal.rsplit('/').next().unwrap_or(principal)
}

/// The events of the 5-minute bucket starting at minute `b`: the incidents' and some noise.
fn bucket(b: i64) -> Vec<Value> {
    let at = |m: i64| t0() + minutes(m);
    let mut out = vec![
        event(at(b) + chrono::Duration::seconds(7), "dave", "DescribeInstances", "No"),
        event(at(b + 2), "erin", "ConsoleLogin", "Yes"),
    ];
    for i in &INCIDENTS {
        for m in i.at.iter().filter(|m| (b..b + 5).contains(*m)) {
            let name = if i.rule == "login-no-mfa" { "ConsoleLogin" } else { "CreateAccessKey" };
            out.push(event(at(*m), user_of(i.principal), name, "No"));
        }
    }
    out
}

/// When the file of bucket `b` lands: five minutes after it closes, thirteen for the late one.
fn lands_at(b: i64) -> i64 {
    b + 5 + if b == LATE_BUCKET { 13 } else { 5 }
}

#[tokio::test]
async fn hours_of_live_data_make_each_incident_one_alert() {
    let w = World::new().await;
    for rule in [login_rule(), key_rule()] {
        w.s.rules.put_rule(USER, &rule).await.unwrap();
    }
    let mut scheduler = SchedulerRunner::new(w.s.clone(), USER);
    let mut landed: BTreeMap<i64, DateTime<Utc>> = BTreeMap::new();
    // The rules' first runs at t0 look back a day and find nothing yet.
    for minute in 0..=450 {
        w.clock.set(t0() + minutes(minute));
        for b in (0..360).step_by(5).filter(|b| lands_at(*b) == minute) {
            w.land(&format!("AWSLogs/111122223333/CloudTrail/us-east-1/2024/11/20/{b:04}.json"), &bucket(b));
            landed.insert(b, w.now());
        }
        if !(DOWN_FROM..DOWN_UNTIL).contains(&minute) {
            w.tick(&mut scheduler).await;
        }
    }

    let alerts = w.s.alerts.list_alerts(USER, &AlertQuery::default()).await.unwrap();
    let mut delays = vec![];
    for i in &INCIDENTS {
        let key = format!("principal={}", i.principal);
        let first = t0() + minutes(i.at[0]);
        let last = t0() + minutes(*i.at.last().unwrap());
        let found: Vec<&Alert> = alerts
            .iter()
            .filter(|a| a.rule_id == i.rule && a.dedup_key == key && a.window_start == first)
            .collect();
        assert_eq!(found.len(), 1, "one alert for {} at {first}: {found:#?}", i.principal);
        let a = found[0];
        assert_eq!(a.event_count, i.at.len() as u64, "{key}");
        assert_eq!(a.window_end, last, "{key}: the evidence's last event");
        assert_eq!(w.hook.count_of(&a.id), 1, "{key} delivered once");
        let landed_at = landed[&(i.at[0] - i.at[0] % 5)];
        delays.push(((a.created_at - landed_at).num_minutes(), i.principal, i.at[0]));
    }
    assert_eq!(
        alerts.len(),
        INCIDENTS.len(),
        "no other alerts: {:#?}",
        alerts.iter().map(|a| &a.dedup_key).collect::<Vec<_>>()
    );
    assert_eq!(w.hook.received.lock().unwrap().len(), INCIDENTS.len(), "nothing delivered twice");
    // Land to alert, outside the downtime: at most the lateness allowance plus one period.
    for (delay, who, at) in &delays {
        eprintln!("land-to-alert: {who} (event at +{at} min): {delay} min");
        if !(DOWN_FROM..DOWN_UNTIL + 15).contains(at) {
            assert!(*delay <= 15 + 15, "{who}: {delay} min from landing to alert");
        }
    }
    // The windows moved on to the end of the simulated time less the allowance.
    let login = w.s.rules.get_rule(USER, "login-no-mfa").await.unwrap().unwrap();
    assert_eq!(login.detected_until, Some(t0() + minutes(450 - 15)));
}
