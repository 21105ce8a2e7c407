//! The query pane: SQL editor, live stats bar (state, elapsed, bytes scanned, rows, est. Athena
//! cost, session total) and the results grid.

use crate::app::{App, Focus, Job, Prompt, Purpose};
use crate::config::keymap::Action;
use crate::panes::Pane;
use crate::widgets::input::LineInput;
use crate::widgets::picker::{Picker, PickerKind};
use crate::widgets::popup::TextView;
use crate::widgets::sql_colors;
use mantissa_backend::model::athena_cost_usd;
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_textarea::{CursorMove, TextArea};

/// Up to this many rows the grid's `/` filter narrows as you type; above, on Enter.
pub const LIVE_FILTER_ROWS: usize = 50_000;

/// The grid's actions (the editor's are the app's: run, cancel, history, tables).
pub fn act(app: &mut App, action: Action) -> Vec<Job> {
    let half = 10;
    let grid = &mut app.grid;
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
        Action::Filter => app.filter_input = Some(app.filters[Pane::Query as usize].clone()),
        Action::SelectCells => grid.toggle_selection(false),
        Action::SelectRows => grid.toggle_selection(true),
        Action::Open if grid.shown() > 0 => {
            let title = format!("record {}/{}", grid.selected + 1, grid.shown());
            app.popup = Some(TextView::new(title, grid.record_lines(app.theme.header())));
        }
        Action::Cell if grid.shown() > 0 => {
            let name = grid.column_name(grid.col).unwrap_or_default();
            let title = format!("{} · row {}", neutralize(&name), grid.selected + 1);
            app.popup = Some(TextView::new(title, grid.cell_lines()));
        }
        Action::Copy | Action::CopyJson => {
            let text = if action == Action::Copy { grid.copy_text() } else { grid.copy_json() };
            grid.selection = None;
            match text {
                Some(t) => app.copy(t),
                None => app.error("nothing to copy: run a query first"),
            }
        }
        Action::Export => {
            app.prompt = Some(Prompt {
                label: "export as csv|json|parquet PATH".into(),
                input: LineInput::new("csv "),
                purpose: Purpose::Export,
            })
        }
        _ => {}
    }
    vec![]
}

/// Tables and their columns from the lake's schemas, to insert a name at the cursor.
pub fn tables_picker() -> Picker {
    let mut items = vec![];
    for t in mantissa_backend::query::lake_tables() {
        items.push((format!("{}  (table, {} columns)", t.name, t.schema.fields().len()), t.name.clone()));
        for f in t.schema.fields() {
            items.push((format!("{}.{}  {}", t.name, f.name(), f.data_type()), f.name().clone()));
        }
    }
    Picker::new(PickerKind::Tables, "tables and columns", items)
}

/// A history entry replaces the editor's SQL; a table or column name is inserted at the cursor.
pub fn picked(app: &mut App, kind: PickerKind, value: String) {
    match kind {
        PickerKind::History => {
            app.editor = TextArea::from(value.lines().map(String::from).collect::<Vec<_>>());
            app.editor.move_cursor(CursorMove::Bottom);
            app.editor.move_cursor(CursorMove::End);
        }
        PickerKind::Tables => {
            app.editor.insert_str(value);
        }
        PickerKind::IntegrationKind | PickerKind::JiraProject => return,
    }
    app.focus = Focus::Editor;
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.2} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

pub fn render(app: &mut App, f: &mut Frame, area: Rect) {
    let editor_h = (app.editor.lines().len() as u16 + 2).clamp(4, 8);
    let [editor, stats, grid] =
        Layout::vertical([Constraint::Length(editor_h), Constraint::Length(1), Constraint::Min(2)])
            .areas(area);
    let theme = app.theme;
    let focus = |on: bool| if on { theme.focus() } else { theme.muted() };
    let title = format!(
        " SQL ({} run · {} history · {} tables) ",
        app.keymap.first_key(Action::Run),
        app.keymap.first_key(Action::History),
        app.keymap.first_key(Action::Tables)
    );
    app.editor.set_block(Block::bordered().title(title).border_style(focus(app.focus == Focus::Editor)));
    f.render_widget(&app.editor, editor);
    let inner = Block::bordered().inner(editor);
    let lines = app.editor.lines();
    let (scroll, tab) = (app.editor.scroll_offset(), app.editor.tab_length());
    sql_colors::paint(f.buffer_mut(), inner, lines, scroll, tab, &theme);

    let stats_line = match &app.query_status {
        None => Line::from(Span::styled("no query run yet", app.theme.muted())),
        Some(s) => Line::from(format!(
            "{} · {} ms · {} scanned · {} rows · est. ${:.6} · session {} / ${:.6}",
            s.state.label(),
            s.stats.elapsed_ms,
            human(s.stats.bytes_scanned),
            s.stats.rows,
            s.stats.estimated_cost_usd(),
            human(app.session_bytes),
            if app.session_bytes == 0 { 0.0 } else { athena_cost_usd(app.session_bytes) },
        )),
    };
    f.render_widget(Paragraph::new(stats_line), stats);
    let g = &app.grid;
    let mut title = String::from(" results ");
    if g.shown() > 0 {
        title.push_str(&format!("{}/{} ", g.selected + 1, g.shown()));
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
    let block = Block::bordered().title(title).border_style(focus(app.focus == Focus::Grid));
    let (header, selected) = (app.theme.header(), app.theme.selected());
    app.grid.render(f, grid, block, header, selected);
}
