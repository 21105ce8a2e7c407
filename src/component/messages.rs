//! What the console asks of the backend (`Job`) and what comes back (`Msg`); `App::update`
//! routes a reply to the pane it is for.

use super::{Pane, history};
use crate::widgets::grid::ViewRequest;
use datafusion::arrow::record_batch::RecordBatch;
use mantissa_backend::assist::{explain::Explanation, query::QueryDraft, rule::RuleDraft};
use mantissa_backend::model::settings::UserSettings;
use mantissa_backend::model::{Activity, Alert, HealthStatus, Integration, QueryId, QueryStatus, Rule};
use mantissa_backend::ports::DeadLetter;
use mantissa_backend::rules::{Diagnostic, runner::TestOutcome};
use mantissa_backend::settings;
use std::path::PathBuf;
use std::sync::Arc;

/// Work for the backend, run by `jobs::spawn`.
#[derive(Debug, Clone)]
pub enum Job {
    RunQuery(String),
    CancelQuery(QueryId),
    /// The engine's tables (on AWS from Glue), for the table picker.
    LoadTables,
    /// Reloads what the pane shows (nothing for the query pane); one at a time, see
    /// `App::start`.
    Refresh(Pane),
    /// The page of alerts created before `before` (the oldest one loaded).
    OlderAlerts {
        before: chrono::DateTime<chrono::Utc>,
    },
    /// Stores the changed alerts; `report` says what changed, once for all of them.
    SaveAlerts {
        alerts: Vec<Alert>,
        report: String,
    },
    /// Every rule's runs, noise and cost (`rules::ledger`).
    LoadLedger,
    /// Stores a suppression (logged on the alert it was made from, if any), lists them, ends one.
    AddSuppression {
        suppression: Box<mantissa_backend::model::suppression::Suppression>,
        alert_id: Option<String>,
    },
    LoadSuppressions,
    /// What a query would scan and cost, planned against the lake, said as a message.
    Estimate(String),
    LiftSuppression(String),
    /// One alert's activity log, for its open detail.
    LoadActivity(String),
    /// A case read whole, for its detail or (`timeline`) its entities' timeline query.
    LoadCase {
        case_id: String,
        timeline: bool,
    },
    /// A new case of these alerts; a change to a case (then the list again).
    OpenCase {
        title: String,
        alert_ids: Vec<String>,
    },
    ChangeCase {
        case_id: String,
        change: mantissa_backend::cases::Change,
    },
    /// Open alerts sharing an entity, not yet in an open case.
    LoadSuggestions,
    SaveRule(Rule),
    RunRule(Rule),
    /// A retro-hunt of these stored rules from `from` (`1d` back, a time) to now: what would
    /// have fired, nothing stored or sent.
    Hunt {
        rule_ids: Vec<String>,
        from: String,
    },
    /// The editor's text against the stored rule of its id over the last `days`.
    Backtest {
        path: PathBuf,
        text: String,
        days: u32,
    },
    Redrive(Vec<String>),
    DeleteDead(String),
    /// Opens the rule's file (or its YAML from the store) in the editor; `test` runs its tests.
    OpenRule {
        rule: Rule,
        test: bool,
    },
    CheckRule {
        generation: u64,
        path: PathBuf,
        text: String,
    },
    TestRule {
        path: PathBuf,
        text: String,
    },
    /// Runs the rule's tests, then writes the file (a new rule's to `<rules-dir>/<id>.yml`) and
    /// pushes the folder; failing tests stop it unless `force` (the analyst said yes).
    SaveRuleFile {
        path: Option<PathBuf>,
        text: String,
        force: bool,
    },
    /// Sorts and filters the grid off the UI thread.
    GridView(ViewRequest),
    Export {
        format: String,
        path: PathBuf,
        batches: Vec<RecordBatch>,
        order: Option<Arc<Vec<u32>>>,
    },
    /// A result larger than the grid holds: the query runs again into the file.
    ExportQuery {
        format: String,
        path: PathBuf,
        sql: String,
    },
    SaveHistory(PathBuf, history::Entry),
    TestSend(String),
    DeleteIntegration(String),
    /// A setup form's integration: saved (the secret to the secret store), test-sent, or used
    /// to list Jira projects. `secret` is the one typed, none to use the stored one.
    SaveIntegration {
        integration: Integration,
        secret: Option<SecretText>,
    },
    TestSetup {
        integration: Integration,
        secret: Option<SecretText>,
    },
    JiraProjects {
        integration: Integration,
        secret: Option<SecretText>,
    },
    /// `:route slack`: these alerts to the integrations the words name.
    Route {
        alert_ids: Vec<String>,
        words: String,
    },
    /// The assistant: a question to SQL for the editor, a question to a rule draft, an alert
    /// explained (its samples are sent: the analyst said yes).
    Ask(String),
    DraftRule(String),
    Explain(Box<Alert>),
    /// The user's settings; `view` shows them in a popup.
    LoadSettings {
        view: bool,
    },
    SetSetting {
        key: String,
        value: SecretText,
    },
    /// Several jobs behind one confirmation (a bulk delete).
    Batch(Vec<Job>),
}

