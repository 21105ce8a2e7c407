//! Running the console: the context jobs work in, the terminal set up and restored, and the
//! one loop over keys, job replies and the refresh tick. Jobs start (and are counted) here.

use super::{App, Job, Msg, jobs};
use crossterm::event::{Event, EventStream};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use mantissa_backend::local::Lake;
use mantissa_backend::services::Services;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What jobs work with: the backend, the analyst, the rules folder and the lake whose schemas
/// rule queries are checked against.
#[derive(Clone)]
pub struct Context {
    pub s: Services,
    pub user: String,
    pub rules_dir: PathBuf,
    /// The sync state's key for this backend and user (`local:analyst`), as `rules push` uses.
    pub sync_target: String,
    pub lake: Lake,
    /// Planning needs only the schemas: one session serves every check.
    pub session: Arc<tokio::sync::OnceCell<SessionContext>>,
    pub refresh: RefreshPolicy,
    /// Alerts per page, as the user's settings say (the app sets it before each job).
    pub alert_page: Arc<std::sync::atomic::AtomicUsize>,
}

/// How often the visible pane is reloaded, and from where health comes.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    pub every: Duration,
    /// Health as the health Lambda stored it, and dead letters as alert history records them,
    /// instead of computing health from a day of attempts and receiving the whole DLQ.
    pub stored_state: bool,
}

impl RefreshPolicy {
    /// Locally reads are free: every 2 s, health computed, the DLQ read.
    pub const LOCAL: RefreshPolicy = RefreshPolicy { every: Duration::from_secs(2), stored_state: false };
    /// On AWS every read is billed: every 15 s, from stored state.
    pub const AWS: RefreshPolicy = RefreshPolicy { every: Duration::from_secs(15), stored_state: true };
}

impl Context {
    /// The embedded backend in `dir` for user `analyst`, for tests of jobs.
    #[cfg(test)]
    pub async fn for_tests(dir: &std::path::Path) -> Context {
        Context {
            s: Services::local(dir).await.expect("the embedded backend opens"),
            user: "analyst".into(),
            rules_dir: dir.join("rules"),
            sync_target: "local:analyst".into(),
            lake: Lake::new(dir),
            session: Default::default(),
            refresh: RefreshPolicy::LOCAL,
            alert_page: Default::default(),
        }
    }
}

/// Runs the console until `:q`; the terminal is restored on exit and on panic.
pub async fn run(ctx: Context, app: App) -> anyhow::Result<()> {
    crate::widgets::highlight::load_in_background();
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, ctx, app).await;
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    ctx: Context,
    mut app: App,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut events = EventStream::new();
    app.start(&ctx, Job::LoadTables, &tx);
    let mut refresh = tokio::time::interval(ctx.refresh.every);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        if dirty {
            terminal.draw(|f| super::frame::render(&app, f))?;
            dirty = false;
        }
        if let Some(text) = app.ui.clipboard.take() {
            use base64::Engine as _;
            use std::io::Write as _;
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            let mut out = std::io::stdout().lock();
            write!(out, "\x1b]52;c;{encoded}\x07")?;
            out.flush()?;
        }
        if app.quit {
            return Ok(());
        }
        #[cfg(unix)]
        let sigterm = term.recv();
        #[cfg(not(unix))]
        let sigterm = std::future::pending::<Option<()>>();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) => {
                    let shown = app.pane;
                    for job in app.handle_key(key) {
                        app.start(&ctx, job, &tx);
                    }
                    if app.pane != shown {
                        // A pane just opened shows fresh rows now, not at the next tick.
                        app.start(&ctx, Job::Refresh(app.pane), &tx);
                    }
                    dirty = true;
                }
                Some(Ok(Event::Resize(_, _))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(msg) = rx.recv() => {
                dirty |= app.update(msg);
                for job in std::mem::take(&mut app.ui.queued) {
                    app.start(&ctx, job, &tx);
                }
            }
            _ = refresh.tick() => app.start(&ctx, Job::Refresh(app.pane), &tx),
            _ = sigterm => return Ok(()),
        }
    }
}

