//! Detection-as-code: rule files in a folder (the local source of truth), their validation
//! and inline tests, Sigma import, the embedded starter pack, and sync with a rule store.

pub mod benign;
pub mod coverage;
mod diagnostic;
mod file;
pub mod hunt;
pub mod import;
pub mod ledger;
pub mod pack;
pub mod runner;
pub mod sigma;
pub mod sync;
pub mod validate;

pub use diagnostic::{Diagnostic, Level, closest};
pub use file::{Expect, RuleFile, RuleTest, parse_rule_file};

use std::path::{Path, PathBuf};

/// A rule file that parsed: where it came from, its text, and the rule it defines.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    pub path: PathBuf,
    pub text: String,
    pub file: RuleFile,
    pub rule: crate::model::Rule,
}

/// The rule files under `paths` (folders walked for `*.yml`/`*.yaml`, hidden entries skipped),
/// sorted by path. A file that does not parse is reported and the rest are kept.
pub fn load(paths: &[PathBuf]) -> (Vec<LoadedRule>, Vec<Diagnostic>) {
    let mut rules = vec![];
    let mut problems = vec![];
    for path in rule_files(paths, &mut problems) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Diagnostic::error(&path, 1, 1, format!("cannot read: {e}")));
                continue;
            }
        };
        if import::is_sigma(&text) {
            match import::load_sigma_file(&path, &text) {
                Ok(loaded) => rules.extend(loaded),
                Err(errors) => problems.extend(errors),
            }
            continue;
        }
        match parse_rule_file(&path, &text) {
            Ok((loaded, warnings)) => {
                problems.extend(warnings);
                rules.push(loaded);
            }
            Err(errors) => problems.extend(errors),
        }
    }
    // Two files with one id would overwrite each other in the store.
    let mut seen: std::collections::HashMap<String, PathBuf> = Default::default();
    for r in &rules {
        if let Some(first) = seen.insert(r.rule.id.clone(), r.path.clone()) {
            let (line, col) = file::key_position(&r.text, "id");
            problems.push(Diagnostic::error(
                &r.path,
                line,
                col,
                format!("rule id `{}` is also used by {}; ids must be unique", r.rule.id, first.display()),
            ));
        }
    }
    (rules, problems)
}

pub(crate) fn rule_files(paths: &[PathBuf], problems: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out = vec![];
    for p in paths {
        if p.is_dir() {
            let walk = walkdir::WalkDir::new(p)
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
            for entry in walk.flatten() {
                if entry.file_type().is_file() && is_rule_file(entry.path()) {
                    out.push(entry.into_path());
                }
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            problems.push(Diagnostic::error(p, 1, 1, "no such file or folder".to_string()));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn is_rule_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
}