impl Job {
    /// What the status line calls the job while it runs; none for background work (the
    /// periodic refresh, history appends) that would only flicker there.
    pub fn label(&self) -> Option<&'static str> {
        Some(match self {
            Job::Refresh(_)
            | Job::SaveHistory(..)
            | Job::Batch(_)
            | Job::LoadTables
            | Job::LoadActivity(_) => {
                return None;
            }
            Job::RunQuery(_) => "query",
            Job::LoadLedger => "ledger",
            Job::LoadCase { .. } => "case",
            Job::OpenCase { .. } | Job::ChangeCase { .. } => "save case",
            Job::LoadSuggestions => "suggestions",
            Job::AddSuppression { .. } | Job::LiftSuppression(_) => "suppression",
            Job::LoadSuppressions => "suppressions",
            Job::Estimate(_) => "estimate",
            Job::CancelQuery(_) => "cancel",
            Job::OlderAlerts { .. } => "older alerts",
            Job::SaveAlerts { .. } => "save alert",
            Job::SaveRule(_) | Job::SaveRuleFile { .. } => "save rule",
            Job::RunRule(_) => "run rule",
            Job::Hunt { .. } => "hunt",
            Job::Backtest { .. } => "backtest",
            Job::Redrive(_) => "redrive",
            Job::DeleteDead(_) | Job::DeleteIntegration(_) => "delete",
            Job::OpenRule { .. } => "open rule",
            Job::CheckRule { .. } => "check rule",
            Job::TestRule { .. } => "test rule",
            Job::GridView(_) => "sort/filter",
            Job::Export { .. } | Job::ExportQuery { .. } => "export",
            Job::TestSend(_) | Job::TestSetup { .. } => "test send",
            Job::SaveIntegration { .. } => "save integration",
            Job::JiraProjects { .. } => "jira projects",
            Job::Route { .. } => "route",
            Job::Ask(_) | Job::DraftRule(_) | Job::Explain(_) => "assistant",
            Job::LoadSettings { .. } => "settings",
            Job::SetSetting { .. } => "save setting",
        })
    }
}

/// A secret typed in a form, on its way to the backend; `Debug` never shows it.
#[derive(Clone)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(<hidden>)")
    }
}

/// What a `[y/N]` confirmation does on `y`.
#[derive(Debug, Clone)]
pub enum Pending {
    Run(Box<Job>),
    CloseRuleEditor,
    CloseSetup,
}

/// Replies from jobs.
#[derive(Debug)]
pub enum Msg {
    QueryStarted(QueryId),
    QueryStatus(QueryStatus),
    QueryResults(Vec<RecordBatch>),
    QueryFailed(String),
    Tables(Vec<mantissa_backend::ports::TableSchema>),
    Alerts(Vec<Alert>),
    Activity {
        alert_id: String,
        entries: Result<Vec<Activity>, String>,
    },
    OlderAlerts(Result<Vec<Alert>, String>),
    Cases(Vec<mantissa_backend::model::Case>),
    CaseView {
        timeline: bool,
        view: Result<Box<mantissa_backend::cases::CaseView>, String>,
    },
    Suggestions(Result<Vec<mantissa_backend::cases::suggest::Suggestion>, String>),
    Rules(Vec<Rule>),
    Ledger(Result<Vec<mantissa_backend::rules::ledger::LedgerRow>, String>),
    Suppressions(Result<Vec<mantissa_backend::model::suppression::Suppression>, String>),
    Integrations(Vec<(Integration, Option<HealthStatus>)>),
    Dlq(Vec<DeadLetter>),
    RuleOpened {
        rule_id: Option<String>,
        path: Option<PathBuf>,
        text: String,
        test: bool,
    },
    RuleChecked {
        generation: u64,
        diagnostics: Vec<Diagnostic>,
    },
    RuleTested(Vec<TestOutcome>),
    /// A hunt's or a backtest's findings, `title` saying over what.
    Hunted {
        title: String,
        found: Result<Box<mantissa_backend::rules::hunt::Hunt>, String>,
    },
    Backtested {
        title: String,
        found: Result<Box<mantissa_backend::rules::hunt::Backtest>, String>,
    },
    RuleSaved {
        path: PathBuf,
        report: String,
    },
    /// Not saved: the rule's own tests fail (their outcomes), so the editor asks first.
    SaveStopped {
        path: Option<PathBuf>,
        text: String,
        outcomes: Vec<TestOutcome>,
    },
    GridView {
        generation: u64,
        order: Result<Option<Vec<u32>>, String>,
    },
    /// A setup form's save (`Ok` names what was saved), test send, or Jira project lookup.
    SetupSaved(Result<String, String>),
    SetupTested(Result<String, String>),
    JiraProjects(Result<Vec<(String, String)>, String>),
    QueryDrafted(Result<QueryDraft, String>),
    RuleDrafted(Result<RuleDraft, String>),
    Explained(Result<Explanation, String>),
    Settings {
        view: bool,
        settings: Result<(UserSettings, Vec<settings::Shown>), String>,
    },
    SettingSaved(Result<String, String>),
    Info(String),
    Error(String),
    /// A labelled job ended (see [`Job::label`]).
    Done(&'static str),
    /// A refresh ended, however it ended: the next one may start. It carries today's pipeline
    /// counters as one line (runs, routed, sent), when any were counted.
    Refreshed(Option<String>),
}
