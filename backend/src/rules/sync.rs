//! Sync between the rules folder and a backend's rule store, three-way like git: each rule's
//! content fingerprint at the last sync is kept in `<rules-dir>/.mantissa-sync.json`, so a
//! rule changed on both sides since then is a reported conflict, never a silent overwrite.

use super::LoadedRule;
use super::file::{DedupFile, RuleFile, ThresholdFile};
use crate::error::{Error, Result};
use crate::model::{Notify, Rule};
use crate::ports::ScheduledRule;
use crate::services::Services;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = ".mantissa-sync.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    InSync,
    /// The folder changed; a push sends it to the store.
    Push(Change),
    /// The store changed; a pull writes it to the folder.
    Pull(Change),
    /// Both changed since the last sync (or both created the rule differently).
    Conflict,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub rule_id: String,
    pub action: Action,
    /// Fields that differ between the folder and the store.
    pub fields: Vec<&'static str>,
}

/// The last synced fingerprints, per target (`<backend>:<user>`) and rule id.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SyncState {
    #[serde(default)]
    targets: BTreeMap<String, BTreeMap<String, String>>,
}

impl SyncState {
    fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(STATE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                Error::invalid(
                    path.display().to_string(),
                    format!("{e}; delete the file to start sync afresh"),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(STATE_FILE);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    }
}

/// The rule's definition (not its run statistics or timestamps), hashed.
pub fn fingerprint(rule: &Rule) -> String {
    hex::encode(Sha256::digest(canonical(rule).to_string().as_bytes()))
}

fn canonical(r: &Rule) -> serde_json::Value {
    serde_json::json!({
        "id": r.id, "name": r.name, "description": r.description.trim_end(), "query": r.query.trim_end(),
        "severity": r.severity, "threshold": r.threshold.value, "schedule": r.schedule.as_str(), "enabled": r.enabled,
        "tags": r.tags, "destinations": r.destinations, "dedup": r.dedup, "references": r.references,
        "runbook": r.runbook.trim_end(), "false_positives": r.false_positives,
    })
}

fn changed_fields(a: &Rule, b: &Rule) -> Vec<&'static str> {
    const FIELDS: [&str; 14] = [
        "id",
        "name",
        "description",
        "query",
        "severity",
        "threshold",
        "schedule",
        "enabled",
        "tags",
        "destinations",
        "dedup",
        "references",
        "runbook",
        "false_positives",
    ];
    let (ca, cb) = (canonical(a), canonical(b));
    FIELDS.into_iter().filter(|f| ca[*f] != cb[*f]).collect()
}

/// What a push or pull would do for every rule on either side.
pub async fn plan(
    dir: &Path,
    local: &[LoadedRule],
    s: &Services,
    user: &str,
    target: &str,
) -> Result<Vec<Entry>> {
    let state = SyncState::load(dir)?;
    let base = state.targets.get(target).cloned().unwrap_or_default();
    let remote: BTreeMap<String, Rule> =
        s.rules.list_rules(user).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let local: BTreeMap<String, &Rule> = local.iter().map(|l| (l.rule.id.clone(), &l.rule)).collect();
    let ids: BTreeSet<&String> = local.keys().chain(remote.keys()).chain(base.keys()).collect();
    let mut out = vec![];
    for id in ids {
        let (l, r) = (local.get(id).copied(), remote.get(id));
        let (lf, rf) = (l.map(fingerprint), r.map(fingerprint));
        let b = base.get(id).cloned();
        let action = if lf == rf {
            Action::InSync
        } else if b.is_some() && b == rf {
            Action::Push(change(rf.is_some(), lf.is_some()))
        } else if b.is_some() && b == lf {
            Action::Pull(change(lf.is_some(), rf.is_some()))
        } else if b.is_none() && rf.is_none() {
            Action::Push(Change::Create)
        } else if b.is_none() && lf.is_none() {
            Action::Pull(Change::Create)
        } else {
            Action::Conflict
        };
        let fields = match (l, r) {
            (Some(l), Some(r)) => changed_fields(l, r),
            _ => vec![],
        };
        out.push(Entry { rule_id: id.clone(), action, fields });
    }
    Ok(out)
}

