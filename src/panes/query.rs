//! The query pane: SQL editor, live stats bar (state, elapsed, bytes scanned, rows, est. Athena
//! cost, session total) and the results grid.

use super::Component;
use crate::component::history::History;
use crate::component::{Job, Msg, Prompt, Purpose, Ui};
use crate::config::keymap::{Action, Screen};
use crate::widgets::grid::Grid;
use crate::widgets::input::LineInput;
use crate::widgets::picker::{Picker, PickerKind};
use crate::widgets::popup::TextView;
use crate::widgets::{sql_colors, text_edit};
use crossterm::event::KeyEvent;
use mantissa_backend::model::settings::TimeRange;
use mantissa_backend::model::{QueryId, QueryState, QueryStatus};
use mantissa_backend::ports::TableSchema;
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_textarea::{CursorMove, TextArea};
use std::path::PathBuf;

/// Up to this many rows the grid's `/` filter narrows as you type; above, on Enter.
pub const LIVE_FILTER_ROWS: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Editor,
    Grid,
}

pub struct QueryPane {
    pub focus: Focus,
    pub editor: TextArea<'static>,
    pub grid: Grid,
    /// The query on its way, if any: one at a time.
    pub running: Option<QueryId>,
    /// The last query's state and stats, live while it runs.
    pub status: Option<QueryStatus>,
    /// Bytes scanned by every query of this session, for its cost.
    pub session_bytes: u64,
    /// What this session's queries would cost on Athena: each billed on its own, with its
    /// 10 MB minimum (a sum of bytes would bill the minimum once).
    pub session_cost_usd: f64,
    pub history: History,
    /// What the engine has (on AWS, the Glue catalog), for the table picker.
    pub tables: Vec<TableSchema>,
    /// Why the last query failed, shown in full where its results would be.
    pub error: Option<String>,
    /// The SQL of the query on its way or on screen, for an export that runs it again.
    pub ran_sql: Option<String>,
    /// Every row the shown query returned, when that is more than the grid holds.
    pub beyond_held: Option<u64>,
}

impl Default for QueryPane {
    fn default() -> Self {
        let mut pane = QueryPane {
            focus: Focus::Editor,
            editor: TextArea::default(),
            grid: Grid::default(),
            running: None,
            status: None,
            session_bytes: 0,
            session_cost_usd: 0.0,
            history: History::default(),
            tables: mantissa_backend::query::lake_tables(),
            error: None,
            ran_sql: None,
            beyond_held: None,
        };
        pane.start_with(TimeRange::Day);
        pane
    }
}

impl QueryPane {
    /// The first query: the commonest events over the user's look-back. The first screen reads
    /// keys as commands (2 opens the rules pane); i enters the editor.
    pub fn start_with(&mut self, look_back: TimeRange) {
        self.load(&format!(
            "SELECT eventname, count(*) AS n\nFROM cloudtrail_logs\n\
             WHERE dt >= date_format(current_date - interval '{}' day, '%Y-%m-%d')\nGROUP BY 1 ORDER BY 2 DESC",
            look_back.days()
        ));
        self.focus = Focus::Grid;
    }

    pub fn sql(&self) -> String {
        self.editor.lines().join("\n")
    }

    /// Replaces the editor's SQL (a history entry) and focuses it, the cursor at the end to go
    /// on typing.
    pub fn load(&mut self, sql: &str) {
        self.editor = TextArea::from(sql.trim_end().lines().map(String::from).collect::<Vec<_>>());
        self.editor.move_cursor(CursorMove::Bottom);
        self.editor.move_cursor(CursorMove::End);
        self.focus = Focus::Editor;
    }

    /// Replaces the editor's SQL with a query from another pane (a pivot, a rule's dry run),
    /// shown from its first line, which says what it selects. The last query's results and
    /// stats go: they are not this query's.
    pub fn show(&mut self, sql: &str) {
        self.load(sql);
        self.editor.move_cursor(CursorMove::Top);
        self.editor.move_cursor(CursorMove::Head);
        self.grid.set(vec![]);
        self.status = None;
        self.error = None;
    }

