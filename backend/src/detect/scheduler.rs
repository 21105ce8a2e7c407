//! The in-process scheduler: fires each enabled rule on its rate()/cron() expression, never
//! two runs of one rule at once, catching up at most once after downtime. Time comes from the
//! services' clock, so tests step it by hand.

use super::{route_alert, run_rule};
use crate::error::Result;
use crate::model::Rule;
use crate::services::Services;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A fired rule's run: how many rows, whether it alerted, or its error.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fired {
    pub rule_id: String,
    pub at: DateTime<Utc>,
    pub alert_id: Option<String>,
    pub error: Option<String>,
}

/// One run of `rule` as of `at`, and the routing of its alert: what the in-process scheduler
/// does on each fire and the detection Lambda on each EventBridge event.
pub async fn fire(s: &Services, user: &str, rule: &Rule, at: DateTime<Utc>) -> Fired {
    match run_rule(s, user, rule, at).await {
        Ok(mut o) => {
            let mut error = o.error.take();
            let mut alert_id = None;
            if let Some(mut alert) = o.alert.take() {
                alert_id = Some(alert.id.clone());
                if let Err(e) = route_alert(s, rule, &mut alert).await {
                    error = Some(format!("routing failed: {e}"));
                }
            }
            Fired { rule_id: rule.id.clone(), at, alert_id, error }
        }
        Err(e) => Fired { rule_id: rule.id.clone(), at, alert_id: None, error: Some(e.to_string()) },
    }
}

pub struct SchedulerRunner {
    s: Services,
    user: String,
    /// Per rule: the schedule text it was planned with and its next fire time.
    next: HashMap<String, (String, DateTime<Utc>)>,
    running: Arc<Mutex<HashSet<String>>>,
}

impl SchedulerRunner {
    pub fn new(s: Services, user: &str) -> Self {
        SchedulerRunner { s, user: user.to_string(), next: HashMap::new(), running: Arc::default() }
    }

    /// Starts a run of every enabled rule that is due at `now` and not already running.
    pub async fn tick(&mut self, now: DateTime<Utc>) -> Result<Vec<JoinHandle<Fired>>> {
        let rules = self.s.rules.list_rules(&self.user).await?;
        let mut started = vec![];
        let live: HashSet<&str> = rules.iter().filter(|r| r.enabled).map(|r| r.id.as_str()).collect();
        self.next.retain(|id, _| live.contains(id.as_str()));
        for rule in rules.into_iter().filter(|r| r.enabled) {
            let text = rule.schedule.as_str().to_string();
            let due = match self.next.get(&rule.id) {
                Some((planned, at)) if *planned == text => *at,
                // New or rescheduled: due at the first fire after its last run; never run: now.
                _ => match rule.last_execution {
                    Some(last) => rule.schedule.next_after(last).unwrap_or(DateTime::<Utc>::MAX_UTC),
                    None => now,
                },
            };
            if due > now {
                self.next.insert(rule.id.clone(), (text, due));
                continue;
            }
            // Missed fires collapse into this one run; the next is planned from now.
            let next = rule.schedule.next_after(now).unwrap_or(DateTime::<Utc>::MAX_UTC);
            self.next.insert(rule.id.clone(), (text, next));
            if !self.running.lock().expect("running lock").insert(rule.id.clone()) {
                continue;
            }
            let (s, user, running) = (self.s.clone(), self.user.clone(), self.running.clone());
            started.push(tokio::spawn(async move {
                let fired = fire(&s, &user, &rule, now).await;
                running.lock().expect("running lock").remove(&rule.id);
                fired
            }));
        }
        Ok(started)
    }

    /// Ticks once a second until `shutdown` flips.
    pub async fn run(
        mut self,
        mut shutdown: watch::Receiver<bool>,
        on_fired: impl Fn(Fired) + Send + Sync + 'static,
    ) {
        let on_fired = Arc::new(on_fired);
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.tick(self.s.clock.now()).await {
                Ok(handles) => {
                    for h in handles {
                        let cb = on_fired.clone();
                        tokio::spawn(async move {
                            if let Ok(f) = h.await {
                                cb(f);
                            }
                        });
                    }
                }
                Err(e) => eprintln!("scheduler: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
