//! Suppressions: a rule snoozed until a time, or alerts whose evidence holds given field values
//! (a known scanner's address, a break-glass role) kept quiet until they expire. A suppressed
//! alert is stored and shown with why and by whom, and never delivered; expiry is automatic.

use super::Alert;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The longest a suppression may last: past it, a suppression is a disabled rule in disguise.
pub const MAX_SUPPRESSION_DAYS: i64 = 90;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Every alert of the rule.
    Snooze,
    /// Alerts whose sample rows hold `field = value` (any row, any of the values).
    Match { field: String, values: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: String,
    /// The rule it applies to; `*` for every rule.
    pub rule_id: String,
    pub scope: Scope,
    pub reason: String,
    pub who: String,
    pub created_at: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// What an alert carries when a suppression held it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressedBy {
    pub suppression_id: String,
    pub what: String,
    pub reason: String,
    pub who: String,
    pub until: DateTime<Utc>,
}

impl Suppression {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }

    /// In words: `snooze of aws-root-login`, `sourceipaddress = 45.155.205.233 on every rule`.
    pub fn what(&self) -> String {
        let rule = if self.rule_id == "*" { "every rule".to_string() } else { self.rule_id.clone() };
        match &self.scope {
            Scope::Snooze => format!("snooze of {rule}"),
            Scope::Match { field, values } => format!("{field} = {} on {rule}", values.join(" | ")),
        }
    }

    /// Whether the suppression holds this alert back at `now`.
    pub fn holds(&self, alert: &Alert, now: DateTime<Utc>) -> bool {
        if !self.is_live(now) || (self.rule_id != "*" && self.rule_id != alert.rule_id) {
            return false;
        }
        match &self.scope {
            Scope::Snooze => true,
            Scope::Match { field, values } => alert.sample_rows.iter().any(|row| {
                field_text(row, field)
                    .is_some_and(|v| values.iter().any(|want| want.eq_ignore_ascii_case(&v)))
            }),
        }
    }

    pub fn stamp(&self) -> SuppressedBy {
        SuppressedBy {
            suppression_id: self.id.clone(),
            what: self.what(),
            reason: self.reason.clone(),
            who: self.who.clone(),
            until: self.until,
        }
    }
}

/// A row's field as text: `useridentity.arn` reads nested objects.
fn field_text(row: &serde_json::Value, field: &str) -> Option<String> {
    let mut v = row;
    for part in field.split('.') {
        v = v
            .get(part)
            .or_else(|| v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(part)).map(|(_, v)| v))?;
    }
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// `2h`, `3d`, `1w` from now, or an RFC 3339 time / a `YYYY-MM-DD` date (its midnight, UTC);
/// in the future and at most [`MAX_SUPPRESSION_DAYS`] away.
pub fn parse_until(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    let hint = "a duration (30m, 2h, 3d, 1w) or a time (2026-12-31, 2026-12-31T18:00:00Z)";
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let until = match text.split_at(split) {
        (n, unit @ ("m" | "h" | "d" | "w")) if !n.is_empty() => {
            let n: i64 = n.parse().map_err(|_| format!("`{text}`: {hint}"))?;
            let d = match unit {
                "m" => Duration::try_minutes(n),
                "h" => Duration::try_hours(n),
                "d" => Duration::try_days(n),
                _ => Duration::try_weeks(n),
            };
            d.and_then(|d| now.checked_add_signed(d)).ok_or_else(|| format!("`{text}` is too far away"))?
        }
        _ => match DateTime::parse_from_rfc3339(text) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
                .map_err(|_| format!("`{text}` is not {hint}"))?,
        },
    };
    if until <= now {
        return Err(format!("`{text}` is already past: a suppression ends in the future"));
    }
    if until - now > Duration::days(MAX_SUPPRESSION_DAYS) {
        return Err(format!(
            "`{text}` is more than {MAX_SUPPRESSION_DAYS} days away: disable the rule instead, or suppress again when it ends"
        ));
    }
    Ok(until)
}

