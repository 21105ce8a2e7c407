//! The alerts pane: history newest first with a delivery cell per integration, the detail view,
//! triage (status, assignee, notes; marked rows together) and the pivot to a query.

use super::{Component, detail};
use crate::component::{Job, Msg, Prompt, Purpose, Request, Ui};
use crate::config::keymap::{Action, Screen};
use crate::widgets::input::LineInput;
use crate::widgets::list::{Columns, List, Record, age, clean};
use crate::widgets::popup::TextView;
use mantissa_backend::model::settings::{TimeRange, UiPreferences};
use mantissa_backend::model::{Alert, AlertStatus, Classification};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;
use std::collections::HashSet;

/// Alerts loaded at a time unless the user's `items_per_page` says otherwise: the newest page
/// at each refresh, older pages as the cursor reaches the end of what is loaded.
pub const ALERT_PAGE: usize = mantissa_backend::model::settings::DEFAULT_ITEMS_PER_PAGE as usize;

#[derive(Default)]
pub struct AlertsPane {
    pub list: List<Alert>,
    /// The order `s` picked; newest first until then.
    pub order: AlertOrder,
    /// Older alerts may exist than those loaded (the last page that came was full).
    pub more: bool,
    /// A page of older alerts is on its way.
    pub loading_more: bool,
    /// The user's page size and look-back (for the pivot).
    pub prefs: UiPreferences,
}

/// The alerts list's orders, in the order `s` cycles through them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AlertOrder {
    #[default]
    Newest,
    Severity,
    Rule,
    Status,
}

impl AlertOrder {
    fn next(self) -> Self {
        match self {
            AlertOrder::Newest => AlertOrder::Severity,
            AlertOrder::Severity => AlertOrder::Rule,
            AlertOrder::Rule => AlertOrder::Status,
            AlertOrder::Status => AlertOrder::Newest,
        }
    }

    fn label(self) -> &'static str {
        match self {
            AlertOrder::Newest => "newest first",
            AlertOrder::Severity => "by severity",
            AlertOrder::Rule => "by rule",
            AlertOrder::Status => "by status",
        }
    }
}

/// Open first, then the ones still in hand, then the closed.
fn status_rank(s: AlertStatus) -> u8 {
    match s {
        AlertStatus::Open => 0,
        AlertStatus::Acknowledged => 1,
        AlertStatus::InProgress => 2,
        AlertStatus::Resolved => 3,
    }
}

impl Record for Alert {
    fn id(&self) -> String {
        self.id.clone()
    }
    fn haystack(&self) -> String {
        format!(
            "{} {} {} {:?} {}",
            self.rule_name,
            self.severity.as_str(),
            self.summary,
            self.status,
            crate::widgets::delivery_summary(self)
        )
    }
}

impl AlertsPane {
    /// Alerts asked for per page.
    pub fn page_size(&self) -> usize {
        self.prefs.items_per_page as usize
    }

    /// Changes the alerts with these ids here and asks the backend to store them; `done` says
    /// what happened (`acknowledged`), for one report naming how many.
    pub fn edit(&mut self, ids: &[String], done: &str, change: impl Fn(&mut Alert)) -> Vec<Job> {
        let mut alerts = vec![];
        for alert in self.list.items.iter_mut().filter(|a| ids.contains(&a.id)) {
            change(alert);
            alerts.push(alert.clone());
        }
        let what = match alerts.as_slice() {
            [] => return vec![],
            [one] => format!("alert {} ({})", &one.id[..8.min(one.id.len())], clean(&one.rule_name)),
            many => format!("{} alerts", many.len()),
        };
        vec![Job::SaveAlerts { alerts, report: format!("{what} {done}") }]
    }

    /// Triage the marked alerts, or the selected one.
    fn set_status(&mut self, status: AlertStatus) -> Vec<Job> {
        let ids = self.list.take_targets();
        let done = match status {
            AlertStatus::Open => "reopened",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::InProgress => "marked in progress",
            AlertStatus::Resolved => "resolved",
        };
        self.edit(&ids, done, |a| {
            a.status = status;
            // A reopened alert is judged again when it is next resolved.
            if status == AlertStatus::Open {
                a.classification = None;
                a.classification_reason = None;
            }
        })
    }

