//! `mantissa alerts|dlq|integrations ...`: the pipeline's state for shell pipelines.

use super::{Workspace, output};
use crate::cli::{DlqCommand, Format, IntegrationsCommand};
use anyhow::{Result, bail};
use mantissa_backend::deliver::dead_letters;
use mantissa_backend::detect::DeliveryMessage;
use mantissa_backend::model::Severity;
use mantissa_backend::ports::AlertQuery;
use serde_json::json;
use std::process::ExitCode;

fn print(format: Format, columns: &[&str], rows: &[serde_json::Value]) -> Result<()> {
    output::records(&mut std::io::stdout().lock(), format, columns, rows)
}

pub async fn alerts(
    ws: &Workspace,
    format: Format,
    limit: usize,
    severity: Option<Severity>,
) -> Result<ExitCode> {
    let s = ws.services().await?;
    let q = AlertQuery { limit: Some(limit), min_severity: severity, ..Default::default() };
    let rows: Vec<_> = s
        .alerts
        .list_alerts(&ws.user, &q)
        .await?
        .iter()
        .map(|a| {
            json!({
                "created_at": a.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "severity": a.severity, "rule": a.rule_name,
                "count": a.result_count, "status": mantissa_backend::model::status_name(a.status),
                "classification": a.classification.map(|c| c.name()),
                "delivery": crate::widgets::delivery_summary(a), "id": a.id,
                "attempts": a.attempts,
            })
        })
        .collect();
    print(
        format,
        &["created_at", "severity", "rule", "count", "status", "classification", "delivery", "id"],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

pub async fn dlq(ws: &Workspace, cmd: DlqCommand) -> Result<ExitCode> {
    let s = ws.services().await?;
    match cmd {
        DlqCommand::List { format } => {
            let now = s.clock.now();
            let rows: Vec<_> = dead_letters::for_user(&s, &ws.user)
                .await?
                .into_iter()
                .map(|d| {
                    let msg: Option<DeliveryMessage> = serde_json::from_str(&d.body).ok();
                    json!({
                        "message_id": d.message_id,
                        "alert": msg.as_ref().map(|m| m.alert.summary.clone()),
                        "integration": msg.as_ref().map(|m| m.integration_id.clone()),
                        "receives": d.receive_count,
                        "last_error": d.last_error,
                        "age_s": (now - d.sent_at).num_seconds(),
                    })
                })
                .collect();
            print(format, &["message_id", "alert", "integration", "receives", "last_error", "age_s"], &rows)?;
        }
        DlqCommand::Redrive { ids, all } => {
            let mine: Vec<String> = dead_letters::for_user(&s, &ws.user)
                .await?
                .into_iter()
                .map(|d| d.message_id)
                .filter(|id| all || ids.contains(id))
                .collect();
            if mine.is_empty() {
                bail!("nothing to redrive: give message ids from `mantissa dlq list`, or --all");
            }
            let n = dead_letters::redrive(&s, &ws.user, &mine).await?;
            eprintln!("redrove {n} message(s); `mantissa serve` delivers them");
        }
        DlqCommand::Delete { id } => {
            dead_letters::discard(&s, &ws.user, &id).await?;
            eprintln!("deleted {id}");
        }
        DlqCommand::Purge { yes } => {
            if !yes {
                bail!("purge deletes all your dead letters for good: add --yes to confirm");
            }
            eprintln!("purged {} message(s)", s.queue.purge_dead_letters(&ws.user).await?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn integrations(ws: &Workspace, cmd: IntegrationsCommand) -> Result<ExitCode> {
    let s = ws.services().await?;
    match cmd {
        IntegrationsCommand::List { format } => {
            let health = mantissa_backend::deliver::health::refresh(&s, &ws.user).await?;
            let rows: Vec<_> = s
                .integrations
                .list_integrations(&ws.user)
                .await?
                .iter()
                .map(|i| {
                    let h = health.iter().find(|h| h.integration_id == i.id);
                    json!({
                        "id": i.id, "kind": i.kind, "enabled": i.enabled, "min_severity": i.min_severity,
                        "health": h.map(|h| h.state), "success_rate_24h": h.and_then(|h| h.success_rate),
                        "attempts_24h": h.map(|h| h.attempts), "p95_ms": h.and_then(|h| h.p95_latency_ms),
                        "secret": i.secret_ref.as_ref().map(|_| "••••••"),
                        "last_error": h.and_then(|h| h.last_error.clone()),
                    })
                })
                .collect();
            print(
                format,
                &[
                    "id",
                    "kind",
                    "enabled",
                    "min_severity",
                    "health",
                    "success_rate_24h",
                    "attempts_24h",
                    "p95_ms",
                    "secret",
                    "last_error",
                ],
                &rows,
            )?;
        }
        IntegrationsCommand::Test { id } => {
            let status = mantissa_backend::deliver::test_send::test_send(&s, &ws.user, &id).await?;
            eprintln!("test alert sent to {id} (HTTP {status:?})");
        }
    }
    Ok(ExitCode::SUCCESS)
}
