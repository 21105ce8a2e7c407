//! What the panes and the app share, below both: the `Component` a pane is, the `Pane` names,
//! the jobs and replies (`Job`, `Msg`), the shared `Ui` (theme, keymap, message, overlays,
//! requests of other panes) and the query history. Panes depend on this, never on `app`.

pub mod history;
mod messages;
mod ui;

pub use messages::{Job, Msg, Pending, SecretText};
pub use ui::{Logged, Prompt, Purpose, Request, Ui};

use crate::config::keymap::{Action, Screen};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Query = 0,
    Rules = 1,
    Alerts = 2,
    Integrations = 3,
    Dlq = 4,
    Cases = 5,
}

impl Pane {
    pub const ALL: [Pane; 6] =
        [Pane::Query, Pane::Rules, Pane::Alerts, Pane::Integrations, Pane::Dlq, Pane::Cases];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Query => "1 Query",
            Pane::Rules => "2 Rules",
            Pane::Alerts => "3 Alerts",
            Pane::Integrations => "4 Integrations",
            Pane::Dlq => "5 DLQ",
            Pane::Cases => "6 Cases",
        }
    }
}

/// A pane. The app gives it the actions its screen's key table names, the keys no action
/// claims (text, where it edits text), the `/` filter as typed, and the replies of jobs; the
/// pane answers with the jobs to start. Overlays and requests of other panes go through `Ui`.
pub trait Component {
    /// Whose key table applies now: the pane's, or that of an editor or form open in it.
    fn screen(&self) -> Screen;
    fn handle_key(&mut self, action: Action, ui: &mut Ui) -> Vec<Job>;
    fn handle_text(&mut self, _key: KeyEvent) -> Vec<Job> {
        vec![]
    }
    /// A job's reply; returns whether the pane changed (a refresh that brought nothing new
    /// does not redraw).
    fn update(&mut self, msg: Msg, ui: &mut Ui) -> bool;
    /// The `/` filter as typed so far; `done` once Enter or Esc ends it.
    fn filter(&mut self, text: &str, done: bool) -> Vec<Job>;
    /// Draws from the pane's state alone.
    fn render(&self, f: &mut Frame, area: Rect, ui: &Ui);
}