    /// Asks how the marked or selected alerts are judged before resolving them (`f` starts
    /// the answer at false positive).
    fn ask_resolution(&mut self, start: &str, ui: &mut Ui) {
        let ids = self.list.take_targets();
        if ids.is_empty() {
            return;
        }
        let what = if ids.len() == 1 { "the alert".to_string() } else { format!("{} alerts", ids.len()) };
        ui.prompt = Some(Prompt {
            label: format!("resolve {what} as tp|bp|fp|un, then why"),
            input: LineInput::new(start),
            purpose: Purpose::Resolve(ids),
        });
    }

    /// The answer to the resolution question: `fp known scanner` resolves as a false positive
    /// with that reason; a word that is no classification says which ones there are.
    pub fn resolve(&mut self, ids: &[String], answer: &str, ui: &mut Ui) -> Vec<Job> {
        let (word, reason) = answer.split_once(' ').map_or((answer, ""), |(w, r)| (w, r.trim()));
        let Some(class) = Classification::parse(word) else {
            ui.error(format!(
                "`{}` is no classification: tp (true positive), bp (benign positive), fp (false positive) \
                 or un (undetermined), then the reason",
                clean(word)
            ));
            return vec![];
        };
        let reason = (!reason.is_empty()).then(|| reason.to_string());
        self.edit(ids, &format!("resolved as {}", class.name()), |a| {
            a.status = AlertStatus::Resolved;
            a.classification = Some(class);
            a.classification_reason = reason.clone();
        })
    }

    /// The answer to the assignee question: a name, or nothing to unassign.
    pub fn assign(&mut self, ids: &[String], name: &str) -> Vec<Job> {
        let done =
            if name.is_empty() { "unassigned".to_string() } else { format!("assigned to {}", clean(name)) };
        self.edit(ids, &done, |a| a.assignee = (!name.is_empty()).then(|| name.to_string()))
    }

    /// The answer to the note question, signed and dated; an empty note is dropped.
    pub fn note(&mut self, ids: &[String], text: &str, user: &str) -> Vec<Job> {
        if text.is_empty() {
            return vec![];
        }
        let note = format!("{} {user}: {text}", chrono::Utc::now().format("%Y-%m-%d %H:%M"));
        self.edit(ids, "noted", |a| a.notes.push(note.clone()))
    }

    /// The list in the order picked with `s`, the cursor kept on the alert it was on.
    fn sort(&mut self) {
        let on = self.list.selected().map(|a| a.id.clone());
        let items = &mut self.list.items;
        match self.order {
            AlertOrder::Newest => items.sort_by_key(|a| std::cmp::Reverse(a.created_at)),
            AlertOrder::Severity => {
                items.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.created_at.cmp(&a.created_at)))
            }
            AlertOrder::Rule => {
                items.sort_by(|a, b| a.rule_name.cmp(&b.rule_name).then(b.created_at.cmp(&a.created_at)))
            }
            AlertOrder::Status => items.sort_by(|a, b| {
                status_rank(a.status).cmp(&status_rank(b.status)).then(b.created_at.cmp(&a.created_at))
            }),
        }
        if let Some(id) = on {
            let shown = self.list.visible();
            self.list.cursor = shown.iter().position(|&i| self.list.items[i].id == id).unwrap_or(0);
        }
    }

    /// The next page when the cursor is on the last row loaded and more may exist.
    fn more_if_at_end(&mut self) -> Option<Job> {
        let shown = self.list.visible().len();
        if !self.more || self.loading_more || shown == 0 || self.list.cursor + 1 < shown {
            return None;
        }
        // The oldest loaded, whatever the order on screen.
        let before = self.list.items.iter().map(|a| a.created_at).min()?;
        self.loading_more = true;
        Some(Job::OlderAlerts { before })
    }

    fn ask_assign_or_note(&mut self, action: Action, ui: &mut Ui) {
        let ids = self.list.take_targets();
        let Some(first) = ids.first() else { return };
        let current = self.list.items.iter().find(|a| &a.id == first).and_then(|a| a.assignee.clone());
        let what = if ids.len() == 1 { "the alert".to_string() } else { format!("{} alerts", ids.len()) };
        ui.prompt = Some(if action == Action::Assign {
            Prompt {
                label: format!("assign {what} to"),
                input: LineInput::new(current.unwrap_or_default()),
                purpose: Purpose::Assign(ids),
            }
        } else {
            Prompt {
                label: format!("note on {what}"),
                input: LineInput::default(),
                purpose: Purpose::Note(ids),
            }
        });
    }
}

