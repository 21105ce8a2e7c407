//! The rule file format: one YAML document per rule, parsed strictly. Unknown keys are errors
//! with a "did you mean" hint, and every problem names its `file:line:col`.

use super::LoadedRule;
use super::diagnostic::{Diagnostic, closest};
use crate::model::{
    DedupSpec, MAX_DEDUP_WINDOW_SECS, MAX_NOTIFY_EVERY, MAX_THRESHOLD, Notify, Rule, Schedule, Severity,
    Threshold, ThresholdKind,
};
use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub severity: String,
    pub schedule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdFile>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<DedupFile>,
    /// `first` (the default) or `every N`: send an alert that keeps getting events again after
    /// each N more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runbook: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub false_positives: Vec<String>,
    /// Field values kept quiet until a date, each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppress: Vec<SuppressFile>,
    pub query: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<RuleTest>,
}

/// `{field: sourceipaddress, values: [203.0.113.7], until: 2026-12-31, reason: our scanner}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressFile {
    pub field: String,
    pub values: Vec<String>,
    /// A date (`2026-12-31`, midnight UTC) or an RFC 3339 time.
    pub until: String,
    pub reason: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdFile {
    #[serde(rename = "type", default = "count")]
    pub kind: String,
    pub value: u64,
}

fn count() -> String {
    "count".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupFile {
    #[serde(default)]
    pub fields: Vec<String>,
    /// `30s`, `5m`, `1h`, `1d`, or seconds.
    #[serde(default)]
    pub window: Option<yaml_serde::Value>,
}

/// An inline test: records as the source writes them, loaded into `table`, and the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    pub name: String,
    #[serde(default)]
    pub table: Option<String>,
    /// The query's current time; default: one minute after the latest record.
    #[serde(default)]
    pub now: Option<String>,
    /// The file the records come from (Lambda takes the function name from its path).
    #[serde(default)]
    pub file: Option<String>,
    /// Where the records' shape comes from (an AWS doc page, a public rule pack's test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub expect: Expect,
    pub records: Vec<yaml_serde::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub alert: bool,
    #[serde(default)]
    pub count: Option<u64>,
}

impl RuleTest {
    pub fn now(&self) -> Option<Result<DateTime<Utc>, String>> {
        self.now.as_ref().map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("`now: {t}` is not an RFC 3339 time such as 2024-11-20T12:00:00Z ({e})"))
        })
    }
}

static LOCATION_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r" at line \d+ column \d+$").expect("valid regex"));
static UNKNOWN_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"unknown field `([^`]*)`, expected (?:one of )?(.*)").expect("valid regex"));

