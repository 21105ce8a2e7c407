//! What every pane shares: the look (theme, keymap), the footer message, the overlays a pane
//! may open (popup, prompt, picker, confirmation, `/` filter), the clipboard, and requests a
//! pane makes of another (gitui's queue of internal events).

use super::{Job, Pending};
use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::widgets::input::LineInput;
use crate::widgets::picker::Picker;
use crate::widgets::popup::TextView;

pub struct Ui {
    pub theme: Theme,
    pub keymap: Keymap,
    pub read_only: bool,
    /// The analyst, for notes and integrations.
    pub user: String,
    /// The footer's message: `(is_error, text)`.
    pub message: Option<(bool, String)>,
    /// Every message of the session, newest last, for `:messages` (the footer cuts a long one).
    pub log: std::collections::VecDeque<Logged>,
    pub confirm: Option<(String, Pending)>,
    /// The `?` help, a record, a cell, an alert's detail or a DLQ payload over the pane.
    pub popup: Option<TextView>,
    /// A one-line question in the footer (assignee, note, export path).
    pub prompt: Option<Prompt>,
    /// A searchable list over the pane (history, tables, integration kinds, Jira projects).
    pub picker: Option<Picker>,
    /// The `/` filter being typed for the pane.
    pub filter_input: Option<String>,
    /// Text to put on the terminal's clipboard (OSC 52) at the next draw.
    pub clipboard: Option<String>,
    /// What a pane asked of another; the app carries them out after the key or message.
    pub requests: Vec<Request>,
    /// Jobs a reply asked for (a check of an opened rule, a refresh after a save); the event
    /// loop starts them after the update.
    pub queued: Vec<Job>,
}

/// A footer message as `:messages` lists it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: chrono::DateTime<chrono::Local>,
    pub is_error: bool,
    pub text: String,
}

/// Messages kept for `:messages`.
const LOG_LEN: usize = 500;

/// A one-line question in the footer and what the answer is for.
pub struct Prompt {
    pub label: String,
    pub input: LineInput,
    pub purpose: Purpose,
}

pub enum Purpose {
    Assign(Vec<String>),
    Note(Vec<String>),
    /// `tp|bp|fp|un REASON` for these alerts.
    Resolve(Vec<String>),
    /// `csv PATH`, `json PATH` or `parquet PATH`, as `:export` takes.
    Export,
    /// A question for the assistant: SQL for the editor, or a rule draft.
    Ask,
    DraftRule,
    /// A value for this settings key.
    Setting(String),
    /// `UNTIL REASON` for snoozing this rule; `FIELD=VALUE UNTIL REASON` for suppressing on
    /// this alert's rule.
    Snooze(String),
    Suppress {
        rule_id: String,
        alert_id: String,
    },
    /// `new TITLE` or an open case's id, for these alerts.
    AddToCase(Vec<String>),
    /// The title of a new case of these (suggested) alerts.
    CaseFrom(Vec<String>),
    /// The owner, a note, or `tp|bp|fp|un REASON` closing this case.
    CaseOwner(String),
    CaseNote(String),
    CaseClose(String),
}

impl Purpose {
    /// What is typed is a secret: shown as dots.
    pub fn masks(&self) -> bool {
        matches!(self, Purpose::Setting(k) if k == "llm_api_key")
    }
}

/// A pane's request of another pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Put this SQL in the query editor and show the query pane; `run` runs it as well (a rule's
    /// dry run), else the analyst reads it first (an alert's pivot).
    Query { sql: String, run: bool },
}

impl Ui {
    pub fn new(read_only: bool) -> Self {
        Ui {
            theme: Theme::default(),
            keymap: Keymap::default(),
            read_only,
            user: "analyst".into(),
            message: None,
            log: Default::default(),
            confirm: None,
            popup: None,
            prompt: None,
            picker: None,
            filter_input: None,
            clipboard: None,
            requests: vec![],
            queued: vec![],
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.say(false, text.into());
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.say(true, text.into());
    }

    fn say(&mut self, is_error: bool, text: String) {
        if self.log.len() == LOG_LEN {
            self.log.pop_front();
        }
        self.log.push_back(Logged { at: chrono::Local::now(), is_error, text: text.clone() });
        self.message = Some((is_error, text));
    }

    /// What a list's motion asked of the screen.
    pub fn listed(&mut self, done: crate::widgets::list::Listed) {
        if let crate::widgets::list::Listed::AskFilter(kept) = done {
            self.filter_input = Some(kept);
        }
    }

    /// Asks before `job` whatever the session (a local file to overwrite, not the backend's
    /// state, so a read-only session may too).
    pub fn confirm(&mut self, prompt: String, job: Job) {
        self.confirm = Some((prompt, Pending::Run(Box::new(job))));
    }

    /// A destructive job waits for `y`; a read-only session refuses it outright.
    pub fn ask(&mut self, prompt: String, job: Job) -> Vec<Job> {
        if self.read_only {
            self.error("read-only session: this action is refused");
        } else {
            self.confirm = Some((prompt, Pending::Run(Box::new(job))));
        }
        vec![]
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
}