impl App {
    /// Starts a job on a task and counts it as running until its `Msg::Done`.
    pub fn start(&mut self, ctx: &Context, job: Job, tx: &mpsc::UnboundedSender<Msg>) {
        if let Job::Batch(jobs) = job {
            return jobs.into_iter().for_each(|j| self.start(ctx, j, tx));
        }
        if let Job::Refresh(_) = job {
            // One refresh in flight: a slow backend gets no pile of them.
            if self.refreshing {
                return;
            }
            self.refreshing = true;
        }
        if let Some(label) = job.label() {
            *self.running.entry(label).or_default() += 1;
        }
        ctx.alert_page.store(self.alerts.page_size(), std::sync::atomic::Ordering::Relaxed);
        jobs::spawn(ctx, job, tx.clone());
    }

    /// The status line: where and who, then the jobs on their way (`running: query, export`).
    pub fn status(&self) -> String {
        let mut line = self.status_line.clone();
        if self.scheduler_elsewhere.load(std::sync::atomic::Ordering::Relaxed) {
            line.push_str(" · rules run in another process");
        }
        if let Some(today) = &self.pipeline {
            line.push_str(&format!(" · today {today}"));
        }
        if self.running.is_empty() {
            return line;
        }
        let jobs: Vec<String> = self
            .running
            .iter()
            .map(|(label, n)| if *n > 1 { format!("{label} x{n}") } else { label.to_string() })
            .collect();
        format!("{line} · running: {}", jobs.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::Pane;

    /// A refresh started while one is on its way is dropped, so a slow backend (Athena,
    /// DynamoDB over a bad link) never has a pile of them; the next starts after the reply.
    #[tokio::test]
    async fn one_refresh_is_in_flight_at_a_time() {
        let dir = tempfile::TempDir::new().unwrap();
        let ctx = Context::for_tests(dir.path()).await;
        let mut app = App::new("local · analyst".into(), false);
        let (tx, mut rx) = mpsc::unbounded_channel();
        app.start(&ctx, Job::Refresh(Pane::Rules), &tx);
        app.start(&ctx, Job::Refresh(Pane::Rules), &tx);
        app.start(&ctx, Job::Refresh(Pane::Alerts), &tx);
        let mut replies = vec![];
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
            let end = matches!(msg, Msg::Refreshed(_));
            replies.push(format!("{msg:?}").split(['(', ' ']).next().unwrap_or_default().to_string());
            app.update(msg);
            if end {
                break;
            }
        }
        assert_eq!(replies, ["Rules", "Refreshed"], "one refresh, of the rules pane only");
        assert!(!app.refreshing);
        app.start(&ctx, Job::Refresh(Pane::Alerts), &tx);
        assert!(app.refreshing, "the next one starts once the first has ended");
    }

    /// The status line lists labelled jobs until each reports its end, failed or not.
    #[tokio::test]
    async fn the_status_line_lists_running_jobs_until_they_end() {
        let dir = tempfile::TempDir::new().unwrap();
        let ctx = Context::for_tests(dir.path()).await;
        let mut app = App::new("local · analyst".into(), false);
        let (tx, mut rx) = mpsc::unbounded_channel();
        app.start(&ctx, Job::Batch(vec![Job::TestSend("nope".into()), Job::TestSend("nope2".into())]), &tx);
        app.start(&ctx, Job::Refresh(Pane::Alerts), &tx);
        assert_eq!(app.status(), "local · analyst · running: test send x2");
        let (mut done, mut refreshed) = (0, false);
        while done < 2 || !refreshed {
            let msg = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
            done += matches!(msg, Msg::Done(_)) as usize;
            refreshed |= matches!(msg, Msg::Refreshed(_));
            app.update(msg);
        }
        assert_eq!(app.status(), "local · analyst", "the refresh never shows there");
        assert!(!app.refreshing, "the refresh reported its end");
        assert!(
            app.ui.message.as_ref().unwrap().1.contains("nope"),
            "the failure is shown: {:?}",
            app.ui.message
        );
    }
}
