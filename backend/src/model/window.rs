//! A rule run's window over event time, and the `{window_*}` placeholders that put it in the
//! rule's SQL: each run looks at `[start, end)`, the next one starts where this one ended.

use chrono::{DateTime, Duration, Utc};
use std::fmt;

/// How far back the first run of a new rule looks, so it has something to show.
pub const FIRST_RUN_LOOKBACK_SECS: i64 = 86_400;
/// How far back a run catches up after downtime; older events are left to a retro-hunt.
pub const MAX_CATCH_UP_SECS: i64 = 7 * 86_400;
/// The default allowance for late delivery: CloudTrail delivers within about 5 to 15 minutes.
pub const DEFAULT_LATENESS_SECS: u64 = 15 * 60;
/// The largest lateness setting accepted (a day).
pub const MAX_LATENESS_SECS: u64 = 86_400;
/// The settings key of the lateness allowance, per user.
pub const LATENESS_SETTING: &str = "detection.lateness_secs";

/// The event-time interval `[start, end)` one run of a rule examines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl RunWindow {
    /// The window of a run fired at `fired_at`: it ends `lateness` before the fire time (events
    /// delivered late still fall inside a later run), and starts where the previous run's window
    /// ended (`previous_end`), else one day back for a first run; a long gap is caught up to at
    /// most [`MAX_CATCH_UP_SECS`]. `None` when nothing is new (the end has not moved).
    pub fn for_run(
        fired_at: DateTime<Utc>,
        lateness_secs: u64,
        previous_end: Option<DateTime<Utc>>,
    ) -> Option<RunWindow> {
        let lateness = Duration::try_seconds(lateness_secs.min(MAX_LATENESS_SECS) as i64)?;
        let end = fired_at.checked_sub_signed(lateness)?;
        let earliest = end.checked_sub_signed(Duration::try_seconds(MAX_CATCH_UP_SECS)?)?;
        let start = match previous_end {
            Some(p) => p.max(earliest),
            None => end.checked_sub_signed(Duration::try_seconds(FIRST_RUN_LOOKBACK_SECS)?)?,
        };
        (start < end).then_some(RunWindow { start, end })
    }

    /// The day before `now`: the window of a new rule's first run, and of dry runs and checks.
    pub fn last_day(now: DateTime<Utc>) -> RunWindow {
        let start = now.checked_sub_signed(Duration::seconds(FIRST_RUN_LOOKBACK_SECS)).unwrap_or(now);
        RunWindow { start, end: now }
    }

    /// Replaces the `{window_*}` placeholders in `sql` with this window's literals:
    /// `{window_start}`/`{window_end}` as `TIMESTAMP '...'`, `_iso` as ISO-8601 text (compare
    /// with CloudTrail's `eventtime`), `_unix` as epoch seconds (VPC Flow `start`), `_dt` as the
    /// `dt` partition text. The same text runs on DataFusion and Athena.
    pub fn render(&self, sql: &str) -> String {
        let mut out = sql.to_string();
        for (name, t) in [("start", self.start), ("end", self.end)] {
            out = out
                .replace(&format!("{{window_{name}_iso}}"), &format!("'{}'", t.format("%Y-%m-%dT%H:%M:%SZ")))
                .replace(&format!("{{window_{name}_unix}}"), &t.timestamp().to_string())
                .replace(&format!("{{window_{name}_dt}}"), &format!("'{}'", t.format("%Y-%m-%d")))
                .replace(
                    &format!("{{window_{name}}}"),
                    &format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S")),
                );
        }
        out
    }
}

impl fmt::Display for RunWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.start.format("%Y-%m-%d %H:%M:%S"), self.end.format("%Y-%m-%d %H:%M:%S"))
    }
}

/// True when `sql` uses the run's window at all; a rule that does not re-reads its whole
/// look-back on every run and `rules validate` says so.
pub fn uses_window(sql: &str) -> bool {
    sql.contains("{window_start") || sql.contains("{window_end")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 11, 20, h, m, 0).unwrap()
    }

    #[test]
    fn windows_follow_each_other_and_end_before_lateness() {
        let first = RunWindow::for_run(t(10, 15), 900, None).unwrap();
        assert_eq!(first.end, t(10, 0));
        assert_eq!(first.start, t(10, 0) - Duration::days(1));
        let next = RunWindow::for_run(t(10, 20), 900, Some(first.end)).unwrap();
        assert_eq!((next.start, next.end), (t(10, 0), t(10, 5)));
        // Fired again at the same time (a retry): the same window.
        assert_eq!(RunWindow::for_run(t(10, 20), 900, Some(first.end)), Some(next));
        // Nothing new when the end has not moved past the previous one.
        assert_eq!(RunWindow::for_run(t(10, 15), 900, Some(t(10, 0))), None);
    }

    #[test]
    fn a_long_gap_is_caught_up_up_to_a_week() {
        let w = RunWindow::for_run(t(10, 0), 0, Some(t(10, 0) - Duration::days(30))).unwrap();
        assert_eq!(w.start, t(10, 0) - Duration::days(7));
        let w = RunWindow::for_run(t(10, 0), 0, Some(t(7, 0))).unwrap();
        assert_eq!(w.start, t(7, 0));
    }

    #[test]
    fn extreme_times_give_no_window_instead_of_panicking() {
        assert_eq!(RunWindow::for_run(DateTime::<Utc>::MIN_UTC, 900, None), None);
        assert!(
            RunWindow::for_run(DateTime::<Utc>::MAX_UTC, u64::MAX, Some(DateTime::<Utc>::MIN_UTC)).is_some()
        );
    }

    #[test]
    fn placeholders_become_literals() {
        let w = RunWindow { start: t(10, 0), end: t(10, 5) };
        let sql = "WHERE dt BETWEEN {window_start_dt} AND {window_end_dt} AND eventtime >= {window_start_iso} \
                   AND eventtime < {window_end_iso} AND start >= {window_start_unix} AND x < {window_end}";
        assert_eq!(
            w.render(sql),
            "WHERE dt BETWEEN '2024-11-20' AND '2024-11-20' AND eventtime >= '2024-11-20T10:00:00Z' \
             AND eventtime < '2024-11-20T10:05:00Z' AND start >= 1732096800 AND x < TIMESTAMP '2024-11-20 10:05:00'"
        );
        assert!(uses_window(sql));
        assert!(!uses_window("SELECT 1"));
    }
}