/// Parses and checks one rule file; errors (all of them) or the rule with its warnings.
pub fn parse_rule_file(path: &Path, text: &str) -> Result<(LoadedRule, Vec<Diagnostic>), Vec<Diagnostic>> {
    let file: RuleFile = yaml_serde::from_str(text).map_err(|e| vec![yaml_error(path, &e)])?;
    let mut errors = vec![];
    let mut warnings = vec![];
    let at = |key: &str| key_position(text, key);
    let mut error = |key: &str, message: String| {
        let (line, col) = at(key);
        errors.push(Diagnostic::error(path, line, col, message));
    };

    if file.id.is_empty()
        || !file.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        error("id", format!("id `{}` must be lower-case letters, digits and dashes (kebab-case)", file.id));
    }
    if file.name.trim().is_empty() {
        error("name", "name is empty; give the rule a short title analysts will see on alerts".into());
    }
    let severity = file.severity.parse::<Severity>().map_err(|_| {
        error(
            "severity",
            format!("severity `{}` is not one of critical, high, medium, low, info", file.severity),
        )
    });
    let schedule = Schedule::parse(&file.schedule).map_err(|e| error("schedule", e.to_string()));
    if let Some(t) = &file.threshold {
        if t.kind != "count" {
            error("threshold", format!("threshold type `{}` is unknown; the only type is `count`", t.kind));
        }
        if t.value > MAX_THRESHOLD {
            error("threshold", format!("threshold value {} is too large: at most {MAX_THRESHOLD}", t.value));
        }
    }
    let notify = match file.notify.as_deref() {
        None => Ok(Notify::First),
        Some(text) => parse_notify(text).map_err(|m| error("notify", m)),
    };
    let window = match file.dedup.as_ref().and_then(|d| d.window.as_ref()) {
        None => Ok(crate::model::DEFAULT_DEDUP_WINDOW_SECS),
        Some(v) => parse_window(v).map_err(|m| error("window", m)),
    };
    if file.query.trim().is_empty() {
        error("query", "query is empty".into());
    }
    let mut suppress = vec![];
    for (i, entry) in file.suppress.iter().enumerate() {
        let until = chrono::DateTime::parse_from_rfc3339(entry.until.trim())
            .map(|t| t.with_timezone(&chrono::Utc))
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(entry.until.trim(), "%Y-%m-%d")
                    .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
            });
        let Ok(until) = until else {
            error(
                "suppress",
                format!("suppress: until `{}` is not a date (2026-12-31) or an RFC 3339 time", entry.until),
            );
            continue;
        };
        if entry.field.trim().is_empty() || entry.values.is_empty() || entry.reason.trim().is_empty() {
            error("suppress", "suppress: each entry needs a field, values and a reason".into());
            continue;
        }
        if until <= chrono::Utc::now() {
            let (line, col) = at("suppress");
            warnings.push(Diagnostic::warning(
                path,
                line,
                col,
                format!("suppress: the entry for `{}` ended {}; remove it", entry.field, entry.until),
            ));
        }
        suppress.push(crate::model::suppression::Suppression {
            id: format!("{}:suppress:{}", file.id, i + 1),
            rule_id: file.id.clone(),
            scope: crate::model::suppression::Scope::Match {
                field: entry.field.trim().to_string(),
                values: entry.values.clone(),
            },
            reason: entry.reason.trim().to_string(),
            who: "rule file".into(),
            // A file's entry has no time of making; a fixed one keeps reads of it equal (sync).
            created_at: until,
            from: None,
            until,
        });
    }
    let mut names: std::collections::HashMap<&str, usize> = Default::default();
    for t in &file.tests {
        let seen = names.entry(t.name.as_str()).or_default();
        let (line, col) = nth_test_position(text, &t.name, *seen);
        *seen += 1;
        if *seen > 1 {
            errors.push(Diagnostic::error(path, line, col, format!("duplicate test name `{}`", t.name)));
        }
        if let Some(Err(m)) = t.now() {
            errors.push(Diagnostic::error(path, line, col, format!("test `{}`: {m}", t.name)));
        }
    }
    if let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        && stem != file.id
    {
        let (line, col) = at("id");
        warnings.push(Diagnostic::warning(
            path,
            line,
            col,
            format!("file is named `{stem}` but the rule id is `{}`; name files after their ids", file.id),
        ));
    }
    let (Ok(severity), Ok(schedule), Ok(window_secs), Ok(notify), true) =
        (severity, schedule, window, notify, errors.is_empty())
    else {
        return Err(errors);
    };
    let mut rule = to_rule(&file, severity, schedule, window_secs);
    rule.notify = notify;
    rule.suppress = suppress;
    Ok((LoadedRule { path: path.to_path_buf(), text: text.to_string(), file, rule }, warnings))
}

fn to_rule(f: &RuleFile, severity: Severity, schedule: Schedule, window_secs: u64) -> Rule {
    let mut rule = Rule::new(&f.id, &f.name, f.query.trim_end(), severity, schedule);
    rule.description = f.description.trim_end().to_string();
    rule.threshold =
        Threshold { kind: ThresholdKind::Count, value: f.threshold.as_ref().map(|t| t.value).unwrap_or(0) };
    rule.enabled = f.enabled;
    rule.destinations = f.destinations.clone();
    rule.dedup =
        DedupSpec { fields: f.dedup.as_ref().map(|d| d.fields.clone()).unwrap_or_default(), window_secs };
    rule.tags = f.tags.clone();
    rule.references = f.references.clone();
    rule.runbook = f.runbook.trim_end().to_string();
    rule.false_positives = f.false_positives.clone();
    rule
}

/// `30s`, `5m`, `1h`, `1d` or a number of seconds; at most 30 days.
pub fn parse_window(v: &yaml_serde::Value) -> Result<u64, String> {
    let hint = "a dedup window is a duration such as 30s, 5m, 1h or 1d";
    let too_long = |shown: &str| format!("window `{shown}` is longer than the longest dedup window, 30d");
    if let Some(n) = v.as_u64() {
        return if n <= MAX_DEDUP_WINDOW_SECS { Ok(n) } else { Err(too_long(&n.to_string())) };
    }
    if v.as_i64().is_some() || v.as_f64().is_some() {
        return Err(format!("window `{}`: {hint} (a whole, positive number of seconds)", yaml_text(v)));
    }
    let s = v.as_str().ok_or_else(|| hint.to_string())?.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("window `{s}`: {hint}"))?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("window `{s}`: unit `{other}` is unknown; {hint}")),
    };
    n.checked_mul(scale).filter(|secs| *secs <= MAX_DEDUP_WINDOW_SECS).ok_or_else(|| too_long(s))
}

