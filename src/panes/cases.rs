//! The cases pane: cases (incidents) open first, the latest changed first; `S` shows the cases
//! the alerts suggest (open alerts sharing an entity), Enter opens one of those as a case or a
//! case's detail. Owner, notes, status and closing go through prompts the app answers.

use super::Component;
use crate::component::{Job, Msg, Prompt, Purpose, Ui};
use crate::config::keymap::{Action, Screen};
use crate::widgets::input::LineInput;
use crate::widgets::list::{Columns, List, Record, age, clean};
use crate::widgets::popup::TextView;
use mantissa_backend::cases::Change;
use mantissa_backend::cases::suggest::Suggestion;
use mantissa_backend::model::{Case, CaseStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::Cell;

#[derive(Default)]
pub struct CasesPane {
    pub list: List<Case>,
    pub suggested: List<Suggestion>,
    /// The suggestions are on screen instead of the cases.
    pub showing_suggested: bool,
    /// Suggestions came (the first read may still be on its way).
    pub suggested_loaded: bool,
}

impl Record for Case {
    fn id(&self) -> String {
        self.id.clone()
    }
    fn haystack(&self) -> String {
        format!("{} {} {} {}", self.id, self.title, self.status.name(), self.owner.as_deref().unwrap_or(""))
    }
}

impl Record for Suggestion {
    fn id(&self) -> String {
        self.alert_ids.join(",")
    }
    fn haystack(&self) -> String {
        format!("{} {}", self.title(), self.rules.join(" "))
    }
}

impl CasesPane {
    /// Open cases first, the latest changed first within each.
    pub fn set_cases(&mut self, mut cases: Vec<Case>) -> bool {
        cases.sort_by(|a, b| (!a.is_open()).cmp(&!b.is_open()).then(b.updated_at.cmp(&a.updated_at)));
        self.list.set(cases)
    }

    pub fn open_case(&self) -> Option<&Case> {
        self.list.selected()
    }

    fn ask(&self, ui: &mut Ui, label: String, start: String, purpose: Purpose) {
        ui.prompt = Some(Prompt { label, input: LineInput::new(start), purpose });
    }

    fn change(&self, change: Change) -> Vec<Job> {
        match self.open_case() {
            Some(c) => vec![Job::ChangeCase { case_id: c.id.clone(), change }],
            None => vec![],
        }
    }
}

impl Component for CasesPane {
    fn screen(&self) -> Screen {
        Screen::Cases
    }

    fn handle_key(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        if self.showing_suggested {
            if let Some(done) = self.suggested.act(action) {
                ui.listed(done);
                return vec![];
            }
        } else if let Some(done) = self.list.act(action) {
            ui.listed(done);
            return vec![];
        }
        if action == Action::CaseSuggested {
            self.showing_suggested = !self.showing_suggested;
            return if self.showing_suggested { vec![Job::LoadSuggestions] } else { vec![] };
        }
        if self.showing_suggested {
            if action == Action::Open
                && let Some(s) = self.suggested.selected()
            {
                let label = format!("open a case of these {} alerts, titled", s.alert_ids.len());
                self.ask(ui, label, s.title(), Purpose::CaseFrom(s.alert_ids.clone()));
            }
            return vec![];
        }
        let Some(case) = self.open_case() else { return vec![] };
        let id = case.id.clone();
        match action {
            Action::Open => {
                ui.popup = Some(TextView::new(format!("case {id}"), vec![Line::from("reading the case…")]));
                return vec![Job::LoadCase { case_id: id, timeline: false }];
            }
            Action::CaseTimeline => return vec![Job::LoadCase { case_id: id, timeline: true }],
            Action::CaseWorking => return self.change(Change::Status(CaseStatus::InProgress)),
            Action::CaseReopen => return self.change(Change::Status(CaseStatus::Open)),
            Action::CaseOwner => {
                let owner = case.owner.clone().unwrap_or_default();
                self.ask(ui, "owner of the case".into(), owner, Purpose::CaseOwner(id));
            }
            Action::CaseNote => self.ask(ui, "note on the case".into(), String::new(), Purpose::CaseNote(id)),
            Action::CaseClose => {
                let label = format!(
                    "close as tp|bp|fp|un, then why ({} alert(s) resolved with it)",
                    case.alert_ids.len()
                );
                self.ask(ui, label, String::new(), Purpose::CaseClose(id));
            }
            _ => {}
        }
        vec![]
    }

    fn update(&mut self, msg: Msg, ui: &mut Ui) -> bool {
        match msg {
            Msg::Cases(cases) => self.set_cases(cases),
            Msg::CaseView { view, .. } => {
                let view = match view {
                    Ok(v) => v,
                    Err(e) => {
                        ui.error(format!("cannot read the case: {e}"));
                        return true;
                    }
                };
                let title = format!("case {}", view.case.id);
                let Some(popup) = ui.popup.as_mut().filter(|p| p.title == title) else { return false };
                popup.lines = super::detail::case(&view, &ui.theme);
                true
            }
            Msg::Suggestions(found) => {
                self.suggested_loaded = true;
                match found {
                    Ok(found) => {
                        self.suggested.set(found);
                    }
                    Err(e) => ui.error(format!("cannot suggest cases: {e}")),
                }
                true
            }
            _ => false,
        }
    }

    fn filter(&mut self, text: &str, _done: bool) -> Vec<Job> {
        if self.showing_suggested {
            self.suggested.set_filter(text);
        } else {
            self.list.set_filter(text);
        }
        vec![]
    }

    fn render(&self, f: &mut Frame, area: Rect, ui: &Ui) {
        let t = &ui.theme;
        let filtering = ui.filter_input.is_some();
        if self.showing_suggested {
            let title = match (self.suggested_loaded, self.suggested.items.len()) {
                (false, _) => " suggested cases · reading the open alerts… ".to_string(),
                (true, 0) => " suggested cases · no open alerts share an entity (S: the cases) ".to_string(),
                (true, n) => format!(" suggested cases · {n} · Enter opens one (S: the cases) "),
            };
            let columns = Columns {
                title: &title,
                header: vec!["severity", "shared", "first", "rules"],
                widths: vec![
                    Constraint::Length(8),
                    Constraint::Fill(2),
                    Constraint::Length(11),
                    Constraint::Fill(1),
                ],
            };
            let cells = |s: &Suggestion| {
                vec![
                    Cell::from(s.severity.as_str()).style(t.severity(s.severity)),
                    Cell::from(clean(&s.title())),
                    Cell::from(s.first.format("%m-%d %H:%M").to_string()),
                    Cell::from(clean(&s.rules.join(", "))),
                ]
            };
            return self.suggested.render(f, area, columns, cells, t, filtering);
        }
        let open = self.list.items.iter().filter(|c| c.is_open()).count();
        let title = format!(" cases · {open} open · S suggested ");
        let columns = Columns {
            title: &title,
            header: vec!["age", "severity", "status", "title", "owner", "alerts"],
            widths: vec![
                Constraint::Length(4),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(6),
            ],
        };
        let cells = |c: &Case| {
            let status = match (c.status, c.classification) {
                (CaseStatus::Open, _) => "open".to_string(),
                (CaseStatus::InProgress, _) => "working".to_string(),
                (CaseStatus::Closed, Some(k)) => format!("closed {}", short(k)),
                (CaseStatus::Closed, None) => "closed".to_string(),
            };
            vec![
                Cell::from(age(c.updated_at)),
                Cell::from(c.severity_shown().as_str()).style(t.severity(c.severity_shown())),
                Cell::from(status),
                Cell::from(clean(&c.title)),
                Cell::from(clean(c.owner.as_deref().unwrap_or("-"))),
                Cell::from(c.alert_ids.len().to_string()),
            ]
        };
        self.list.render(f, area, columns, cells, t, filtering);
    }
}

/// `tp`, `bp`, `fp`, `un`: what the status column has room for.
fn short(k: mantissa_backend::model::Classification) -> &'static str {
    use mantissa_backend::model::Classification::*;
    match k {
        TruePositive => "tp",
        BenignPositive => "bp",
        FalsePositive => "fp",
        Undetermined => "un",
    }
}
