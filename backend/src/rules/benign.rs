//! The benign corpus: labelled, documented benign activity (admins at work, CI deploy roles,
//! break-glass drills, AWS service principals) that no rule may fire on, unless the case names
//! the rule as an accepted one and says why. Each case is its own account-day: its records go
//! into a scratch lake and every rule runs over it as its first run would.

use super::LoadedRule;
use super::diagnostic::Diagnostic;
use super::runner::Scratch;
use crate::model::Table;
use chrono::{DateTime, Duration};
use futures::StreamExt;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One labelled case, as a `*.yml` file of the corpus folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// Where the case's event shapes come from (AWS documentation, a public rule pack's tests).
    pub source: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "cloudtrail")]
    pub table: String,
    /// Rules allowed to fire on this case, each with the reason it is accepted.
    #[serde(default)]
    pub accepted: Vec<Accepted>,
    pub records: Vec<yaml_serde::Value>,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    pub rule: String,
    pub reason: String,
}

fn cloudtrail() -> String {
    Table::CloudTrail.name().to_string()
}

/// A rule that fired on a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub case: String,
    pub path: PathBuf,
    pub rows: u64,
    /// The case's reason when it names the rule as accepted.
    pub accepted: Option<String>,
}

/// What the corpus showed: findings, and problems with the corpus itself (a case that does not
/// load, an accepted rule that does not fire or does not exist).
#[derive(Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub events: usize,
    pub findings: Vec<Finding>,
    pub problems: Vec<Diagnostic>,
}

impl Report {
    /// Findings no case accepts: each one fails CI.
    pub fn false_positives(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.accepted.is_none())
    }
}

/// The cases under `dir` (`*.yml`, sorted by path); a file that does not parse is a problem
/// with its place, and the others are kept.
pub fn load(dir: &Path) -> (Vec<Case>, Vec<Diagnostic>) {
    let mut cases = vec![];
    let mut problems = vec![];
    let paths = super::rule_files(&[dir.to_path_buf()], &mut problems);
    if paths.is_empty() && problems.is_empty() {
        problems.push(Diagnostic::error(dir, 1, 1, "no benign cases (`*.yml`) in this folder".to_string()));
    }
    for path in paths {
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| (1, 1, format!("cannot read: {e}")))
            .and_then(|text| {
                yaml_serde::from_str::<Case>(&text).map_err(|e| {
                    let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
                    (line, col, e.to_string())
                })
            });
        match parsed {
            Ok(case) => cases.push(Case { path, ..case }),
            Err((line, col, why)) => problems.push(Diagnostic::error(&path, line, col, why)),
        }
    }
    (cases, problems)
}

/// Runs every rule over every case, two cases at a time.
pub async fn check(rules: &[LoadedRule], cases: &[Case]) -> Report {
    let mut report = Report { cases: cases.len(), ..Default::default() };
    report.events = cases.iter().map(|c| c.records.len()).sum();
    let per_case: Vec<_> =
        futures::stream::iter(cases.iter().map(|case| check_case(rules, case))).buffered(2).collect().await;
    for (findings, problems) in per_case {
        report.findings.extend(findings);
        report.problems.extend(problems);
    }
    report
}