impl Component for AlertsPane {
    fn screen(&self) -> Screen {
        Screen::Alerts
    }

    fn handle_key(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        if let Some(done) = self.list.act(action) {
            ui.listed(done);
            return self.more_if_at_end().into_iter().collect();
        }
        match action {
            Action::Open => {
                if let Some(a) = self.list.selected() {
                    ui.popup =
                        Some(TextView::new(format!("alert {}", a.id), detail::alert(a, &[], &ui.theme)));
                    // The activity log comes from its own store, into the open detail.
                    return vec![Job::LoadActivity(a.id.clone())];
                }
            }
            Action::Acknowledge => return self.set_status(AlertStatus::Acknowledged),
            Action::InProgress => return self.set_status(AlertStatus::InProgress),
            Action::Resolve => self.ask_resolution("", ui),
            Action::FalsePositive => self.ask_resolution("fp ", ui),
            Action::Reopen => return self.set_status(AlertStatus::Open),
            Action::Assign | Action::Note => self.ask_assign_or_note(action, ui),
            Action::SortAlerts => {
                self.order = self.order.next();
                self.sort();
                // A new order is read from its top (a refresh keeps the cursor's alert instead).
                self.list.cursor = 0;
                ui.info(format!("alerts {}", self.order.label()));
            }
            Action::Pivot => {
                // Not run at once: on Athena every query is billed, so the analyst reads it first.
                if let Some(a) = self.list.selected() {
                    ui.requests.push(Request::Query {
                        sql: pivot_sql(a, self.prefs.default_time_range),
                        run: false,
                    });
                    ui.info(format!(
                        "the alert's source over its days: {} runs it",
                        ui.keymap.first_key(Action::Run)
                    ));
                }
            }
            _ => {}
        }
        vec![]
    }

    fn update(&mut self, msg: Msg, ui: &mut Ui) -> bool {
        match msg {
            Msg::Alerts(newest) => {
                // The newest page replaces its span; older pages already loaded stay below it.
                let full = newest.len() >= self.page_size();
                let mut items = newest;
                if full && let Some(oldest) = items.last().map(|a| a.created_at) {
                    let fresh: HashSet<&str> = items.iter().map(|a| a.id.as_str()).collect();
                    let older: Vec<Alert> = self
                        .list
                        .items
                        .iter()
                        .filter(|a| a.created_at < oldest && !fresh.contains(a.id.as_str()))
                        .cloned()
                        .collect();
                    items.extend(older);
                }
                self.more = full;
                let changed = self.list.set(items);
                if changed && self.order != AlertOrder::Newest {
                    self.sort();
                }
                changed
            }
            Msg::OlderAlerts(Err(e)) => {
                self.loading_more = false;
                ui.error(e);
                true
            }
            Msg::Activity { alert_id, entries } => {
                let open = format!("alert {alert_id}");
                match entries {
                    Ok(entries) => {
                        let Some(view) = ui.popup.as_mut().filter(|v| v.title == open) else { return false };
                        let Some(a) = self.list.items.iter().find(|a| a.id == alert_id) else { return false };
                        view.lines = detail::alert(a, &entries, &ui.theme);
                        true
                    }
                    Err(e) => {
                        ui.error(format!("cannot read the alert's activity: {e}"));
                        true
                    }
                }
            }
            Msg::OlderAlerts(Ok(page)) => {
                self.loading_more = false;
                self.more = page.len() >= self.page_size();
                let loaded: HashSet<&str> = self.list.items.iter().map(|a| a.id.as_str()).collect();
                let new: Vec<Alert> = page.into_iter().filter(|a| !loaded.contains(a.id.as_str())).collect();
                let changed = !new.is_empty();
                self.list.items.extend(new);
                if changed && self.order != AlertOrder::Newest {
                    self.sort();
                }
                changed
            }
            _ => false,
        }
    }

