//! Suppressions: a rule snoozed until a time, a maintenance window (a time range, or a schedule
//! in the rules' grammar with how long each window lasts), or alerts whose evidence holds given
//! field values (a known scanner's address, a break-glass role) kept quiet until they expire. A
//! suppressed alert is stored and shown with why and by whom, and never delivered; expiry is
//! automatic.

use super::{Alert, Schedule};
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
    /// Every alert of the rule while a recurring maintenance window is open: each time `every`
    /// fires, for `lasts_mins` minutes.
    Window { every: Schedule, lasts_mins: u32 },
}

/// The longest a recurring maintenance window lasts each time.
pub const MAX_WINDOW_MINS: u32 = 24 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: String,
    /// The rule it applies to; `*` for every rule.
    pub rule_id: String,
    pub scope: Scope,
    pub reason: String,
    pub who: String,
    pub created_at: DateTime<Utc>,
    /// It holds from this time (a maintenance window set ahead); from its making when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
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
        match (&self.scope, self.from) {
            (Scope::Snooze, None) => format!("snooze of {rule}"),
            (Scope::Snooze, Some(from)) => format!(
                "maintenance window of {rule}, {} to {}",
                from.format("%Y-%m-%d %H:%M"),
                self.until.format("%Y-%m-%d %H:%M")
            ),
            (Scope::Match { field, values }, _) => format!("{field} = {} on {rule}", values.join(" | ")),
            (Scope::Window { every, lasts_mins }, _) => {
                format!("maintenance window of {rule}, {} for {}", every.as_str(), minutes_text(*lasts_mins))
            }
        }
    }

    /// Whether the suppression holds this alert back at `now`.
    pub fn holds(&self, alert: &Alert, now: DateTime<Utc>) -> bool {
        if !self.is_live(now)
            || self.from.is_some_and(|from| now < from)
            || (self.rule_id != "*" && self.rule_id != alert.rule_id)
        {
            return false;
        }
        match &self.scope {
            Scope::Snooze => true,
            // Open when the schedule fired within the last `lasts_mins` minutes.
            Scope::Window { every, lasts_mins } => {
                let opened_since = now - Duration::minutes(i64::from(*lasts_mins));
                every.next_after(opened_since).is_some_and(|fired| fired <= now)
            }
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

fn minutes_text(m: u32) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

/// What `:maintenance RULE …` reads after the rule: a time range, `FROM UNTIL REASON` (each a
/// time, or `FROM` a duration from now: `2h 6h` starts in two hours and ends in six), or a
/// recurring window, `SCHEDULE LASTS UNTIL REASON` (`cron(0 2 ? * SUN *) 3h 30d weekly
/// patching`: every Sunday 02:00 UTC for three hours, for the next thirty days).
pub fn parse_maintenance(text: &str, now: DateTime<Utc>) -> Result<Maintenance, String> {
    let text = text.trim();
    let usage = "a time range (FROM UNTIL REASON: 2026-12-05T22:00:00Z 2026-12-06T02:00:00Z patching) \
                 or a schedule (SCHEDULE LASTS UNTIL REASON: cron(0 2 ? * SUN *) 3h 30d weekly patching)";
    if text.starts_with("cron(") || text.starts_with("rate(") {
        let close =
            text.find(')').ok_or_else(|| format!("`{text}`: the schedule's `)` is missing; {usage}"))?;
        let every = Schedule::parse(&text[..=close]).map_err(|e| e.to_string())?;
        let mut words = text[close + 1..].split_whitespace();
        let lasts = words.next().unwrap_or_default();
        let lasts_mins = match parse_until(lasts, now) {
            Ok(end) => ((end - now).num_minutes()).clamp(0, i64::from(u32::MAX)) as u32,
            Err(_) => return Err(format!("`{lasts}`: how long each window lasts (30m, 3h); {usage}")),
        };
        if lasts_mins == 0 || lasts_mins > MAX_WINDOW_MINS {
            return Err(format!("`{lasts}`: a window lasts from 1 minute to {}h", MAX_WINDOW_MINS / 60));
        }
        let rest: Vec<&str> = words.collect();
        let Request { until, reason, .. } = parse_request(&rest.join(" "), false, now)?;
        return Ok(Maintenance { from: None, scope: Scope::Window { every, lasts_mins }, until, reason });
    }
    let mut words = text.split_whitespace();
    let from_text = words.next().unwrap_or_default();
    let from = parse_until(from_text, now).or_else(|e| match DateTime::parse_from_rfc3339(from_text) {
        // A range already begun is fine: it holds from now.
        Ok(t) if t.with_timezone(&Utc) <= now => Ok(now),
        _ => Err(format!("{e}; {usage}")),
    })?;
    let rest: Vec<&str> = words.collect();
    let Request { until, reason, .. } = parse_request(&rest.join(" "), false, now)?;
    if until <= from {
        return Err(format!(
            "the window ends ({}) before it starts ({})",
            until.format("%Y-%m-%d %H:%M"),
            from.format("%Y-%m-%d %H:%M")
        ));
    }
    Ok(Maintenance { from: Some(from), scope: Scope::Snooze, until, reason })
}

/// What [`parse_maintenance`] read.
#[derive(Debug, Clone, PartialEq)]
pub struct Maintenance {
    pub from: Option<DateTime<Utc>>,
    pub scope: Scope,
    pub until: DateTime<Utc>,
    pub reason: String,
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
            from: None,
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
    fn maintenance_windows_hold_only_while_open() {
        // A Monday, 10:00 UTC.
        let now = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").unwrap().with_timezone(&Utc);
        let mut alert = Alert::by_hand("a1", "u", now);
        alert.rule_id = "r1".into();
        let weekly = parse_maintenance("cron(0 2 ? * SUN *) 3h 30d weekly patching", now).unwrap();
        assert_eq!(weekly.from, None);
        assert_eq!(weekly.reason, "weekly patching");
        let s = Suppression {
            id: "m1".into(),
            rule_id: "*".into(),
            scope: weekly.scope,
            reason: weekly.reason,
            who: "alice".into(),
            created_at: now,
            from: weekly.from,
            until: weekly.until,
        };
        let sunday = |h: u32, m: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-12-06T{h:02}:{m:02}:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        assert!(!s.holds(&alert, now), "Monday is outside the window");
        assert!(!s.holds(&alert, sunday(1, 59)));
        assert!(s.holds(&alert, sunday(2, 0)), "opens as the schedule fires");
        assert!(s.holds(&alert, sunday(4, 59)));
        assert!(!s.holds(&alert, sunday(5, 0)), "closed after 3h");
        assert!(!s.holds(&alert, sunday(2, 0) + Duration::days(35)), "the window series expired");
        assert_eq!(s.what(), "maintenance window of every rule, cron(0 2 ? * SUN *) for 3h");

        // A one-off range set ahead holds from its start to its end only.
        let range = parse_maintenance("2h 6h patching the fleet", now).unwrap();
        let s = Suppression { from: range.from, until: range.until, scope: range.scope, ..s };
        assert!(!s.holds(&alert, now + Duration::hours(1)));
        assert!(s.holds(&alert, now + Duration::hours(3)));
        assert!(!s.holds(&alert, now + Duration::hours(6)));
        assert!(
            s.what().starts_with("maintenance window of every rule, 2026-11-30 12:00 to"),
            "{}",
            s.what()
        );
        assert!(parse_maintenance("6h 2h x", now).unwrap_err().contains("ends"));
        assert!(
            parse_maintenance("cron(0 2 ? * SUN *) 2d 30d x", now).unwrap_err().contains("a window lasts")
        );
        assert!(parse_maintenance("cron(0 2 ? * SUN *) 3h 30d", now).unwrap_err().contains("say why"));
        assert!(parse_maintenance("cron(0 2 ? * SUN) 3h 30d x", now).is_err(), "a bad schedule says why");
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
