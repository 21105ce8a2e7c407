//! The rules pane: the rule list (severity, schedule, enabled, last run and status, alerts) with
//! dry-run, enable/disable and run now; `Enter` opens the rule's file in the editor over it.

use super::Component;
use super::rule_editor::{NEW_RULE, RuleEditor};
use crate::component::{Job, Msg, Pending, Request, Ui};
use crate::config::keymap::{Action, Screen};
use crate::widgets::list::{Columns, List, Record, age, clean};
use crossterm::event::KeyEvent;
use mantissa_backend::model::{Rule, RunStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;

#[derive(Default)]
pub struct RulesPane {
    pub list: List<Rule>,
    /// The rule file being edited, over the list.
    pub editor: Option<RuleEditor>,
    /// The ledger shown instead of the list (`L`).
    pub ledger: Option<super::ledger::Ledger>,
}

impl Record for Rule {
    fn id(&self) -> String {
        self.id.clone()
    }
    fn haystack(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.id,
            self.name,
            self.severity.as_str(),
            self.schedule.as_str(),
            self.tags.join(" ")
        )
    }
}

impl RulesPane {
    /// Opens an editor and returns the jobs that check its text.
    fn open(&mut self, mut editor: RuleEditor, test: bool) -> Vec<Job> {
        let jobs = editor.opened(test);
        self.editor = Some(editor);
        jobs
    }

    /// The rule under the cursor: the ledger's row when the ledger is shown, else the list's.
    pub fn selected_rule(&self) -> Option<&mantissa_backend::model::Rule> {
        match &self.ledger {
            Some(ledger) => {
                let id = &ledger.list.selected()?.rule_id;
                self.list.items.iter().find(|r| &r.id == id)
            }
            None => self.list.selected(),
        }
    }

    fn list_act(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        if action == Action::Ledger {
            if self.ledger.take().is_some() {
                return vec![];
            }
            self.ledger = Some(Default::default());
            return vec![Job::LoadLedger];
        }
        if let Some(ledger) = self.ledger.as_mut()
            && ledger.act(action, ui)
        {
            return vec![];
        }
        if let Some(done) = self.list.act(action) {
            ui.listed(done);
            return vec![];
        }
        if action == Action::New {
            return self.open(RuleEditor::new(None, None, NEW_RULE), false);
        }
        if action == Action::Coverage {
            ui.popup = Some(super::coverage::view(&self.list.items, &ui.theme));
            return vec![];
        }
        let Some(rule) = self.selected_rule().cloned() else { return vec![] };
        match action {
            Action::Open => vec![Job::OpenRule { rule, test: false }],
            Action::Test => vec![Job::OpenRule { rule, test: true }],
            Action::DryRun => {
                ui.requests.push(Request::Query { sql: rule.dry_run_sql(chrono::Utc::now()), run: true });
                vec![]
            }
            Action::Toggle => {
                let mut rule = rule;
                rule.enabled = !rule.enabled;
                if rule.enabled {
                    return vec![Job::SaveRule(rule)];
                }
                ui.ask(format!("disable rule {}?", rule.id), Job::SaveRule(rule))
            }
            Action::RunNow => vec![Job::RunRule(rule)],
            Action::Hunt => vec![Job::Hunt { rule_ids: vec![rule.id], from: "1d".into() }],
            _ => vec![],
        }
    }
}

impl Component for RulesPane {
    fn screen(&self) -> Screen {
        if self.editor.is_some() { Screen::RuleEditor } else { Screen::Rules }
    }

    fn handle_key(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        let Some(editor) = self.editor.as_mut() else { return self.list_act(action, ui) };
        match action {
            Action::Close if editor.dirty() => {
                let what = editor.label();
                ui.confirm = Some((format!("discard your changes to {what}?"), Pending::CloseRuleEditor));
                vec![]
            }
            Action::Close => {
                self.editor = None;
                vec![]
            }
            _ => editor.act(action, ui),
        }
    }

    fn handle_text(&mut self, key: KeyEvent) -> Vec<Job> {
        self.editor.as_mut().map(|e| e.input(key)).unwrap_or_default()
    }

    fn update(&mut self, msg: Msg, ui: &mut Ui) -> bool {
        match msg {
            Msg::Rules(rules) => self.list.set(rules),
            Msg::Ledger(rows) => match (rows, self.ledger.as_mut()) {
                (Ok(rows), Some(ledger)) => {
                    ledger.set(rows);
                    true
                }
                (Err(e), _) => {
                    ui.error(format!("cannot read the ledger: {e}"));
                    true
                }
                (Ok(_), None) => false,
            },
            Msg::RuleOpened { rule_id, path, text, test } => {
                // The jobs that check (and maybe test) the opened text start here, not from a key.
                let jobs = self.open(RuleEditor::new(rule_id, path, &text), test);
                ui.queued.extend(jobs);
                true
            }
            Msg::Hunted { title, found } => {
                match found {
                    Ok(found) => ui.popup = Some(super::hunt::hunt_view(&title, &found, &ui.theme)),
                    Err(e) => ui.error(format!("{title}: {e}")),
                }
                true
            }
            Msg::Backtested { title, found } => {
                match found {
                    Ok(found) => ui.popup = Some(super::hunt::backtest_view(&title, &found, &ui.theme)),
                    Err(e) => ui.error(format!("{title}: {e}")),
                }
                true
            }
            Msg::RuleSaved { report, .. } if self.editor.is_none() => {
                ui.info(report);
                true
            }
            msg => self.editor.as_mut().is_some_and(|e| e.update(msg, ui)),
        }
    }

    fn filter(&mut self, text: &str, _done: bool) -> Vec<Job> {
        match self.ledger.as_mut() {
            Some(ledger) => ledger.list.set_filter(text),
            None => self.list.set_filter(text),
        }
        vec![]
    }

    fn render(&self, f: &mut Frame, area: Rect, ui: &Ui) {
        let t = &ui.theme;
        if let Some(editor) = &self.editor {
            return editor.render(f, area, t);
        }
        if let Some(ledger) = &self.ledger {
            return ledger.render(f, area, ui);
        }
        let columns = Columns {
            title: " rules ",
            header: vec!["severity", "rule", "schedule", "on", "last run", "status", "alerts"],
            widths: vec![
                Constraint::Length(8),
                Constraint::Min(18),
                Constraint::Length(16),
                Constraint::Length(3),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(6),
            ],
        };
        let cells = |r: &Rule| {
            vec![
                Cell::from(r.severity.as_str()).style(t.severity(r.severity)),
                Cell::from(clean(&r.name)),
                Cell::from(r.schedule.as_str().to_string()),
                Cell::from(if r.enabled { "yes" } else { "no" }),
                Cell::from(r.last_execution.map(age).unwrap_or_else(|| "never".into())),
                match &r.last_status {
                    Some(RunStatus::Failed(_)) => Cell::from("failed").style(t.error()),
                    Some(RunStatus::Success) => Cell::from("ok"),
                    None => Cell::from("-"),
                },
                Cell::from(r.alert_count.to_string()),
            ]
        };
        self.list.render(f, area, columns, cells, t, ui.filter_input.is_some());
    }
}