/// From `had` (the side being changed has the rule) to `has` (the other side has it).
fn change(had: bool, has: bool) -> Change {
    match (had, has) {
        (false, _) => Change::Create,
        (true, true) => Change::Update,
        (true, false) => Change::Delete,
    }
}

#[derive(Debug, Default)]
pub struct SyncReport {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub deleted: Vec<String>,
    pub conflicts: Vec<String>,
}

/// Sends the folder's changes to the store, schedules included. Conflicts are left alone
/// unless `force`, which makes the folder win.
pub async fn push(
    dir: &Path,
    local: &[LoadedRule],
    s: &Services,
    user: &str,
    target: &str,
    force: bool,
) -> Result<SyncReport> {
    let entries = plan(dir, local, s, user, target).await?;
    let by_id: BTreeMap<&str, &Rule> = local.iter().map(|l| (l.rule.id.as_str(), &l.rule)).collect();
    let mut report = SyncReport::default();
    let mut state = SyncState::load(dir)?;
    let synced = state.targets.entry(target.to_string()).or_default();
    for e in entries {
        let change = match e.action {
            Action::Push(c) => c,
            Action::Conflict if force => {
                if by_id.contains_key(e.rule_id.as_str()) {
                    Change::Update
                } else {
                    Change::Delete
                }
            }
            Action::Conflict => {
                report.conflicts.push(e.rule_id);
                continue;
            }
            Action::InSync => {
                if let Some(r) = by_id.get(e.rule_id.as_str()) {
                    synced.insert(e.rule_id.clone(), fingerprint(r));
                }
                continue;
            }
            Action::Pull(_) => continue,
        };
        match (change, by_id.get(e.rule_id.as_str())) {
            (Change::Delete, _) | (_, None) => {
                s.rules.delete_rule(user, &e.rule_id).await.or_else(ignore_missing)?;
                s.scheduler.delete_schedule(user, &e.rule_id).await?;
                synced.remove(&e.rule_id);
                report.deleted.push(e.rule_id);
            }
            (c, Some(rule)) => {
                let mut rule = (*rule).clone();
                // The store keeps the rule's history: creation time and run statistics.
                if let Some(old) = s.rules.get_rule(user, &rule.id).await? {
                    keep_statistics(&mut rule, &old);
                }
                rule.updated_at = s.clock.now();
                s.rules.put_rule(user, &rule).await?;
                let entry = ScheduledRule {
                    user_id: user.into(),
                    rule_id: rule.id.clone(),
                    schedule: rule.schedule.clone(),
                    enabled: rule.enabled,
                };
                s.scheduler.put_schedule(&entry).await?;
                synced.insert(rule.id.clone(), fingerprint(&rule));
                if c == Change::Create {
                    report.created.push(e.rule_id)
                } else {
                    report.updated.push(e.rule_id)
                }
            }
        }
    }
    state.save(dir)?;
    Ok(report)
}

