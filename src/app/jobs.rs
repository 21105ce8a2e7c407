//! Backend work for the console: every call runs on a tokio task and reports back by message,
//! so keys and redraws never wait on I/O (gitui's async jobs).

use super::{Context, Job, Msg, assist_jobs, case_jobs, history, rule_jobs};
use crate::export;
use crate::panes::Pane;
use crate::panes::setup as setup_pane;
use crate::widgets::grid;
use datafusion::arrow::record_batch::RecordBatch;
use mantissa_backend::deliver::{dead_letters, setup, test_send};
use mantissa_backend::model::QueryState;
use mantissa_backend::ports::{AlertQuery, HELD_ROWS};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// Runs the job on a task; a job with a label reports `Msg::Done` when it ends, however it
/// ends (a panic too, reported as an error), so the status line never keeps a finished job.
pub fn spawn(ctx: &Context, job: Job, tx: UnboundedSender<Msg>) {
    let ctx = ctx.clone();
    let label = job.label();
    let refresh = matches!(job, Job::Refresh(_));
    let (counted, user) = (ctx.s.clone(), ctx.user.clone());
    tokio::spawn(async move {
        let done = tx.clone();
        if let Err(e) = tokio::spawn(run(ctx, job, tx)).await
            && e.is_panic()
        {
            let what = label.unwrap_or("a background job");
            let _ = done.send(Msg::Error(format!("{what} failed unexpectedly; the console goes on")));
        }
        if let Some(label) = label {
            let _ = done.send(Msg::Done(label));
        }
        if refresh {
            let _ = done.send(Msg::Refreshed(pipeline_today(&counted, &user).await));
        }
    });
}

/// Today's (UTC) counters of the user's pipeline, as the status line says them.
async fn pipeline_today(s: &mantissa_backend::services::Services, user: &str) -> Option<String> {
    let today = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0)?.and_utc();
    let totals = s.counters.totals(user, today).await.ok()?;
    mantissa_backend::model::metric::totals_line(&totals)
}

