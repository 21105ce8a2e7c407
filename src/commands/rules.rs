//! `mantissa rules ...`: list, validate, test, import Sigma, and sync the rules folder.

use super::Workspace;
use super::output::records;
use crate::cli::{Format, RulesCommand};
use anyhow::Result;
use mantissa_backend::model::RunStatus;
use mantissa_backend::rules::{self, Diagnostic, LoadedRule, sync};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub async fn run(ws: &Workspace, dir: &Path, backend: &str, command: RulesCommand) -> Result<ExitCode> {
    let target = format!("{backend}:{}", ws.user);
    let folder = || vec![dir.to_path_buf()];
    let or_folder = |paths: Vec<PathBuf>| if paths.is_empty() { folder() } else { paths };
    match command {
        RulesCommand::List { format } => list(ws, dir, &target, format).await,
        RulesCommand::Run { ids } => run_now(ws, &ids).await,
        RulesCommand::Hunt { ids, from, to, raise, format } => {
            hunt(ws, &ids, &from, &to, raise, format).await
        }
        RulesCommand::Backtest { file, days, format } => backtest(ws, &file, days, format).await,
        RulesCommand::Coverage { format } => coverage(ws, format).await,
        RulesCommand::Ledger { format } => ledger(ws, format).await,
        RulesCommand::Draft { question, save } => {
            super::assist::draft(ws, dir, &question.join(" "), save).await
        }
        RulesCommand::Validate { paths } => validate(ws, &or_folder(paths)).await,
        RulesCommand::Test { paths, minimum_tests, benign } => {
            test(&or_folder(paths), minimum_tests, benign.as_deref()).await
        }
        RulesCommand::ImportSigma { paths, out } => {
            let out = out.unwrap_or_else(|| dir.to_path_buf());
            let (written, errors) = rules::import::import_sigma(&paths, &out)?;
            for e in &errors {
                eprintln!("{e}");
            }
            for w in &written {
                println!("{}", w.display());
            }
            eprintln!(
                "converted {} rules into {}; {} could not be converted",
                written.len(),
                out.display(),
                errors.len()
            );
            Ok(if written.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        RulesCommand::Push { force } | RulesCommand::Pull { force } if !dir.is_dir() => {
            let _ = force;
            anyhow::bail!("{}: no rules folder; run `mantissa demo` or pass --rules-dir", dir.display())
        }
        RulesCommand::Push { force } => {
            let loaded = loaded_or_errors(dir)?;
            let s = ws.services().await?;
            report("pushed", sync::push(dir, &loaded, &s, &ws.user, &target, force).await?)
        }
        RulesCommand::Pull { force } => {
            let loaded = loaded_or_errors(dir)?;
            let s = ws.services().await?;
            report("pulled", sync::pull(dir, &loaded, &s, &ws.user, &target, force).await?)
        }
        RulesCommand::Diff => {
            let loaded = loaded_or_errors(dir)?;
            let s = ws.services().await?;
            let mut pending = 0;
            for e in sync::plan(dir, &loaded, &s, &ws.user, &target).await? {
                let what = match e.action {
                    sync::Action::InSync => continue,
                    sync::Action::Push(c) => format!("push: {}", change(c, "store")),
                    sync::Action::Pull(c) => format!("pull: {}", change(c, "folder")),
                    sync::Action::Conflict => "conflict: changed in the folder and in the store".to_string(),
                };
                pending += 1;
                let fields =
                    if e.fields.is_empty() { String::new() } else { format!(" ({})", e.fields.join(", ")) };
                println!("{:<44} {what}{fields}", e.rule_id);
            }
            eprintln!("{pending} rules differ between {} and the {target} store", dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn change(c: sync::Change, side: &str) -> String {
    match c {
        sync::Change::Create => format!("create in the {side}"),
        sync::Change::Update => format!("update the {side}"),
        sync::Change::Delete => format!("delete from the {side}"),
    }
}

fn report(verb: &str, r: sync::SyncReport) -> Result<ExitCode> {
    for (what, ids) in [("created", &r.created), ("updated", &r.updated), ("deleted", &r.deleted)] {
        for id in ids {
            eprintln!("{what:<8} {id}");
        }
    }
    for id in &r.conflicts {
        eprintln!(
            "conflict {id}: changed on both sides since the last sync; left alone (see `mantissa rules diff`, then --force)"
        );
    }
    eprintln!(
        "{verb}: {} created, {} updated, {} deleted, {} conflicts",
        r.created.len(),
        r.updated.len(),
        r.deleted.len(),
        r.conflicts.len()
    );
    Ok(if r.conflicts.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Sync never runs over files that do not parse: a broken file would look like a deleted rule.
fn loaded_or_errors(dir: &Path) -> Result<Vec<LoadedRule>> {
    let (loaded, problems) = rules::load(&[dir.to_path_buf()]);
    let errors: Vec<&Diagnostic> = problems.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("{e}");
        }
        anyhow::bail!("{} rule files have errors; fix them before syncing", errors.len());
    }
    Ok(loaded)
}

async fn list(ws: &Workspace, dir: &Path, target: &str, format: Format) -> Result<ExitCode> {
    let (loaded, problems) = rules::load(&[dir.to_path_buf()]);
    for p in &problems {
        eprintln!("{p}");
    }
    let s = ws.services().await?;
    let states: std::collections::HashMap<String, String> = sync::plan(dir, &loaded, &s, &ws.user, target)
        .await?
        .into_iter()
        .map(|e| {
            let state = match e.action {
                sync::Action::InSync => "synced",
                sync::Action::Push(_) => "to push",
                sync::Action::Pull(_) => "to pull",
                sync::Action::Conflict => "conflict",
            };
            (e.rule_id, state.to_string())
        })
        .collect();
    let rows: Vec<_> = loaded
        .iter()
        .map(|l| {
            let r = &l.rule;
            json!({
                "id": r.id, "severity": r.severity, "schedule": r.schedule.as_str(), "enabled": r.enabled,
                "tests": l.file.tests.len(), "sync": states.get(&r.id), "name": r.name,
                "file": l.path.display().to_string(),
            })
        })
        .collect();
    let columns = ["id", "severity", "schedule", "enabled", "tests", "sync", "name"];
    records(&mut std::io::stdout().lock(), format, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

async fn validate(ws: &Workspace, paths: &[PathBuf]) -> Result<ExitCode> {
    let (loaded, mut problems) = rules::load(paths);
    // Planned against the engine's tables: on AWS the Glue catalog that Athena reads.
    let tables = ws.services().await?.engine.tables().await?;
    let ctx = mantissa_backend::query::planning_session(&tables)?;
    for l in &loaded {
        problems.extend(rules::validate::validate_query(&ctx, &ws.lake, l).await);
    }
    problems.sort_by(|a, b| (&a.path, a.line, a.col).cmp(&(&b.path, b.line, b.col)));
    for p in &problems {
        println!("{p}");
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    eprintln!("{} rules checked: {errors} errors, {} warnings", loaded.len(), problems.len() - errors);
    Ok(if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn test(paths: &[PathBuf], minimum: usize, benign: Option<&Path>) -> Result<ExitCode> {
    let (loaded, problems) = rules::load(paths);
    let mut failed = 0;
    for p in
        problems.iter().filter(|p| p.is_error()).chain(&rules::runner::coverage_problems(&loaded, minimum))
    {
        println!("{p}");
        failed += 1;
    }
    let outcomes = rules::runner::run_tests(&loaded).await;
    for o in &outcomes {
        match &o.result {
            Ok(rows) => println!("PASS {} > {} ({rows} rows)", o.rule_id, o.test),
            Err(why) => {
                failed += 1;
                println!("FAIL {} > {}: {why} [{}:{}]", o.rule_id, o.test, o.path.display(), o.line);
            }
        }
    }
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    eprintln!("{} rules, {} tests: {passed} passed, {failed} failed", loaded.len(), outcomes.len());
    if let Some(dir) = benign {
        failed += benign_corpus(&loaded, dir).await;
    }
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Every rule over the benign corpus; returns the failures (false positives, corpus problems).
async fn benign_corpus(loaded: &[rules::LoadedRule], dir: &Path) -> usize {
    let (cases, mut problems) = rules::benign::load(dir);
    let report = rules::benign::check(loaded, &cases).await;
    problems.extend(report.problems.iter().cloned());
    for p in &problems {
        println!("{p}");
    }
    for f in &report.findings {
        match &f.accepted {
            Some(why) => println!("ACCEPTED {} on `{}`: {why}", f.rule_id, f.case),
            None => println!(
                "FALSE POSITIVE {} on `{}` ({} rows) [{}]",
                f.rule_id,
                f.case,
                f.rows,
                f.path.display()
            ),
        }
    }
    let fps = report.false_positives().count();
    let mut per_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in report.false_positives() {
        *per_rule.entry(&f.rule_id).or_default() += 1;
    }
    let worst: Vec<String> = per_rule.iter().map(|(id, n)| format!("{id} {n}")).collect();
    eprintln!(
        "benign corpus: {} cases, {} events; {fps} false positives{} ({} accepted); every other rule 0",
        report.cases,
        report.events,
        if worst.is_empty() { String::new() } else { format!(" [{}]", worst.join(", ")) },
        report.findings.len() - fps
    );
    fps + problems.iter().filter(|p| p.is_error()).count()
}

async fn hunt(
    ws: &Workspace,
    ids: &[String],
    from: &str,
    to: &str,
    raise: bool,
    format: Format,
) -> Result<ExitCode> {
    use mantissa_backend::rules::hunt;
    let s = ws.services().await?;
    let now = s.clock.now();
    let (from, to) = (hunt::parse_past(from, now)?, hunt::parse_past(to, now)?);
    let rules = rules::hunt::stored_rules(&s, &ws.user, ids).await?;
    let started = std::time::Instant::now();
    let found = hunt::hunt(&s, &rules, from, to).await?;
    let rows: Vec<_> = found.hits.iter().map(|h| hit_row(h, None)).collect();
    records(&mut std::io::stdout().lock(), format, &HIT_COLUMNS[1..], &rows)?;
    print_run_errors(&found.errors);
    let took = started.elapsed().as_secs_f64();
    let raised = match raise {
        true => format!(
            "{} alerts raised (stored and routed)",
            hunt::raise(&s, &ws.user, &rules, &found.hits).await?.len()
        ),
        false => "nothing stored or sent".to_string(),
    };
    eprintln!(
        "{} rules over {} to {}: {} windows in {} queries, {:.1} s; {} incidents would have fired ({raised}){}",
        rules.len(),
        time(from),
        time(to),
        found.windows,
        found.queries,
        took,
        found.hits.len(),
        if found.errors.is_empty() { String::new() } else { format!("; {} failed runs", found.errors.len()) }
    );
    Ok(if found.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

const HIT_COLUMNS: [&str; 7] = ["change", "rule", "first", "last", "events", "incident", "window"];

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A hunt's or backtest's incident as a record (`change`: `+` added, `-` removed).
fn hit_row(h: &mantissa_backend::rules::hunt::Hit, change: Option<&str>) -> serde_json::Value {
    let mut row = json!({"rule": h.rule_id, "first": time(h.first), "last": time(h.last), "events": h.events,
        "incident": mantissa_backend::text::neutralize(&h.key),
        "window": format!("{} to {}", time(h.window.start), time(h.window.end))});
    if let Some(change) = change {
        row["change"] = json!(change);
    }
    row
}

fn print_run_errors(errors: &[(String, mantissa_backend::model::RunWindow, String)]) {
    for (rule, window, error) in errors {
        eprintln!("{rule}: {window}: {}", mantissa_backend::text::neutralize(error));
    }
}

/// `rules backtest FILE`: the file's rule against the stored rule of its id over the last
/// `days`, in the file's schedule windows; the incidents it would add and remove.
async fn backtest(ws: &Workspace, file: &Path, days: u32, format: Format) -> Result<ExitCode> {
    use mantissa_backend::rules::hunt;
    if !(1..=366).contains(&days) {
        anyhow::bail!("--days {days} is out of range: use 1 to 366");
    }
    let (loaded, problems) = rules::load(&[file.to_path_buf()]);
    if let Some(p) = problems.iter().find(|p| p.is_error()) {
        anyhow::bail!("{p}");
    }
    let [edited] = loaded.as_slice() else {
        anyhow::bail!("{} holds {} rules; backtest one rule file", file.display(), loaded.len());
    };
    let s = ws.services().await?;
    let to = s.clock.now();
    let from = to - chrono::Duration::days(i64::from(days));
    let stored = s.rules.get_rule(&ws.user, &edited.rule.id).await?;
    let started = std::time::Instant::now();
    let found = hunt::backtest(&s, &edited.rule, stored.as_ref(), from, to).await?;
    let rows: Vec<_> = (found.added.iter().map(|h| hit_row(h, Some("+"))))
        .chain(found.removed.iter().map(|h| hit_row(h, Some("-"))))
        .collect();
    records(&mut std::io::stdout().lock(), format, &HIT_COLUMNS, &rows)?;
    print_run_errors(&found.errors);
    eprintln!(
        "{} against {} over {} to {}: {} windows in {} queries, {:.1} s; {} added, {} removed, {} unchanged",
        file.display(),
        if stored.is_some() { "the stored rule" } else { "nothing (no stored rule has its id)" },
        time(from),
        time(to),
        found.windows,
        found.queries,
        started.elapsed().as_secs_f64(),
        found.added.len(),
        found.removed.len(),
        found.unchanged
    );
    Ok(if found.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `rules run`: one scheduled-style run of each rule, in id order, reported one line each.
async fn run_now(ws: &Workspace, ids: &[String]) -> Result<ExitCode> {
    let s = ws.services().await?;
    let chosen = rules::hunt::stored_rules(&s, &ws.user, ids).await?;
    let mut failed = 0;
    for rule in chosen {
        let f = mantissa_backend::detect::fire(&s, &ws.user, &rule, s.clock.now()).await;
        let window = match f.window_start.zip(f.window_end) {
            Some((a, b)) => format!("{} to {}", a.format("%Y-%m-%d %H:%M"), b.format("%H:%M")),
            None => "nothing new".into(),
        };
        match &f.error {
            Some(e) => {
                failed += 1;
                println!("{}\tfailed\t{window}\t{}", rule.id, mantissa_backend::text::neutralize(e));
            }
            None => println!("{}\t{} alert(s)\t{window}", rule.id, f.alert_ids.len()),
        }
    }
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn coverage(ws: &Workspace, format: Format) -> Result<ExitCode> {
    let rules = ws.services().await?.rules.list_rules(&ws.user).await?;
    let (tactics, unknown) = rules::coverage::coverage(&rules);
    let rows: Vec<_> = tactics
        .iter()
        .flat_map(|t| {
            t.techniques.iter().map(|tech| {
                json!({"tactic": t.name, "technique": tech.id, "name": tech.name, "rules": tech.rules.join(", ")})
            })
        })
        .collect();
    records(&mut std::io::stdout().lock(), format, &["tactic", "technique", "name", "rules"], &rows)?;
    let covered: usize = tactics.iter().map(|t| t.covered()).sum();
    let gaps: Vec<&str> = tactics.iter().filter(|t| t.covered() == 0).map(|t| t.name).collect();
    eprintln!(
        "{covered} of {} techniques have an enabled rule{}",
        rows.len(),
        if gaps.is_empty() { String::new() } else { format!("; no rule at all for {}", gaps.join(", ")) }
    );
    for (rule, tag) in unknown {
        eprintln!(
            "rule {rule}: tag `attack.{}` is not in the matrix (a typo, or a technique it lacks)",
            tag.to_ascii_lowercase()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn ledger(ws: &Workspace, format: Format) -> Result<ExitCode> {
    let mut rows = rules::ledger::read(&ws.services().await?, &ws.user).await?;
    rows.sort_by(|a, b| b.cost_per_day_usd.total_cmp(&a.cost_per_day_usd));
    let json: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "rule": r.rule_id, "runs": r.executions,
                "last": match &r.last_status { Some(RunStatus::Success) => "ok", Some(RunStatus::Failed(_)) => "failed", None => "-" },
                "last_error": r.last_error(), "avg_ms": (r.avg_duration_ms * 10.0).round() / 10.0,
                "alerts_per_day": (r.alerts_per_day * 100.0).round() / 100.0,
                "fp_bp_share": r.noise_share.map(|s| (s * 100.0).round() / 100.0),
                "mb_per_day": (r.bytes_per_day / 1_048_576.0 * 10.0).round() / 10.0,
                "usd_per_day": (r.cost_per_day_usd * 10_000.0).round() / 10_000.0,
                "usd_per_month": (r.cost_per_month_usd() * 100.0).round() / 100.0,
                "scan": r.scan.describe(),
            })
        })
        .collect();
    let columns = [
        "rule",
        "runs",
        "last",
        "avg_ms",
        "alerts_per_day",
        "fp_bp_share",
        "mb_per_day",
        "usd_per_day",
        "usd_per_month",
        "scan",
        "last_error",
    ];
    records(&mut std::io::stdout().lock(), format, &columns, &json)?;
    let pack = rules::ledger::pack_cost(&rows);
    eprintln!(
        "{} rules ({} enabled); on Athena at their schedules: {:.0} queries a day alone, {:.0} with shared scans; \
         ${:.2} a month alone, ${:.2} shared (each query at least 10 MB; alerts over the last {} days)",
        rows.len(),
        pack.rules,
        pack.queries_per_day_alone,
        pack.queries_per_day_shared,
        pack.cost_per_day_alone_usd * 30.0,
        pack.cost_per_day_shared_usd * 30.0,
        rules::ledger::LEDGER_DAYS
    );
    Ok(ExitCode::SUCCESS)
}
