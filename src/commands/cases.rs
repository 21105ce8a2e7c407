//! `mantissa cases ...`: cases (incidents) from the shell, through the same service the
//! console uses, so every change is logged with who and when.

use super::{Workspace, output};
use crate::cli::{CasesCommand, Format};
use anyhow::{Result, bail};
use mantissa_backend::cases::{self, Change, suggest};
use mantissa_backend::model::Case;
use mantissa_backend::ports::AlertQuery;
use mantissa_backend::services::Services;
use serde_json::json;
use std::process::ExitCode;

fn print(format: Format, columns: &[&str], rows: &[serde_json::Value]) -> Result<()> {
    output::records(&mut std::io::stdout().lock(), format, columns, rows)
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

pub async fn run(ws: &Workspace, cmd: CasesCommand) -> Result<ExitCode> {
    let s = ws.services().await?;
    let (user, who) = (ws.user.as_str(), ws.user.as_str());
    let done = |case: &Case, what: &str| {
        println!(
            "{} {what}: {} ({}, {} alerts)",
            case.id,
            case.title,
            case.status.name(),
            case.alert_ids.len()
        );
    };
    match cmd {
        CasesCommand::List { format, all } => {
            let rows: Vec<_> = s
                .cases
                .list_cases(user)
                .await?
                .iter()
                .filter(|c| all || c.is_open())
                .map(|c| {
                    json!({"id": c.id, "severity": c.severity_shown(), "status": c.status.name(),
                        "title": c.title, "owner": c.owner, "alerts": c.alert_ids.len(),
                        "updated": time(c.updated_at), "classification": c.classification.map(|c| c.name())})
                })
                .collect();
            print(format, &["id", "severity", "status", "title", "owner", "alerts", "updated"], &rows)?;
        }
        CasesCommand::Show { id, format } => {
            let view = cases::show(&s, user, &id).await?;
            if format == Format::Json {
                let c = &view.case;
                let v = json!({
                    "case": c, "severity": c.severity_shown(),
                    "alerts": view.alerts.iter().map(|a| json!({"id": a.id, "rule": a.rule_name,
                        "severity": a.severity, "status": mantissa_backend::model::status_name(a.status)})).collect::<Vec<_>>(),
                    "missing_alerts": view.missing,
                    "entities": view.entities.iter().map(|(k, v, n)| json!({"kind": k.name(), "value": v, "alerts": n})).collect::<Vec<_>>(),
                    "timeline": view.timeline.iter().map(|e| json!({"at": e.at, "subject": e.subject, "who": e.who, "what": e.what})).collect::<Vec<_>>(),
                    "lake_timeline_sql": cases::lake_timeline_sql(&view),
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(ExitCode::SUCCESS);
            }
            let c = &view.case;
            let clean = |s: &str| mantissa_backend::text::neutralize(s).into_owned();
            println!(
                "{} · {} · {} · owner {}",
                c.id,
                clean(&c.title),
                c.severity_shown(),
                c.owner.as_deref().unwrap_or("nobody")
            );
            println!(
                "status {}{}",
                c.status.name(),
                match c.classification {
                    Some(_) => format!(
                        " as {}",
                        clean(&mantissa_backend::model::judgement_text(
                            c.classification,
                            &c.classification_reason
                        ))
                    ),
                    None => String::new(),
                }
            );
            println!("opened {} by {}, changed {}", time(c.created_at), c.created_by, time(c.updated_at));
            let alerts: Vec<_> = view
                .alerts
                .iter()
                .map(|a| {
                    json!({"id": a.id, "severity": a.severity, "rule": a.rule_name,
                    "status": mantissa_backend::model::status_name(a.status), "first": time(a.window_start)})
                })
                .collect();
            print(Format::Table, &["id", "severity", "rule", "status", "first"], &alerts)?;
            for id in &view.missing {
                println!("alert {id}: no longer stored");
            }
            let entities: Vec<_> = view
                .entities
                .iter()
                .map(|(k, v, n)| json!({"kind": k.name(), "value": v, "alerts": n}))
                .collect();
            print(Format::Table, &["kind", "value", "alerts"], &entities)?;
            let timeline: Vec<_> = view
                .timeline
                .iter()
                .map(|e| json!({"at": time(e.at), "subject": e.subject, "who": e.who, "what": e.what}))
                .collect();
            print(Format::Table, &["at", "subject", "who", "what"], &timeline)?;
            if let Some(sql) = cases::lake_timeline_sql(&view) {
                println!("Its entities across the logs (mantissa query runs it):");
                for line in sql.lines() {
                    println!("{}", clean(line));
                }
            }
        }
        CasesCommand::New { title, alerts } => {
            let ids = resolve_alerts(&s, user, &alerts).await?;
            done(&cases::open(&s, user, who, &title, &ids).await?, "opened");
        }
        CasesCommand::Add { id, alerts } => {
            let ids = resolve_alerts(&s, user, &alerts).await?;
            done(&cases::change(&s, user, who, &id, &Change::Add(ids)).await?, "changed");
        }
        CasesCommand::Remove { id, alerts } => {
            let ids = resolve_alerts(&s, user, &alerts).await?;
            done(&cases::change(&s, user, who, &id, &Change::Remove(ids)).await?, "changed");
        }
        CasesCommand::Set { id, field, value } => {
            let change = Change::parse(&field, &value.join(" "))?;
            done(&cases::change(&s, user, who, &id, &change).await?, "changed");
        }
        CasesCommand::Note { id, text } => {
            done(&cases::change(&s, user, who, &id, &Change::Note(text.join(" "))).await?, "noted");
        }
        CasesCommand::Close { id, judgement } => {
            let (classification, reason) = cases::parse_close(&judgement.join(" "))?;
            let case = cases::change(&s, user, who, &id, &Change::Close { classification, reason }).await?;
            done(&case, &format!("closed as {}", classification.name()));
        }
        CasesCommand::Suggest { window, format } => {
            let now = s.clock.now();
            let until = mantissa_backend::model::suppression::parse_until(&window, now)
                .map_err(|e| anyhow::anyhow!("--window: {e}"))?;
            let found = suggest::suggestions(&s, user, until - now).await?;
            let rows: Vec<_> = found
                .iter()
                .map(|g| {
                    json!({"shared": g.title(), "severity": g.severity, "first": time(g.first), "last": time(g.last),
                        "rules": g.rules.join(", "), "alerts": g.alert_ids.join(" ")})
                })
                .collect();
            print(format, &["shared", "severity", "first", "last", "rules", "alerts"], &rows)?;
            if format == Format::Table && !found.is_empty() {
                eprintln!("open one with: mantissa cases new TITLE <its alert ids>");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Full alert ids for what was typed: an id, or the unique start of one (8 characters or more)
/// among the newest alerts.
pub async fn resolve_alerts(s: &Services, user: &str, typed: &[String]) -> Result<Vec<String>> {
    let mut recent = None;
    let mut out = vec![];
    for t in typed {
        let t = t.trim().trim_end_matches('…');
        if s.alerts.get_alert(user, t).await?.is_some() {
            out.push(t.to_string());
            continue;
        }
        if t.len() < 8 {
            bail!("alert `{t}` not found: give its id, or at least its first 8 characters");
        }
        if recent.is_none() {
            let q = AlertQuery { limit: Some(5000), ..Default::default() };
            recent = Some(s.alerts.list_alerts(user, &q).await?);
        }
        let matching: Vec<&str> =
            recent.iter().flatten().filter(|a| a.id.starts_with(t)).map(|a| a.id.as_str()).collect();
        match matching.as_slice() {
            [one] => out.push(one.to_string()),
            [] => bail!("alert `{t}` not found (`mantissa alerts list` shows the ids)"),
            many => bail!("`{t}` is the start of {} alerts: give more of the id", many.len()),
        }
    }
    Ok(out)
}
