//! `mantissa` with no subcommand: a short status of the workspace. On first start (an empty
//! lake) it makes the demo workspace first, as the console will.

use super::{Workspace, demo};
use crate::cli::GlobalArgs;
use anyhow::Result;
use mantissa_backend::demo::DemoOptions;
use std::process::ExitCode;

/// The console on a terminal; the status text otherwise (pipes, CI).
pub async fn run(ws: &Workspace, global: &GlobalArgs) -> Result<ExitCode> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        return console(ws, global).await;
    }
    print_status(ws).await
}

async fn console(ws: &Workspace, global: &GlobalArgs) -> Result<ExitCode> {
    let (env, read_only) = (&global.env, global.read_only);
    use mantissa_backend::deliver::DeliveryWorker;
    use mantissa_backend::detect::SchedulerRunner;
    let mut welcome = None;
    let on_aws = ws.aws.is_some();
    if !on_aws && ws.lake.inventory().iter().all(|(_, files, _)| *files == 0) {
        // On the terminal before the console takes it: each step as it ends, so a first start
        // over SSH shows life for the seconds it takes.
        let opts = DemoOptions::default();
        eprintln!(
            "First start: making the demo workspace in {} ({} days of logs, demo rules and integrations) ...",
            ws.data_dir.display(),
            opts.days
        );
        let started = std::time::Instant::now();
        let report = demo::make(ws, opts, |step| eprintln!("  {step}")).await?;
        eprintln!("Made in {:.1} s; opening the console ...", started.elapsed().as_secs_f64());
        welcome = Some(format!(
            "First start: made the demo workspace ({} events, demo rules and integrations) in {}",
            report.total(),
            ws.data_dir.display()
        ));
    }
    let s = ws.services().await?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    // The embedded default runs the pipeline in-process, so alerts arrive while you watch; on
    // AWS the Lambdas run it.
    let scheduler_elsewhere = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if !on_aws {
        let flag = scheduler_elsewhere.clone();
        let on_state = move |leading: bool| flag.store(!leading, std::sync::atomic::Ordering::Relaxed);
        let runner = SchedulerRunner::new(s.clone(), &ws.user);
        tokio::spawn(runner.run_exclusive(ws.data_dir.clone(), stop.clone(), |_| {}, on_state));
        let worker = DeliveryWorker::new(s.clone());
        let worker_stop = stop.clone();
        tokio::spawn(async move { worker.run(worker_stop).await });
    }
    let place = match &ws.aws {
        Some(a) => format!("aws · {}", a.region.as_deref().unwrap_or("default region")),
        None => format!("local · {}", ws.data_dir.display()),
    };
    let status =
        format!("{place} · user {} · env {}{}", ws.user, env, if read_only { " · read-only" } else { "" });
    let ctx = crate::app::Context {
        s,
        user: ws.user.clone(),
        rules_dir: ws.data_dir.join("rules"),
        sync_target: format!("{}:{}", if on_aws { "aws" } else { "local" }, ws.user),
        lake: ws.lake.clone(),
        session: Default::default(),
        refresh: if on_aws { crate::app::RefreshPolicy::AWS } else { crate::app::RefreshPolicy::LOCAL },
        alert_page: Default::default(),
    };
    let mut app = crate::app::App::new(status, read_only);
    app.scheduler_elsewhere = scheduler_elsewhere;
    // The user's settings: the theme unless --theme names one, page size, look-back, and
    // whether the assistant is on. One read before the first frame.
    let (user_settings, settings_problem) = match mantissa_backend::settings::load(&ctx.s, &ws.user).await {
        Ok(s) => (s, None),
        Err(e) => (Default::default(), Some(format!("cannot read your settings (defaults used): {e}"))),
    };
    let theme_dir = crate::config::user_dir("themes");
    let chosen = global.theme.clone().or_else(|| user_settings.ui.theme.clone());
    let (theme, theme_problem) =
        crate::config::theme::for_session(chosen.as_deref(), env, theme_dir.as_deref());
    app.query.start_with(user_settings.ui.default_time_range);
    app.apply_settings(user_settings);
    app.ui.theme = theme;
    app.theme_dir = theme_dir;
    app.ui.user = ws.user.clone();
    let keymap_dir = crate::config::user_dir("keymaps");
    let (keymap, keymap_problems) = crate::config::keymap::load(&global.keymap, keymap_dir.as_deref());
    app.ui.keymap = keymap;
    app.keymap_dir = keymap_dir;
    let (history, history_problem) =
        crate::app::history::History::load(crate::app::history::History::path_for(&ws.data_dir, &ws.user));
    app.query.history = history;
    // Problems with the user's files come first; the welcome otherwise.
    let keymap_problem = keymap_problems.first().map(|p| {
        format!(
            "{p}{}",
            if keymap_problems.len() > 1 {
                format!(" (+{} more)", keymap_problems.len() - 1)
            } else {
                String::new()
            }
        )
    });
    match (theme_problem.or(keymap_problem).or(history_problem).or(settings_problem), welcome) {
        (Some(problem), _) => app.ui.error(problem),
        (None, Some(w)) => app.ui.info(w),
        (None, None) => {}
    }
    let result = crate::app::run(ctx, app).await;
    let _ = stop_tx.send(true);
    result.map(|_| ExitCode::SUCCESS)
}

async fn print_status(ws: &Workspace) -> Result<ExitCode> {
    match &ws.aws {
        Some(a) => println!("Mantissa Log - AWS environment `{}` for user `{}`", a.env, ws.user),
        None => {
            if ws.lake.inventory().iter().all(|(_, files, _)| *files == 0) {
                println!("First start: making the demo workspace in {} ...", ws.data_dir.display());
                let report = demo::make(ws, DemoOptions::default(), |step| eprintln!("  {step}")).await?;
                demo::print_report(&report);
            }
            println!("Mantissa Log - data dir {}", ws.data_dir.display());
            for (table, files, bytes) in ws.lake.inventory() {
                println!("  {:<16} {files:>5} files {:>10.1} MB", table.name(), bytes as f64 / 1048576.0);
            }
        }
    }
    let s = ws.services().await?;
    let depth = s.queue.depth().await?;
    println!("  rules        {:>6}", s.rules.list_rules(&ws.user).await?.len());
    println!("  integrations {:>6}", s.integrations.list_integrations(&ws.user).await?.len());
    println!("  queued       {:>6}   dead letters {}", depth.queued, depth.dead);
    let today = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let totals = match today {
        Some(t) => s.counters.totals(&ws.user, t).await?,
        None => vec![],
    };
    match mantissa_backend::model::metric::totals_line(&totals) {
        Some(line) => println!("  today        {line}"),
        None if ws.aws.is_some() => {
            println!("  metrics      in CloudWatch, namespace MantissaLog (the Lambdas' EMF lines)")
        }
        None => println!("  today        no rule runs yet"),
    }
    if ws.aws.is_none() {
        println!(
            "Try: mantissa query \"SELECT eventname, count(*) FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC\""
        );
    }
    Ok(ExitCode::SUCCESS)
}