    fn filter(&mut self, text: &str, _done: bool) -> Vec<Job> {
        self.list.set_filter(text);
        vec![]
    }

    fn render(&self, f: &mut Frame, area: Rect, ui: &Ui) {
        let t = &ui.theme;
        let narrow = area.width < 120;
        let paging = match (self.loading_more, self.more) {
            (true, _) => "· loading older ",
            (false, true) => "· older below ",
            (false, false) => "",
        };
        let order = if self.order == AlertOrder::Newest {
            String::new()
        } else {
            format!("· {} ", self.order.label())
        };
        let title = format!(" alerts {order}{paging}");
        let columns = Columns {
            title: &title,
            header: vec![
                "age",
                "severity",
                "rule",
                if narrow { "hits" } else { "count" },
                "status",
                "delivery",
            ],
            widths: vec![
                Constraint::Length(4),
                Constraint::Length(8),
                Constraint::Fill(1),
                Constraint::Length(if narrow { 4 } else { 6 }),
                Constraint::Length(8),
                Constraint::Fill(1),
            ],
        };
        let cells = |a: &Alert| {
            let status = match (a.status, a.classification) {
                (_, _) if a.suppressed.is_some() && a.is_open() => "suppr",
                (AlertStatus::Open, _) => "open",
                (AlertStatus::Acknowledged, _) => "ack",
                (AlertStatus::InProgress, _) => "working",
                (AlertStatus::Resolved, Some(Classification::TruePositive)) => "res tp",
                (AlertStatus::Resolved, Some(Classification::BenignPositive)) => "res bp",
                (AlertStatus::Resolved, Some(Classification::FalsePositive)) => "res fp",
                (AlertStatus::Resolved, Some(Classification::Undetermined)) => "res ?",
                (AlertStatus::Resolved, None) => "resolved",
            };
            vec![
                Cell::from(age(a.created_at)),
                Cell::from(a.severity.as_str()).style(t.severity(a.severity)),
                Cell::from(clean(&a.rule_name)),
                Cell::from(a.result_count.to_string()),
                Cell::from(status),
                Cell::from(crate::widgets::delivery_line(a, t, narrow)),
            ]
        };
        self.list.render(f, area, columns, cells, t, ui.filter_input.is_some());
    }
}

/// A query over the days of the alert's evidence (its first to its last event, and at least the
/// user's look-back up to its last), narrowed to its first sample's source address if any.
pub fn pivot_sql(a: &Alert, look_back: TimeRange) -> String {
    let ip = a.sample_rows.first().and_then(|r| {
        ["sourceipaddress", "srcaddr", "remoteip"]
            .iter()
            .find_map(|k| r.get(*k).and_then(|v| v.as_str()).map(|v| (*k, v.to_string())))
    });
    let (table, col) = match ip.as_ref().map(|(k, _)| *k) {
        Some("srcaddr") => ("vpc_flow_logs", "srcaddr"),
        Some("remoteip") => ("s3_access_logs", "remoteip"),
        _ => ("cloudtrail_logs", "sourceipaddress"),
    };
    let first = a.window_start.min(a.window_end - chrono::Duration::days(look_back.days() - 1));
    let (first, last) = (first.format("%Y-%m-%d"), a.window_end.format("%Y-%m-%d"));
    let filter = ip.map(|(_, v)| format!("\n  AND {col} = '{}'", v.replace('\'', "''"))).unwrap_or_default();
    format!("SELECT *\nFROM {table}\nWHERE dt BETWEEN '{first}' AND '{last}'{filter}\nLIMIT 500")
}
