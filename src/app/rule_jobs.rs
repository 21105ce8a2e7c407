//! The rule editor's backend work: open a rule's file, check it as it is typed, run its inline
//! tests and save it into the rules folder, pushing the folder to the store as `rules push` does.

use super::{Context, Msg};
use mantissa_backend::model::Rule;
use mantissa_backend::rules::{self, sync};
use std::path::{Path, PathBuf};

/// The rule's file in the folder, or its YAML from the store when no file defines it.
pub fn open(ctx: &Context, rule: Rule, test: bool) -> Msg {
    let (loaded, _) = rules::load(std::slice::from_ref(&ctx.rules_dir));
    if let Some(l) = loaded.into_iter().find(|l| l.rule.id == rule.id) {
        return Msg::RuleOpened { rule_id: Some(rule.id), path: Some(l.path), text: l.text, test };
    }
    match sync::rule_yaml(&rule, vec![]) {
        Ok(text) => Msg::RuleOpened { rule_id: Some(rule.id), path: None, text, test },
        Err(e) => Msg::Error(format!("rule {}: cannot write it as YAML: {e}", rule.id)),
    }
}

pub async fn check(ctx: &Context, generation: u64, path: &Path, text: &str) -> Msg {
    // The engine's tables: on AWS the Glue catalog, so a check sees what Athena will.
    let open = || async {
        let tables = ctx.s.engine.tables().await?;
        mantissa_backend::query::planning_session(&tables)
    };
    let session = match ctx.session.get_or_try_init(open).await {
        Ok(s) => s,
        Err(e) => return Msg::Error(format!("cannot read the tables to check the query: {e}")),
    };
    let (_, diagnostics) = rules::validate::check_text(session, &ctx.lake, path, text).await;
    Msg::RuleChecked { generation, diagnostics }
}

pub async fn test(path: &Path, text: &str) -> Msg {
    match rules::parse_rule_file(path, text) {
        Ok((loaded, _)) => Msg::RuleTested(rules::runner::run_tests(&[loaded]).await),
        Err(errors) => Msg::Error(format!("fix the {} error(s) before testing", errors.len())),
    }
}

/// A retro-hunt of the stored rules `ids` from `from` to now (`rules hunt`).
pub async fn hunt(ctx: &Context, ids: &[String], from: &str) -> Msg {
    let now = ctx.s.clock.now();
    let found = async {
        let from = rules::hunt::parse_past(from, now)?;
        let chosen = rules::hunt::stored_rules(&ctx.s, &ctx.user, ids).await?;
        rules::hunt::hunt(&ctx.s, &chosen, from, now).await
    }
    .await;
    let what = match ids {
        [one] => one.clone(),
        many => format!("{} rules", many.len()),
    };
    Msg::Hunted {
        title: format!("hunt {what} · {from} to now"),
        found: found.map(Box::new).map_err(|e| e.to_string()),
    }
}

/// The editor's text against the stored rule of its id over the last `days` (`rules backtest`).
pub async fn backtest(ctx: &Context, path: &Path, text: &str, days: u32) -> Msg {
    let edited = match rules::parse_rule_file(path, text) {
        Ok((loaded, _)) => loaded.rule,
        Err(errors) => return Msg::Error(format!("fix the {} error(s) before a backtest", errors.len())),
    };
    let to = ctx.s.clock.now();
    let from = to - chrono::Duration::days(i64::from(days));
    let found = async {
        let stored = ctx.s.rules.get_rule(&ctx.user, &edited.id).await?;
        rules::hunt::backtest(&ctx.s, &edited, stored.as_ref(), from, to).await
    }
    .await;
    Msg::Backtested {
        title: format!("backtest {} over {days} day(s)", edited.id),
        found: found.map(Box::new).map_err(|e| e.to_string()),
    }
}

