//! The text of the detail views `open` shows over a list: an alert (triage state, delivery
//! attempts, sample rows), a case (alerts, entities, timeline), an integration (settings and
//! health) and a DLQ message's payload.
//! Every value from logs or the network is neutralised; secrets are only ever a masked ref.

use crate::config::theme::Theme;
use crate::widgets::highlight::{self, Language};
use crate::widgets::text::{decode_nested, text_lines};
use mantissa_backend::model::{Activity, Alert, HealthStatus, Integration, judgement_text, status_name};
use mantissa_backend::ports::DeadLetter;
use mantissa_backend::text::neutralize;
use ratatui::text::{Line, Span};

fn field(name: &str, value: impl AsRef<str>, t: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<12}"), t.header()),
        Span::raw(neutralize(value.as_ref()).into_owned()),
    ])
}

fn heading(text: &str, t: &Theme) -> Line<'static> {
    Line::from(Span::styled(text.to_string(), t.header()))
}

/// JSON pretty-printed and coloured, JSON kept in its strings decoded too (a policy document).
fn json_lines(value: &serde_json::Value, t: &Theme) -> Vec<Line<'static>> {
    let text = serde_json::to_string_pretty(&decode_nested(value.clone())).unwrap_or_default();
    highlight::lines(&text, Language::Json, t)
}

pub fn alert(a: &Alert, activity: &[Activity], t: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<12}", a.severity.as_str()), t.severity(a.severity)),
            Span::raw(neutralize(&a.rule_name).into_owned()),
        ]),
        field("summary", &a.summary, t),
        field("status", status_name(a.status), t),
        field("assignee", a.assignee.as_deref().unwrap_or("nobody"), t),
        field("created", a.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(), t),
        field(
            "seen",
            format!(
                "{} .. {}",
                a.window_start.format("%Y-%m-%d %H:%M:%S"),
                a.window_end.format("%Y-%m-%d %H:%M:%S")
            ),
            t,
        ),
        field("events", a.event_count.max(a.result_count).to_string(), t),
        field("rule", &a.rule_id, t),
    ];
    if let Some(by) = &a.suppressed {
        let said = format!(
            "{} · by {}: {} · until {}",
            by.what,
            by.who,
            by.reason,
            by.until.format("%Y-%m-%d %H:%M")
        );
        lines.insert(3, field("suppressed", said, t));
    }
    if let Some(c) = a.classification {
        let why = a.classification_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        lines.insert(3, field("judged", format!("{}{why}", c.name()), t));
    }
    if !a.dedup_key.is_empty() {
        lines.push(field("incident", &a.dedup_key, t));
    }
    if !a.description.is_empty() {
        lines.push(Line::default());
        lines.push(heading("description", t));
        lines.extend(text_lines(&a.description));
    }
    if !a.history.is_empty() {
        lines.push(Line::default());
        lines.push(heading("history", t));
        for h in &a.history {
            lines.push(Line::from(vec![
                Span::raw(format!("  {}  ", h.at.format("%m-%d %H:%M:%S"))),
                Span::raw(neutralize(&h.what).into_owned()),
            ]));
        }
    }
    lines.push(Line::default());
    lines.push(heading("delivery attempts", t));
    if a.attempts.is_empty() {
        lines.push(Line::from("  none (no integration took this alert)"));
    }
    for at in &a.attempts {
        let detail = [
            at.latency_ms.map(|l| format!("{l} ms")),
            at.http_status.map(|c| format!("HTTP {c}")),
            at.retry_in_secs.map(|s| format!("retry in {s} s")),
            at.error.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        lines.push(Line::from(format!(
            "  {}  {:<14} #{} {:<13} {}",
            at.at.format("%H:%M:%S"),
            neutralize(&at.integration_id),
            at.attempt,
            format!("{:?}", at.status).to_lowercase(),
            neutralize(&detail)
        )));
    }
    lines.push(Line::default());
    lines.push(heading("notes", t));
    if a.notes.is_empty() {
        lines.push(Line::from("  none yet (N adds one)"));
    }
    lines.extend(
        a.notes.iter().map(|n| Line::from(vec![Span::raw("  "), Span::raw(neutralize(n).into_owned())])),
    );
    lines.push(Line::default());
    lines.push(heading("activity", t));
    if activity.is_empty() {
        lines.push(Line::from("  no changes by anyone yet"));
    }
    for e in activity {
        lines.push(Line::from(vec![
            Span::styled(format!("  {}  ", e.at.format("%m-%d %H:%M:%S")), t.muted()),
            Span::raw(format!("{:<10} {:<15} ", neutralize(&e.who), e.kind.name())),
            Span::raw(neutralize(&e.detail).into_owned()),
        ]));
    }
    lines.push(Line::default());
    lines.push(heading(&format!("sample rows ({})", a.sample_rows.len()), t));
    for row in &a.sample_rows {
        lines.extend(json_lines(row, t));
    }
    lines.push(Line::default());
    lines.push(heading("query", t));
    lines.extend(text_lines(&a.query));
    lines
}

