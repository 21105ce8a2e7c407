//! How a job's reply changes the app: each `Msg` goes to the pane it is for.

use super::App;
use crate::component::{Component, Msg};

impl App {
    /// Applies a job's reply to the pane it is for; returns whether the screen changed.
    pub fn update(&mut self, msg: Msg) -> bool {
        let ui = &mut self.ui;
        match msg {
            Msg::QueryStarted(_)
            | Msg::QueryStatus(_)
            | Msg::QueryResults(_)
            | Msg::QueryFailed(_)
            | Msg::Tables(_)
            | Msg::GridView { .. } => self.query.update(msg, ui),
            Msg::Rules(_)
            | Msg::Ledger(_)
            | Msg::RuleOpened { .. }
            | Msg::RuleChecked { .. }
            | Msg::RuleTested(_)
            | Msg::Hunted { .. }
            | Msg::Backtested { .. }
            | Msg::RuleSaved { .. }
            | Msg::SaveStopped { .. } => self.rules.update(msg, ui),
            Msg::Alerts(_) | Msg::OlderAlerts(_) | Msg::Activity { .. } => self.alerts.update(msg, ui),
            Msg::Integrations(_) | Msg::SetupSaved(_) | Msg::SetupTested(_) | Msg::JiraProjects(_) => {
                self.integrations.update(msg, ui)
            }
            Msg::Dlq(_) => self.dlq.update(msg, ui),
            Msg::CaseView { timeline: true, .. } => self.case_timeline(msg),
            Msg::Cases(_) | Msg::CaseView { .. } | Msg::Suggestions(_) => self.cases.update(msg, ui),
            Msg::Suppressions(_) => {
                self.suppress_update(msg);
                true
            }
            Msg::QueryDrafted(_)
            | Msg::RuleDrafted(_)
            | Msg::Explained(_)
            | Msg::Settings { .. }
            | Msg::SettingSaved(_) => {
                self.assist_update(msg);
                true
            }
            Msg::Info(t) => {
                ui.info(t);
                true
            }
            Msg::Error(t) => {
                ui.error(t);
                true
            }
            Msg::Refreshed(pipeline) => {
                self.refreshing = false;
                let changed = self.pipeline != pipeline;
                self.pipeline = pipeline;
                changed
            }
            Msg::Done(label) => {
                if let Some(n) = self.running.get_mut(label) {
                    *n -= 1;
                    if *n == 0 {
                        self.running.remove(label);
                    }
                }
                true
            }
        }
    }
}
