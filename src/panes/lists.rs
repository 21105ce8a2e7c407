//! The list panes: rules, alerts (with triage and pivot), integration health and the DLQ.

use crate::app::{App, Job, Prompt, Purpose};
use crate::config::keymap::Action;
use crate::panes::{Pane, detail};
use crate::widgets::input::LineInput;
use crate::widgets::popup::TextView;
use chrono::Utc;
use mantissa_backend::model::{AlertStatus, RunStatus};
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

/// The text `/` filters a row by: what the row shows, lower-cased.
fn haystacks(app: &App) -> Vec<String> {
    let rows: Vec<String> = match app.pane {
        Pane::Rules => app
            .rules
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {}",
                    r.id,
                    r.name,
                    r.severity.as_str(),
                    r.schedule.as_str(),
                    r.tags.join(" ")
                )
            })
            .collect(),
        Pane::Alerts => app
            .alerts
            .iter()
            .map(|a| {
                format!(
                    "{} {} {} {:?} {}",
                    a.rule_name,
                    a.severity.as_str(),
                    a.summary,
                    a.status,
                    crate::widgets::delivery_summary(a)
                )
            })
            .collect(),
        Pane::Integrations => {
            app.integrations.iter().map(|(i, h)| format!("{} {:?} {h:?}", i.name, i.kind)).collect()
        }
        Pane::Dlq => app
            .dlq
            .iter()
            .map(|d| format!("{} {} {}", d.group_id, d.body, d.last_error.as_deref().unwrap_or("")))
            .collect(),
        Pane::Query => vec![],
    };
    rows.into_iter().map(|r| r.to_lowercase()).collect()
}

/// Indices of the rows the pane's filter lets through: a case-insensitive substring, or with a
/// leading `!` the rows without it (k9s's grammar).
pub fn visible(app: &App) -> Vec<usize> {
    let filter = app.filters[app.pane as usize].to_lowercase();
    let (invert, needle) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, filter.as_str()),
    };
    haystacks(app)
        .iter()
        .enumerate()
        .filter(|(_, h)| needle.is_empty() || h.contains(needle) != invert)
        .map(|(i, _)| i)
        .collect()
}

/// The selected row of `pane` as an index into its full list.
pub fn selected(app: &App, pane: Pane) -> Option<usize> {
    if app.pane != pane {
        return None;
    }
    visible(app).get(app.cursors[pane as usize].0).copied()
}

/// The ids of a pane's rows, in list order (marks are kept by id across refreshes).
fn ids(app: &App, pane: Pane) -> Vec<String> {
    match pane {
        Pane::Rules => app.rules.iter().map(|r| r.id.clone()).collect(),
        Pane::Alerts => app.alerts.iter().map(|a| a.id.clone()).collect(),
        Pane::Integrations => app.integrations.iter().map(|(i, _)| i.id.clone()).collect(),
        Pane::Dlq => app.dlq.iter().map(|d| d.message_id.clone()).collect(),
        Pane::Query => vec![],
    }
}

/// What a bulk action works on: the marked rows of the pane, else the selected one.
pub fn targets(app: &App) -> Vec<String> {
    let pane = app.pane;
    let all = ids(app, pane);
    let marked: Vec<String> =
        all.iter().filter(|id| app.marks[pane as usize].contains(*id)).cloned().collect();
    if !marked.is_empty() {
        return marked;
    }
    selected(app, pane).and_then(|i| all.get(i).cloned()).into_iter().collect()
}

