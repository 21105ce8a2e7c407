//! The list panes: rules, alerts (with triage and pivot), integration health and the DLQ.

use crate::app::{App, Job};
use crate::panes::Pane;
use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent};
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

pub fn handle_key(app: &mut App, key: KeyEvent) -> Vec<Job> {
    let shown = visible(app);
    let n = shown.len();
    let i = app.pane as usize;
    let cur = shown.get(app.cursors[i].0).copied().unwrap_or(usize::MAX);
    match key.code {
        KeyCode::Char('/') => app.filter_input = Some(app.filters[i].clone()),
        KeyCode::Char('j') | KeyCode::Down => app.cursors[i].step(1, n),
        KeyCode::Char('k') | KeyCode::Up => app.cursors[i].step(-1, n),
        KeyCode::Char('g') | KeyCode::Home => app.cursors[i].0 = 0,
        KeyCode::Char('G') | KeyCode::End => app.cursors[i].step(isize::MAX / 2, n),
        KeyCode::Char('a') if app.pane == Pane::Alerts => {
            return app.set_alert_status(AlertStatus::Acknowledged);
        }
        KeyCode::Char('r') if app.pane == Pane::Alerts => return app.set_alert_status(AlertStatus::Resolved),
        KeyCode::Char('f') if app.pane == Pane::Alerts => {
            return app.set_alert_status(AlertStatus::FalsePositive);
        }
        KeyCode::Char('p') if app.pane == Pane::Alerts => {
            if let Some(a) = app.alerts.get(cur) {
                let sql = pivot_sql(a);
                app.editor =
                    ratatui_textarea::TextArea::from(sql.lines().map(String::from).collect::<Vec<_>>());
                app.pane = Pane::Query;
                app.focus = crate::app::Focus::Editor;
            }
        }
        KeyCode::Char('R') if app.pane == Pane::Dlq => {
            if let Some(d) = app.dlq.get(cur) {
                return app.ask(
                    format!("redrive message {}?", d.message_id),
                    Job::Redrive(vec![d.message_id.clone()]),
                );
            }
        }
        KeyCode::Char('d') if app.pane == Pane::Dlq => {
            if let Some(d) = app.dlq.get(cur) {
                return app.ask(
                    format!("delete message {} for good?", d.message_id),
                    Job::DeleteDead(d.message_id.clone()),
                );
            }
        }
        _ => {}
    }
    vec![]
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
    let (title, header, widths, rows): (&str, Vec<&str>, Vec<Constraint>, Vec<Row>) = match app.pane {
        Pane::Rules => (
            " rules (Enter edit · t test · D dry-run · n new · e on/off · x run now) ",
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
                    Row::new(vec![
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
                    ])
                })
                .collect(),
        ),
        Pane::Alerts => (
            " alerts (a ack · r resolve · f false positive · p pivot) ",
            vec!["age", "severity", "rule", "count", "status", "delivery"],
            vec![
                Constraint::Length(4),
                Constraint::Length(8),
                Constraint::Min(20),
                Constraint::Length(6),
                Constraint::Length(8),
                Constraint::Min(16),
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
                    Row::new(vec![
                        Cell::from(ago(a.created_at)),
                        Cell::from(a.severity.as_str()).style(t.severity(a.severity)),
                        Cell::from(text(&a.rule_name)),
                        Cell::from(a.result_count.to_string()),
                        Cell::from(status),
                        Cell::from(crate::widgets::delivery_summary(a)),
                    ])
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
                    Row::new(vec![
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
                    ])
                })
                .collect(),
        ),
        Pane::Dlq | Pane::Query => (
            " dead letters (R redrive · d delete) ",
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
                    Row::new(vec![
                        Cell::from(ago(d.sent_at)),
                        Cell::from(text(msg.as_ref().map(|m| m.integration_id.as_str()).unwrap_or("?"))),
                        Cell::from(text(
                            msg.as_ref().map(|m| m.alert.summary.as_str()).unwrap_or("unreadable message"),
                        )),
                        Cell::from(d.receive_count.to_string()),
                        Cell::from(text(d.last_error.as_deref().unwrap_or(""))).style(t.error()),
                    ])
                })
                .collect(),
        ),
    };
    let shown = visible(app);
    let total = rows.len();
    let rows: Vec<Row> =
        rows.into_iter().enumerate().filter(|(i, _)| shown.contains(i)).map(|(_, r)| r).collect();
    let empty = rows.is_empty();
    let filter = &app.filters[app.pane as usize];
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
