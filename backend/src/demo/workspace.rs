//! The demo workspace's rules and integrations: detections for the demo's attack stories, a
//! file sink that works, and a webhook to a closed loopback port that fails into the DLQ.

use crate::error::Result;
use crate::model::{Integration, IntegrationKind, Rule, Severity};
use crate::services::Services;
use chrono::Utc;
use serde_json::json;
use std::path::Path;

/// The demo's rules: the whole pack (`backend/rules/` and its folders), parsed as rule files.
pub fn demo_rules() -> Vec<Rule> {
    parsed(crate::rules::pack::files())
}

/// The starter rules (the top of `backend/rules/`): each has a story in the demo's data.
pub fn starter_rules() -> Vec<Rule> {
    parsed(crate::rules::pack::starter_files())
}

fn parsed(files: Vec<(&'static str, &'static str)>) -> Vec<Rule> {
    files
        .into_iter()
        .map(|(name, text)| {
            let path = Path::new("pack").join(name);
            match crate::rules::parse_rule_file(&path, text) {
                Ok((loaded, _)) => loaded.rule,
                Err(e) => panic!("the pack's {name} is invalid: {e:?}"),
            }
        })
        .collect()
}

pub fn demo_integrations(user: &str, data_dir: &Path) -> Vec<Integration> {
    let now = Utc::now();
    vec![
        Integration {
            id: "alerts-file".into(),
            user_id: user.into(),
            kind: IntegrationKind::File,
            name: "alerts-file".into(),
            enabled: true,
            min_severity: Severity::Info,
            config: json!({"path": data_dir.join("alerts.jsonl")}),
            secret_ref: None,
            created_at: now,
        },
        Integration {
            id: "soc-webhook".into(),
            user_id: user.into(),
            kind: IntegrationKind::Webhook,
            name: "soc-webhook".into(),
            enabled: true,
            // Critical only, as a pager would be: the demo's two critical detections fail their
            // way into the DLQ in about 30 s, one after the other (FIFO within the integration).
            min_severity: Severity::Critical,
            // Port 9 (discard) is closed on loopback: every delivery fails, so the DLQ fills.
            config: json!({"url": "http://127.0.0.1:9/hook", "timeout_secs": 3}),
            secret_ref: None,
            created_at: now,
        },
    ]
}

/// Installs the starter pack into `<data_dir>/rules` (files the analyst changed are kept),
/// pushes the folder to the store for `user`, and stores the demo integrations.
pub async fn install(s: &Services, user: &str, data_dir: &Path) -> Result<(usize, usize)> {
    let dir = data_dir.join("rules");
    crate::rules::pack::install(&dir)?;
    let (loaded, problems) = crate::rules::load(std::slice::from_ref(&dir));
    if let Some(p) = problems.iter().find(|p| p.is_error()) {
        return Err(crate::Error::invalid(p.path.display().to_string(), p.to_string()));
    }
    // The folder wins: `demo` is the start of a workspace, not a merge.
    crate::rules::sync::push(&dir, &loaded, s, user, &format!("local:{user}"), true).await?;
    let integrations = demo_integrations(user, data_dir);
    for i in &integrations {
        // Through setup, so the webhook's URL is kept as a secret like any set up by hand.
        crate::deliver::setup::save(s, i.clone(), None).await?;
    }
    Ok((loaded.len(), integrations.len()))
}