async fn run(ctx: Context, job: Job, tx: UnboundedSender<Msg>) {
    let (s, user) = (&ctx.s, ctx.user.as_str());
    let send = |m: Msg| {
        let _ = tx.send(m);
    };
    match job {
        Job::Batch(jobs) => {
            for job in jobs {
                spawn(&ctx, job, tx.clone());
            }
        }
        Job::RunQuery(sql) => {
            let id = match s.engine.start(&sql).await {
                Ok(id) => id,
                Err(e) => return send(Msg::QueryFailed(e.to_string())),
            };
            send(Msg::QueryStarted(id.clone()));
            loop {
                // A live status every 100 ms while it runs; the rows the moment it ends.
                let Ok(status) = s.engine.wait(&id, Duration::from_millis(100)).await else { return };
                let done = status.state.is_terminal();
                send(Msg::QueryStatus(status.clone()));
                if done {
                    if status.state == QueryState::Succeeded {
                        match mantissa_backend::query::held_rows(s.engine.as_ref(), &id, HELD_ROWS).await {
                            Ok((_, batches, _)) => send(Msg::QueryResults(batches)),
                            Err(e) => send(Msg::QueryFailed(e.to_string())),
                        }
                    }
                    return;
                }
            }
        }
        Job::LoadTables => match s.engine.tables().await {
            Ok(t) => {
                // The rule checks plan against the same tables: one catalog read serves both.
                if let Ok(session) = mantissa_backend::query::planning_session(&t) {
                    let _ = ctx.session.set(session);
                }
                send(Msg::Tables(t))
            }
            Err(e) => send(Msg::Error(format!(
                "cannot list the tables (the picker shows the built-in schemas): {e}"
            ))),
        },
        Job::CancelQuery(id) => {
            if let Err(e) = s.engine.cancel(&id).await {
                send(Msg::Error(e.to_string()));
            }
        }
        Job::Refresh(Pane::Query) => {}
        Job::Refresh(Pane::Alerts) => {
            let q = AlertQuery { limit: Some(alert_page(&ctx)), ..Default::default() };
            match s.alerts.list_alerts(user, &q).await {
                Ok(a) => send(Msg::Alerts(a)),
                Err(e) => send(Msg::Error(e.to_string())),
            }
        }
        Job::OlderAlerts { before } => {
            let q = AlertQuery { before: Some(before), limit: Some(alert_page(&ctx)), ..Default::default() };
            send(Msg::OlderAlerts(s.alerts.list_alerts(user, &q).await.map_err(|e| e.to_string())));
        }
        Job::Refresh(Pane::Rules) => {
            if let Ok(r) = s.rules.list_rules(user).await {
                send(Msg::Rules(r));
            }
        }
        Job::Refresh(Pane::Integrations) => {
            // On AWS the health Lambda stores it every 5 minutes; computing it here would
            // read a day of alert items at every refresh.
            let health = match ctx.refresh.stored_state {
                true => mantissa_backend::deliver::health::stored(s, user).await,
                false => mantissa_backend::deliver::health::refresh(s, user).await,
            };
            if let (Ok(list), Ok(health)) = (s.integrations.list_integrations(user).await, health) {
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
        }
        Job::Refresh(Pane::Cases) => send(case_jobs::list(&ctx).await),
        Job::LoadCase { case_id, timeline } => send(case_jobs::load(&ctx, &case_id, timeline).await),
        Job::OpenCase { title, alert_ids } => {
            case_jobs::open(&ctx, &title, &alert_ids).await.into_iter().for_each(send)
        }
        Job::ChangeCase { case_id, change } => {
            case_jobs::change(&ctx, &case_id, &change).await.into_iter().for_each(send)
        }
        Job::LoadSuggestions => send(case_jobs::suggestions(&ctx).await),
        Job::Refresh(Pane::Dlq) => {
            // On SQS a listing receives every message of the DLQ; history answers in one query.
            let mine = match ctx.refresh.stored_state {
                true => dead_letters::from_history(s, user).await,
                false => dead_letters::for_user(s, user).await,
            };
            match mine {
                Ok(mine) => send(Msg::Dlq(mine)),
                Err(e) => send(Msg::Error(e.to_string())),
            }
        }
        Job::SaveAlerts { alerts, report } => match mantissa_backend::triage::save(s, user, user, &alerts)
            .await
        {
            Ok(_) => send(Msg::Info(report)),
            Err(e) => send(Msg::Error(format!("not all of the {} alert(s) were saved: {e}", alerts.len()))),
        },
        Job::AddSuppression { suppression, alert_id } => {
            use mantissa_backend::detect::suppressions;
            let said = format!(
                "{} until {}: {}",
                suppression.what(),
                suppression.until.format("%Y-%m-%d %H:%M"),
                suppression.reason
            );
            let entry = alert_id.map(|id| mantissa_backend::model::Activity {
                alert_id: id,
                at: s.clock.now(),
                who: user.to_string(),
                kind: mantissa_backend::model::ActivityKind::Suppression,
                detail: said.clone(),
            });
            let stored = async {
                suppressions::add(s, user, *suppression).await?;
                s.activity.append_activity(user, &entry.into_iter().collect::<Vec<_>>()).await
            };
            send(match stored.await {
                Ok(()) => {
                    Msg::Info(format!("suppressed: {said}; its alerts are kept, marked, and not delivered"))
                }
                Err(e) => Msg::Error(format!("the suppression was not stored: {e}")),
            })
        }
        Job::Estimate(sql) => {
            let facts = mantissa_backend::assist::query::LakeFacts::read(s, &ctx.lake).await;
            let said = match facts {
                Ok(facts) => match facts.view().check(&sql).await {
                    Ok(scan) => {
                        let draft = mantissa_backend::assist::query::QueryDraft {
                            sql: String::new(),
                            problem: None,
                            corrected: false,
                            scan,
                        };
                        Msg::Info(format!("the timeline {}; F5 runs it", draft.estimate()))
                    }
                    Err(e) => Msg::Error(format!("the timeline does not plan: {e}")),
                },
                Err(e) => Msg::Error(e.to_string()),
            };
            send(said)
        }
        Job::LoadSuppressions => send(Msg::Suppressions(
            mantissa_backend::detect::suppressions::list(s, user).await.map_err(|e| e.to_string()),
        )),
        Job::LiftSuppression(id) => {
            send(match mantissa_backend::detect::suppressions::lift(s, user, &id).await {
                Ok(true) => Msg::Info(format!("suppression {id} ended; new alerts are delivered again")),
                Ok(false) => Msg::Error(format!("no live suppression `{id}`: :suppressions lists them")),
                Err(e) => Msg::Error(e.to_string()),
            })
        }
        Job::LoadLedger => {
            send(Msg::Ledger(mantissa_backend::rules::ledger::read(s, user).await.map_err(|e| e.to_string())))
        }
        Job::LoadActivity(alert_id) => {
            let entries = s.activity.activity(user, &alert_id).await.map_err(|e| e.to_string());
            send(Msg::Activity { alert_id, entries })
        }
        Job::SaveRule(rule) => match s.rules.put_rule(user, &rule).await {
            Ok(()) => send(Msg::Info(format!(
                "rule {} {}",
                rule.id,
                if rule.enabled { "enabled" } else { "disabled" }
            ))),
            Err(e) => send(Msg::Error(e.to_string())),
        },
        Job::RunRule(rule) => {
            // The same run as a scheduled one: the window after the rule's last, alerts
            // stored then routed, the window moved on.
            let f = mantissa_backend::detect::fire(s, user, &rule, s.clock.now()).await;
            let text = match (&f.error, f.alert_ids.len(), f.window_start.zip(f.window_end)) {
                (Some(e), _, _) => format!("rule {} failed: {e}", rule.id),
                (None, _, None) => format!("rule {}: nothing new since its last run", rule.id),
                (None, 0, Some((from, to))) => {
                    format!(
                        "rule {}: no alert for {} to {}",
                        rule.id,
                        from.format("%H:%M"),
                        to.format("%H:%M")
                    )
                }
                (None, n, Some(_)) => format!("rule {}: {n} alert(s) made or updated and routed", rule.id),
            };
            send(Msg::Info(text));
        }
        Job::Redrive(ids) => match dead_letters::redrive(s, user, &ids).await {
            Ok(n) => send(Msg::Info(format!("redrove {n} message(s)"))),
            Err(e) => send(Msg::Error(e.to_string())),
        },
        Job::DeleteDead(id) => match dead_letters::discard(s, user, &id).await {
            Ok(()) => send(Msg::Info(format!("deleted {id}"))),
            Err(e) => send(Msg::Error(e.to_string())),
        },
        Job::OpenRule { rule, test } => send(rule_jobs::open(&ctx, rule, test)),
        Job::CheckRule { generation, path, text } => {
            send(rule_jobs::check(&ctx, generation, &path, &text).await)
        }
        Job::TestRule { path, text } => send(rule_jobs::test(&path, &text).await),
        Job::Hunt { rule_ids, from } => send(rule_jobs::hunt(&ctx, &rule_ids, &from).await),
        Job::Backtest { path, text, days } => send(rule_jobs::backtest(&ctx, &path, &text, days).await),
        Job::SaveRuleFile { path, text, force } => send(rule_jobs::save(&ctx, path, &text, force).await),
        Job::GridView(req) => {
            let generation = req.generation;
            let order = tokio::task::spawn_blocking(move || grid::compute_view(&req))
                .await
                .unwrap_or_else(|e| Err(format!("sorting failed: {e}")));
            send(Msg::GridView { generation, order });
        }
        Job::Export { format, path, batches, order } => {
            let rows = order.as_ref().map_or(batches.iter().map(|b| b.num_rows()).sum(), |o| o.len());
            let shown = path.display().to_string();
            let written = tokio::task::spawn_blocking(move || {
                export(&format, &path, &batches, order.as_deref().map(|o| o.as_slice()))
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r);
            send(match written {
                Ok(bytes) => Msg::Info(format!("exported {rows} rows to {shown} ({bytes} bytes)")),
                Err(e) => Msg::Error(format!("export to {shown} failed: {e:#}")),
            });
        }
        Job::ExportQuery { format, path, sql } => {
            let shown = path.display().to_string();
            send(match export_query(s, &format, &path, &sql).await {
                Ok((rows, bytes)) => Msg::Info(format!("exported {rows} rows to {shown} ({bytes} bytes)")),
                Err(e) => Msg::Error(format!("export to {shown} failed: {e:#}")),
            });
        }
        Job::SaveHistory(path, entry) => {
            let saved = tokio::task::spawn_blocking(move || {
                history::append(&path, &entry).map_err(|e| format!("{}: {e}", path.display()))
            });
            if let Ok(Err(e)) = saved.await {
                send(Msg::Error(format!("query history not saved: {e}")));
            }
        }
        Job::TestSend(id) => match mantissa_backend::deliver::test_send::test_send(s, user, &id).await {
            Ok(status) => send(Msg::Info(format!(
                "test alert sent to {id}{}",
                status.map(|c| format!(" (HTTP {c})")).unwrap_or_default()
            ))),
            Err(e) => send(Msg::Error(e.to_string())),
        },
        Job::DeleteIntegration(id) => match setup::delete(s, user, &id).await {
            Ok(()) => send(Msg::Info(format!("deleted integration {id}"))),
            Err(e) => send(Msg::Error(e.to_string())),
        },
        Job::SaveIntegration { integration, secret } => {
            let secret = secret.as_ref().map(|t| t.0.as_str());
            let saved = setup::save(s, integration, secret).await.map(|i| {
                let stored = i.secret_ref.map(|r| format!("; secret stored as {r}")).unwrap_or_default();
                format!("saved integration {} ({}){stored}", i.id, setup_pane::kind_name(i.kind))
            });
            send(Msg::SetupSaved(saved.map_err(|e| e.to_string())));
        }
        Job::TestSetup { integration, secret } => {
            let secret = secret.as_ref().map(|t| t.0.as_str());
            let sent = test_send::test_setup(s, &integration, secret).await.map(|status| {
                let http = status.map(|c| format!(" (HTTP {c})")).unwrap_or_default();
                format!("test alert sent{http}: check it arrived, then save")
            });
            send(Msg::SetupTested(sent.map_err(|e| e.to_string())));
        }
        Job::JiraProjects { integration, secret } => {
            let secret = secret.as_ref().map(|t| t.0.as_str());
            let projects = setup::jira_projects(s, &integration, secret).await;
            send(Msg::JiraProjects(projects.map_err(|e| e.to_string())));
        }
        Job::Route { alert_ids, words } => send(match route(s, user, &alert_ids, &words).await {
            Ok(text) => Msg::Info(text),
            Err(e) => Msg::Error(e.to_string()),
        }),
        Job::Ask(question) => send(assist_jobs::ask(&ctx, &question).await),
        Job::DraftRule(question) => send(assist_jobs::draft_rule(&ctx, &question).await),
        Job::Explain(alert) => send(assist_jobs::explain(&ctx, &alert).await),
        Job::LoadSettings { view } => send(assist_jobs::load_settings(&ctx, view).await),
        Job::SetSetting { key, value } => send(assist_jobs::set_setting(&ctx, &key, &value.0).await),
    }
}

/// Alerts per page: the user's setting, the default before the app has set it.
fn alert_page(ctx: &Context) -> usize {
    match ctx.alert_page.load(std::sync::atomic::Ordering::Relaxed) {
        0 => crate::panes::alerts::ALERT_PAGE,
        n => n,
    }
}

/// `:route WORDS` for these alerts: the integrations the words name (a name, or a kind such
/// as slack or "page the on-call"), each alert queued to each.
async fn route(
    s: &mantissa_backend::services::Services,
    user: &str,
    alert_ids: &[String],
    words: &str,
) -> mantissa_backend::Result<String> {
    let integrations = s.integrations.list_integrations(user).await?;
    let targets = mantissa_backend::detect::resolve_route(words, &integrations)?;
    let mut sent = 0;
    for id in alert_ids {
        let Some(mut alert) = s.alerts.get_alert(user, id).await? else { continue };
        let rule = s.rules.get_rule(user, &alert.rule_id).await?;
        sent += mantissa_backend::detect::route_to(s, rule.as_ref(), &mut alert, &targets).await?;
    }
    let names: Vec<&str> = targets.iter().map(|i| i.name.as_str()).collect();
    Ok(format!("{} alert(s) queued to {} ({sent} message(s))", alert_ids.len(), names.join(", ")))
}

/// Writes the result as shown to `path`: CSV with a header, a JSON array, or Parquet (zstd).
fn export(
    format: &str,
    path: &std::path::Path,
    batches: &[RecordBatch],
    order: Option<&[u32]>,
) -> anyhow::Result<u64> {
    use anyhow::Context as _;
    let batches = grid::ordered(batches, order)?;
    let (partial, out) = Partial::create(path, format)?;
    let schema = batches.first().map(|b| b.schema()).context("no columns to write")?;
    let mut out = export::write_all(format, out, &schema, &batches, false)?;
    std::io::Write::flush(&mut out)?;
    partial.commit()
}

/// Runs `sql` again and streams every row into `path`, for a result larger than the grid
/// holds; returns the rows and the file's size.
async fn export_query(
    s: &mantissa_backend::services::Services,
    format: &str,
    path: &std::path::Path,
    sql: &str,
) -> anyhow::Result<(u64, u64)> {
    let (partial, out) = Partial::create(path, format)?;
    let mut writer = export::Writer::new(format, out, false)?;
    export::stream_into(s.engine.as_ref(), sql, &mut writer).await?;
    let rows = writer.rows;
    let mut out = writer.finish()?;
    std::io::Write::flush(&mut out)?;
    Ok((rows, partial.commit()?))
}

/// An export written next to its name and renamed when done, so a failed one leaves no half
/// file (dropped unfinished, it removes what it wrote).
struct Partial {
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    done: bool,
}

impl Partial {
    fn create(
        path: &std::path::Path,
        format: &str,
    ) -> anyhow::Result<(Self, std::io::BufWriter<std::fs::File>)> {
        use anyhow::Context as _;
        let tmp = path.with_extension(format!("{format}.partial"));
        let file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok((Partial { tmp, path: path.to_path_buf(), done: false }, std::io::BufWriter::new(file)))
    }

    /// Renames the finished file into place; returns its size.
    fn commit(mut self) -> anyhow::Result<u64> {
        use anyhow::Context as _;
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("cannot move {} to {}", self.tmp.display(), self.path.display()))?;
        self.done = true;
        Ok(std::fs::metadata(&self.path)?.len())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn export_writes_csv_json_and_parquet_in_the_shown_order() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["a", "b,\"c\"", "d"])),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
            ],
        )
        .unwrap();
        let dir = tempfile::TempDir::new().unwrap();
        let order = [2u32, 1];
        let csv = dir.path().join("r.csv");
        export("csv", &csv, std::slice::from_ref(&batch), Some(&order)).unwrap();
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "name,n\nd,3\n\"b,\"\"c\"\"\",2\n");
        let json = dir.path().join("r.json");
        export("json", &json, std::slice::from_ref(&batch), None).unwrap();
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(v[2], serde_json::json!({"name": "d", "n": 3}));
        let pq = dir.path().join("r.parquet");
        export("parquet", &pq, &[batch], Some(&order)).unwrap();
        let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(&pq).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        let back: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(back[0].num_rows(), 2);
        assert_eq!(back[0].column(1).as_any().downcast_ref::<Int64Array>().unwrap().value(0), 3);
        // A path that cannot be written is an error naming it, and nothing is left behind.
        let e = export("csv", &dir.path().join("no/such/dir/r.csv"), &[], None).unwrap_err();
        assert!(format!("{e:#}").contains("no/such/dir"), "{e:#}");
    }
}
