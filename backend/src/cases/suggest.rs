//! Cases suggested: open alerts not yet in an open case that name the same entity (a principal
//! ARN, access key, source address, bucket, instance) within a window of each other, as
//! Sentinel groups alerts into incidents by entity.

use crate::error::Result;
use crate::model::{Alert, Case, Severity};
use crate::ports::AlertQuery;
use crate::services::Services;
use crate::timeline::{EntityKind, entities_of_alert};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;

/// Open alerts read for suggestions: the newest this many.
const SUGGEST_FROM: usize = 2000;

/// Alerts that belong together, and what they share.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub entities: Vec<(EntityKind, String)>,
    pub alert_ids: Vec<String>,
    /// Their rules' names, once each.
    pub rules: Vec<String>,
    pub severity: Severity,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

impl Suggestion {
    /// `access key AKIA… and address 185.220.101.47: 4 alerts`.
    pub fn title(&self) -> String {
        let shared: Vec<String> =
            self.entities.iter().take(2).map(|(k, v)| format!("{} {v}", k.name())).collect();
        let more =
            if self.entities.len() > 2 { format!(" (+{})", self.entities.len() - 2) } else { String::new() };
        format!("{}{more}: {} alerts", shared.join(" and "), self.alert_ids.len())
    }
}

/// Groups of two or more of `alerts` (open, not in an open case of `cases`) that name one
/// entity, each within `window` of the next; groups of the same alerts are one suggestion
/// naming every entity they share. The most alerts first, then the most severe.
pub fn suggest(alerts: &[Alert], cases: &[Case], window: Duration) -> Vec<Suggestion> {
    let in_case: HashSet<&str> =
        cases.iter().filter(|c| c.is_open()).flat_map(|c| c.alert_ids.iter().map(String::as_str)).collect();
    let candidates: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.is_open() && a.suppressed.is_none() && !in_case.contains(a.id.as_str()))
        .collect();
    // Entity → the candidates naming it, in the order entities were found.
    let mut by_entity: Vec<((EntityKind, String), Vec<&Alert>)> = vec![];
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    for a in &candidates {
        for entity in entities_of_alert(a) {
            match at.get(&entity.1) {
                Some(&i) => by_entity[i].1.push(a),
                None => {
                    at.insert(entity.1.clone(), by_entity.len());
                    by_entity.push((entity, vec![a]));
                }
            }
        }
    }
    let mut out: Vec<Suggestion> = vec![];
    for (entity, mut list) in by_entity {
        list.sort_by_key(|a| a.window_start);
        for group in within(&list, window) {
            let ids: Vec<String> = group.iter().map(|a| a.id.clone()).collect();
            if let Some(same) = out.iter_mut().find(|s| same_set(&s.alert_ids, &ids)) {
                same.entities.push(entity.clone());
                continue;
            }
            let mut rules: Vec<String> = vec![];
            for a in &group {
                if !rules.contains(&a.rule_name) {
                    rules.push(a.rule_name.clone());
                }
            }
            out.push(Suggestion {
                entities: vec![entity.clone()],
                alert_ids: ids,
                rules,
                severity: group.iter().map(|a| a.severity).max().unwrap_or_default(),
                first: group.iter().map(|a| a.window_start).min().unwrap_or_default(),
                last: group.iter().map(|a| a.window_end).max().unwrap_or_default(),
            });
        }
    }
    out.sort_by(|a, b| b.alert_ids.len().cmp(&a.alert_ids.len()).then(b.severity.cmp(&a.severity)));
    out
}

/// Runs of `sorted` (by window start) where each alert starts within `window` of the latest end
/// before it; runs of two or more.
fn within<'a>(sorted: &[&'a Alert], window: Duration) -> Vec<Vec<&'a Alert>> {
    let mut runs: Vec<Vec<&Alert>> = vec![];
    let mut end = DateTime::<Utc>::MIN_UTC;
    for a in sorted {
        match runs.last_mut() {
            // Checked: evidence times come from logs, and a forged year 262143 must not panic.
            Some(run) if end.checked_add_signed(window).is_none_or(|reach| a.window_start <= reach) => {
                run.push(a)
            }
            _ => runs.push(vec![a]),
        }
        end = end.max(a.window_end);
    }
    runs.retain(|r| r.len() >= 2);
    runs
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// The user's suggestions now: the newest open alerts and the open cases read, then grouped.
pub async fn suggestions(s: &Services, user_id: &str, window: Duration) -> Result<Vec<Suggestion>> {
    let q = AlertQuery { limit: Some(SUGGEST_FROM), ..Default::default() };
    let alerts = s.alerts.list_alerts(user_id, &q).await?;
    let cases = s.cases.list_cases(user_id).await?;
    Ok(suggest(&alerts, &cases, window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert(id: &str, rule: &str, at: DateTime<Utc>, row: serde_json::Value) -> Alert {
        let mut a = Alert::by_hand(id, "u", at);
        a.rule_name = rule.into();
        a.window_end = at + Duration::minutes(5);
        a.sample_rows = vec![row];
        a
    }

    #[test]
    fn alerts_naming_one_entity_within_the_window_are_one_suggestion() {
        let t = Utc::now();
        let ip = "185.220.101.47";
        let key = "AKIA00000000000CAROL";
        let alerts = vec![
            alert("a1", "spray", t, json!({"sourceipaddress": ip, "accountid": "123456789012"})),
            alert(
                "a2",
                "admin",
                t + Duration::minutes(30),
                json!({"sourceipaddress": ip, "accesskeyid": key}),
            ),
            alert(
                "a3",
                "keys",
                t + Duration::minutes(50),
                json!({"sourceipaddress": ip, "accesskeyid": key}),
            ),
            // The same address days later is another incident.
            alert("a4", "spray", t + Duration::days(3), json!({"sourceipaddress": ip})),
            // Shares only the account: no group.
            alert("a5", "root", t, json!({"accountid": "123456789012"})),
        ];
        let got = suggest(&alerts, &[], Duration::hours(2));
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(got[0].alert_ids, ["a1", "a2", "a3"]);
        assert_eq!(got[0].entities, [(EntityKind::Ip, ip.to_string())]);
        assert_eq!(got[0].rules, ["spray", "admin", "keys"]);
        assert_eq!(got[1].alert_ids, ["a2", "a3"]);
        assert_eq!(got[1].entities, [(EntityKind::AccessKey, key.to_string())]);
        assert!(got[0].title().starts_with("address 185.220.101.47: 3 alerts"), "{}", got[0].title());

        // Alerts already in an open case, or resolved, are not suggested again.
        let mut case = Case::new("case-1", "u", "t", "alice", t);
        case.alert_ids = vec!["a1".into()];
        let mut resolved = alerts.clone();
        resolved[2].status = crate::model::AlertStatus::Resolved;
        let got = suggest(&resolved, &[case], Duration::hours(2));
        assert!(got.is_empty(), "{got:#?}");

        // Forged times at the end of chrono's range group without a panic.
        let mut far = alerts[..2].to_vec();
        far[0].window_end = DateTime::<Utc>::MAX_UTC;
        far[1].window_start = DateTime::<Utc>::MAX_UTC;
        far[1].window_end = DateTime::<Utc>::MAX_UTC;
        assert_eq!(suggest(&far, &[], Duration::hours(2)).len(), 1);
    }
}