pub fn integration(i: &Integration, h: Option<&HealthStatus>, t: &Theme) -> Vec<Line<'static>> {
    let kind =
        serde_json::to_value(i.kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let mut lines = vec![
        field("name", &i.name, t),
        field("kind", kind, t),
        field("enabled", if i.enabled { "yes" } else { "no" }, t),
        field("severity", format!("{} and above", i.min_severity.as_str()), t),
        // The secret itself is never read here: only whether there is one.
        field("secret", if i.secret_ref.is_some() { "•••••• (in the secret store)" } else { "none" }, t),
    ];
    lines.push(heading("settings", t));
    lines.extend(json_lines(&i.config, t));
    lines.push(Line::default());
    lines.push(heading("health over 24 h", t));
    match h {
        None => lines.push(Line::from("  no deliveries yet")),
        Some(h) => {
            lines.push(field("state", format!("{:?}", h.state).to_lowercase(), t));
            lines.push(field(
                "attempts",
                format!("{} ({} delivered, {} failed)", h.attempts, h.delivered, h.failed),
                t,
            ));
            let ms = |v: Option<u64>| v.map(|v| format!("{v} ms")).unwrap_or("-".into());
            lines.push(field(
                "latency",
                format!("p50 {} · p95 {}", ms(h.p50_latency_ms), ms(h.p95_latency_ms)),
                t,
            ));
            lines.push(field("last error", h.last_error.as_deref().unwrap_or("none"), t));
        }
    }
    lines
}

pub fn dead_letter(d: &DeadLetter, t: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![
        field("message", &d.message_id, t),
        field("group", &d.group_id, t),
        field("receives", d.receive_count.to_string(), t),
        field("sent", d.sent_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(), t),
        field("last error", d.last_error.as_deref().unwrap_or("none"), t),
        Line::default(),
        heading("payload", t),
    ];
    match serde_json::from_str::<serde_json::Value>(&d.body) {
        Ok(v) => lines.extend(json_lines(&v, t)),
        Err(_) => lines.extend(text_lines(&d.body)),
    }
    lines
}

/// A case read whole: its fields, alerts, shared entities, notes and merged timeline.
pub fn case(v: &mantissa_backend::cases::CaseView, t: &Theme) -> Vec<Line<'static>> {
    let c = &v.case;
    let judged = match c.classification {
        Some(_) => format!(" · judged {}", judgement_text(c.classification, &c.classification_reason)),
        None => String::new(),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<12}", c.severity_shown().as_str()), t.severity(c.severity_shown())),
            Span::raw(neutralize(&c.title).into_owned()),
        ]),
        field("status", format!("{}{judged}", c.status.name()), t),
        field("owner", c.owner.as_deref().unwrap_or("nobody (A sets one)"), t),
        field(
            "opened",
            format!(
                "{} by {} · changed {}",
                c.created_at.format("%Y-%m-%d %H:%M"),
                c.created_by,
                c.updated_at.format("%Y-%m-%d %H:%M")
            ),
            t,
        ),
        Line::default(),
        heading(&format!("alerts ({})", c.alert_ids.len()), t),
    ];
    for a in &v.alerts {
        lines.push(Line::from(vec![
            Span::styled(format!("  {}  ", a.window_start.format("%m-%d %H:%M")), t.muted()),
            Span::styled(format!("{:<9}", a.severity.as_str()), t.severity(a.severity)),
            Span::raw(format!("{:<13}", status_name(a.status))),
            Span::raw(neutralize(&a.rule_name).into_owned()),
        ]));
    }
    for id in &v.missing {
        lines.push(Line::from(format!("  {} (no longer stored)", neutralize(id))));
    }
    lines.push(Line::default());
    lines.push(heading("entities (T follows the shared ones across the logs)", t));
    if v.entities.is_empty() {
        lines.push(Line::from("  none named by its alerts"));
    }
    for (kind, value, n) in v.entities.iter().take(12) {
        lines.push(Line::from(format!("  {:<11}{}  · {n} alert(s)", kind.name(), neutralize(value))));
    }
    lines.push(Line::default());
    lines.push(heading("notes", t));
    if c.notes.is_empty() {
        lines.push(Line::from("  none yet (N adds one)"));
    }
    lines.extend(c.notes.iter().map(|n| Line::from(format!("  {}", neutralize(n)))));
    lines.push(Line::default());
    lines.push(heading("timeline (the case, its alerts, who did what)", t));
    for e in &v.timeline {
        lines.push(Line::from(vec![
            Span::styled(format!("  {}  ", e.at.format("%m-%d %H:%M:%S")), t.muted()),
            Span::raw(format!("{:<10} ", neutralize(&e.who))),
            Span::styled(format!("{} · ", neutralize(&e.subject)), t.header()),
            Span::raw(neutralize(&e.what).into_owned()),
        ]));
    }
    lines
}