    /// Runs the editor's SQL, recording it in the history.
    pub fn run(&mut self, ui: &mut Ui) -> Vec<Job> {
        if self.running.is_some() {
            ui.error("a query is already running: Ctrl-C cancels it");
            return vec![];
        }
        ui.message = None;
        let sql = self.sql();
        let mut jobs = vec![];
        if let (Some(entry), Some(path)) =
            (self.history.push(&sql, chrono::Utc::now()), self.history.path.clone())
        {
            jobs.push(Job::SaveHistory(path, entry));
        }
        self.ran_sql = Some(sql.clone());
        jobs.push(Job::RunQuery(sql));
        jobs
    }

    /// `:export`: the result as the grid shows it (sorted, filtered).
    pub fn export(&mut self, format: &str, path: PathBuf, ui: &mut Ui) -> Vec<Job> {
        if self.grid.rows == 0 && self.grid.batches.is_empty() {
            ui.error("nothing to export: run a query first");
            return vec![];
        }
        self.focus = Focus::Grid;
        let shown = path.display().to_string();
        let (job, what) = match (self.beyond_held, &self.ran_sql) {
            // More rows than the grid holds: the query runs again, straight into the file.
            (Some(total), Some(sql)) => {
                let job =
                    Job::ExportQuery { format: format.to_string(), path: path.clone(), sql: sql.clone() };
                let shaped = self.grid.sort.is_some() || !self.grid.filter.is_empty();
                let note = if shaped { " in the query's order (sort and filter are the grid's)" } else { "" };
                (job, format!("all {} rows{note}", thousands(total)))
            }
            _ => {
                let (batches, order) = self.grid.snapshot();
                let job = Job::Export { format: format.to_string(), path: path.clone(), batches, order };
                (job, format!("{} rows", self.grid.shown()))
            }
        };
        if path.exists() {
            ui.confirm(format!("{} exists: overwrite it?", neutralize(&shown)), job);
            return vec![];
        }
        ui.info(format!("exporting {what} to {shown}"));
        vec![job]
    }

    /// A history entry replaces the editor's SQL; a table or column name is inserted at the
    /// cursor.
    pub fn picked(&mut self, kind: PickerKind, value: String) {
        match kind {
            PickerKind::History => self.load(&value),
            PickerKind::Tables => {
                self.editor.insert_str(value);
                self.focus = Focus::Editor;
            }
            PickerKind::IntegrationKind | PickerKind::JiraProject => {}
        }
    }

    /// A failed query: no stale grid under its error, which shows in full in the results area
    /// (and in the footer and `:messages`).
    fn failed(&mut self, reason: String, ui: &mut Ui) {
        self.grid.set(vec![]);
        self.error = Some(reason.clone());
        self.focus = Focus::Editor;
        ui.error(reason);
    }

    /// What the results area says while it has no rows.
    fn empty_text(&self, ui: &Ui) -> String {
        let key = |a| ui.keymap.first_key(a);
        match &self.status {
            _ if self.error.is_some() => String::new(),
            None if self.history.entries.is_empty() => format!(
                "No query run yet. {} edits the SQL above, {} runs it; 2-6 open the other panes, ? lists the keys.",
                key(Action::EditQuery),
                key(Action::Run)
            ),
            None => format!("Not run yet: {} runs the query above.", key(Action::Run)),
            Some(s) => match s.state {
                QueryState::Succeeded => "The query returned no rows.".into(),
                QueryState::Cancelled => "Cancelled.".into(),
                _ => "Running...".into(),
            },
        }
    }

