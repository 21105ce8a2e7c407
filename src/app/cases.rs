//! Cases from the console: marked alerts into a new or an open case (`c`, `:case`), the
//! answers to the cases pane's prompts, and a case's shared entities followed across the logs
//! (the query in the editor, its scan estimated).

use super::{App, Job, Msg, Purpose};
use crate::config::keymap::Action;
use crate::panes::Pane;
use crate::widgets::input::LineInput;
use crate::widgets::list::clean;
use mantissa_backend::cases::{Change, lake_timeline_sql, parse_close};

impl App {
    pub(super) fn case_action(&mut self, action: Action) -> Option<Vec<Job>> {
        if action != Action::AddToCase {
            return None;
        }
        let ids = self.alerts.list.take_targets();
        if !ids.is_empty() {
            self.ask_case_for(ids);
        }
        Some(vec![])
    }

    fn ask_case_for(&mut self, ids: Vec<String>) {
        let open: Vec<String> =
            self.cases.list.items.iter().filter(|c| c.is_open()).take(3).map(|c| c.id.clone()).collect();
        let hint = if open.is_empty() { String::new() } else { format!(" ({})", open.join(", ")) };
        self.ui.prompt = Some(super::Prompt {
            label: format!("{} alert(s) to: new TITLE, or a case id{hint}", ids.len()),
            input: LineInput::new("new "),
            purpose: Purpose::AddToCase(ids),
        });
    }

    /// `:case new TITLE` or `:case ID` with the marked or selected alerts (on the alerts pane);
    /// `:case title …` or `:case severity …` on the cases pane; `:case` alone shows the cases.
    pub(super) fn case_command(&mut self, arg: &str) -> Vec<Job> {
        if arg.is_empty() {
            self.pane = Pane::Cases;
            return vec![];
        }
        if self.pane == Pane::Cases {
            return self.case_field(arg);
        }
        if self.pane != Pane::Alerts {
            self.ui.error(
                ":case takes the marked or selected alerts: go to the alerts pane (3) first (on the cases pane, :case title or :case severity)",
            );
            return vec![];
        }
        let ids = self.alerts.list.take_targets();
        if ids.is_empty() {
            self.ui.error("no alert selected");
            return vec![];
        }
        self.case_target(ids, arg)
    }

    /// `:case title TEXT`, `:case severity critical..info|auto`, `:case owner NAME` or
    /// `:case status open|in_progress` on the selected case.
    fn case_field(&mut self, arg: &str) -> Vec<Job> {
        let Some(case) = self.cases.list.selected() else {
            self.ui.error("no case selected");
            return vec![];
        };
        let (field, value) = arg.split_once(' ').map_or((arg, ""), |(f, v)| (f, v.trim()));
        match Change::parse(field, value) {
            Ok(change) => vec![Job::ChangeCase { case_id: case.id.clone(), change }],
            Err(e) => {
                self.ui.error(format!("{e} (on the cases pane: :case title|severity|owner|status VALUE)"));
                vec![]
            }
        }
    }

    /// `new TITLE` opens a case of the alerts; a case id (or its unique start) adds them to it.
    fn case_target(&mut self, ids: Vec<String>, text: &str) -> Vec<Job> {
        if let Some(title) = text.strip_prefix("new ").or(text.strip_prefix("new\t")) {
            return vec![Job::OpenCase { title: title.trim().to_string(), alert_ids: ids }];
        }
        let matching: Vec<&str> =
            self.cases.list.items.iter().filter(|c| c.id.starts_with(text)).map(|c| c.id.as_str()).collect();
        match matching.as_slice() {
            [one] => vec![Job::ChangeCase { case_id: one.to_string(), change: Change::Add(ids) }],
            _ if text.starts_with("case-") => {
                vec![Job::ChangeCase { case_id: text.to_string(), change: Change::Add(ids) }]
            }
            [] => {
                self.ui.error(format!(
                    "`{}` is no case: type `new TITLE` for a new one, or a case id (the cases pane, 6, lists them)",
                    clean(text)
                ));
                vec![]
            }
            many => {
                self.ui.error(format!("`{}` starts {} case ids: type more of it", clean(text), many.len()));
                vec![]
            }
        }
    }

    pub(super) fn case_answered(&mut self, purpose: Purpose, text: &str) -> Vec<Job> {
        match purpose {
            Purpose::AddToCase(ids) => self.case_target(ids, text),
            Purpose::CaseFrom(ids) => vec![Job::OpenCase { title: text.to_string(), alert_ids: ids }],
            Purpose::CaseOwner(id) => {
                vec![Job::ChangeCase {
                    case_id: id,
                    change: Change::Owner((!text.is_empty()).then(|| text.to_string())),
                }]
            }
            Purpose::CaseNote(id) if !text.is_empty() => {
                vec![Job::ChangeCase { case_id: id, change: Change::Note(text.to_string()) }]
            }
            Purpose::CaseClose(id) => match parse_close(text) {
                Ok((classification, reason)) => {
                    vec![Job::ChangeCase { case_id: id, change: Change::Close { classification, reason } }]
                }
                Err(e) => {
                    self.ui.error(e.to_string());
                    vec![]
                }
            },
            _ => vec![],
        }
    }

    /// A case read for its entities' timeline: the query in the editor, its scan estimated.
    pub(super) fn case_timeline(&mut self, msg: Msg) -> bool {
        let Msg::CaseView { view, .. } = msg else { return false };
        let view = match view {
            Ok(v) => v,
            Err(e) => {
                self.ui.error(format!("cannot read the case: {e}"));
                return true;
            }
        };
        let Some(sql) = lake_timeline_sql(&view) else {
            self.ui.error(format!("{}: its alerts name no entity to follow", view.case.id));
            return true;
        };
        self.query.show(&sql);
        self.pane = Pane::Query;
        self.ui.info(format!(
            "{} entities across the logs: {} runs it",
            view.case.id,
            self.ui.keymap.first_key(Action::Run)
        ));
        self.ui.queued.push(Job::Estimate(sql));
        true
    }
}
