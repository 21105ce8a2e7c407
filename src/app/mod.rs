//! The console's state (`App`): the six panes, what they share (`Ui`), and what keys do: the
//! overlays take keys first, then the keymap names an action for the pane on screen.
//! `event_loop` runs it (drawing only when something changed); `messages` holds the jobs and
//! their replies.

mod assist;
mod assist_jobs;
mod case_jobs;
mod cases;
mod commands;
mod event_loop;
pub mod frame;
pub mod jobs;
pub mod keys;
mod rule_jobs;
mod suppress;
mod timeline;
mod update;

pub use crate::component::history;
pub use crate::component::{Job, Msg, Pending, Prompt, Purpose, Request, SecretText, Ui};
pub use event_loop::{Context, RefreshPolicy, run};

use crate::config::keymap::{Action, Ctx, Screen};
use crate::panes::alerts::AlertsPane;
use crate::panes::cases::CasesPane;
use crate::panes::dlq::DlqPane;
use crate::panes::integrations::IntegrationsPane;
use crate::panes::query::QueryPane;
use crate::panes::rules::RulesPane;
use crate::panes::{Component, Pane};
use crate::widgets::picker::PickerKind;
use crate::widgets::popup::TextView;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::text::{Line, Span};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub struct App {
    pub pane: Pane,
    pub ui: Ui,
    pub query: QueryPane,
    pub rules: RulesPane,
    pub alerts: AlertsPane,
    pub integrations: IntegrationsPane,
    pub dlq: DlqPane,
    pub cases: CasesPane,
    /// The `:` command line being typed.
    pub command: Option<String>,
    /// Where user keymaps and themes live, for `:keymap NAME` and `:theme NAME`.
    pub keymap_dir: Option<PathBuf>,
    pub theme_dir: Option<PathBuf>,
    /// Labelled jobs on their way, by label, for the status line.
    pub running: BTreeMap<&'static str, usize>,
    /// A refresh is on its way; the next waits for it (on AWS every read is billed).
    pub refreshing: bool,
    pub quit: bool,
    pub status_line: String,
    /// Set while another process (a `serve`, another console) runs this workspace's rules, so
    /// this console runs none of its own and says so on the status line.
    pub scheduler_elsewhere: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Today's pipeline counters (runs, alerts routed, sends), from the last refresh.
    pub pipeline: Option<String>,
    /// The user's settings as last read (the assistant's provider, the preferences).
    pub settings: mantissa_backend::model::settings::UserSettings,
    /// The follow-up queries of the explanation on screen, opened with 1-9.
    pub suggested: Vec<String>,
}

impl App {
    pub fn new(status_line: String, read_only: bool) -> Self {
        App {
            pane: Pane::Query,
            ui: Ui::new(read_only),
            query: QueryPane::default(),
            rules: RulesPane::default(),
            alerts: AlertsPane::default(),
            integrations: IntegrationsPane::default(),
            dlq: DlqPane::default(),
            cases: CasesPane::default(),
            command: None,
            keymap_dir: None,
            theme_dir: None,
            running: BTreeMap::new(),
            refreshing: false,
            quit: false,
            status_line,
            scheduler_elsewhere: Default::default(),
            pipeline: None,
            settings: Default::default(),
            suggested: vec![],
        }
    }

    /// The pane on screen.
    pub fn active(&self) -> &dyn Component {
        match self.pane {
            Pane::Query => &self.query,
            Pane::Rules => &self.rules,
            Pane::Alerts => &self.alerts,
            Pane::Integrations => &self.integrations,
            Pane::Dlq => &self.dlq,
            Pane::Cases => &self.cases,
        }
    }

    /// The pane on screen and what the panes share, borrowed together.
    fn active_mut(&mut self) -> (&mut dyn Component, &mut Ui) {
        let pane: &mut dyn Component = match self.pane {
            Pane::Query => &mut self.query,
            Pane::Rules => &mut self.rules,
            Pane::Alerts => &mut self.alerts,
            Pane::Integrations => &mut self.integrations,
            Pane::Dlq => &mut self.dlq,
            Pane::Cases => &mut self.cases,
        };
        (pane, &mut self.ui)
    }

    /// What has the keys now: the pane, an editor or a form in it.
    pub fn screen(&self) -> Screen {
        self.active().screen()
    }

