//! Rule files with extreme numbers: parsing never panics, out-of-range values are errors that
//! name the key and the limit, and what parses is within range and schedules without panics.

use chrono::{DateTime, Utc};
use mantissa_backend::model::schedule::MAX_RATE_MINUTES;
use mantissa_backend::model::{MAX_DEDUP_WINDOW_SECS, MAX_THRESHOLD, RunWindow};
use mantissa_backend::rules::parse_rule_file;
use proptest::prelude::*;
use std::path::Path;

fn rule(schedule: &str, threshold: &str, window: &str, notify: &str) -> String {
    format!(
        "id: r\nname: R\nseverity: high\nschedule: {schedule}\nthreshold: {{type: count, value: {threshold}}}\n\
         dedup: {{fields: [a], window: {window}}}\nnotify: {notify}\nquery: SELECT 1\n"
    )
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (0u32..200).prop_map(|p| format!("1{}", "0".repeat(p as usize))),
        Just("-0".to_string()),
        Just("1e300".to_string()),
        Just("0.5".to_string()),
        Just(u64::MAX.to_string()),
        Just((1u128 << 64).to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn extreme_numbers_never_panic_and_what_parses_is_in_range(
        rate in number(), unit in prop::sample::select(vec!["minute", "minutes", "hours", "days", "weeks"]),
        threshold in number(), window in number(), window_unit in prop::sample::select(vec!["", "s", "m", "h", "d"]),
        every in number(),
        at in any::<i64>(),
    ) {
        let text = rule(&format!("rate({rate} {unit})"), &threshold, &format!("{window}{window_unit}"), &format!("every {every}"));
        match parse_rule_file(Path::new("r.yml"), &text) {
            Ok((loaded, _)) => {
                let r = loaded.rule;
                prop_assert!(r.threshold.value <= MAX_THRESHOLD);
                prop_assert!(r.dedup.window_secs <= MAX_DEDUP_WINDOW_SECS);
                prop_assert!(r.schedule.approx_period().num_minutes() as u64 <= MAX_RATE_MINUTES);
                let t = DateTime::<Utc>::from_timestamp(at % 8_000_000_000_000, 0).unwrap_or_default();
                let _ = r.schedule.next_after(t);
                let _ = r.schedule.next_after(DateTime::<Utc>::MAX_UTC);
                let _ = RunWindow::for_run(t, u64::MAX, Some(DateTime::<Utc>::MIN_UTC));
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in &errors {
                    let shown = e.to_string();
                    prop_assert!(shown.starts_with("r.yml:"), "{shown}");
                }
            }
        }
    }
}

#[test]
fn the_limits_are_named_with_their_keys() {
    let errors = |text: &str| -> Vec<String> {
        parse_rule_file(Path::new("r.yml"), text).unwrap_err().iter().map(|d| d.to_string()).collect()
    };
    let e = errors(&rule("rate(4611686018427387904 minutes)", "1", "1h", "first"));
    assert!(e.iter().any(|m| m.contains("r.yml:4:1") && m.contains("longer than a year")), "{e:?}");
    let e = errors(&rule("rate(5 minutes)", "1", "31d", "first"));
    assert!(e.iter().any(|m| m.contains("longer than the longest dedup window, 30d")), "{e:?}");
    let e = errors(&rule("rate(5 minutes)", "1", "18446744073709551615", "first"));
    assert!(e.iter().any(|m| m.contains("longest dedup window")), "{e:?}");
    let e = errors(&rule("rate(5 minutes)", "18446744073709551615", "1h", "first"));
    assert!(e.iter().any(|m| m.contains("threshold value") && m.contains("too large")), "{e:?}");
    let e = errors(&rule("rate(5 minutes)", "1", "1h", "every 0"));
    assert!(e.iter().any(|m| m.contains("notify `every 0`")), "{e:?}");
    let e = errors(&rule("rate(5 minutes)", "1", "1h", "sometimes"));
    assert!(e.iter().any(|m| m.contains("notify is `first`")), "{e:?}");
    // At the limits: accepted.
    assert!(
        parse_rule_file(
            Path::new("r.yml"),
            &rule("rate(365 days)", "9223372036854775807", "30d", "every 1000000")
        )
        .is_ok()
    );
}
