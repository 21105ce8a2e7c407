//! What the multi-process tests set up in a workspace: a console-login rule over its run
//! window, one incident per principal, and a JSONL file integration to count deliveries in.

use chrono::Utc;
use mantissa_backend::model::{Integration, IntegrationKind, Rule, Schedule, Severity};
use std::path::Path;

/// Console logins in the run's window, one incident per `principal` (the default dedup window).
pub fn login_rule(id: &str, name: &str, schedule: Schedule) -> Rule {
    let mut rule = Rule::new(
        id,
        name,
        "SELECT eventtime, useridentity.username AS principal FROM cloudtrail_logs
         WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
           AND eventtime >= {window_start_iso} AND eventtime < {window_end_iso}
           AND eventname = 'ConsoleLogin'",
        Severity::High,
        schedule,
    );
    rule.dedup.fields = vec!["principal".into()];
    rule
}

/// A file integration `id` of `user` writing one JSON line per delivery to `path`.
pub fn file_sink(user: &str, id: &str, path: &Path) -> Integration {
    Integration {
        id: id.into(),
        user_id: user.into(),
        kind: IntegrationKind::File,
        name: id.into(),
        enabled: true,
        min_severity: Severity::Info,
        config: serde_json::json!({"path": path}),
        secret_ref: None,
        created_at: Utc::now(),
    }
}