    /// A key: changes state and may ask for backend jobs. Overlays (confirmation, popup,
    /// picker, prompt, filter, command line) take keys first; then the keymap names an action
    /// for the screen, and keys without one are text in the editors and forms.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Job> {
        if key.kind == KeyEventKind::Release {
            return vec![];
        }
        // A message lasts until the next key, so the footer's key hints come back.
        self.ui.message = None;
        if let Some((_, pending)) = self.ui.confirm.take() {
            if !matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                return vec![];
            }
            return match pending {
                Pending::Run(job) => vec![*job],
                Pending::CloseRuleEditor => {
                    self.rules.editor = None;
                    vec![]
                }
                Pending::CloseSetup => {
                    self.integrations.setup = None;
                    vec![]
                }
            };
        }
        if let KeyCode::Char(c) = key.code
            && self.ui.popup.is_some()
            && self.open_suggested(c)
        {
            return vec![];
        }
        if let Some(view) = self.ui.popup.as_mut() {
            // Scroll with the list motions of the keymap; anything else closes.
            if !view.scroll_by(self.ui.keymap.action_in(&[Ctx::List], key)) {
                self.ui.popup = None;
                self.suggested.clear();
            }
            return vec![];
        }
        if self.ui.picker.is_some() {
            return self.picker_key(key);
        }
        if let Some(prompt) = self.ui.prompt.as_mut() {
            match prompt.input.key(key) {
                Some(true) => {
                    let prompt = self.ui.prompt.take().expect("a prompt is open");
                    return self.answer(prompt);
                }
                Some(false) => self.ui.prompt = None,
                None => {}
            }
            return vec![];
        }
        if let Some(typed) = self.ui.filter_input.as_mut() {
            match key.code {
                KeyCode::Esc => typed.clear(),
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) => typed.push(c),
                _ => {}
            }
            let typed = typed.clone();
            let done = matches!(key.code, KeyCode::Esc | KeyCode::Enter);
            if done {
                self.ui.filter_input = None;
            }
            return self.active_mut().0.filter(&typed, done);
        }
        if self.command.is_some() {
            return self.command_key(key);
        }
        let screen = self.screen();
        match self.ui.keymap.action(screen, key) {
            Some(action) => self.act(action),
            None => self.active_mut().0.handle_text(key),
        }
    }

    /// The actions every screen shares; the rest go to the pane on screen.
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
            Action::PaneCases => self.pane = Pane::Cases,
            _ => {
                if let Some(jobs) = self.assist_action(action) {
                    return jobs;
                }
                if let Some(jobs) = self.suppress_action(action) {
                    return jobs;
                }
                if let Some(jobs) = self.timeline_action(action) {
                    return jobs;
                }
                if let Some(jobs) = self.case_action(action) {
                    return jobs;
                }
                let (pane, ui) = self.active_mut();
                let mut jobs = pane.handle_key(action, ui);
                jobs.extend(self.follow_requests());
                return jobs;
            }
        }
        vec![]
    }

    /// Carries out what a pane asked of another.
    fn follow_requests(&mut self) -> Vec<Job> {
        let mut jobs = vec![];
        for request in std::mem::take(&mut self.ui.requests) {
            match request {
                Request::Query { sql, run } => {
                    self.query.show(&sql);
                    self.pane = Pane::Query;
                    if run {
                        jobs.extend(self.query.run(&mut self.ui));
                    }
                }
            }
        }
        jobs
    }

    /// Runs the editor's query from anywhere (`:run`), showing the query pane.
    pub fn run_query(&mut self) -> Vec<Job> {
        self.pane = Pane::Query;
        self.query.run(&mut self.ui)
    }

    fn show_help(&mut self) {
        let theme = &self.ui.theme;
        let built_in =
            crate::widgets::text_edit::BUILT_IN.iter().map(|(keys, what)| ("text", keys.to_string(), *what));
        let lines = self
            .ui
            .keymap
            .help()
            .into_iter()
            .chain(built_in)
            .map(|(ctx, keys, what)| {
                Line::from(vec![
                    Span::styled(format!("{ctx:<13}"), theme.muted()),
                    Span::styled(format!("{keys:<22}"), theme.header()),
                    Span::raw(what),
                ])
            })
            .collect();
        self.ui.popup = Some(TextView::new(format!("keys · keymap {}", self.ui.keymap.name), lines));
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
        let Some(picker) = self.ui.picker.as_mut() else { return vec![] };
        match picker.key(key) {
            Some(Some(value)) => {
                let kind = picker.kind;
                self.ui.picker = None;
                match kind {
                    PickerKind::History | PickerKind::Tables => self.query.picked(kind, value),
                    PickerKind::IntegrationKind | PickerKind::JiraProject => {
                        self.integrations.picked(kind, value, &self.ui)
                    }
                }
            }
            Some(None) => self.ui.picker = None,
            None => {}
        }
        vec![]
    }

    fn answer(&mut self, prompt: Prompt) -> Vec<Job> {
        let text = prompt.input.text.trim().to_string();
        match prompt.purpose {
            Purpose::Assign(ids) => self.alerts.assign(&ids, &text),
            Purpose::Note(ids) => self.alerts.note(&ids, &text, &self.ui.user),
            Purpose::Resolve(ids) => self.alerts.resolve(&ids, &text, &mut self.ui),
            Purpose::Export => self.run_command(&format!("export {text}")),
            Purpose::Ask | Purpose::DraftRule => self.asked(&prompt.purpose, text),
            Purpose::Setting(key) => self.set_setting(&key, &text),
            purpose @ (Purpose::Snooze(_) | Purpose::Suppress { .. }) => {
                self.suppression_answered(purpose, &text)
            }
            purpose @ (Purpose::AddToCase(_)
            | Purpose::CaseFrom(_)
            | Purpose::CaseOwner(_)
            | Purpose::CaseNote(_)
            | Purpose::CaseClose(_)) => self.case_answered(purpose, &text),
        }
    }
}