/// Runs the rule's own tests, then writes the file and pushes the folder (never over a
/// conflict: that stays for `rules diff`). A rule whose tests fail would go live wrong, so it
/// is saved only when `force`d.
pub async fn save(ctx: &Context, path: Option<PathBuf>, text: &str, force: bool) -> Msg {
    let target_hint = path.clone().unwrap_or_else(|| ctx.rules_dir.join("new.yml"));
    let loaded = match rules::parse_rule_file(&target_hint, text) {
        Ok((loaded, _)) => loaded,
        Err(errors) => return Msg::Error(format!("not saved: {} error(s) in the rule", errors.len())),
    };
    if !force {
        let outcomes = rules::runner::run_tests(std::slice::from_ref(&loaded)).await;
        if outcomes.iter().any(|o| !o.passed()) {
            return Msg::SaveStopped { path, text: text.to_string(), outcomes };
        }
    }
    let path = match path {
        Some(p) => p,
        None => {
            let p = ctx.rules_dir.join(format!("{}.yml", loaded.rule.id));
            if p.exists() {
                return Msg::Error(format!("not saved: {} already exists; pick another id", p.display()));
            }
            p
        }
    };
    if let Err(e) = std::fs::create_dir_all(&ctx.rules_dir).and_then(|_| std::fs::write(&path, text)) {
        return Msg::Error(format!("not saved: {}: {e}", path.display()));
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (all, problems) = rules::load(std::slice::from_ref(&ctx.rules_dir));
    let broken = problems.iter().filter(|p| p.is_error()).count();
    if broken > 0 {
        let report = format!(
            "saved {name}; not pushed: {broken} error(s) in other rule files (`mantissa rules validate`)"
        );
        return Msg::RuleSaved { path, report };
    }
    let report = match sync::push(&ctx.rules_dir, &all, &ctx.s, &ctx.user, &ctx.sync_target, false).await {
        Ok(r) if r.conflicts.is_empty() => format!(
            "saved {name}; pushed {} created, {} updated, {} deleted",
            r.created.len(),
            r.updated.len(),
            r.deleted.len()
        ),
        Ok(r) => format!(
            "saved {name}; {} rule(s) changed in the store too, left alone: {} (`mantissa rules diff`)",
            r.conflicts.len(),
            r.conflicts.join(", ")
        ),
        Err(e) => format!("saved {name}; push failed: {e}"),
    };
    Msg::RuleSaved { path, report }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACK_RULE: &str = include_str!("../../backend/rules/aws-root-account-usage.yml");

    #[tokio::test]
    async fn the_editor_checks_tests_and_saves_with_the_cli_s_engine() {
        let dir = tempfile::TempDir::new().unwrap();
        let ctx = Context::for_tests(dir.path()).await;
        let path = ctx.rules_dir.join("aws-root-account-usage.yml");

        // A typo in a column name: the same diagnostic as `mantissa rules validate`.
        let broken = PACK_RULE.replace("eventname", "eventnme");
        let Msg::RuleChecked { generation: 7, diagnostics } = check(&ctx, 7, &path, &broken).await else {
            panic!("no check reply")
        };
        assert!(
            diagnostics.iter().any(|d| d.is_error() && d.message.contains("did you mean `eventname`")),
            "{diagnostics:?}"
        );
        let Msg::RuleChecked { diagnostics, .. } = check(&ctx, 8, &path, PACK_RULE).await else { panic!() };
        assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");

        // The rule's inline tests run offline.
        let Msg::RuleTested(outcomes) = test(&path, PACK_RULE).await else { panic!("no test reply") };
        assert!(outcomes.len() >= 2 && outcomes.iter().all(|o| o.passed()), "{outcomes:?}");
        let failing = PACK_RULE.replace("'Root'", "'Nobody'");
        let Msg::RuleTested(outcomes) = test(&path, &failing).await else { panic!() };
        assert!(outcomes.iter().any(|o| !o.passed()), "{outcomes:?}");

        // A rule whose own tests fail is not saved unless forced.
        let failing = failing.replace("id: aws-root-account-usage", "id: failing-root");
        let Msg::SaveStopped { outcomes, .. } = save(&ctx, None, &failing, false).await else {
            panic!("a rule with failing tests was saved")
        };
        assert!(outcomes.iter().any(|o| !o.passed()));
        let failing_path = ctx.rules_dir.join("failing-root.yml");
        assert!(!failing_path.exists(), "nothing written");
        assert!(
            matches!(save(&ctx, None, &failing, true).await, Msg::RuleSaved { path, .. } if path == failing_path)
        );

        // A new rule is saved as <id>.yml and pushed to the store; a second one with the id is refused.
        let Msg::RuleSaved { path: saved, report } = save(&ctx, None, PACK_RULE, false).await else {
            panic!()
        };
        assert_eq!(saved, path);
        assert!(report.contains("pushed 1 created"), "{report}");
        let stored = ctx.s.rules.get_rule("analyst", "aws-root-account-usage").await.unwrap().unwrap();
        assert_eq!(stored.name, "Root account used");
        assert!(
            matches!(save(&ctx, None, PACK_RULE, false).await, Msg::Error(e) if e.contains("already exists"))
        );

        // Opening it again reads the file, tests included; a store-only rule comes as YAML.
        let Msg::RuleOpened { path: Some(p), text, .. } = open(&ctx, stored.clone(), false) else { panic!() };
        assert_eq!((p, text.as_str()), (path.clone(), PACK_RULE));
        let mut other = stored;
        other.id = "store-only".into();
        let Msg::RuleOpened { path: None, text, .. } = open(&ctx, other, false) else { panic!() };
        assert!(text.contains("id: store-only") && text.contains("query:"), "{text}");
    }

    #[tokio::test]
    async fn hunts_and_backtests_run_on_the_backend_and_say_what_failed() {
        let dir = tempfile::TempDir::new().unwrap();
        let ctx = Context::for_tests(dir.path()).await;
        let (loaded, _) = rules::parse_rule_file(Path::new("r.yml"), PACK_RULE).unwrap();
        ctx.s.rules.put_rule(&ctx.user, &loaded.rule).await.unwrap();
        let id = loaded.rule.id.clone();
        let Msg::Hunted { found: Ok(found), title } = hunt(&ctx, std::slice::from_ref(&id), "2h").await
        else {
            panic!("the hunt failed")
        };
        assert_eq!(
            (found.hits.len(), found.windows),
            (0, 25),
            "{title}: an empty lake, 5-minute windows and the part before the first"
        );
        let Msg::Hunted { found: Err(e), .. } = hunt(&ctx, &["nope".into()], "1d").await else { panic!() };
        assert!(e.contains("no rule `nope`"), "{e}");
        let Msg::Hunted { found: Err(e), .. } = hunt(&ctx, &[id], "yesterday").await else { panic!() };
        assert!(e.contains("a duration back"), "{e}");
        let Msg::Backtested { found: Ok(found), .. } = backtest(&ctx, Path::new("r.yml"), PACK_RULE, 1).await
        else {
            panic!("the backtest failed")
        };
        assert_eq!((found.added.len(), found.removed.len(), found.windows), (0, 0, 289));
        let Msg::Error(e) = backtest(&ctx, Path::new("r.yml"), "id: x\n", 1).await else { panic!() };
        assert!(e.contains("before a backtest"), "{e}");
    }
}
