//! The assistant and the settings in the console: the keys and `:` commands that ask, draft
//! and explain, the settings view and `:set`, and what their replies do to the panes.

use super::{App, Job, Msg, Prompt, Purpose, SecretText};
use crate::component::Component;
use crate::config::keymap::Action;
use crate::config::theme;
use crate::panes::Pane;
use crate::widgets::input::LineInput;
use crate::widgets::popup::TextView;
use mantissa_backend::model::settings::{self, UserSettings};
use ratatui::text::{Line, Span};

/// [`mantissa_backend::assist::NOT_SET`] in the console's words.
pub const OFF: &str = "the assistant is off (nothing sent): `:set llm_provider anthropic|openai|google|bedrock`, \
    then `:set llm_api_key`; `:settings` lists the keys";

/// How many follow-up queries an explanation offers on digit keys.
const MAX_SUGGESTED: usize = 9;

impl App {
    /// The assistant's actions; none for every other action.
    pub(super) fn assist_action(&mut self, action: Action) -> Option<Vec<Job>> {
        match action {
            Action::Ask => self.ask_prompt(Purpose::Ask, "ask for SQL (only table schemas are sent)"),
            Action::DraftRule => self.ask_prompt(Purpose::DraftRule, "describe the rule to draft"),
            Action::Explain => return Some(self.explain()),
            _ => return None,
        }
        Some(vec![])
    }

    /// Whether a provider is set; if not, says how to set one (nothing is sent).
    fn assistant_on(&mut self) -> bool {
        if self.settings.llm.is_none() {
            self.ui.error(OFF);
            return false;
        }
        true
    }

    fn ask_prompt(&mut self, purpose: Purpose, label: &str) {
        if self.assistant_on() {
            self.ui.prompt = Some(Prompt { label: label.into(), input: LineInput::default(), purpose });
        }
    }

    /// A question typed for the assistant.
    pub(super) fn asked(&mut self, purpose: &Purpose, question: String) -> Vec<Job> {
        if question.is_empty() || !self.assistant_on() {
            return vec![];
        }
        let provider = self.settings.llm.as_ref().map_or("the assistant", |l| l.provider.name());
        match purpose {
            Purpose::DraftRule => {
                self.ui.info(format!(
                    "asking {provider} for a rule draft; it is checked and tested before it opens"
                ));
                vec![Job::DraftRule(question)]
            }
            _ => {
                self.ui.info(format!(
                    "asking {provider}; the SQL is checked against the lake, never run by itself"
                ));
                vec![Job::Ask(question)]
            }
        }
    }

    /// The selected alert's explanation, after the analyst agrees to send its samples.
    fn explain(&mut self) -> Vec<Job> {
        if self.pane != Pane::Alerts {
            self.ui.error(":explain works on the selected alert: go to the alerts pane (3) first");
            return vec![];
        }
        let Some(alert) = self.alerts.list.selected().cloned() else {
            self.ui.error("no alert selected");
            return vec![];
        };
        if !self.assistant_on() {
            return vec![];
        }
        let provider = self.settings.llm.as_ref().map_or("?", |l| l.provider.name());
        let rows = alert.sample_rows.len().min(mantissa_backend::assist::explain::MAX_SAMPLES_SENT);
        self.ui.confirm(
            format!("send this alert and {rows} of its sample rows (log data) to {provider} to explain it?"),
            Job::Explain(Box::new(alert)),
        );
        vec![]
    }

    /// `:set`, `:set KEY` (asks for the value; an API key is typed masked) and `:set KEY VALUE`.
    pub(super) fn set_command(&mut self, arg: &str) -> Vec<Job> {
        let (key, value) = arg.split_once(' ').map_or((arg, None), |(k, v)| (k, Some(v.trim())));
        if key.is_empty() {
            return vec![Job::LoadSettings { view: true }];
        }
        let k = match settings::key(key) {
            Ok(k) => k,
            Err(e) => {
                self.ui.error(e);
                return vec![];
            }
        };
        let Some(value) = value else {
            let purpose = Purpose::Setting(k.name.to_string());
            let label = format!("{} ({}; empty clears)", k.name, k.accepts());
            self.ui.prompt = Some(Prompt { label, input: LineInput::default(), purpose });
            return vec![];
        };
        if k.name == "llm_api_key" && !value.is_empty() {
            self.ui.error("type the key where it is masked: `:set llm_api_key` and Enter, then the key");
            return vec![];
        }
        self.set_setting(k.name, value)
    }

    /// Checks what can be checked here (the value's shape, a theme's name), applies the theme
    /// at once, and stores the setting.
    pub(super) fn set_setting(&mut self, key: &str, value: &str) -> Vec<Job> {
        let Ok(k) = settings::key(key) else { return vec![] };
        if let Err(e) = k.parse(value) {
            self.ui.error(e);
            return vec![];
        }
        if key == "theme" && !value.is_empty() {
            match theme::load(value, self.theme_dir.as_deref()) {
                Ok(t) => self.ui.theme = if theme::no_color() { t.without_color() } else { t },
                Err(e) => {
                    self.ui.error(format!("{e:#}"));
                    return vec![];
                }
            }
        }
        vec![Job::SetSetting { key: key.to_string(), value: SecretText(value.to_string()) }]
    }

