//! The console's state (`App`) and what keys do to it: keys become state changes and jobs.
//! `event_loop` runs it (drawing only when something changed); `messages` holds the jobs and
//! their replies.

mod commands;
mod event_loop;
pub mod history;
pub mod jobs;
pub mod keys;
mod messages;
mod rule_jobs;

pub use event_loop::{Context, run};
pub use messages::{Job, Msg, Pending, SecretText};

use crate::config::keymap::{Action, Ctx, Keymap, Screen};
use crate::config::theme::Theme;
use crate::panes::{self, Pane};
use crate::widgets::grid::Grid;
use crate::widgets::input::LineInput;
use crate::widgets::picker::{Picker, PickerKind};
use crate::widgets::popup::TextView;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use mantissa_backend::model::{Alert, AlertStatus, HealthStatus, Integration, QueryId, QueryStatus, Rule};
use mantissa_backend::ports::DeadLetter;
use ratatui::text::{Line, Span};
use ratatui_textarea::TextArea;
use std::collections::BTreeSet;
use std::path::PathBuf;

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
    /// An integration setup form over the integrations pane.
    pub setup: Option<panes::setup::Setup>,
    /// The `?` help, a record, a cell, an alert's detail or a DLQ payload over the pane.
    pub popup: Option<TextView>,
    /// A one-line question in the footer (assignee, note, export path).
    pub prompt: Option<Prompt>,
    /// The history or tables list over the query pane.
    pub picker: Option<Picker>,
    /// Each pane's rows marked with `mark` for a bulk action, by id.
    pub marks: [BTreeSet<String>; 5],
    pub history: history::History,
    pub keymap: Keymap,
    /// Where user keymaps live, for `:keymap NAME`.
    pub keymap_dir: Option<PathBuf>,
    /// Text to put on the terminal's clipboard (OSC 52) at the next draw.
    pub clipboard: Option<String>,
    /// Jobs a message asked for; the event loop spawns them after `update`.
    pub queued: Vec<Job>,
    /// Labelled jobs on their way, by label, for the status line.
    pub running: std::collections::BTreeMap<&'static str, usize>,
    pub quit: bool,
    pub read_only: bool,
    pub theme: Theme,
    /// Where user themes live, for `:theme NAME`.
    pub theme_dir: Option<PathBuf>,
    pub status_line: String,
    /// The analyst, for notes.
    pub user: String,
}

/// A one-line question in the footer and what the answer is for.
pub struct Prompt {
    pub label: String,
    pub input: LineInput,
    pub purpose: Purpose,
}

pub enum Purpose {
    Assign(Vec<String>),
    Note(Vec<String>),
    /// `csv PATH`, `json PATH` or `parquet PATH`, as `:export` takes.
    Export,
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
            setup: None,
            popup: None,
            prompt: None,
            picker: None,
            marks: Default::default(),
            history: Default::default(),
            keymap: Keymap::default(),
            keymap_dir: None,
            clipboard: None,
            queued: vec![],
            running: Default::default(),
            quit: false,
            read_only,
            theme: Theme::default(),
            theme_dir: None,
            status_line,
            user: "analyst".into(),
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

    fn guarded(&mut self, prompt: String, job: Job) {
        if self.read_only {
            self.error("read-only session: this action is refused");
        } else {
            self.confirm = Some((prompt, Pending::Run(Box::new(job))));
        }
    }

    /// What has the keys now: the pane, and in the query pane the focus, or the rule editor.
    pub fn screen(&self) -> Screen {
        match self.pane {
            Pane::Query if self.focus == Focus::Editor => Screen::QueryEditor,
            Pane::Query => Screen::QueryGrid,
            Pane::Rules if self.rule_editor.is_some() => Screen::RuleEditor,
            Pane::Rules => Screen::Rules,
            Pane::Alerts => Screen::Alerts,
            Pane::Integrations if self.setup.is_some() => Screen::Form,
            Pane::Integrations => Screen::Integrations,
            Pane::Dlq => Screen::Dlq,
        }
    }

