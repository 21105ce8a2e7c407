//! `mantissa alerts|dlq|integrations ...`: the pipeline's state for shell pipelines.

use super::{Workspace, output};
use crate::cli::{DlqCommand, Format, IntegrationsCommand};
use anyhow::{Result, bail};
use mantissa_backend::deliver::dead_letters;
use mantissa_backend::deliver::senders::{self, SendContext};
use mantissa_backend::detect::DeliveryMessage;
use mantissa_backend::model::{Alert, AlertStatus, Severity};
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
                "created_at": a.created_at.to_rfc3339(), "severity": a.severity, "rule": a.rule_name,
                "count": a.result_count, "status": match a.status {
                    AlertStatus::Open => "open", AlertStatus::Acknowledged => "acknowledged",
                    AlertStatus::Resolved => "resolved", AlertStatus::FalsePositive => "false_positive" },
                "delivery": crate::widgets::delivery_summary(a), "id": a.id,
                "attempts": a.attempts,
            })
        })
        .collect();
    print(format, &["created_at", "severity", "rule", "count", "status", "delivery", "id"], &rows)?;
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
            let n = s.queue.redrive(&mine).await?;
            eprintln!("redrove {n} message(s); `mantissa serve` delivers them");
        }
        DlqCommand::Delete { id } => {
            s.queue.delete_dead_letter(&id).await?;
            eprintln!("deleted {id}");
        }
        DlqCommand::Purge { yes } => {
            if !yes {
                bail!("purge deletes every dead letter for good: add --yes to confirm");
            }
            eprintln!("purged {} message(s)", s.queue.purge_dead_letters().await?);
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
            let Some(i) = s.integrations.get_integration(&ws.user, &id).await? else {
                bail!("no integration `{id}`: see `mantissa integrations list`");
            };
            let secret = match &i.secret_ref {
                Some(r) => s.secrets.get_secret(r).await?,
                None => None,
            };
            let ctx = SendContext {
                http: mantissa_backend::deliver::outbound::client(15),
                allowed_hosts: s.allowed_hosts.clone(),
            };
            let alert = test_alert(&ws.user);
            match senders::send(&ctx, &i, secret.as_deref(), &alert).await {
                Ok(sent) => eprintln!("test alert sent to {id} (HTTP {:?})", sent.http_status),
                Err(e) => bail!("test send to {id} failed: {}", e.message),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn test_alert(user: &str) -> Alert {
    let now = chrono::Utc::now();
    Alert {
        id: format!("test-{}", now.timestamp()),
        user_id: user.into(),
        rule_id: "test".into(),
        rule_name: "Mantissa Log test alert".into(),
        severity: Severity::Info,
        summary: "Test alert from Mantissa Log: delivery works".into(),
        description: "Sent by `mantissa integrations test`.".into(),
        result_count: 0,
        query: "SELECT 1".into(),
        window_start: now,
        window_end: now,
        sample_rows: vec![],
        created_at: now,
        status: AlertStatus::Open,
        assignee: None,
        notes: vec![],
        attempts: vec![],
    }
}