async fn check_case(rules: &[LoadedRule], case: &Case) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut findings = vec![];
    let mut problems = vec![];
    let problem = |why: String| Diagnostic::error(&case.path, 1, 1, format!("case `{}`: {why}", case.name));
    let table = match case.table.parse::<Table>() {
        Ok(t) => t,
        Err(why) => return (findings, vec![problem(why)]),
    };
    let scratch = match Scratch::load(Some(table), None, None, &case.records).await {
        Ok(s) => s,
        Err(why) => return (findings, vec![problem(why)]),
    };
    let now = scratch.after_latest();
    // A rule's first run looks a day back: a longer case would be partly unseen.
    if let Some(first) = scratch.earliest_ms.and_then(DateTime::from_timestamp_millis)
        && now - first > Duration::days(1)
    {
        problems.push(problem("its records span more than a day; split it into cases of a day each".into()));
    }
    for accepted in &case.accepted {
        if !rules.iter().any(|r| r.rule.id == accepted.rule) {
            problems.push(problem(format!("accepts `{}`, which is not a rule here", accepted.rule)));
        }
    }
    for loaded in rules {
        let accepted = case.accepted.iter().find(|a| a.rule == loaded.rule.id);
        match scratch.rows(loaded, now).await {
            Ok(rows) if loaded.rule.threshold.is_exceeded_by(rows) => findings.push(Finding {
                rule_id: loaded.rule.id.clone(),
                case: case.name.clone(),
                path: case.path.clone(),
                rows,
                accepted: accepted.map(|a| a.reason.clone()),
            }),
            Ok(_) if accepted.is_some() => problems.push(problem(format!(
                "accepts `{}`, but it does not fire here: remove the entry",
                loaded.rule.id
            ))),
            Ok(_) => {}
            Err(why) => problems.push(problem(format!("rule `{}`: {why}", loaded.rule.id))),
        }
    }
    (findings, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    const RULE: &str = "id: any-trail-change\nname: Trail changed\nseverity: high\nschedule: rate(5 minutes)\n\
        query: |\n  SELECT eventname FROM cloudtrail_logs\n  WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}\n\
        \x20   AND eventtime >= {window_start_iso} AND eventtime < {window_end_iso}\n    AND eventname = 'UpdateTrail'\n";

    fn case(name: &str, text: &str, dir: &Path) -> PathBuf {
        let path = dir.join(format!("{name}.yml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[tokio::test]
    async fn findings_accepted_cases_and_corpus_problems_are_told_apart() {
        let dir = tempfile::TempDir::new().unwrap();
        let record = r#"{eventTime: "2024-11-20T10:00:00Z", eventSource: cloudtrail.amazonaws.com, eventName: UpdateTrail}"#;
        case(
            "admin",
            &format!("name: admin edits the trail\nsource: docs\nrecords:\n  - {record}\n"),
            dir.path(),
        );
        case(
            "accepted",
            &format!(
                "name: drill\nsource: docs\naccepted:\n  - {{rule: any-trail-change, reason: the drill changes it}}\n\
                 records:\n  - {record}\n"
            ),
            dir.path(),
        );
        let quiet = r#"{eventTime: "2024-11-20T10:00:00Z", eventSource: cloudtrail.amazonaws.com, eventName: DescribeTrails}"#;
        case(
            "stale",
            &format!(
                "name: reads\nsource: docs\naccepted:\n  - {{rule: any-trail-change, reason: old}}\n  - {{rule: gone, reason: x}}\n\
                 records:\n  - {quiet}\n"
            ),
            dir.path(),
        );
        case("typo", "name: t\nsorce: docs\nrecords: []\n", dir.path());
        let (cases, problems) = load(dir.path());
        assert_eq!(cases.len(), 3);
        assert!(problems[0].message.contains("unknown field `sorce`"), "{problems:?}");
        let (rule, _) = parse_rule_file(Path::new("r.yml"), RULE).unwrap();
        let report = check(&[rule], &cases).await;
        let fps: Vec<_> = report.false_positives().map(|f| (f.case.as_str(), f.rows)).collect();
        assert_eq!(fps, vec![("admin edits the trail", 1)]);
        assert_eq!(report.findings.len(), 2, "the accepted case is reported too");
        let problems: Vec<_> = report.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            problems,
            vec![
                "case `reads`: accepts `gone`, which is not a rule here",
                "case `reads`: accepts `any-trail-change`, but it does not fire here: remove the entry",
            ]
        );
        assert_eq!(report.events, 3);
    }

    #[tokio::test]
    async fn a_case_longer_than_a_day_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        case(
            "long",
            "name: two days\nsource: docs\nrecords:\n\
             \x20 - {eventTime: \"2024-11-20T10:00:00Z\", eventName: A}\n\
             \x20 - {eventTime: \"2024-11-22T10:00:00Z\", eventName: B}\n",
            dir.path(),
        );
        let (cases, _) = load(dir.path());
        let (rule, _) = parse_rule_file(Path::new("r.yml"), RULE).unwrap();
        let report = check(&[rule], &cases).await;
        assert!(report.problems[0].message.contains("more than a day"), "{:?}", report.problems);
    }
}
