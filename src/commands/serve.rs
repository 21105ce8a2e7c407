//! `mantissa serve`: scheduler, delivery worker and health monitor in one process until
//! Ctrl-C or SIGTERM; a delivery batch in hand is finished before exit.

use super::Workspace;
use anyhow::Result;
use mantissa_backend::deliver::{DeliveryWorker, health};
use mantissa_backend::detect::SchedulerRunner;
use mantissa_backend::text::neutralize;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(ws: &Workspace) -> Result<ExitCode> {
    let s = ws.services().await?;
    let (stop_tx, stop) = watch::channel(false);
    eprintln!("serving for user `{}` from {} (Ctrl-C to stop)", ws.user, ws.data_dir.display());

    let scheduler = SchedulerRunner::new(s.clone(), &ws.user);
    let on_fired = |f: mantissa_backend::detect::Fired| match (&f.alert_ids[..], &f.error) {
        (_, Some(e)) => eprintln!("{} rule {} failed: {}", f.at.format("%H:%M:%S"), f.rule_id, neutralize(e)),
        ([], None) => {}
        (ids, None) => {
            eprintln!("{} rule {} alerted: {}", f.at.format("%H:%M:%S"), f.rule_id, ids.join(", "))
        }
    };
    let on_state = |leading: bool| {
        if leading {
            eprintln!("scheduler: running rules for this workspace");
        } else {
            eprintln!("scheduler: another process runs this workspace's rules; waiting to take over");
        }
    };
    let sched_task =
        tokio::spawn(scheduler.run_exclusive(ws.data_dir.clone(), stop.clone(), on_fired, on_state));
    let worker = DeliveryWorker::new(s.clone());
    let worker_stop = stop.clone();
    let worker_task = tokio::spawn(async move { worker.run(worker_stop).await });
    let (hs, user, mut health_stop) = (s.clone(), ws.user.clone(), stop.clone());
    let health_task = tokio::spawn(async move {
        loop {
            if let Err(e) = health::refresh(&hs, &user).await {
                eprintln!("health monitor: {e}");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(300)) => {}
                _ = health_stop.changed() => return,
            }
        }
    });

    shutdown_signal().await;
    eprintln!("stopping: finishing deliveries in hand ...");
    let _ = stop_tx.send(true);
    let _ = tokio::join!(sched_task, worker_task, health_task);
    Ok(ExitCode::SUCCESS)
}

/// `mantissa worker`: delivery only, until Ctrl-C or SIGTERM.
pub async fn worker(ws: &Workspace, visibility_secs: u64) -> Result<ExitCode> {
    let s = ws.services().await?;
    let (stop_tx, stop) = watch::channel(false);
    let worker = DeliveryWorker::new(s).with_visibility(visibility_secs);
    let task = tokio::spawn(async move { worker.run(stop).await });
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    task.await??;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
