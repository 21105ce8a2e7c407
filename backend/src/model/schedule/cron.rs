//! EventBridge's six-field cron: `min hour day-of-month month day-of-week year`, with `?`,
//! `L`, `W`, `#`, ranges, lists and steps; day-of-week counts 1 = SUN .. 7 = SAT.
//! No published crate implements this dialect (year field, 1-based weekdays, `?` rules), so
//! the grammar lives here, covered by unit and property tests.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

const MONTHS: [&str; 12] =
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const YEAR_MIN: u32 = 1970;
const YEAR_MAX: u32 = 2199;

/// A parsed cron expression; `next_after` walks years, months, days, hours, minutes in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpr {
    text: String,
    minutes: Vec<bool>,
    hours: Vec<bool>,
    months: Vec<bool>,
    years: Vec<bool>,
    days: DaySpec,
}

/// Exactly one of day-of-month and day-of-week is `?`; the other says which days match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DaySpec {
    OfMonth(Vec<DomItem>),
    OfWeek(Vec<DowItem>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DomItem {
    Days(Vec<bool>), // index 1..=31
    Last,
    LastWeekday,
    NearestWeekday(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DowItem {
    Weekdays(Vec<bool>), // index 1..=7, 1 = Sunday
    LastOfMonth(u32),    // `5L`: the last Thursday
    Nth(u32, u32),       // `3#2`: the second Tuesday
}

type FieldResult<T> = Result<T, String>;

impl CronExpr {
    /// Parses the body inside `cron(...)`.
    pub fn parse(body: &str) -> FieldResult<Self> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        if fields.len() != 6 {
            return Err(field_count_hint(&fields));
        }
        let minutes = parse_set(fields[0], "minutes", 0, 59, &[])?;
        let hours = parse_set(fields[1], "hours", 0, 23, &[])?;
        let months = parse_set(fields[3], "month", 1, 12, &MONTHS)?;
        let years = parse_set(fields[5], "year", YEAR_MIN, YEAR_MAX, &[])?;
        let (dom, dow) = (fields[2], fields[4]);
        let days = match (dom == "?", dow == "?") {
            (true, true) => {
                return Err("day-of-month and day-of-week cannot both be `?`: put `*` in one, \
                            e.g. `cron(0 9 * * ? *)`"
                    .into());
            }
            (false, false) => {
                return Err(format!(
                    "one of day-of-month (`{dom}`) and day-of-week (`{dow}`) must be `?`, as \
                     EventBridge requires: e.g. `cron({} {} {dom} {} ? {})`",
                    fields[0], fields[1], fields[3], fields[5]
                ));
            }
            (false, true) => DaySpec::OfMonth(parse_list(dom, parse_dom_item)?),
            (true, false) => DaySpec::OfWeek(parse_list(dow, parse_dow_item)?),
        };
        Ok(CronExpr { text: format!("cron({})", fields.join(" ")), minutes, hours, months, years, days })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first matching minute strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = t.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let (sy, sm, sd) = (start.year() as u32, start.month(), start.day());
        let (sh, smin) = (start.hour(), start.minute());
        for year in sy.max(YEAR_MIN)..=YEAR_MAX {
            if !self.years[year as usize] {
                continue;
            }
            let first_year = year == sy;
            for month in 1..=12u32 {
                if !self.months[month as usize] || (first_year && month < sm) {
                    continue;
                }
                let first_month = first_year && month == sm;
                let days = self.matching_days(year as i32, month);
                for day in 1..=31u32 {
                    if days & (1 << day) == 0 || (first_month && day < sd) {
                        continue;
                    }
                    let first_day = first_month && day == sd;
                    for hour in 0..24u32 {
                        if !self.hours[hour as usize] || (first_day && hour < sh) {
                            continue;
                        }
                        let first_hour = first_day && hour == sh;
                        for minute in 0..60u32 {
                            if self.minutes[minute as usize] && !(first_hour && minute < smin) {
                                return Utc
                                    .with_ymd_and_hms(year as i32, month, day, hour, minute, 0)
                                    .single();
                            }
                        }
                    }
                }
            }
        }
        None
    }

    /// Bit `d` set when day `d` of the month matches.
    fn matching_days(&self, year: i32, month: u32) -> u32 {
        let last = days_in_month(year, month);
        let mut mask = 0u32;
        match &self.days {
            DaySpec::OfMonth(items) => {
                for item in items {
                    match item {
                        DomItem::Days(set) => {
                            for d in 1..=last {
                                if set[d as usize] {
                                    mask |= 1 << d;
                                }
                            }
                        }
                        DomItem::Last => mask |= 1 << last,
                        DomItem::LastWeekday => mask |= 1 << nearest_weekday(year, month, last),
                        DomItem::NearestWeekday(d) if *d <= last => {
                            mask |= 1 << nearest_weekday(year, month, *d)
                        }
                        DomItem::NearestWeekday(_) => {}
                    }
                }
            }
            DaySpec::OfWeek(items) => {
                for d in 1..=last {
                    let wd = weekday(year, month, d);
                    let hit = items.iter().any(|item| match item {
                        DowItem::Weekdays(set) => set[wd as usize],
                        DowItem::LastOfMonth(w) => *w == wd && d + 7 > last,
                        DowItem::Nth(w, n) => *w == wd && (d - 1) / 7 + 1 == *n,
                    });
                    if hit {
                        mask |= 1 << d;
                    }
                }
            }
        }
        mask
    }
}

/// Five fields is the classic Unix cron; show the EventBridge form of the same schedule.
fn field_count_hint(fields: &[&str]) -> String {
    if fields.len() == 5 {
        let (min, hour, dom, month, dow) = (fields[0], fields[1], fields[2], fields[3], fields[4]);
        let (dom, dow) = if dow == "*" {
            (dom.to_string(), "?".to_string())
        } else {
            ("?".to_string(), unix_dow_to_eventbridge(dow))
        };
        return format!(
            "EventBridge cron has six fields (minutes hours day-of-month month day-of-week year) \
             and one of the day fields must be `?`: write `cron({min} {hour} {dom} {month} {dow} *)`"
        );
    }
    format!(
        "expected six fields (minutes hours day-of-month month day-of-week year), found {}: \
         e.g. `cron(0 9 * * ? *)` runs at 09:00 UTC every day",
        fields.len()
    )
}

/// Unix counts weekdays 0-6 from Sunday (7 also Sunday); EventBridge counts 1-7.
fn unix_dow_to_eventbridge(dow: &str) -> String {
    if !dow.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '-') {
        return dow.to_string();
    }
    let mut out = String::new();
    let mut num = String::new();
    let flush = |num: &mut String, out: &mut String| {
        if let Ok(n) = num.parse::<u32>() {
            out.push_str(&((n % 7) + 1).to_string());
        }
        num.clear();
    };
    for c in dow.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            flush(&mut num, &mut out);
            out.push(c);
        }
    }
    flush(&mut num, &mut out);
    out
}