    /// The grid's actions.
    fn grid_act(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        let half = 10;
        let grid = &mut self.grid;
        match action {
            Action::Down => grid.move_by(1),
            Action::Up => grid.move_by(-1),
            Action::PageDown => grid.move_by(half),
            Action::PageUp => grid.move_by(-half),
            Action::Top => grid.selected = 0,
            Action::Bottom => grid.move_by(isize::MAX / 2),
            Action::Right => grid.move_col(1),
            Action::Left => grid.move_col(-1),
            Action::Sort if grid.columns() > 0 => return vec![Job::GridView(grid.cycle_sort())],
            Action::Filter => ui.filter_input = Some(grid.filter.clone()),
            Action::SelectCells => grid.toggle_selection(false),
            Action::SelectRows => grid.toggle_selection(true),
            Action::Open if grid.shown() > 0 => {
                let title = format!("record {}/{}", grid.selected + 1, grid.shown());
                ui.popup = Some(TextView::new(title, grid.record_lines(ui.theme.header())));
            }
            Action::Cell if grid.shown() > 0 => {
                let name = grid.column_name(grid.col).unwrap_or_default();
                let title = format!("{} · row {}", neutralize(&name), grid.selected + 1);
                ui.popup = Some(TextView::new(title, grid.cell_lines(&ui.theme)));
            }
            Action::Copy | Action::CopyRaw | Action::CopyJson => {
                let text = match action {
                    Action::CopyJson => grid.copy_json(),
                    raw => grid.copy_text(raw == Action::CopyRaw),
                };
                grid.selection = None;
                match text {
                    Some(t) => ui.copy(t),
                    None => ui.error("nothing to copy: run a query first"),
                }
            }
            Action::Export => {
                ui.prompt = Some(Prompt {
                    label: "export as csv|json|parquet PATH".into(),
                    input: LineInput::new("csv "),
                    purpose: Purpose::Export,
                })
            }
            _ => {}
        }
        vec![]
    }
}

impl Component for QueryPane {
    fn screen(&self) -> Screen {
        match self.focus {
            Focus::Editor => Screen::QueryEditor,
            Focus::Grid => Screen::QueryGrid,
        }
    }

    fn handle_key(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        match action {
            Action::Run => return self.run(ui),
            Action::Cancel => {
                return match self.running.clone() {
                    Some(id) => {
                        ui.info("cancelling the query");
                        vec![Job::CancelQuery(id)]
                    }
                    None => {
                        ui.info("no query running (:q quits)");
                        vec![]
                    }
                };
            }
            Action::History => ui.picker = Some(self.history.picker()),
            Action::Tables => ui.picker = Some(tables_picker(&self.tables)),
            Action::ToResults => self.focus = Focus::Grid,
            Action::EditQuery => self.focus = Focus::Editor,
            _ if text_edit::act(&mut self.editor, action).is_some() => {}
            _ => return self.grid_act(action, ui),
        }
        vec![]
    }

    fn handle_text(&mut self, key: KeyEvent) -> Vec<Job> {
        if self.focus == Focus::Editor && text_edit::newline(&mut self.editor, key, false).is_none() {
            self.editor.input(key);
        }
        vec![]
    }

    fn update(&mut self, msg: Msg, ui: &mut Ui) -> bool {
        match msg {
            Msg::QueryStarted(id) => {
                self.running = Some(id);
                // The last result and its error are gone: what is on screen is this query's.
                self.error = None;
                self.beyond_held = None;
                self.grid.set(vec![]);
            }
            Msg::Tables(tables) => self.tables = tables,
            Msg::QueryStatus(s) => {
                if s.state.is_terminal() {
                    self.session_bytes += s.stats.bytes_scanned;
                    // Athena bills what a cancelled query scanned, and nothing for a failed one.
                    if !matches!(s.state, QueryState::Failed(_)) {
                        self.session_cost_usd += s.stats.estimated_cost_usd();
                    }
                    self.running = None;
                    if let QueryState::Failed(reason) = &s.state {
                        self.failed(reason.clone(), ui);
                    }
                }
                self.status = Some(s);
            }
            Msg::QueryResults(batches) => {
                let held: usize = batches.iter().map(|b| b.num_rows()).sum();
                let total = self.status.as_ref().map_or(0, |s| s.stats.rows);
                self.beyond_held = (total > held as u64).then_some(total);
                self.grid.set(batches);
                self.focus = Focus::Grid;
            }
            Msg::QueryFailed(e) => {
                self.running = None;
                // A query that never started has no stats: the last query's are not this one's.
                self.status = None;
                self.failed(e, ui);
            }
            Msg::GridView { generation, order } => match order {
                Ok(order) => return self.grid.apply_view(generation, order),
                Err(e) => ui.error(e),
            },
            _ => return false,
        }
        true
    }

    /// Small results narrow as you type; large ones when the filter is entered.
    fn filter(&mut self, text: &str, done: bool) -> Vec<Job> {
        if done || self.grid.rows <= LIVE_FILTER_ROWS {
            return vec![Job::GridView(self.grid.filter_by(text.to_string()))];
        }
        vec![]
    }

