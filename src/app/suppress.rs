//! Suppressions in the console: `z` snoozes the selected rule, `S` suppresses the selected
//! alert's entity (its dedup field values, else its source address), `:maintenance` sets a
//! maintenance window (a range or a schedule), `:suppressions` lists them with who, why and
//! until, `:unsuppress ID` lifts one. Each asks until when and why.

use super::{App, Job, Msg, Prompt, Purpose};
use crate::config::keymap::Action;
use crate::panes::Pane;
use crate::widgets::input::LineInput;
use crate::widgets::popup::TextView;
use mantissa_backend::model::suppression::{Request, Scope, Suppression, parse_maintenance, parse_request};
use ratatui::text::{Line, Span};

impl App {
    pub(super) fn suppress_action(&mut self, action: Action) -> Option<Vec<Job>> {
        match action {
            Action::Snooze => {
                let rule = self.rules.selected_rule()?.id.clone();
                self.ui.prompt = Some(Prompt {
                    label: format!("snooze {rule} until (2h, 3d, 2026-12-31), then why"),
                    input: LineInput::default(),
                    purpose: Purpose::Snooze(rule),
                });
            }
            Action::Suppress => {
                let alert = self.alerts.list.selected()?;
                let (field, value) = mantissa_backend::timeline::entity_of_alert(alert)?;
                self.ui.prompt = Some(Prompt {
                    label: format!("suppress on {} FIELD=VALUE until, then why", alert.rule_id),
                    input: LineInput::new(format!("{field}={value} 7d ")),
                    purpose: Purpose::Suppress { rule_id: alert.rule_id.clone(), alert_id: alert.id.clone() },
                });
            }
            _ => return None,
        }
        Some(vec![])
    }

    /// The answer to a snooze or suppress question, as a suppression to store.
    pub(super) fn suppression_answered(&mut self, purpose: Purpose, text: &str) -> Vec<Job> {
        let now = chrono::Utc::now();
        let (rule_id, alert_id, with_match) = match &purpose {
            Purpose::Snooze(rule) => (rule.clone(), None, false),
            Purpose::Suppress { rule_id, alert_id } => (rule_id.clone(), Some(alert_id.clone()), true),
            _ => return vec![],
        };
        let Request { matched, until, reason } = match parse_request(text, with_match, now) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.ui.error(e);
                return vec![];
            }
        };
        let scope = match matched {
            Some((field, values)) => Scope::Match { field, values },
            None => Scope::Snooze,
        };
        let suppression = Suppression {
            id: format!("s-{:x}", now.timestamp_millis()),
            rule_id,
            scope,
            reason,
            who: self.ui.user.clone(),
            created_at: now,
            from: None,
            until,
        };
        vec![Job::AddSuppression { suppression: Box::new(suppression), alert_id }]
    }

    /// `:maintenance RULE|* FROM UNTIL REASON` or `:maintenance RULE|* SCHEDULE LASTS UNTIL
    /// REASON`: a maintenance window, one-off or recurring, for a rule or every rule.
    pub(super) fn maintenance_command(&mut self, arg: &str) -> Vec<Job> {
        let now = chrono::Utc::now();
        let (rule_id, rest) = arg.split_once(' ').map_or((arg, ""), |(r, rest)| (r, rest.trim()));
        if rule_id.is_empty() {
            self.ui.error(
                "usage: :maintenance RULE|* FROM UNTIL REASON, or RULE|* cron(…) LASTS UNTIL REASON \
                 (e.g. :maintenance * cron(0 2 ? * SUN *) 3h 30d weekly patching)",
            );
            return vec![];
        }
        if rule_id != "*" && !self.rules.list.items.iter().any(|r| r.id == rule_id) {
            self.ui.error(format!(
                "no rule `{}`: name a rule id, or * for every rule",
                crate::widgets::list::clean(rule_id)
            ));
            return vec![];
        }
        let window = match parse_maintenance(rest, now) {
            Ok(w) => w,
            Err(e) => {
                self.ui.error(e);
                return vec![];
            }
        };
        let suppression = Suppression {
            id: format!("m-{:x}", now.timestamp_millis()),
            rule_id: rule_id.to_string(),
            scope: window.scope,
            reason: window.reason,
            who: self.ui.user.clone(),
            created_at: now,
            from: window.from,
            until: window.until,
        };
        vec![Job::AddSuppression { suppression: Box::new(suppression), alert_id: None }]
    }

    pub(super) fn show_suppressions(&mut self, all: Vec<Suppression>) {
        let now = chrono::Utc::now();
        let t = &self.ui.theme;
        let mut lines: Vec<Line<'static>> = vec![];
        for x in &all {
            let state = if x.from.is_some_and(|f| now < f) {
                Span::styled(format!("from {}", x.from.unwrap_or(now).format("%Y-%m-%d %H:%M")), t.header())
            } else if x.is_live(now) {
                Span::styled(format!("until {}", x.until.format("%Y-%m-%d %H:%M")), t.header())
            } else {
                Span::styled(format!("ended {}", x.until.format("%Y-%m-%d %H:%M")), t.muted())
            };
            lines.push(Line::from(vec![Span::styled(format!("{:<15}", x.id), t.muted()), state]));
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(15)),
                Span::raw(format!("{} · by {}: {}", x.what(), x.who, x.reason)),
            ]));
        }
        if lines.is_empty() {
            lines.push(Line::from("none: z on a rule snoozes it, S on an alert suppresses its entity"));
        } else {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(":unsuppress ID ends one now", t.muted())));
        }
        let live = all.iter().filter(|x| x.is_live(now)).count();
        self.ui.popup = Some(TextView::new(format!("suppressions · {live} live"), lines));
    }

    pub(super) fn suppress_update(&mut self, msg: Msg) {
        match msg {
            Msg::Suppressions(Ok(all)) => self.show_suppressions(all),
            Msg::Suppressions(Err(e)) => self.ui.error(e),
            _ => {}
        }
        if self.pane == Pane::Alerts {
            self.ui.queued.push(Job::Refresh(Pane::Alerts));
        }
    }
}