/// Writes the store's changes into the folder. A pulled update keeps the file's tests (the
/// store has none). Conflicts are left alone unless `force`, which makes the store win.
pub async fn pull(
    dir: &Path,
    local: &[LoadedRule],
    s: &Services,
    user: &str,
    target: &str,
    force: bool,
) -> Result<SyncReport> {
    let entries = plan(dir, local, s, user, target).await?;
    let remote: BTreeMap<String, Rule> =
        s.rules.list_rules(user).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let by_id: BTreeMap<&str, &LoadedRule> = local.iter().map(|l| (l.rule.id.as_str(), l)).collect();
    let mut report = SyncReport::default();
    let mut state = SyncState::load(dir)?;
    let synced = state.targets.entry(target.to_string()).or_default();
    for e in entries {
        match e.action {
            Action::Pull(_) => {}
            Action::Conflict if force => {}
            Action::Conflict => {
                report.conflicts.push(e.rule_id);
                continue;
            }
            Action::InSync => {
                if let Some(r) = remote.get(&e.rule_id) {
                    synced.insert(e.rule_id.clone(), fingerprint(r));
                }
                continue;
            }
            Action::Push(_) => continue,
        }
        let existing = by_id.get(e.rule_id.as_str());
        match remote.get(&e.rule_id) {
            None => {
                if let Some(l) = existing {
                    std::fs::remove_file(&l.path).map_err(|err| Error::io(&l.path, err))?;
                }
                synced.remove(&e.rule_id);
                report.deleted.push(e.rule_id);
            }
            Some(rule) => {
                let path =
                    existing.map(|l| l.path.clone()).unwrap_or_else(|| dir.join(format!("{}.yml", rule.id)));
                let tests = existing.map(|l| l.file.tests.clone()).unwrap_or_default();
                write_rule_file(&path, rule, tests)?;
                synced.insert(rule.id.clone(), fingerprint(rule));
                if existing.is_some() {
                    report.updated.push(e.rule_id)
                } else {
                    report.created.push(e.rule_id)
                }
            }
        }
    }
    state.save(dir)?;
    Ok(report)
}

fn ignore_missing(e: Error) -> Result<()> {
    match e {
        Error::NotFound { .. } => Ok(()),
        other => Err(other),
    }
}

fn keep_statistics(rule: &mut Rule, old: &Rule) {
    rule.created_at = old.created_at;
    rule.executions = old.executions;
    rule.last_execution = old.last_execution;
    rule.last_status = old.last_status.clone();
    rule.alert_count = old.alert_count;
    rule.data_scanned_mb = old.data_scanned_mb;
    rule.avg_duration_ms = old.avg_duration_ms;
    rule.detected_until = old.detected_until;
}

/// The rule as a rule file (what `pull` and the console write).
pub fn to_rule_file(rule: &Rule, tests: Vec<super::RuleTest>) -> RuleFile {
    RuleFile {
        id: rule.id.clone(),
        name: rule.name.clone(),
        description: rule.description.clone(),
        severity: rule.severity.as_str().to_string(),
        schedule: rule.schedule.as_str().to_string(),
        threshold: (rule.threshold.value != 0)
            .then(|| ThresholdFile { kind: "count".into(), value: rule.threshold.value }),
        enabled: rule.enabled,
        destinations: rule.destinations.clone(),
        dedup: Some(DedupFile {
            fields: rule.dedup.fields.clone(),
            window: Some(yaml_serde::Value::String(format_window(rule.dedup.window_secs))),
        }),
        notify: match rule.notify {
            Notify::First => None,
            Notify::Every(n) => Some(format!("every {n}")),
        },
        tags: rule.tags.clone(),
        references: rule.references.clone(),
        runbook: rule.runbook.clone(),
        false_positives: rule.false_positives.clone(),
        suppress: rule
            .suppress
            .iter()
            .filter_map(|x| match &x.scope {
                crate::model::suppression::Scope::Match { field, values } => {
                    Some(super::file::SuppressFile {
                        field: field.clone(),
                        values: values.clone(),
                        until: x.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        reason: x.reason.clone(),
                    })
                }
                // Rule files hold field-value suppressions only.
                crate::model::suppression::Scope::Snooze
                | crate::model::suppression::Scope::Window { .. } => None,
            })
            .collect(),
        query: format!("{}\n", rule.query.trim_end()),
        tests,
    }
}

/// The rule file's text for a stored rule.
pub fn rule_yaml(rule: &Rule, tests: Vec<super::RuleTest>) -> Result<String> {
    yaml_serde::to_string(&to_rule_file(rule, tests)).map_err(|e| Error::invalid(&rule.id, e.to_string()))
}

pub fn write_rule_file(path: &PathBuf, rule: &Rule, tests: Vec<super::RuleTest>) -> Result<()> {
    let text = rule_yaml(rule, tests)?;
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn format_window(secs: u64) -> String {
    match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

// The push/pull/conflict round trip runs on both backends: backend/tests/backends/suite.rs.
