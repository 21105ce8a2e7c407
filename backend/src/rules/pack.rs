//! The starter pack: rule files shipped in the repo (`backend/rules/`), embedded in the
//! binary, and written into a rules folder by `mantissa demo` and on first start.

use crate::error::{Error, Result};
use include_dir::{Dir, include_dir};
use std::path::Path;

static PACK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// The pack's files as `(file name, text)`, sorted by name: the starter rules at the top of
/// `backend/rules/` and the ATT&CK pack in its folders (file names are unique across them).
pub fn files() -> Vec<(&'static str, &'static str)> {
    let mut out = vec![];
    collect(&PACK, &mut out);
    out.sort();
    out
}

/// The starter rules only: each has a story in the demo data that makes it fire.
pub fn starter_files() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<_> = PACK.files().filter_map(rule_file).collect();
    out.sort();
    out
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(&'static str, &'static str)>) {
    out.extend(dir.files().filter_map(rule_file));
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

fn rule_file(f: &'static include_dir::File<'static>) -> Option<(&'static str, &'static str)> {
    let name = f.path().file_name()?.to_str()?;
    name.ends_with(".yml").then_some((name, f.contents_utf8()?))
}

/// Writes the pack's files that `dir` lacks; an analyst's edited copy is never overwritten.
/// Returns how many files were written.
pub fn install(dir: &Path) -> Result<usize> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = 0;
    for (name, text) in files() {
        let path = dir.join(name);
        if !path.exists() {
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    /// Every pack rule names an ATT&CK tactic and technique and has a runbook; every test of the
    /// ATT&CK pack says where its records' shape comes from. (Each rule's positive and negative
    /// tests run with `rules test --minimum-tests 2`, and the benign corpus with `--benign`.)
    #[test]
    fn every_pack_rule_is_tagged_explained_and_its_tests_sourced() {
        let starter: Vec<&str> = starter_files().into_iter().map(|(name, _)| name).collect();
        let all = files();
        assert!(all.len() > 100 && starter.len() >= 30, "{} rules, {} starter", all.len(), starter.len());
        let mut ids = std::collections::BTreeSet::new();
        for (name, text) in all {
            let (loaded, _) =
                parse_rule_file(Path::new(name), text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(ids.insert(loaded.rule.id.clone()), "{name}: id {} twice", loaded.rule.id);
            let tags = &loaded.file.tags;
            let technique =
                |t: &String| t.starts_with("attack.t") && t[8..].starts_with(|c: char| c.is_ascii_digit());
            assert!(tags.iter().any(|t| t.starts_with("attack.") && !technique(t)), "{name}: no tactic tag");
            assert!(tags.iter().any(technique), "{name}: no technique tag");
            assert!(!loaded.file.runbook.trim().is_empty(), "{name}: no runbook");
            if !starter.contains(&name) {
                for test in &loaded.file.tests {
                    assert!(test.source.is_some(), "{name}: test `{}` names no source", test.name);
                }
            }
        }
    }
}