fn parse_list<T>(field: &str, item: fn(&str) -> FieldResult<T>) -> FieldResult<Vec<T>> {
    field.split(',').map(item).collect()
}

/// A field of plain values: `*`, `n`, `a-b`, `*/s`, `a/s`, `a-b/s`, comma lists, names.
fn parse_set(field: &str, name: &str, lo: u32, hi: u32, names: &[&str]) -> FieldResult<Vec<bool>> {
    let mut set = vec![false; hi as usize + 1];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("{name}: step `{s}` in `{part}` must be a positive number"))?;
                (r, step)
            }
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, name, lo, hi, names)?, value(b, name, lo, hi, names)?)
        } else {
            let a = value(range, name, lo, hi, names)?;
            // `5/15` means from 5 to the end in steps of 15.
            (a, if part.contains('/') { hi } else { a })
        };
        if a > b {
            return Err(format!("{name}: range `{range}` runs backwards; write `{b}-{a}`"));
        }
        for v in (a..=b).step_by(step as usize) {
            set[v as usize] = true;
        }
    }
    Ok(set)
}

fn value(text: &str, name: &str, lo: u32, hi: u32, names: &[&str]) -> FieldResult<u32> {
    let upper = text.to_ascii_uppercase();
    if let Some(i) = names.iter().position(|n| *n == upper) {
        return Ok(i as u32 + lo);
    }
    match text.parse::<u32>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => {
            let special = match name {
                "day-of-month" => ", or `L`, `LW`, `<n>W`",
                "day-of-week" => " or SUN-SAT, or `<d>L`, `<d>#<n>`",
                "month" => " or JAN-DEC",
                _ => "",
            };
            Err(format!("{name}: `{text}` is not allowed here; use {lo}-{hi}{special}"))
        }
    }
}

fn parse_dom_item(item: &str) -> FieldResult<DomItem> {
    let upper = item.to_ascii_uppercase();
    if upper == "L" {
        return Ok(DomItem::Last);
    }
    if upper == "LW" {
        return Ok(DomItem::LastWeekday);
    }
    if let Some(day) = upper.strip_suffix('W') {
        return value(day, "day-of-month", 1, 31, &[]).map(DomItem::NearestWeekday);
    }
    parse_set(item, "day-of-month", 1, 31, &[]).map(DomItem::Days)
}

fn parse_dow_item(item: &str) -> FieldResult<DowItem> {
    let upper = item.to_ascii_uppercase();
    if upper == "L" {
        // Alone, `L` in day-of-week is the last day of the week: Saturday.
        let mut set = vec![false; 8];
        set[7] = true;
        return Ok(DowItem::Weekdays(set));
    }
    if let Some(day) = upper.strip_suffix('L') {
        return value(day, "day-of-week", 1, 7, &WEEKDAYS).map(DowItem::LastOfMonth);
    }
    if let Some((day, nth)) = upper.split_once('#') {
        let day = value(day, "day-of-week", 1, 7, &WEEKDAYS)?;
        let nth =
            nth.parse::<u32>().ok().filter(|n| (1..=5).contains(n)).ok_or_else(|| {
                format!("day-of-week: `{item}` needs an occurrence 1-5 after `#`, e.g. `2#1`")
            })?;
        return Ok(DowItem::Nth(day, nth));
    }
    parse_set(item, "day-of-week", 1, 7, &WEEKDAYS).map(DowItem::Weekdays)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    let first_next = NaiveDate::from_ymd_opt(ny, nm, 1).expect("valid month");
    first_next.pred_opt().expect("has a previous day").day()
}

/// 1 = Sunday .. 7 = Saturday, as EventBridge counts.
fn weekday(year: i32, month: u32, day: u32) -> u32 {
    let date = NaiveDate::from_ymd_opt(year, month, day).expect("valid day");
    date.weekday().num_days_from_sunday() + 1
}

/// `W`: the weekday nearest to `day` without leaving the month.
fn nearest_weekday(year: i32, month: u32, day: u32) -> u32 {
    let last = days_in_month(year, month);
    match weekday(year, month, day) {
        7 if day == 1 => 3, // Saturday the 1st -> Monday the 3rd
        7 => day - 1,
        1 if day == last => day - 2, // Sunday the last -> Friday
        1 => day + 1,
        _ => day,
    }
}
