//! Backend work for the console: every call runs on a tokio task and reports back by message,
//! so keys and redraws never wait on I/O (gitui's async jobs).

use super::{Context, Job, Msg, rule_jobs};
use mantissa_backend::model::QueryState;
use mantissa_backend::ports::{AlertQuery, PageRequest};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

pub fn spawn(ctx: &Context, job: Job, tx: UnboundedSender<Msg>) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let (s, user) = (&ctx.s, ctx.user.as_str());
        let send = |m: Msg| {
            let _ = tx.send(m);
        };
        match job {
            Job::RunQuery(sql) => {
                let id = match s.engine.start(&sql).await {
                    Ok(id) => id,
                    Err(e) => return send(Msg::QueryFailed(e.to_string())),
                };
                send(Msg::QueryStarted(id.clone()));
                loop {
                    let Ok(status) = s.engine.status(&id).await else { return };
                    let done = status.state.is_terminal();
                    send(Msg::QueryStatus(status.clone()));
                    if done {
                        if status.state == QueryState::Succeeded {
                            let mut batches = vec![];
                            let mut page = PageRequest::first(10_000);
                            loop {
                                match s.engine.results(&id, page.clone()).await {
                                    Ok(mut p) => {
                                        batches.append(&mut p.batches);
                                        match p.next_token {
                                            Some(t) => page.token = Some(t),
                                            None => break,
                                        }
                                    }
                                    Err(e) => return send(Msg::QueryFailed(e.to_string())),
                                }
                            }
                            send(Msg::QueryResults(batches));
                        }
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            Job::CancelQuery(id) => {
                if let Err(e) = s.engine.cancel(&id).await {
                    send(Msg::Error(e.to_string()));
                }
            }
            Job::Refresh => {
                let q = AlertQuery { limit: Some(500), ..Default::default() };
                match s.alerts.list_alerts(user, &q).await {
                    Ok(a) => send(Msg::Alerts(a)),
                    Err(e) => send(Msg::Error(e.to_string())),
                }
                if let Ok(r) = s.rules.list_rules(user).await {
                    send(Msg::Rules(r));
                }
                if let (Ok(list), Ok(health)) = (
                    s.integrations.list_integrations(user).await,
                    mantissa_backend::deliver::health::refresh(s, user).await,
                ) {
                    let rows = list
                        .into_iter()
                        .map(|i| {
                            // The time of computation changes every refresh; the console does not show it.
                            let h = health.iter().find(|h| h.integration_id == i.id).cloned().map(|mut h| {
                                h.computed_at = chrono::DateTime::UNIX_EPOCH;
                                h
                            });
                            (i, h)
                        })
                        .collect();
                    send(Msg::Integrations(rows));
                }
                if let Ok(mine) = mantissa_backend::deliver::dead_letters::for_user(s, user).await {
                    send(Msg::Dlq(mine));
                }
            }
            Job::SaveAlert(alert) => match s.alerts.put_alert(&alert).await {
                Ok(()) => send(Msg::Info(format!(
                    "alert {} is {:?}",
                    &alert.id[..8.min(alert.id.len())],
                    alert.status
                ))),
                Err(e) => send(Msg::Error(e.to_string())),
            },
            Job::SaveRule(rule) => match s.rules.put_rule(user, &rule).await {
                Ok(()) => send(Msg::Info(format!(
                    "rule {} {}",
                    rule.id,
                    if rule.enabled { "enabled" } else { "disabled" }
                ))),
                Err(e) => send(Msg::Error(e.to_string())),
            },
            Job::RunRule(rule) => {
                let now = s.clock.now();
                match mantissa_backend::detect::run_rule(s, user, &rule, now).await {
                    Ok(mut o) => {
                        let text = match (&mut o.alert, &o.error) {
                            (_, Some(e)) => format!("rule {} failed: {e}", rule.id),
                            (Some(alert), None) => {
                                match mantissa_backend::detect::route_alert(s, &rule, alert).await {
                                    Ok(n) => format!(
                                        "rule {}: {} rows, alert routed to {n} integration(s)",
                                        rule.id, o.rows
                                    ),
                                    Err(e) => format!("rule {}: routing failed: {e}", rule.id),
                                }
                            }
                            (None, None) => format!("rule {}: {} rows, below the threshold", rule.id, o.rows),
                        };
                        send(Msg::Info(text));
                    }
                    Err(e) => send(Msg::Error(e.to_string())),
                }
            }
            Job::Redrive(ids) => match s.queue.redrive(&ids).await {
                Ok(n) => send(Msg::Info(format!("redrove {n} message(s)"))),
                Err(e) => send(Msg::Error(e.to_string())),
            },
            Job::DeleteDead(id) => match s.queue.delete_dead_letter(&id).await {
                Ok(()) => send(Msg::Info(format!("deleted {id}"))),
                Err(e) => send(Msg::Error(e.to_string())),
            },
            Job::OpenRule { rule, test } => send(rule_jobs::open(&ctx, rule, test)),
            Job::CheckRule { generation, path, text } => {
                send(rule_jobs::check(&ctx, generation, &path, &text).await)
            }
            Job::TestRule { path, text } => send(rule_jobs::test(&path, &text).await),
            Job::SaveRuleFile { path, text } => send(rule_jobs::save(&ctx, path, &text).await),
        }
    });
}
