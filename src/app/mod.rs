//! The console: one message loop over key events and backend replies; state lives in `App`,
//! keys become state changes and jobs, and drawing happens only when something changed.

pub mod jobs;
pub mod keys;
mod rule_jobs;

use crate::config::theme::{self, Theme};
use crate::panes::{self, Pane};
use crate::widgets::grid::Grid;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use mantissa_backend::local::Lake;
use mantissa_backend::model::{Alert, AlertStatus, HealthStatus, Integration, QueryId, QueryStatus, Rule};
use mantissa_backend::ports::DeadLetter;
use mantissa_backend::rules::{Diagnostic, runner::TestOutcome};
use mantissa_backend::services::Services;
use ratatui_textarea::TextArea;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Work for the backend, run by `jobs::spawn`.
#[derive(Debug, Clone)]
pub enum Job {
    RunQuery(String),
    CancelQuery(QueryId),
    Refresh,
    SaveAlert(Alert),
    SaveRule(Rule),
    RunRule(Rule),
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
    /// Writes the file (a new rule's to `<rules-dir>/<id>.yml`) and pushes the folder.
    SaveRuleFile {
        path: Option<PathBuf>,
        text: String,
    },
}

/// What a `[y/N]` confirmation does on `y`.
#[derive(Debug, Clone)]
pub enum Pending {
    Run(Box<Job>),
    CloseRuleEditor,
}

/// Replies from jobs.
#[derive(Debug)]
pub enum Msg {
    QueryStarted(QueryId),
    QueryStatus(QueryStatus),
    QueryResults(Vec<RecordBatch>),
    QueryFailed(String),
    Alerts(Vec<Alert>),
    Rules(Vec<Rule>),
    Integrations(Vec<(Integration, Option<HealthStatus>)>),
    Dlq(Vec<DeadLetter>),
    RuleOpened { rule_id: Option<String>, path: Option<PathBuf>, text: String, test: bool },
    RuleChecked { generation: u64, diagnostics: Vec<Diagnostic> },
    RuleTested(Vec<TestOutcome>),
    RuleSaved { path: PathBuf, report: String },
    Info(String),
    Error(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Editor,
    Grid,
}

/// A list's cursor.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cursor(pub usize);

impl Cursor {
    pub fn step(&mut self, delta: isize, len: usize) {
        self.0 = if len == 0 { 0 } else { (self.0 as isize + delta).clamp(0, len as isize - 1) as usize };
    }
}

pub struct App {
    pub pane: Pane,
    pub focus: Focus,
    pub editor: TextArea<'static>,
    pub grid: Grid,
    pub query: Option<QueryId>,
    pub query_status: Option<QueryStatus>,
    pub session_bytes: u64,
    pub alerts: Vec<Alert>,
    pub rules: Vec<Rule>,
    pub integrations: Vec<(Integration, Option<HealthStatus>)>,
    pub dlq: Vec<DeadLetter>,
    pub cursors: [Cursor; 5],
    pub message: Option<(bool, String)>,
    pub command: Option<String>,
    /// Each pane's `/` filter, and the filter being typed.
    pub filters: [String; 5],
    pub filter_input: Option<String>,
    pub confirm: Option<(String, Pending)>,
    pub rule_editor: Option<panes::rules::RuleEditor>,
    pub help: bool,
    /// Jobs a message asked for; the event loop spawns them after `update`.
    pub queued: Vec<Job>,
    pub quit: bool,
    pub read_only: bool,
    pub theme: Theme,
    /// Where user themes live, for `:theme NAME`.
    pub theme_dir: Option<PathBuf>,
    pub status_line: String,
}

impl App {
    pub fn new(status_line: String, read_only: bool) -> Self {
        let mut editor = TextArea::from([
            "SELECT eventname, count(*) AS n",
            "FROM cloudtrail_logs",
            "GROUP BY 1 ORDER BY 2 DESC",
        ]);
        editor.move_cursor(ratatui_textarea::CursorMove::Bottom);
        editor.move_cursor(ratatui_textarea::CursorMove::End);
        App {
            pane: Pane::Query,
            focus: Focus::Editor,
            editor,
            grid: Grid::default(),
            query: None,
            query_status: None,
            session_bytes: 0,
            alerts: vec![],
            rules: vec![],
            integrations: vec![],
            dlq: vec![],
            cursors: [Cursor::default(); 5],
            message: None,
            command: None,
            filters: Default::default(),
            filter_input: None,
            confirm: None,
            rule_editor: None,
            help: false,
            queued: vec![],
            quit: false,
            read_only,
            theme: Theme::default(),
            theme_dir: None,
            status_line,
        }
    }

