//! The rule ledger over the rules list (`L`): per rule its runs, last status, mean duration,
//! alerts per day, the share judged false or benign positive, bytes per day and the Athena
//! bill per month (the title: the whole pack's, with shared scans and alone); `s` orders it
//! by noise, cost, time or name.

use crate::component::Ui;
use crate::config::keymap::Action;
use crate::widgets::list::{Columns, List, Record, clean};
use mantissa_backend::model::{RunStatus, human_bytes};
use mantissa_backend::rules::ledger::{LEDGER_DAYS, LedgerRow, pack_cost};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;

/// The orders `s` cycles through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LedgerOrder {
    #[default]
    Noise,
    Cost,
    Duration,
    Name,
}

impl LedgerOrder {
    fn next(self) -> Self {
        match self {
            LedgerOrder::Noise => LedgerOrder::Cost,
            LedgerOrder::Cost => LedgerOrder::Duration,
            LedgerOrder::Duration => LedgerOrder::Name,
            LedgerOrder::Name => LedgerOrder::Noise,
        }
    }

    fn label(self) -> &'static str {
        match self {
            LedgerOrder::Noise => "noisiest first",
            LedgerOrder::Cost => "costliest first",
            LedgerOrder::Duration => "slowest first",
            LedgerOrder::Name => "by name",
        }
    }
}

impl Record for LedgerRow {
    fn id(&self) -> String {
        self.rule_id.clone()
    }
    fn haystack(&self) -> String {
        format!("{} {}", self.rule_id, self.name)
    }
}

#[derive(Default)]
pub struct Ledger {
    pub list: List<LedgerRow>,
    pub order: LedgerOrder,
    /// Rows came (the first read may still be on its way).
    pub loaded: bool,
}

impl Ledger {
    pub fn set(&mut self, rows: Vec<LedgerRow>) {
        self.loaded = true;
        self.list.set(rows);
        self.sort();
    }

    fn sort(&mut self) {
        let by = |a: f64, b: f64| b.total_cmp(&a);
        match self.order {
            LedgerOrder::Noise => self.list.items.sort_by(|a, b| by(a.alerts_per_day, b.alerts_per_day)),
            LedgerOrder::Cost => self.list.items.sort_by(|a, b| by(a.cost_per_day_usd, b.cost_per_day_usd)),
            LedgerOrder::Duration => self.list.items.sort_by(|a, b| by(a.avg_duration_ms, b.avg_duration_ms)),
            LedgerOrder::Name => self.list.items.sort_by(|a, b| a.name.cmp(&b.name)),
        }
    }

    /// List motions, and `s` for the next order; what the list needs of the screen.
    pub fn act(&mut self, action: Action, ui: &mut Ui) -> bool {
        if let Some(done) = self.list.act(action) {
            ui.listed(done);
            return true;
        }
        if action == Action::SortLedger {
            self.order = self.order.next();
            self.sort();
            self.list.cursor = 0;
            ui.info(format!("ledger {}", self.order.label()));
            return true;
        }
        false
    }

    pub fn render(&self, f: &mut Frame, area: Rect, ui: &Ui) {
        let t = &ui.theme;
        // The bill alone (each rule its own query) and as it runs (filters sharing scans).
        let pack = pack_cost(&self.list.items);
        let (alone, shared) = (pack.cost_per_day_alone_usd * 30.0, pack.cost_per_day_shared_usd * 30.0);
        let title = if self.loaded {
            format!(
                " ledger · {LEDGER_DAYS} days · {} · Athena ${shared:.2}/month (alone ${alone:.2}) ",
                self.order.label()
            )
        } else {
            " rule ledger · reading runs and alerts … ".to_string()
        };
        let columns = Columns {
            title: &title,
            header: vec!["rule", "runs", "last", "avg ms", "alerts/d", "fp+bp", "scan/day", "$/month"],
            widths: vec![
                Constraint::Min(16),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(8),
                Constraint::Length(5),
                Constraint::Length(9),
                Constraint::Length(8),
            ],
        };
        let cells = |r: &LedgerRow| {
            vec![
                Cell::from(clean(&r.name)),
                Cell::from(r.executions.to_string()),
                match &r.last_status {
                    Some(RunStatus::Failed(_)) => Cell::from("failed").style(t.error()),
                    Some(RunStatus::Success) => Cell::from("ok"),
                    None => Cell::from("-"),
                },
                Cell::from(format!("{:.0}", r.avg_duration_ms)),
                Cell::from(format!("{:.1}", r.alerts_per_day)),
                Cell::from(r.noise_share.map_or("-".into(), |s| format!("{:.0}%", s * 100.0))),
                Cell::from(human_bytes(r.bytes_per_day as u64)),
                Cell::from(format!("{:.2}", r.cost_per_month_usd())),
            ]
        };
        self.list.render(f, area, columns, cells, t, ui.filter_input.is_some());
    }
}
