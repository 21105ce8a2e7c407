//! Entity timelines from the console: `T` on a grid cell (over the user's look-back) or on an
//! alert (over its window, an hour either side) puts the entity's cross-table query in the
//! editor, not run; what it would scan and cost comes back from a planning job.

use super::{App, Job};
use crate::config::keymap::Action;
use crate::panes::Pane;
use chrono::Duration;
use mantissa_backend::timeline::{classify, entity_of_alert, timeline_sql};

impl App {
    pub(super) fn timeline_action(&mut self, action: Action) -> Option<Vec<Job>> {
        let now = chrono::Utc::now();
        let (column, value, from, to) = match action {
            Action::Timeline => {
                let grid = &self.query.grid;
                if grid.shown() == 0 {
                    return Some(vec![]);
                }
                let column = grid.column_name(grid.col).unwrap_or_default();
                let days = self.settings.ui.default_time_range.days();
                (
                    column,
                    grid.value(grid.selected, grid.col),
                    now - Duration::days(days),
                    now + Duration::hours(1),
                )
            }
            Action::AlertTimeline => {
                let alert = self.alerts.list.selected()?;
                let Some((column, value)) = entity_of_alert(alert) else {
                    self.ui.error("this alert names no entity (no dedup field values, no source address)");
                    return Some(vec![]);
                };
                (
                    column,
                    value,
                    alert.window_start - Duration::hours(1),
                    alert.window_end + Duration::hours(1),
                )
            }
            _ => return None,
        };
        let Some(kind) = classify(&column, &value) else {
            self.ui.error(format!(
                "`{}` is no entity to follow: pick an address, ARN, access key, account, bucket, instance or user name",
                crate::widgets::list::clean(&value)
            ));
            return Some(vec![]);
        };
        let sql = timeline_sql(kind, &value, from, to);
        self.query.show(&sql);
        self.pane = Pane::Query;
        self.ui.info(format!(
            "timeline of {} {}: {} runs it",
            kind.name(),
            crate::widgets::list::clean(&value),
            self.ui.keymap.first_key(Action::Run)
        ));
        Some(vec![Job::Estimate(sql)])
    }
}