/// Motions, filter and marks for every list; then the pane's own actions.
pub fn act(app: &mut App, action: Action) -> Vec<Job> {
    let shown = visible(app);
    let n = shown.len();
    let i = app.pane as usize;
    let cur = shown.get(app.cursors[i].0).copied().unwrap_or(usize::MAX);
    match action {
        Action::Down => app.cursors[i].step(1, n),
        Action::Up => app.cursors[i].step(-1, n),
        Action::PageDown => app.cursors[i].step(10, n),
        Action::PageUp => app.cursors[i].step(-10, n),
        Action::Top => app.cursors[i].0 = 0,
        Action::Bottom => app.cursors[i].step(isize::MAX / 2, n),
        Action::Filter => app.filter_input = Some(app.filters[i].clone()),
        Action::Mark => {
            if let Some(id) = ids(app, app.pane).get(cur).cloned()
                && !app.marks[i].remove(&id)
            {
                app.marks[i].insert(id);
            }
            app.cursors[i].step(1, n);
        }
        Action::Open => open(app, cur),
        Action::Acknowledge => return app.set_alert_status(AlertStatus::Acknowledged),
        Action::Resolve => return app.set_alert_status(AlertStatus::Resolved),
        Action::FalsePositive => return app.set_alert_status(AlertStatus::FalsePositive),
        Action::Reopen => return app.set_alert_status(AlertStatus::Open),
        Action::Assign | Action::Note => {
            let ids = targets(app);
            if ids.is_empty() {
                return vec![];
            }
            let current = app.alerts.iter().find(|a| a.id == ids[0]).and_then(|a| a.assignee.clone());
            let what = if ids.len() == 1 { "the alert".to_string() } else { format!("{} alerts", ids.len()) };
            app.marks[i].clear();
            app.prompt = Some(if action == Action::Assign {
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
        Action::Pivot => {
            if let Some(a) = app.alerts.get(cur) {
                let sql = pivot_sql(a);
                app.editor =
                    ratatui_textarea::TextArea::from(sql.lines().map(String::from).collect::<Vec<_>>());
                app.pane = Pane::Query;
                app.focus = crate::app::Focus::Editor;
            }
        }
        Action::Redrive => {
            let ids = targets(app);
            if ids.is_empty() {
                return vec![];
            }
            app.marks[i].clear();
            let what = if ids.len() == 1 {
                format!("message {}", ids[0])
            } else {
                format!("{} messages", ids.len())
            };
            return app.ask(format!("redrive {what}?"), Job::Redrive(ids));
        }
        Action::RedriveAll => return redrive_all(app),
        Action::Delete => {
            let ids = targets(app);
            app.marks[i].clear();
            return match ids.as_slice() {
                [] => vec![],
                [one] => app.ask(format!("delete message {one} for good?"), Job::DeleteDead(one.clone())),
                many => {
                    // One confirmation for the batch; each deletion is its own job.
                    let prompt = format!("delete {} messages for good?", many.len());
                    let jobs: Vec<Job> = many.iter().map(|id| Job::DeleteDead(id.clone())).collect();
                    app.ask(prompt, Job::Batch(jobs))
                }
            };
        }
        Action::TestSend => {
            if let Some(id) = app.integrations.get(cur).map(|(i, _)| i.id.clone()) {
                app.info(format!("sending a test alert to {}", text(&id)));
                return vec![Job::TestSend(id)];
            }
        }
        Action::DeleteIntegration => {
            if let Some((integration, _)) = app.integrations.get(cur) {
                let id = integration.id.clone();
                return app
                    .ask(format!("delete integration {id} and its secret?"), Job::DeleteIntegration(id));
            }
        }
        Action::NewIntegration => app.picker = Some(super::setup::kinds_picker()),
        Action::EditIntegration => {
            if let Some((i, _)) = selected(app, Pane::Integrations).and_then(|c| app.integrations.get(c)) {
                let lookup = app.keymap.first_key(Action::Lookup);
                app.setup = Some(super::setup::Setup::new(i.kind, Some(i.clone()), lookup));
            }
        }
        _ => {}
    }
    vec![]
}

/// Every dead letter of this user back to the queue, after a confirmation.
pub fn redrive_all(app: &mut App) -> Vec<Job> {
    let ids: Vec<String> = app.dlq.iter().map(|d| d.message_id.clone()).collect();
    if ids.is_empty() {
        app.info("the DLQ is empty");
        return vec![];
    }
    app.ask(format!("redrive all {} dead letters?", ids.len()), Job::Redrive(ids))
}

/// `open`: an alert's detail, an integration's settings and health, a DLQ message's payload.
fn open(app: &mut App, cur: usize) {
    let t = app.theme;
    let view = match app.pane {
        Pane::Alerts => {
            app.alerts.get(cur).map(|a| TextView::new(format!("alert {}", a.id), detail::alert(a, &t)))
        }
        Pane::Integrations => app.integrations.get(cur).map(|(i, h)| {
            TextView::new(format!("integration {}", text(&i.id)), detail::integration(i, h.as_ref(), &t))
        }),
        Pane::Dlq => app
            .dlq
            .get(cur)
            .map(|d| TextView::new(format!("message {}", d.message_id), detail::dead_letter(d, &t))),
        _ => None,
    };
    if let Some(v) = view {
        app.popup = Some(v);
    }
}

/// A query over the alert's window, narrowed to its first sample's source address if any.
pub fn pivot_sql(a: &mantissa_backend::model::Alert) -> String {
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
    let day = a.window_start.format("%Y-%m-%d");
    let filter = ip.map(|(_, v)| format!("\n  AND {col} = '{}'", v.replace('\'', "''"))).unwrap_or_default();
    format!("SELECT *\nFROM {table}\nWHERE dt >= '{day}'{filter}\nLIMIT 500")
}

fn ago(t: chrono::DateTime<Utc>) -> String {
    let s = (Utc::now() - t).num_seconds().max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

fn text(s: &str) -> String {
    neutralize(s).into_owned()
}

pub fn render(app: &mut App, f: &mut Frame, area: Rect) {
    let t = app.theme;
    let narrow = area.width < 120;
    let (title, mut header, mut widths, rows): (&str, Vec<&str>, Vec<Constraint>, Vec<Vec<Cell>>) = match app
        .pane
    {
        Pane::Rules => (
            " rules ",
            vec!["severity", "rule", "schedule", "on", "last run", "status", "alerts"],
            vec![
                Constraint::Length(8),
                Constraint::Min(18),
                Constraint::Length(16),
                Constraint::Length(3),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(6),
            ],
            app.rules
                .iter()
                .map(|r| {
                    vec![
                        Cell::from(r.severity.as_str()).style(t.severity(r.severity)),
                        Cell::from(text(&r.name)),
                        Cell::from(r.schedule.as_str().to_string()),
                        Cell::from(if r.enabled { "yes" } else { "no" }),
                        Cell::from(r.last_execution.map(ago).unwrap_or_else(|| "never".into())),
                        match &r.last_status {
                            Some(RunStatus::Failed(_)) => Cell::from("failed").style(t.error()),
                            Some(RunStatus::Success) => Cell::from("ok"),
                            None => Cell::from("-"),
                        },
                        Cell::from(r.alert_count.to_string()),
                    ]
                })
                .collect(),
        ),
        Pane::Alerts => (
            " alerts ",
            vec!["age", "severity", "rule", if narrow { "hits" } else { "count" }, "status", "delivery"],
            vec![
                Constraint::Length(4),
                Constraint::Length(8),
                Constraint::Fill(1),
                Constraint::Length(if narrow { 4 } else { 6 }),
                Constraint::Length(8),
                Constraint::Fill(1),
            ],
            app.alerts
                .iter()
                .map(|a| {
                    let status = match a.status {
                        AlertStatus::Open => "open",
                        AlertStatus::Acknowledged => "ack",
                        AlertStatus::Resolved => "resolved",
                        AlertStatus::FalsePositive => "false+",
                    };
                    vec![
                        Cell::from(ago(a.created_at)),
                        Cell::from(a.severity.as_str()).style(t.severity(a.severity)),
                        Cell::from(text(&a.rule_name)),
                        Cell::from(a.result_count.to_string()),
                        Cell::from(status),
                        Cell::from(crate::widgets::delivery_line(a, &t, narrow)),
                    ]
                })
                .collect(),
        ),
        Pane::Integrations => (
            " integrations: health over 24 h ",
            vec!["integration", "kind", "health", "success", "tries", "p95 ms", "last error"],
            vec![
                Constraint::Min(12),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Min(16),
            ],
            app.integrations
                .iter()
                .map(|(i, h)| {
                    let state =
                        h.as_ref().map(|h| h.state).unwrap_or(mantissa_backend::model::HealthState::Unknown);
                    vec![
                        Cell::from(text(&i.name)),
                        Cell::from(
                            serde_json::to_value(i.kind)
                                .ok()
                                .and_then(|v| v.as_str().map(String::from))
                                .unwrap_or_default(),
                        ),
                        Cell::from(format!("{state:?}").to_lowercase()).style(t.health(state)),
                        Cell::from(
                            h.as_ref()
                                .and_then(|h| h.success_rate)
                                .map(|r| format!("{:.0}%", r * 100.0))
                                .unwrap_or("-".into()),
                        ),
                        Cell::from(h.as_ref().map(|h| h.attempts.to_string()).unwrap_or_default()),
                        Cell::from(
                            h.as_ref()
                                .and_then(|h| h.p95_latency_ms)
                                .map(|v| v.to_string())
                                .unwrap_or("-".into()),
                        ),
                        Cell::from(text(h.as_ref().and_then(|h| h.last_error.as_deref()).unwrap_or(""))),
                    ]
                })
                .collect(),
        ),
        Pane::Dlq | Pane::Query => (
            " dead letters ",
            vec!["age", "integration", "alert", "tries", "last error"],
            vec![
                Constraint::Length(4),
                Constraint::Length(14),
                Constraint::Min(20),
                Constraint::Length(5),
                Constraint::Min(20),
            ],
            app.dlq
                .iter()
                .map(|d| {
                    let msg: Option<mantissa_backend::detect::DeliveryMessage> =
                        serde_json::from_str(&d.body).ok();
                    vec![
                        Cell::from(ago(d.sent_at)),
                        Cell::from(text(msg.as_ref().map(|m| m.integration_id.as_str()).unwrap_or("?"))),
                        Cell::from(text(
                            msg.as_ref().map(|m| m.alert.summary.as_str()).unwrap_or("unreadable message"),
                        )),
                        Cell::from(d.receive_count.to_string()),
                        Cell::from(text(d.last_error.as_deref().unwrap_or(""))).style(t.error()),
                    ]
                })
                .collect(),
        ),
    };
    let shown = visible(app);
    let total = rows.len();
    // A mark column for bulk actions: `*` on the marked rows.
    let marks = &app.marks[app.pane as usize];
    let row_ids = ids(app, app.pane);
    header.insert(0, "");
    widths.insert(0, Constraint::Length(1));
    let rows: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .filter(|(i, _)| shown.contains(i))
        .map(|(i, cells)| {
            let marked = row_ids.get(i).is_some_and(|id| marks.contains(id));
            Row::new(std::iter::once(Cell::from(if marked { "*" } else { " " })).chain(cells))
        })
        .collect();
    let empty = rows.is_empty();
    let filter = &app.filters[app.pane as usize];
    let title = match marks.len() {
        0 => title.to_string(),
        n => format!("{title}· {n} marked "),
    };
    let mut block = Block::bordered().title(title).border_style(Style::default());
    if !filter.is_empty() || app.filter_input.is_some() {
        block = block.title_bottom(format!(" /{} · {}/{total} ", text(filter), shown.len()));
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header()))
        .row_highlight_style(t.selected())
        .block(block);
    let mut state = TableState::default().with_selected((!empty).then_some(app.cursors[app.pane as usize].0));
    f.render_stateful_widget(table, area, &mut state);
}