    fn render(&self, f: &mut Frame, area: Rect, ui: &Ui) {
        render(self, f, area, ui)
    }
}

/// Tables and their columns as the engine has them, to insert a name at the cursor.
pub fn tables_picker(tables: &[TableSchema]) -> Picker {
    let mut items = vec![];
    for t in tables {
        items.push((format!("{}  (table, {} columns)", t.name, t.schema.fields().len()), t.name.clone()));
        for f in t.schema.fields() {
            items.push((format!("{}.{}  {}", t.name, f.name(), f.data_type()), f.name().clone()));
        }
    }
    Picker::new(PickerKind::Tables, "tables and columns", items)
}

fn render(pane: &QueryPane, f: &mut Frame, area: Rect, ui: &Ui) {
    let stats_line = match &pane.status {
        None if pane.error.is_some() => {
            Line::from(Span::styled("FAILED · it did not start: why is below", ui.theme.error()))
        }
        None => Line::from(Span::styled("no query run yet", ui.theme.muted())),
        Some(s) => Line::from(format!(
            "{} · {} ms{} · {} · {} rows · est. ${:.6} · session {} / ${:.6}",
            s.state.label(),
            s.stats.elapsed_ms,
            // Athena's wait for capacity, apart from the engine's time.
            if s.stats.queue_ms > 0 { format!(" (+{} ms queued)", s.stats.queue_ms) } else { String::new() },
            s.stats.scanned(),
            s.stats.rows,
            s.stats.estimated_cost_usd(),
            mantissa_backend::model::human_bytes(pane.session_bytes),
            pane.session_cost_usd,
        )),
    };
    // The stats (the session's total last) take a second row rather than being cut.
    let stats_h = if stats_line.width() > area.width as usize { 2 } else { 1 };
    let editor_h = (pane.editor.lines().len() as u16 + 2).clamp(4, 8);
    let [editor, stats, grid] =
        Layout::vertical([Constraint::Length(editor_h), Constraint::Length(stats_h), Constraint::Min(2)])
            .areas(area);
    let theme = &ui.theme;
    let focus = |on: bool| if on { theme.focus() } else { theme.muted() };
    let title = format!(
        " SQL ({} run · {} history · {} tables) ",
        ui.keymap.first_key(Action::Run),
        ui.keymap.first_key(Action::History),
        ui.keymap.first_key(Action::Tables)
    );
    let block = Block::bordered().title(title).border_style(focus(pane.focus == Focus::Editor));
    let inner = block.inner(editor);
    f.render_widget(block, editor);
    f.render_widget(&pane.editor, inner);
    let view = sql_colors::View::of(&pane.editor);
    sql_colors::paint(f.buffer_mut(), inner, &view, sql_colors::stretches(view.lines), theme);

    f.render_widget(Paragraph::new(stats_line).wrap(ratatui::widgets::Wrap { trim: true }), stats);
    let g = &pane.grid;
    let mut title = String::from(" results ");
    if g.shown() > 0 {
        title.push_str(&format!("{}/{} ", g.selected + 1, g.shown()));
    }
    if let Some(total) = pane.beyond_held {
        title.push_str(&format!("· first {} of {} ", thousands(g.rows as u64), thousands(total)));
    }
    if !g.filter.is_empty() {
        title.push_str(&format!("· /{} of {} ", neutralize(&g.filter), g.rows));
    }
    if let Some((c, desc)) = g.sort {
        title.push_str(&format!(
            "· sorted by {} {} ",
            neutralize(&g.column_name(c).unwrap_or_default()),
            if desc { "desc" } else { "asc" }
        ));
    }
    match g.selection {
        Some(crate::widgets::grid::Selection::Rows { .. }) => title.push_str("· V rows "),
        Some(crate::widgets::grid::Selection::Cells { .. }) => title.push_str("· v cells "),
        None => {}
    }
    let block = Block::bordered().title(title).border_style(focus(pane.focus == Focus::Grid));
    if let Some(error) = &pane.error {
        let text = Paragraph::new(neutralize(error))
            .style(theme.error())
            .wrap(ratatui::widgets::Wrap { trim: false });
        return f.render_widget(text.block(block), grid);
    }
    g.render(f, grid, block, &pane.empty_text(ui), theme.header(), theme.selected());
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