fn yaml_text(v: &yaml_serde::Value) -> String {
    yaml_serde::to_string(v).map(|t| t.trim().to_string()).unwrap_or_default()
}

/// `first`, or `every N` (N new events, 1 to a million).
pub fn parse_notify(text: &str) -> Result<Notify, String> {
    let hint =
        "notify is `first` (send once, the default) or `every N` (send again after each N more events)";
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["first"] => Ok(Notify::First),
        ["every", n] => match n.parse::<u64>() {
            Ok(n) if (1..=MAX_NOTIFY_EVERY).contains(&n) => Ok(Notify::Every(n)),
            _ => Err(format!("notify `{text}`: N is a whole number from 1 to {MAX_NOTIFY_EVERY}")),
        },
        _ => Err(format!("notify `{text}` is not understood; {hint}")),
    }
}

fn yaml_error(path: &Path, e: &yaml_serde::Error) -> Diagnostic {
    let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
    let text = e.to_string();
    let mut message = LOCATION_SUFFIX.replace(&text, "").into_owned();
    if let Some(c) = UNKNOWN_FIELD.captures(&message) {
        let wanted = c[1].to_string();
        let expected: Vec<String> = c[2]
            .split([',', ' '])
            .filter(|s| s.starts_with('`'))
            .map(|s| s.trim_matches('`').to_string())
            .collect();
        message = match closest(&wanted, expected.iter().map(String::as_str)) {
            Some(hint) => format!("unknown key `{wanted}`; did you mean `{hint}`?"),
            None => format!("unknown key `{wanted}`; the keys are {}", c[2].trim()),
        };
    }
    if message.ends_with("invalid type: map, expected a string") {
        message.push_str("; text with `: ` in it reads as a mapping, so put the text in quotes");
    }
    Diagnostic::error(path, line, col, message)
}

/// 1-based line and column of a `key:` in the file (its first occurrence at any indent), for
/// placing messages about values that parsed but are wrong.
pub fn key_position(text: &str, key: &str) -> (usize, usize) {
    let wanted = format!("{key}:");
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        if trimmed.starts_with(&wanted) {
            return (i + 1, line.len() - trimmed.len() + 1);
        }
    }
    // Inside a flow mapping: `dedup: {fields: [a], window: 5m}`.
    for (i, line) in text.lines().enumerate() {
        for lead in ["{", " ", ","] {
            if let Some(at) = line.find(&format!("{lead}{wanted}")) {
                return (i + 1, at + lead.len() + 1);
            }
        }
    }
    (1, 1)
}

/// Where a test's `name:` line is.
pub fn test_position(text: &str, name: &str) -> (usize, usize) {
    nth_test_position(text, name, 0)
}

/// Where the `n`th (0-based) test with this name is, for reporting duplicates.
fn nth_test_position(text: &str, name: &str, n: usize) -> (usize, usize) {
    let found = text.lines().enumerate().filter_map(|(i, line)| {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let rest = t.strip_prefix("name:")?;
        (rest.trim().trim_matches(['"', '\'']) == name).then(|| (i + 1, line.len() - t.len() + 1))
    });
    found.clone().nth(n).or_else(|| found.last()).unwrap_or_else(|| key_position(text, "tests"))
}

