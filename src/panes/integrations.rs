//! The integrations pane: health over 24 h (status, success rate, attempts, p95 latency, last
//! error), the detail view, test send, delete, and the setup form (`setup`) over the list.

use super::setup::{KINDS, Setup, kind_name, kinds_picker};
use super::{Component, detail};
use crate::component::{Job, Msg, Pending, Ui};
use crate::config::keymap::{Action, Screen};
use crate::widgets::list::{Columns, List, Record, clean};
use crate::widgets::picker::{Picker, PickerKind};
use crate::widgets::popup::TextView;
use crossterm::event::KeyEvent;
use mantissa_backend::model::{HealthState, HealthStatus, Integration};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;

/// An integration and its health, when computed.
pub type IntegrationRow = (Integration, Option<HealthStatus>);

#[derive(Default)]
pub struct IntegrationsPane {
    pub list: List<IntegrationRow>,
    /// The setup form over the list, while one is open.
    pub setup: Option<Setup>,
}

impl Record for IntegrationRow {
    fn id(&self) -> String {
        self.0.id.clone()
    }
    fn haystack(&self) -> String {
        format!("{} {:?} {:?}", self.0.name, self.0.kind, self.1)
    }
}

impl IntegrationsPane {
    /// A choice from a picker the pane opened: the kind of a new integration, a Jira project.
    pub fn picked(&mut self, kind: PickerKind, value: String, ui: &Ui) {
        match kind {
            PickerKind::IntegrationKind => {
                if let Some((k, ..)) = KINDS.iter().find(|(_, n, _)| *n == value) {
                    self.setup = Some(Setup::new(*k, None, ui.keymap.first_key(Action::Lookup)));
                }
            }
            PickerKind::JiraProject => {
                if let Some(setup) = self.setup.as_mut() {
                    setup.form.set("project_key", value);
                    setup.form.status = None;
                }
            }
            PickerKind::History | PickerKind::Tables => {}
        }
    }

    fn list_act(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        if let Some(done) = self.list.act(action) {
            ui.listed(done);
            return vec![];
        }
        if action == Action::NewIntegration {
            ui.picker = Some(kinds_picker());
            return vec![];
        }
        let Some((integration, health)) = self.list.selected() else { return vec![] };
        let id = integration.id.clone();
        match action {
            Action::Open => {
                let lines = detail::integration(integration, health.as_ref(), &ui.theme);
                ui.popup = Some(TextView::new(format!("integration {}", clean(&id)), lines));
            }
            Action::TestSend => {
                ui.info(format!("sending a test alert to {}", clean(&id)));
                return vec![Job::TestSend(id)];
            }
            Action::DeleteIntegration => {
                return ui
                    .ask(format!("delete integration {id} and its secret?"), Job::DeleteIntegration(id));
            }
            Action::EditIntegration => {
                let lookup = ui.keymap.first_key(Action::Lookup);
                self.setup = Some(Setup::new(integration.kind, Some(integration.clone()), lookup));
            }
            _ => {}
        }
        vec![]
    }

    fn form_act(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        if action == Action::CloseForm {
            match &self.setup {
                Some(setup) if setup.form.changed() => {
                    ui.confirm = Some(("discard what you typed in this setup?".into(), Pending::CloseSetup))
                }
                _ => self.setup = None,
            }
            return vec![];
        }
        let Some(setup) = self.setup.as_mut() else { return vec![] };
        let items = &self.list.items;
        setup.act(action, ui, |id| items.iter().any(|(i, _)| i.id == id))
    }
}

impl Component for IntegrationsPane {
    fn screen(&self) -> Screen {
        if self.setup.is_some() { Screen::Form } else { Screen::Integrations }
    }

    fn handle_key(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        if self.setup.is_some() { self.form_act(action, ui) } else { self.list_act(action, ui) }
    }

    fn handle_text(&mut self, key: KeyEvent) -> Vec<Job> {
        if let Some(setup) = self.setup.as_mut() {
            setup.form.input(key);
        }
        vec![]
    }

    fn update(&mut self, msg: Msg, ui: &mut Ui) -> bool {
        match msg {
            Msg::Integrations(rows) => return self.list.set(rows),
            Msg::SetupSaved(Ok(text)) => {
                self.setup = None;
                ui.info(text);
                ui.queued.push(Job::Refresh(crate::panes::Pane::Integrations));
            }
            Msg::SetupSaved(Err(e)) | Msg::SetupTested(Err(e)) | Msg::JiraProjects(Err(e)) => {
                let Some(setup) = self.setup.as_mut() else { return false };
                setup.busy = false;
                setup.form.status = Some((true, e));
            }
            Msg::SetupTested(Ok(text)) => {
                let Some(setup) = self.setup.as_mut() else { return false };
                setup.busy = false;
                setup.form.status = Some((false, text));
            }
            Msg::JiraProjects(Ok(projects)) => {
                let Some(setup) = self.setup.as_mut() else { return false };
                setup.busy = false;
                setup.form.status = Some((false, format!("{} project(s): Enter picks one", projects.len())));
                let items = projects.into_iter().map(|(key, name)| (format!("{key}  {name}"), key)).collect();
                ui.picker = Some(Picker::new(PickerKind::JiraProject, "Jira projects", items));
            }
            _ => return false,
        }
        true
    }

    fn filter(&mut self, text: &str, _done: bool) -> Vec<Job> {
        self.list.set_filter(text);
        vec![]
    }

    fn render(&self, f: &mut Frame, area: Rect, ui: &Ui) {
        let t = &ui.theme;
        let columns = Columns {
            title: " integrations: health over 24 h ",
            header: vec!["integration", "kind", "health", "success", "tries", "p95 ms", "last error"],
            widths: vec![
                Constraint::Min(12),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Min(16),
            ],
        };
        let cells = |(i, h): &IntegrationRow| {
            let state = h.as_ref().map_or(HealthState::Unknown, |h| h.state);
            let number = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            vec![
                Cell::from(clean(&i.name)),
                Cell::from(kind_name(i.kind)),
                Cell::from(format!("{state:?}").to_lowercase()).style(t.health(state)),
                Cell::from(number(
                    h.as_ref().and_then(|h| h.success_rate).map(|r| format!("{:.0}%", r * 100.0)),
                )),
                Cell::from(h.as_ref().map(|h| h.attempts.to_string()).unwrap_or_default()),
                Cell::from(number(h.as_ref().and_then(|h| h.p95_latency_ms).map(|v| v.to_string()))),
                Cell::from(clean(h.as_ref().and_then(|h| h.last_error.as_deref()).unwrap_or(""))),
            ]
        };
        self.list.render(f, area, columns, cells, t, ui.filter_input.is_some());
        if let Some(setup) = &self.setup {
            setup.form.render(f, area, t);
        }
    }
}
