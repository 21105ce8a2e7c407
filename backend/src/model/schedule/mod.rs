//! Schedule expressions in EventBridge's grammar (`rate(...)`, six-field `cron(...)`) and
//! their fire times in UTC. The same parser validates rules locally and before AWS calls.

mod cron;

pub use cron::CronExpr;

use crate::error::{Error, Result};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A parsed schedule. Serialises as the expression text, so rule files and tables keep what
/// the analyst wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// `rate(n unit)`: every `minutes` minutes.
    Rate {
        minutes: u64,
        text: String,
    },
    Cron(CronExpr),
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Self> {
        let expr = expression.trim();
        let err = |reason: String| Error::Schedule { expression: expr.to_string(), reason };
        if let Some(body) = strip_call(expr, "rate") {
            return parse_rate(body)
                .map(|minutes| Schedule::Rate { minutes, text: expr.into() })
                .map_err(err);
        }
        if let Some(body) = strip_call(expr, "cron") {
            return CronExpr::parse(body).map(Schedule::Cron).map_err(err);
        }
        Err(err("a schedule is `rate(<n> <unit>)` such as `rate(5 minutes)`, or a six-field \
             `cron(min hour day-of-month month day-of-week year)` such as `cron(0 9 * * ? *)`"
            .into()))
    }

    /// The first fire time strictly after `t` (whole minutes, UTC), or `None` when a cron
    /// expression has no future match (its years are all past, or it names no valid day).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Rate { minutes, .. } => {
                // Rates are aligned to multiples of the period since the Unix epoch, so that
                // `rate(1 hour)` fires on the hour: deterministic across restarts and machines.
                let period = i64::try_from(*minutes).ok()?.checked_mul(60)?.max(60);
                let secs = t.timestamp();
                let next = secs.div_euclid(period).checked_add(1)?.checked_mul(period)?;
                Utc.timestamp_opt(next, 0).single()
            }
            Schedule::Cron(c) => c.next_after(t),
        }
    }

    /// The usual gap between runs, for windows such as "look back one period".
    pub fn approx_period(&self) -> Duration {
        match self {
            Schedule::Rate { minutes, .. } => {
                Duration::try_minutes((*minutes).min(MAX_RATE_MINUTES) as i64).unwrap_or(Duration::days(365))
            }
            Schedule::Cron(c) => {
                let base = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single().expect("valid date");
                match c.next_after(base).and_then(|a| c.next_after(a).map(|b| b - a)) {
                    Some(d) => d,
                    None => Duration::days(1),
                }
            }
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Schedule::Rate { text, .. } => text,
            Schedule::Cron(c) => c.text(),
        }
    }
}

fn strip_call<'a>(expr: &'a str, name: &str) -> Option<&'a str> {
    let rest = expr.strip_prefix(name)?.trim_start();
    rest.strip_prefix('(')?.strip_suffix(')').map(str::trim)
}

fn parse_rate(body: &str) -> std::result::Result<u64, String> {
    let mut parts = body.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("a rate is `rate(<n> <unit>)`, for example `rate(5 minutes)`".into());
    };
    let n: u64 = value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{value}` is not a positive whole number"))?;
    let (singular, plural, minutes) = match unit {
        "minute" | "minutes" => ("minute", "minutes", 1),
        "hour" | "hours" => ("hour", "hours", 60),
        "day" | "days" => ("day", "days", 24 * 60),
        _ => {
            return Err(format!(
                "unknown unit `{unit}`: use minute(s), hour(s) or day(s), e.g. `rate({n} {})`",
                if n == 1 { "hour" } else { "hours" }
            ));
        }
    };
    // EventBridge refuses `rate(1 minutes)` and `rate(5 minute)`; so do we, with the fix.
    let expected = if n == 1 { singular } else { plural };
    if unit != expected {
        return Err(format!(
            "EventBridge wants the {} unit here: `rate({n} {expected})`",
            if n == 1 { "singular" } else { "plural" }
        ));
    }
    n.checked_mul(minutes)
        .filter(|m| *m <= MAX_RATE_MINUTES)
        .ok_or_else(|| format!("`rate({body})` is longer than a year; the longest rate is `rate(365 days)`"))
}

/// The longest rate accepted: a year (EventBridge's own limit is lower for some units).
pub const MAX_RATE_MINUTES: u64 = 365 * 24 * 60;

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Schedule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Schedule::parse(s)
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Schedule::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