/// The line where the query's text starts (the line after `query: |`, or the same line).
pub fn query_start(text: &str) -> (usize, usize) {
    let (line, col) = key_position(text, "query");
    let here = text.lines().nth(line - 1).unwrap_or("");
    let after = here.split_once("query:").map(|(_, r)| r.trim()).unwrap_or("");
    if after.is_empty() || after.starts_with('|') || after.starts_with('>') {
        let next = text.lines().nth(line).unwrap_or("");
        (line + 1, next.len() - next.trim_start().len() + 1)
    } else {
        (line, col + "query: ".len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# why this rule exists\nid: root-use\nname: Root used\nseverity: high\nschedule: rate(5 minutes)\nquery: |\n  SELECT 1\ntests:\n  - name: fires\n    expect: {alert: true}\n    records: []\n";

    #[test]
    fn suppress_entries_become_suppressions_and_bad_ones_are_named() {
        let text = GOOD.replace(
            "query: |",
            "suppress:\n  - {field: sourceipaddress, values: [203.0.113.7], until: 2099-01-31, reason: our scanner}\nquery: |",
        );
        let (loaded, warnings) = parse_rule_file(Path::new("root-use.yml"), &text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let s = &loaded.rule.suppress[0];
        assert_eq!(
            (s.id.as_str(), s.reason.as_str(), s.who.as_str()),
            ("root-use:suppress:1", "our scanner", "rule file")
        );
        assert_eq!(s.until.to_rfc3339(), "2099-01-31T00:00:00+00:00");
        // Written back as the same entry.
        let back = crate::rules::sync::to_rule_file(&loaded.rule, vec![]);
        assert_eq!(back.suppress[0].until, "2099-01-31T00:00:00Z");
        let past = GOOD.replace(
            "query: |",
            "suppress:\n  - {field: f, values: [v], until: 2020-01-01, reason: r}\nquery: |",
        );
        let (_, warnings) = parse_rule_file(Path::new("root-use.yml"), &past).unwrap();
        assert!(warnings[0].message.contains("ended 2020-01-01; remove it"), "{warnings:?}");
        let bad = GOOD.replace(
            "query: |",
            "suppress:\n  - {field: f, values: [v], until: someday, reason: r}\nquery: |",
        );
        let errors = parse_rule_file(Path::new("root-use.yml"), &bad).unwrap_err();
        assert!(errors[0].message.contains("until `someday` is not a date"), "{errors:?}");
    }

    fn parse(text: &str) -> Result<(LoadedRule, Vec<Diagnostic>), Vec<Diagnostic>> {
        parse_rule_file(Path::new("rules/root-use.yml"), text)
    }

    #[test]
    fn a_good_file_becomes_a_rule() {
        let (loaded, warnings) = parse(GOOD).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(loaded.rule.id, "root-use");
        assert_eq!(loaded.rule.query, "SELECT 1");
        assert_eq!(loaded.rule.threshold.value, 0);
        assert_eq!(loaded.rule.dedup.window_secs, 300);
        assert_eq!(loaded.file.tests[0].name, "fires");
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let text = GOOD.replace("severity: high", "sevrity: high");
        let errs = parse(&text).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "rules/root-use.yml:4:1: error: unknown key `sevrity`; did you mean `severity`?"
        );
        let text = GOOD.replace("expect: {alert: true}", "expect: {alrt: true}");
        let errs = parse(&text).unwrap_err();
        assert!(errs[0].message.contains("did you mean `alert`?"), "{errs:?}");
        assert_eq!(errs[0].line, 10);
    }

    #[test]
    fn bad_values_are_placed_on_their_key() {
        let text =
            GOOD.replace("severity: high", "severity: urgent").replace("rate(5 minutes)", "cron(0 9 * * *)");
        let errs: Vec<String> = parse(&text).unwrap_err().iter().map(|d| d.to_string()).collect();
        assert!(errs[0].starts_with("rules/root-use.yml:4:1: error: severity `urgent`"), "{errs:?}");
        assert!(
            errs[1].starts_with("rules/root-use.yml:5:1: error:") && errs[1].contains("cron(0 9 * * ? *)"),
            "{errs:?}"
        );
    }

    #[test]
    fn duplicate_test_names_and_bad_windows_are_errors() {
        let text = format!(
            "{GOOD}  - name: fires\n    expect: {{alert: false}}\n    records: []\ndedup: {{fields: [a], window: 5 minutes}}\n"
        );
        let errs: Vec<String> = parse(&text).unwrap_err().iter().map(|d| d.to_string()).collect();
        assert!(errs.iter().any(|e| e.contains("unit `minutes` is unknown")), "{errs:?}");
        assert!(
            errs.iter().any(|e| e.starts_with("rules/root-use.yml:12:5: error: duplicate test name `fires`")),
            "{errs:?}"
        );
    }

    #[test]
    fn windows_and_file_names() {
        let w = |s: &str| parse_window(&yaml_serde::from_str(s).unwrap());
        assert_eq!(
            (w("30s"), w("5m"), w("1h"), w("2d"), w("90")),
            (Ok(30), Ok(300), Ok(3600), Ok(172_800), Ok(90))
        );
        let (_, warnings) = parse_rule_file(Path::new("other.yml"), GOOD).unwrap();
        assert!(warnings[0].message.contains("named `other` but the rule id is `root-use`"));
    }

    #[test]
    fn query_start_is_the_block_body() {
        assert_eq!(query_start(GOOD), (7, 3));
        assert_eq!(query_start("id: x\nquery: SELECT 1\n"), (2, 8));
    }
}