    /// The preferences the panes honour, from the user's settings.
    pub fn apply_settings(&mut self, settings: UserSettings) {
        self.alerts.prefs = settings.ui.clone();
        self.settings = settings;
    }

    /// The replies of the assistant's and the settings' jobs.
    pub(super) fn assist_update(&mut self, msg: Msg) {
        match msg {
            Msg::QueryDrafted(Ok(draft)) => {
                self.query.show(&draft.sql);
                self.pane = Pane::Query;
                let corrected = if draft.corrected { " (corrected once)" } else { "" };
                match draft.problem {
                    Some(p) => {
                        self.ui.error(format!("the assistant's SQL does not run as written{corrected}: {p}"))
                    }
                    None => self.ui.info(format!(
                        "assistant's SQL{corrected}: {}; {} runs it",
                        draft.estimate(),
                        self.ui.keymap.first_key(Action::Run)
                    )),
                }
            }
            Msg::RuleDrafted(Ok(draft)) if draft.yaml.is_empty() => {
                self.ui.error(format!("no rule draft: {}", draft.problems.join("; ")))
            }
            Msg::RuleDrafted(Ok(draft)) => {
                let report = if draft.passes() {
                    let (passed, of) = draft.tests_passed;
                    format!(
                        "rule draft passes validate and its tests ({passed}/{of}); {} saves it",
                        self.ui.keymap.first_key(Action::Save)
                    )
                } else {
                    format!(
                        "rule draft still fails {} check(s): {}",
                        draft.problems.len(),
                        draft.problems.join("; ")
                    )
                };
                let opened = Msg::RuleOpened { rule_id: None, path: None, text: draft.yaml, test: false };
                self.rules.update(opened, &mut self.ui);
                self.pane = Pane::Rules;
                if draft.problems.is_empty() { self.ui.info(report) } else { self.ui.error(report) }
            }
            Msg::Explained(Ok(e)) => {
                let t = &self.ui.theme;
                let mut lines: Vec<Line<'static>> = vec![Line::from(e.summary)];
                lines.push(Line::from(""));
                self.suggested.clear();
                for (title, sql, problem) in e.queries.into_iter().take(MAX_SUGGESTED) {
                    self.suggested.push(sql.clone());
                    let n = self.suggested.len();
                    lines
                        .push(Line::from(vec![Span::styled(format!("{n}  "), t.header()), Span::raw(title)]));
                    lines.push(Line::from(Span::styled(format!("   {}", sql.replace('\n', " ")), t.muted())));
                    if let Some(p) = problem {
                        lines.push(Line::from(Span::styled(format!("   does not plan: {p}"), t.error())));
                    }
                }
                if !self.suggested.is_empty() {
                    lines.push(Line::from(""));
                    lines.push(Line::from(Span::styled(
                        format!("1-{} opens that query in the query pane (not run)", self.suggested.len()),
                        t.muted(),
                    )));
                }
                self.ui.popup = Some(TextView::new("the assistant on this alert", lines));
            }
            Msg::Settings { view, settings: Ok((effective, shown)) } => {
                self.apply_settings(effective);
                if view {
                    self.show_settings(shown);
                }
            }
            Msg::SettingSaved(Ok(report)) => {
                self.ui.info(report);
                self.ui.queued.push(Job::LoadSettings { view: false });
            }
            Msg::QueryDrafted(Err(e))
            | Msg::RuleDrafted(Err(e))
            | Msg::Explained(Err(e))
            | Msg::Settings { settings: Err(e), .. }
            | Msg::SettingSaved(Err(e)) => self.ui.error(e),
            _ => {}
        }
    }

    fn show_settings(&mut self, shown: Vec<mantissa_backend::settings::Shown>) {
        let t = &self.ui.theme;
        let mut lines: Vec<Line<'static>> = shown
            .into_iter()
            .flat_map(|r| {
                [
                    Line::from(vec![Span::styled(format!("{:<19}", r.key), t.header()), Span::raw(r.value)]),
                    Line::from(vec![
                        Span::raw(" ".repeat(19)),
                        Span::styled(format!("{} · {}", r.help, r.accepts), t.muted()),
                    ]),
                ]
            })
            .collect();
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            ":set KEY VALUE changes one (empty clears); :set KEY asks, the API key masked",
            t.muted(),
        )));
        self.ui.popup = Some(TextView::new(format!("settings · {}", self.ui.user), lines));
    }

    /// A digit on an explanation opens that follow-up query; true when it did.
    pub(super) fn open_suggested(&mut self, c: char) -> bool {
        let Some(i) = c.to_digit(10).filter(|d| *d >= 1).map(|d| d as usize - 1) else { return false };
        let Some(sql) = self.suggested.get(i).cloned() else { return false };
        self.ui.popup = None;
        self.suggested.clear();
        self.query.show(&sql);
        self.pane = Pane::Query;
        self.ui.info(format!(
            "the assistant's follow-up query: {} runs it",
            self.ui.keymap.first_key(Action::Run)
        ));
        true
    }
}