    /// A key: changes state and may ask for backend jobs. Overlays (confirmation, popup,
    /// picker, prompt, filter, command line) take keys first; then the keymap names an action
    /// for the screen, and keys without one are text in the editors.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Job> {
        if key.kind == KeyEventKind::Release {
            return vec![];
        }
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
        if let Some(view) = self.popup.as_mut() {
            // Scroll with the list motions of the keymap; anything else closes.
            if !view.scroll_by(self.keymap.action_in(&[Ctx::List], key)) {
                self.popup = None;
            }
            return vec![];
        }
        if self.picker.is_some() {
            return self.picker_key(key);
        }
        if let Some(prompt) = self.prompt.as_mut() {
            match prompt.input.key(key) {
                Some(true) => {
                    let prompt = self.prompt.take().expect("a prompt is open");
                    return self.answer(prompt);
                }
                Some(false) => self.prompt = None,
                None => {}
            }
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
            let done = matches!(key.code, KeyCode::Esc | KeyCode::Enter);
            if done {
                self.filter_input = None;
            }
            if self.pane == Pane::Query && (done || self.grid.rows <= panes::query::LIVE_FILTER_ROWS) {
                return vec![Job::GridView(self.grid.filter_by(self.filters[pane].clone()))];
            }
            return vec![];
        }
        if self.command.is_some() {
            return self.command_key(key);
        }
        let screen = self.screen();
        match self.keymap.action(screen, key) {
            Some(action) => self.act(action),
            None if screen == Screen::QueryEditor => {
                self.editor.input(key);
                vec![]
            }
            None if screen == Screen::RuleEditor => panes::rules::editor_input(self, key),
            None if screen == Screen::Form => {
                if let Some(setup) = self.setup.as_mut() {
                    setup.form.input(key);
                }
                vec![]
            }
            None => vec![],
        }
    }

    /// What an action does wherever it applies; pane actions go to the pane.
    pub fn act(&mut self, action: Action) -> Vec<Job> {
        match action {
            Action::Quit => self.quit = true,
            Action::CommandLine => self.command = Some(String::new()),
            Action::Help => self.show_help(),
            Action::PaneQuery => self.pane = Pane::Query,
            Action::PaneRules => self.pane = Pane::Rules,
            Action::PaneAlerts => self.pane = Pane::Alerts,
            Action::PaneIntegrations => self.pane = Pane::Integrations,
            Action::PaneDlq => self.pane = Pane::Dlq,
            Action::Run => return self.run_query(),
            Action::Cancel => {
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
            Action::History => self.picker = Some(self.history.picker()),
            Action::Tables => self.picker = Some(panes::query::tables_picker()),
            Action::ToResults => self.focus = Focus::Grid,
            Action::EditQuery => self.focus = Focus::Editor,
            _ => return panes::act(self, action),
        }
        vec![]
    }

    fn show_help(&mut self) {
        let lines = self
            .keymap
            .help()
            .into_iter()
            .map(|(ctx, keys, what)| {
                Line::from(vec![
                    Span::styled(format!("{ctx:<13}"), self.theme.muted()),
                    Span::styled(format!("{keys:<22}"), self.theme.header()),
                    Span::raw(what),
                ])
            })
            .collect();
        self.popup = Some(TextView::new(format!("keys · keymap {}", self.keymap.name), lines));
    }

    fn command_key(&mut self, key: KeyEvent) -> Vec<Job> {
        let Some(cmd) = self.command.as_mut() else { return vec![] };
        match key.code {
            KeyCode::Esc => self.command = None,
            KeyCode::Backspace => {
                cmd.pop();
            }
            KeyCode::Tab => {
                let typed = cmd.clone();
                self.command = Some(commands::complete(&typed, self));
            }
            KeyCode::Enter => {
                let line = self.command.take().unwrap_or_default();
                return self.run_command(line.trim());
            }
            KeyCode::Char(c) => cmd.push(c),
            _ => {}
        }
        vec![]
    }

    fn picker_key(&mut self, key: KeyEvent) -> Vec<Job> {
        let Some(picker) = self.picker.as_mut() else { return vec![] };
        match picker.key(key) {
            Some(Some(value)) => {
                let kind = picker.kind;
                self.picker = None;
                match kind {
                    PickerKind::History | PickerKind::Tables => panes::query::picked(self, kind, value),
                    PickerKind::IntegrationKind | PickerKind::JiraProject => {
                        panes::setup::picked(self, kind, value)
                    }
                }
            }
            Some(None) => self.picker = None,
            None => {}
        }
        vec![]
    }

    fn answer(&mut self, prompt: Prompt) -> Vec<Job> {
        let text = prompt.input.text.trim().to_string();
        match prompt.purpose {
            Purpose::Assign(ids) => self.edit_alerts(&ids, |a| {
                a.assignee = (!text.is_empty()).then(|| text.clone());
            }),
            Purpose::Note(_) if text.is_empty() => vec![],
            Purpose::Note(ids) => {
                let note = format!("{} {}: {text}", chrono::Utc::now().format("%Y-%m-%d %H:%M"), self.user);
                self.edit_alerts(&ids, |a| a.notes.push(note.clone()))
            }
            Purpose::Export => self.run_command(&format!("export {text}")),
        }
    }

    /// Changes the alerts with these ids here and asks the backend to store each.
    pub fn edit_alerts(&mut self, ids: &[String], change: impl Fn(&mut Alert)) -> Vec<Job> {
        let mut jobs = vec![];
        for alert in self.alerts.iter_mut().filter(|a| ids.contains(&a.id)) {
            change(alert);
            jobs.push(Job::SaveAlert(alert.clone()));
        }
        jobs
    }

    pub fn run_query(&mut self) -> Vec<Job> {
        if self.query.is_some() {
            self.error("a query is already running: Ctrl-C cancels it");
            return vec![];
        }
        self.message = None;
        self.pane = Pane::Query;
        let sql = self.sql();
        let mut jobs = vec![];
        if let (Some(entry), Some(path)) =
            (self.history.push(&sql, chrono::Utc::now()), self.history.path.clone())
        {
            jobs.push(Job::SaveHistory(path, entry));
        }
        jobs.push(Job::RunQuery(sql));
        jobs
    }

    /// Triage the selected alert.
    /// Triage the marked alerts, or the selected one.
    pub fn set_alert_status(&mut self, status: AlertStatus) -> Vec<Job> {
        let ids = panes::lists::targets(self);
        self.marks[Pane::Alerts as usize].clear();
        self.edit_alerts(&ids, |a| a.status = status)
    }

    /// Puts text on the terminal's clipboard with OSC 52 (works over SSH and in tmux with
    /// `set-clipboard on`); terminals cap the sequence, so very large copies are refused.
    pub fn copy(&mut self, text: String) {
        const MAX: usize = 1 << 20;
        if text.len() > MAX {
            self.error(format!(
                "{} bytes is too much for the terminal clipboard: export it instead",
                text.len()
            ));
            return;
        }
        self.info(format!("copied {} line(s), {} bytes (OSC 52)", text.lines().count().max(1), text.len()));
        self.clipboard = Some(text);
    }

    pub fn ask(&mut self, prompt: String, job: Job) -> Vec<Job> {
        self.guarded(prompt, job);
        vec![]
    }
}