    pub fn sql(&self) -> String {
        self.editor.lines().join("\n")
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some((false, text.into()));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some((true, text.into()));
    }

    /// Applies a job's reply; returns whether the screen changed.
    pub fn update(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::QueryStarted(id) => self.query = Some(id),
            Msg::QueryStatus(s) => {
                if s.state.is_terminal() {
                    self.session_bytes += s.stats.bytes_scanned;
                    self.query = None;
                    if let mantissa_backend::model::QueryState::Failed(reason) = &s.state {
                        self.error(reason.clone());
                    }
                }
                self.query_status = Some(s);
            }
            Msg::QueryResults(batches) => {
                self.grid.set(batches);
                self.focus = Focus::Grid;
            }
            Msg::QueryFailed(e) => {
                self.query = None;
                self.error(e);
            }
            Msg::Alerts(a) => {
                if a == self.alerts {
                    return false;
                }
                self.alerts = a;
            }
            Msg::Rules(r) => {
                if r == self.rules {
                    return false;
                }
                self.rules = r;
            }
            Msg::Integrations(i) => {
                if i == self.integrations {
                    return false;
                }
                self.integrations = i;
            }
            Msg::Dlq(d) => {
                if d == self.dlq {
                    return false;
                }
                self.dlq = d;
            }
            Msg::RuleOpened { rule_id, path, text, test } => {
                let editor = panes::rules::RuleEditor::new(rule_id, path, &text);
                // The jobs that check (and maybe test) the opened text start here, not from a key.
                let jobs = panes::rules::opened(self, editor, test);
                self.queued.extend(jobs);
            }
            Msg::RuleChecked { generation, diagnostics } => {
                let Some(ed) = self.rule_editor.as_mut() else { return false };
                if generation != ed.generation {
                    return false;
                }
                ed.checked_generation = Some(generation);
                ed.diagnostics = diagnostics;
            }
            Msg::RuleTested(outcomes) => {
                let Some(ed) = self.rule_editor.as_mut() else { return false };
                ed.testing = false;
                let failed = outcomes.iter().filter(|o| !o.passed()).count();
                let text = format!(
                    "{} test(s): {} passed, {failed} failed",
                    outcomes.len(),
                    outcomes.len() - failed
                );
                ed.tests = Some(outcomes);
                if failed > 0 { self.error(text) } else { self.info(text) }
            }
            Msg::RuleSaved { path, report } => {
                if let Some(ed) = self.rule_editor.as_mut() {
                    ed.saved = ed.contents();
                    ed.path = Some(path);
                }
                self.info(report);
            }
            Msg::Info(t) => self.info(t),
            Msg::Error(t) => self.error(t),
        }
        true
    }

    fn guarded(&mut self, prompt: String, job: Job) {
        if self.read_only {
            self.error("read-only session: this action is refused");
        } else {
            self.confirm = Some((prompt, Pending::Run(Box::new(job))));
        }
    }

