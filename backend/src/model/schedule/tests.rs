use super::*;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn next(expr: &str, from: DateTime<Utc>) -> DateTime<Utc> {
    Schedule::parse(expr).unwrap().next_after(from).unwrap()
}

fn fires(expr: &str, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let s = Schedule::parse(expr).unwrap();
    let mut out = vec![];
    let mut t = from;
    for _ in 0..n {
        t = s.next_after(t).unwrap();
        out.push(t);
    }
    out
}

#[test]
fn rate_units_follow_eventbridge_plurals() {
    for ok in ["rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(2 days)", "rate(12 hours)"] {
        assert!(Schedule::parse(ok).is_ok(), "{ok}");
    }
    let e = Schedule::parse("rate(1 minutes)").unwrap_err().to_string();
    assert!(e.contains("rate(1 minute)"), "{e}");
    let e = Schedule::parse("rate(5 minute)").unwrap_err().to_string();
    assert!(e.contains("rate(5 minutes)"), "{e}");
    for bad in ["rate(0 minutes)", "rate(-1 minutes)", "rate(5 weeks)", "rate(5)", "rate()"] {
        assert!(Schedule::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn rate_fires_on_period_multiples() {
    assert_eq!(next("rate(5 minutes)", at(2024, 11, 20, 10, 7)), at(2024, 11, 20, 10, 10));
    assert_eq!(next("rate(5 minutes)", at(2024, 11, 20, 10, 10)), at(2024, 11, 20, 10, 15));
    assert_eq!(next("rate(1 hour)", at(2024, 11, 20, 10, 59)), at(2024, 11, 20, 11, 0));
    assert_eq!(next("rate(1 day)", at(2024, 12, 31, 23, 0)), at(2025, 1, 1, 0, 0));
}

#[test]
fn five_field_cron_is_rejected_with_six_field_form() {
    let e = Schedule::parse("cron(0 9 * * *)").unwrap_err().to_string();
    assert!(e.contains("cron(0 9 * * ? *)"), "{e}");
    // Unix weekdays 1-5 (Mon-Fri) become EventBridge 2-6.
    let e = Schedule::parse("cron(30 8 * * 1-5)").unwrap_err().to_string();
    assert!(e.contains("cron(30 8 ? * 2-6 *)"), "{e}");
}

#[test]
fn day_fields_need_exactly_one_question_mark() {
    let e = Schedule::parse("cron(0 9 * * * *)").unwrap_err().to_string();
    assert!(e.contains("must be `?`"), "{e}");
    let e = Schedule::parse("cron(0 9 ? * ? *)").unwrap_err().to_string();
    assert!(e.contains("cannot both be `?`"), "{e}");
}

#[test]
fn bad_values_name_the_field() {
    let cases = [
        ("cron(60 9 * * ? *)", "minutes"),
        ("cron(0 24 * * ? *)", "hours"),
        ("cron(0 9 32 * ? *)", "day-of-month"),
        ("cron(0 9 * 13 ? *)", "month"),
        ("cron(0 9 ? * 8 *)", "day-of-week"),
        ("cron(0 9 ? * 2#6 *)", "day-of-week"),
        ("cron(0 9 * * ? 2300)", "year"),
        ("cron(0/0 9 * * ? *)", "step"),
        ("cron(30-10 9 * * ? *)", "backwards"),
        ("every day", "rate("),
    ];
    for (expr, needle) in cases {
        let e = Schedule::parse(expr).unwrap_err().to_string();
        assert!(e.contains(needle), "{expr}: {e}");
    }
}

#[test]
fn cron_daily_and_steps() {
    assert_eq!(next("cron(0 9 * * ? *)", at(2024, 11, 20, 8, 0)), at(2024, 11, 20, 9, 0));
    assert_eq!(next("cron(0 9 * * ? *)", at(2024, 11, 20, 9, 0)), at(2024, 11, 21, 9, 0));
    assert_eq!(
        fires("cron(0/15 * * * ? *)", at(2024, 11, 20, 8, 50), 3),
        vec![at(2024, 11, 20, 9, 0), at(2024, 11, 20, 9, 15), at(2024, 11, 20, 9, 30)]
    );
    assert_eq!(
        fires("cron(5,35 10-11 * * ? *)", at(2024, 11, 20, 10, 5), 3),
        vec![at(2024, 11, 20, 10, 35), at(2024, 11, 20, 11, 5), at(2024, 11, 20, 11, 35)]
    );
}

#[test]
fn cron_weekdays_count_from_sunday() {
    // 2024-11-20 is a Wednesday. MON-FRI = 2-6.
    assert_eq!(next("cron(0 18 ? * MON-FRI *)", at(2024, 11, 22, 19, 0)), at(2024, 11, 25, 18, 0));
    assert_eq!(next("cron(0 18 ? * 2-6 *)", at(2024, 11, 22, 19, 0)), at(2024, 11, 25, 18, 0));
    assert_eq!(next("cron(0 0 ? * 1 *)", at(2024, 11, 20, 0, 0)), at(2024, 11, 24, 0, 0));
}

#[test]
fn cron_month_ends_and_leap_years() {
    // The 31st skips months without one.
    assert_eq!(
        fires("cron(0 0 31 * ? *)", at(2024, 1, 31, 12, 0), 2),
        vec![at(2024, 3, 31, 0, 0), at(2024, 5, 31, 0, 0)]
    );
    // L = last day: 29 Feb in a leap year, 28 Feb otherwise.
    assert_eq!(next("cron(0 0 L 2 ? *)", at(2024, 1, 1, 0, 0)), at(2024, 2, 29, 0, 0));
    assert_eq!(next("cron(0 0 L 2 ? *)", at(2025, 1, 1, 0, 0)), at(2025, 2, 28, 0, 0));
    // 29 Feb only in leap years; 2100 is not one.
    assert_eq!(next("cron(0 0 29 2 ? *)", at(2024, 3, 1, 0, 0)), at(2028, 2, 29, 0, 0));
    assert_eq!(next("cron(0 0 29 2 ? 2097-2105)", at(2097, 1, 1, 0, 0)), at(2104, 2, 29, 0, 0));
    // Year end rollover.
    assert_eq!(next("cron(59 23 L 12 ? *)", at(2024, 12, 31, 23, 59)), at(2025, 12, 31, 23, 59));
}

#[test]
fn cron_weekday_nearest_and_last_weekday() {
    // 2024-06-01 is a Saturday: 1W -> Monday 3rd (never leaves the month).
    assert_eq!(next("cron(0 0 1W * ? *)", at(2024, 5, 31, 0, 0)), at(2024, 6, 3, 0, 0));
    // 2024-09-15 is a Sunday: 15W -> Monday 16th.
    assert_eq!(next("cron(0 0 15W 9 ? *)", at(2024, 9, 1, 0, 0)), at(2024, 9, 16, 0, 0));
    // 2024-06-15 is a Saturday: 15W -> Friday 14th.
    assert_eq!(next("cron(0 0 15W 6 ? *)", at(2024, 6, 1, 0, 0)), at(2024, 6, 14, 0, 0));
    // LW: 2024-03-31 is a Sunday -> Friday 29th.
    assert_eq!(next("cron(0 0 LW 3 ? *)", at(2024, 3, 1, 0, 0)), at(2024, 3, 29, 0, 0));
}

#[test]
fn cron_nth_and_last_weekday_of_month() {
    // Second Tuesday (3#2) of Nov 2024 = 12th; of Dec 2024 = 10th.
    assert_eq!(
        fires("cron(0 10 ? * 3#2 *)", at(2024, 11, 1, 0, 0), 2),
        vec![at(2024, 11, 12, 10, 0), at(2024, 12, 10, 10, 0)]
    );
    // Fifth Friday only in months that have one: Nov 2024 has 29th.
    assert_eq!(next("cron(0 0 ? * FRI#5 *)", at(2024, 11, 1, 0, 0)), at(2024, 11, 29, 0, 0));
    assert_eq!(next("cron(0 0 ? * FRI#5 *)", at(2024, 11, 30, 0, 0)), at(2025, 1, 31, 0, 0));
    // Last Friday (6L) of Feb 2024 = 23rd; of Feb 2026 = 27th.
    assert_eq!(next("cron(0 0 ? * 6L *)", at(2024, 2, 1, 0, 0)), at(2024, 2, 23, 0, 0));
    assert_eq!(next("cron(0 0 ? 2 6L 2026)", at(2024, 3, 1, 0, 0)), at(2026, 2, 27, 0, 0));
    // Alone, L is Saturday.
    assert_eq!(next("cron(0 0 ? * L *)", at(2024, 11, 20, 0, 0)), at(2024, 11, 23, 0, 0));
}

#[test]
fn cron_past_years_never_fire() {
    let s = Schedule::parse("cron(0 0 1 1 ? 2020)").unwrap();
    assert_eq!(s.next_after(at(2024, 1, 1, 0, 0)), None);
    // 30 Feb never exists.
    let s = Schedule::parse("cron(0 0 30 2 ? *)").unwrap();
    assert_eq!(s.next_after(at(2190, 1, 1, 0, 0)), None);
}

#[test]
fn schedules_round_trip_through_serde() {
    let s: Schedule = serde_json::from_str("\"cron(0  9 * * ? *)\"").unwrap();
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"cron(0 9 * * ? *)\"");
    assert!(serde_json::from_str::<Schedule>("\"cron(0 9 * * *)\"").is_err());
}

#[test]
fn approx_period() {
    assert_eq!(Schedule::parse("rate(5 minutes)").unwrap().approx_period(), Duration::minutes(5));
    assert_eq!(Schedule::parse("cron(0 * * * ? *)").unwrap().approx_period(), Duration::hours(1));
}

proptest! {
    // The parser never panics, whatever it is fed.
    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = Schedule::parse(&s);
        let _ = Schedule::parse(&format!("cron({s})"));
    }

    // Structured fields: any accepted expression yields a fire time that is later than the
    // start, on a whole minute, and matches when asked again from one minute earlier.
    #[test]
    fn next_after_is_monotonic_and_stable(
        min in prop::sample::select(vec!["*", "0", "0/7", "5-10", "1,30,59"]),
        hour in prop::sample::select(vec!["*", "0", "9-17/2", "23"]),
        day in prop::sample::select(vec![
            ("*", "?"), ("L", "?"), ("15W", "?"), ("LW", "?"), ("1-31/3", "?"), ("31", "?"),
            ("?", "MON-FRI"), ("?", "6L"), ("?", "2#1"), ("?", "1,7"), ("?", "L"),
        ]),
        month in prop::sample::select(vec!["*", "2", "JAN-MAR", "*/4"]),
        secs in 0i64..4_000_000_000,
    ) {
        let expr = format!("cron({min} {hour} {} {month} {} *)", day.0, day.1);
        let s = Schedule::parse(&expr).unwrap();
        let t = Utc.timestamp_opt(secs, 0).unwrap();
        if let Some(n) = s.next_after(t) {
            prop_assert!(n > t);
            prop_assert_eq!(n.timestamp() % 60, 0);
            prop_assert_eq!(s.next_after(n - Duration::minutes(1)), Some(n));
        }
    }
}
