//! Sigma rules as Mantissa rules: `import-sigma` writes converted rule files, and a Sigma
//! file kept as-is in the rules folder is converted when it is loaded.

use super::diagnostic::Diagnostic;
use super::file::{self, DedupFile, RuleFile};
use super::sigma::{ConvertedRule, convert_yaml};
use super::{LoadedRule, parse_rule_file};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A Sigma rule's window when it names none: the rule runs hourly over the last hour.
pub const DEFAULT_WINDOW_SECS: u64 = 3600;

/// True when the text is a Sigma rule (it has `detection:` or `correlation:`, and no `query:`).
pub fn is_sigma(text: &str) -> bool {
    let top = |key: &str| text.lines().any(|l| l.starts_with(key));
    (top("detection:") || top("correlation:")) && !top("query:")
}

/// Converts the Sigma files under `paths` and writes one rule file per rule into `out`.
/// Rules that cannot be translated are reported by name; the rest are written.
pub fn import_sigma(paths: &[PathBuf], out: &Path) -> Result<(Vec<PathBuf>, Vec<String>)> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut written = vec![];
    let mut errors = vec![];
    let mut problems = vec![];
    for path in super::rule_files(paths, &mut problems) {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        for result in convert_yaml(&text, DEFAULT_WINDOW_SECS) {
            match result {
                Err(e) => errors.push(format!("{}: {e}", path.display())),
                Ok(c) => {
                    let rule_file = to_rule_file(&c, &slug(&c.title));
                    let target = out.join(format!("{}.yml", rule_file.id));
                    let body = yaml_serde::to_string(&rule_file)
                        .map_err(|e| Error::invalid(target.display().to_string(), e.to_string()))?;
                    let header = format!(
                        "# Converted from Sigma{} in {}.\n# Add tests before relying on it: `mantissa rules test`.\n",
                        c.sigma_id.as_ref().map(|id| format!(" rule {id}")).unwrap_or_default(),
                        path.display()
                    );
                    std::fs::write(&target, format!("{header}{body}")).map_err(|e| Error::io(&target, e))?;
                    written.push(target);
                }
            }
        }
    }
    errors.extend(problems.iter().map(|d| d.to_string()));
    Ok((written, errors))
}

/// A Sigma file in the rules folder, converted on load; its rules take the file's name (with
/// `-2`, `-3`, ... when it holds several).
pub fn load_sigma_file(path: &Path, text: &str) -> std::result::Result<Vec<LoadedRule>, Vec<Diagnostic>> {
    let stem = path.file_stem().and_then(|s| s.to_str()).map(slug).unwrap_or_else(|| "sigma".into());
    let mut rules = vec![];
    let mut errors = vec![];
    for (i, result) in convert_yaml(text, DEFAULT_WINDOW_SECS).into_iter().enumerate() {
        match result {
            Err(e) => {
                let (line, col) = file::key_position(text, "title");
                errors.push(Diagnostic::error(path, line, col, format!("Sigma: {e}")));
            }
            Ok(c) => {
                let id = if i == 0 { stem.clone() } else { format!("{stem}-{}", i + 1) };
                let rule_file = to_rule_file(&c, &id);
                let yaml = yaml_serde::to_string(&rule_file).unwrap_or_default();
                // Parsed back through the one rule-file path so checks and defaults are shared;
                // positions then refer to the generated text, so errors name the Sigma file's title.
                match parse_rule_file(path, &yaml) {
                    Ok((mut loaded, _)) => {
                        loaded.text = text.to_string();
                        rules.push(loaded);
                    }
                    Err(diags) => errors.extend(diags),
                }
            }
        }
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

pub fn to_rule_file(c: &ConvertedRule, id: &str) -> RuleFile {
    RuleFile {
        id: id.to_string(),
        name: c.title.clone(),
        description: c.description.clone().unwrap_or_default(),
        severity: c.severity.clone(),
        schedule: schedule_for(c.window_secs),
        threshold: None,
        enabled: true,
        destinations: vec![],
        dedup: c.dedup_secs.map(|secs| DedupFile {
            fields: c.dedup_fields.clone(),
            window: Some(yaml_serde::Value::Number(secs.into())),
        }),
        notify: None,
        tags: c.tags.clone(),
        references: c.references.clone(),
        runbook: String::new(),
        false_positives: c.false_positives.clone(),
        suppress: vec![],
        query: format!("{}\n", c.query.trim_end()),
        tests: vec![],
    }
}

/// The EventBridge rate that runs a rule once per window (singular unit for 1, as it requires).
pub fn schedule_for(window_secs: u64) -> String {
    let (n, unit) = match window_secs {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s => (s.div_ceil(60).max(1), "minute"),
    };
    if n == 1 { format!("rate(1 {unit})") } else { format!("rate({n} {unit}s)") }
}

/// A kebab-case id from a title: `AWS Root Account Usage` -> `aws-root-account-usage`.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_slugs_and_detection() {
        assert_eq!(
            [60, 300, 3600, 7200, 86_400, 90].map(schedule_for),
            [
                "rate(1 minute)",
                "rate(5 minutes)",
                "rate(1 hour)",
                "rate(2 hours)",
                "rate(1 day)",
                "rate(2 minutes)"
            ]
        );
        assert_eq!(slug("AWS Root Account Usage!"), "aws-root-account-usage");
        assert!(is_sigma("title: x\ndetection:\n  sel: {a: 1}\n"));
        assert!(!is_sigma("id: x\nquery: SELECT 1\n# detection: in a comment\n"));
    }

    #[test]
    fn a_folder_imports_and_a_bad_rule_is_named() {
        let dir = tempfile::TempDir::new().unwrap();
        let src = dir.path().join("sigma");
        std::fs::create_dir_all(&src).unwrap();
        let rule = |title: &str, detection: &str| {
            format!(
                "title: {title}\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}\nlevel: high\n"
            )
        };
        std::fs::write(
            src.join("root.yml"),
            rule("Root Used", "  sel:\n    userIdentity.type: Root\n  condition: sel"),
        )
        .unwrap();
        std::fs::write(
            src.join("bad.yml"),
            rule("Countries", "  sel:\n    sourceIPAddress|expand: '%Legit%'\n  condition: sel"),
        )
        .unwrap();
        let out = dir.path().join("rules");
        let (written, errors) = import_sigma(&[src], &out).unwrap();
        assert_eq!(written, vec![out.join("root-used.yml")]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("Countries") && errors[0].contains("expand"), "{errors:?}");
        let text = std::fs::read_to_string(&written[0]).unwrap();
        let (loaded, _) = parse_rule_file(&written[0], &text).unwrap();
        assert_eq!((loaded.rule.schedule.as_str(), loaded.rule.severity.as_str()), ("rate(1 hour)", "high"));
        assert!(loaded.rule.query.contains("useridentity.type"), "{}", loaded.rule.query);
    }
}