    /// A key: changes state and may ask for backend jobs.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Job> {
        if key.kind == KeyEventKind::Release {
            return vec![];
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some((_, pending)) = self.confirm.take() {
            if !matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                return vec![];
            }
            return match pending {
                Pending::Run(job) => vec![*job],
                Pending::CloseRuleEditor => {
                    self.rule_editor = None;
                    vec![]
                }
            };
        }
        if self.help {
            self.help = false;
            return vec![];
        }
        if let Some(typed) = self.filter_input.as_mut() {
            let pane = self.pane as usize;
            match key.code {
                KeyCode::Esc => typed.clear(),
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) => typed.push(c),
                _ => {}
            }
            // The list narrows as you type; the cursor goes back to the first match.
            self.filters[pane] = typed.clone();
            self.cursors[pane].0 = 0;
            if matches!(key.code, KeyCode::Esc | KeyCode::Enter) {
                self.filter_input = None;
            }
            return vec![];
        }
        if let Some(cmd) = self.command.as_mut() {
            match key.code {
                KeyCode::Esc => self.command = None,
                KeyCode::Backspace => {
                    cmd.pop();
                }
                KeyCode::Enter => {
                    let line = self.command.take().unwrap_or_default();
                    return self.run_command(line.trim());
                }
                KeyCode::Char(c) => cmd.push(c),
                _ => {}
            }
            return vec![];
        }
        // An open rule editor takes every key but its own commands.
        if self.pane == Pane::Rules && self.rule_editor.is_some() {
            return panes::handle_key(self, key);
        }
        // Running and cancelling work wherever the focus is in the query pane.
        if self.pane == Pane::Query {
            let run = key.code == KeyCode::F(5)
                || (ctrl && matches!(key.code, KeyCode::Char('j') | KeyCode::Enter));
            if run {
                return self.run_query();
            }
            if ctrl && key.code == KeyCode::Char('c') {
                return match self.query.clone() {
                    Some(id) => {
                        self.info("cancelling the query");
                        vec![Job::CancelQuery(id)]
                    }
                    None => {
                        self.info("no query running (:q quits)");
                        vec![]
                    }
                };
            }
            if self.focus == Focus::Editor {
                match key.code {
                    KeyCode::Esc | KeyCode::Tab => self.focus = Focus::Grid,
                    _ => {
                        self.editor.input(key);
                    }
                }
                return vec![];
            }
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char(':') => self.command = Some(String::new()),
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char(c @ '1'..='5') => self.pane = Pane::ALL[(c as u8 - b'1') as usize],
            KeyCode::Tab | KeyCode::Char('i') if self.pane == Pane::Query => self.focus = Focus::Editor,
            _ => return panes::handle_key(self, key),
        }
        vec![]
    }

    pub fn run_query(&mut self) -> Vec<Job> {
        if self.query.is_some() {
            self.error("a query is already running: Ctrl-C cancels it");
            return vec![];
        }
        self.message = None;
        self.pane = Pane::Query;
        vec![Job::RunQuery(self.sql())]
    }

    fn run_command(&mut self, line: &str) -> Vec<Job> {
        match line {
            "q" | "quit" | "q!" => self.quit = true,
            "run" => return self.run_query(),
            "help" => self.help = true,
            "theme" => {
                let names = theme::names(self.theme_dir.as_deref());
                self.info(format!("themes: {}", names.join(", ")));
            }
            cmd if cmd.starts_with("theme ") => {
                let name = cmd["theme ".len()..].trim();
                match theme::load(name, self.theme_dir.as_deref()) {
                    Ok(t) => {
                        self.theme = if theme::no_color() { t.without_color() } else { t };
                        self.info(format!("theme {name}"));
                    }
                    Err(e) => self.error(format!("{e:#}")),
                }
            }
            "1" | "query" => self.pane = Pane::Query,
            "2" | "rules" => self.pane = Pane::Rules,
            "3" | "alerts" => self.pane = Pane::Alerts,
            "4" | "integrations" => self.pane = Pane::Integrations,
            "5" | "dlq" => self.pane = Pane::Dlq,
            "" => {}
            other => {
                self.error(format!("unknown command `:{other}`: try :run, :q, :alerts, :theme NAME, :help"))
            }
        }
        vec![]
    }

    /// Triage the selected alert.
    pub fn set_alert_status(&mut self, status: AlertStatus) -> Vec<Job> {
        let Some(i) = panes::selected(self, Pane::Alerts) else { return vec![] };
        let Some(alert) = self.alerts.get_mut(i) else { return vec![] };
        alert.status = status;
        vec![Job::SaveAlert(alert.clone())]
    }

    pub fn ask(&mut self, prompt: String, job: Job) -> Vec<Job> {
        self.guarded(prompt, job);
        vec![]
    }
}

/// What jobs work with: the backend, the analyst, the rules folder and the lake whose schemas
/// rule queries are checked against.
#[derive(Clone)]
pub struct Context {
    pub s: Services,
    pub user: String,
    pub rules_dir: PathBuf,
    /// The sync state's key for this backend and user (`local:analyst`), as `rules push` uses.
    pub sync_target: String,
    pub lake: Lake,
    /// Planning needs only the schemas: one session serves every check.
    pub session: Arc<tokio::sync::OnceCell<SessionContext>>,
}

/// Runs the console until `:q`; the terminal is restored on exit and on panic.
pub async fn run(ctx: Context, app: App) -> anyhow::Result<()> {
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, ctx, app).await;
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    ctx: Context,
    mut app: App,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut events = EventStream::new();
    let mut refresh = tokio::time::interval(Duration::from_secs(2));
    let mut dirty = true;
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        if dirty {
            terminal.draw(|f| panes::render(&mut app, f))?;
            dirty = false;
        }
        if app.quit {
            return Ok(());
        }
        #[cfg(unix)]
        let sigterm = term.recv();
        #[cfg(not(unix))]
        let sigterm = std::future::pending::<Option<()>>();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) => {
                    for job in app.handle_key(key) {
                        jobs::spawn(&ctx, job, tx.clone());
                    }
                    dirty = true;
                }
                Some(Ok(Event::Resize(_, _))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(msg) = rx.recv() => {
                dirty |= app.update(msg);
                for job in app.queued.drain(..) {
                    jobs::spawn(&ctx, job, tx.clone());
                }
            }
            _ = refresh.tick() => jobs::spawn(&ctx, Job::Refresh, tx.clone()),
            _ = sigterm => return Ok(()),
        }
    }
}