/// What an analyst types: `[FIELD=VALUE[,VALUE...]] UNTIL REASON` (the field part only when
/// `with_match`), e.g. `sourceipaddress=203.0.113.7 7d our weekly scanner`. A reason is required:
/// whoever finds the alerts quiet must be able to tell why.
pub fn parse_request(text: &str, with_match: bool, now: DateTime<Utc>) -> Result<Request, String> {
    let mut words = text.split_whitespace();
    let matched = if with_match {
        let pair = words.next().unwrap_or_default();
        let Some((field, values)) = pair.split_once('=').filter(|(f, v)| !f.is_empty() && !v.is_empty())
        else {
            return Err(format!(
                "`{pair}`: start with FIELD=VALUE (e.g. sourceipaddress=203.0.113.7), then until and why"
            ));
        };
        Some((field.to_string(), values.split(',').map(str::to_string).collect()))
    } else {
        None
    };
    let until = parse_until(words.next().unwrap_or_default(), now)?;
    let reason = words.collect::<Vec<_>>().join(" ");
    if reason.is_empty() {
        return Err("say why after the time (e.g. `2h noisy during the migration`): the reason is shown on every alert it holds".into());
    }
    Ok(Request { matched, until, reason })
}

/// What [`parse_request`] read: the field and its values (when asked for), until when, why.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub matched: Option<(String, Vec<String>)>,
    pub until: DateTime<Utc>,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suppression_holds_its_rule_or_its_values_until_it_expires() {
        let now = Utc::now();
        let mut alert = Alert::by_hand("a1", "u", now);
        alert.rule_id = "r1".into();
        alert.sample_rows = vec![
            serde_json::json!({"sourceipaddress": "45.155.205.233", "useridentity": {"arn": "arn:aws:iam::1:role/BreakGlass"}}),
        ];
        let s = |rule: &str, scope: Scope| Suppression {
            id: "s1".into(),
            rule_id: rule.into(),
            scope,
            reason: "r".into(),
            who: "alice".into(),
            created_at: now,
            until: now + Duration::hours(1),
        };
        assert!(s("r1", Scope::Snooze).holds(&alert, now));
        assert!(!s("r2", Scope::Snooze).holds(&alert, now));
        assert!(!s("r1", Scope::Snooze).holds(&alert, now + Duration::hours(2)), "expired");
        let ip = Scope::Match { field: "sourceipaddress".into(), values: vec!["45.155.205.233".into()] };
        assert!(s("*", ip.clone()).holds(&alert, now));
        let role = Scope::Match {
            field: "useridentity.arn".into(),
            values: vec!["arn:aws:iam::1:role/breakglass".into()],
        };
        assert!(s("r1", role).holds(&alert, now), "nested, case-insensitive");
        let other = Scope::Match { field: "sourceipaddress".into(), values: vec!["10.0.0.1".into()] };
        assert!(!s("*", other).holds(&alert, now));
        assert_eq!(s("*", ip).what(), "sourceipaddress = 45.155.205.233 on every rule");
    }

    #[test]
    fn until_takes_durations_and_times_within_bounds() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_until("2h", now).unwrap(), now + Duration::hours(2));
        assert_eq!(parse_until("1w", now).unwrap(), now + Duration::weeks(1));
        assert_eq!(parse_until("2026-12-24", now).unwrap().to_rfc3339(), "2026-12-24T00:00:00+00:00");
        assert!(parse_until("2026-11-30", now).unwrap_err().contains("already past"));
        assert!(parse_until("120d", now).unwrap_err().contains("more than 90 days"));
        assert!(parse_until("soon", now).unwrap_err().contains("a duration (30m, 2h, 3d, 1w)"));
        let r = parse_request("sourceipaddress=1.2.3.4,5.6.7.8 3d our scanner", true, now).unwrap();
        let values = vec!["1.2.3.4".to_string(), "5.6.7.8".to_string()];
        assert_eq!(r.matched, Some(("sourceipaddress".to_string(), values)));
        assert_eq!((r.until, r.reason.as_str()), (now + Duration::days(3), "our scanner"));
        assert!(parse_request("2h", false, now).unwrap_err().contains("say why"));
        assert!(parse_request("1.2.3.4 2h x", true, now).unwrap_err().contains("FIELD=VALUE"));
    }
}
