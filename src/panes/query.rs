//! The query pane: SQL editor, live stats bar (state, elapsed, bytes scanned, rows, est. Athena
//! cost, session total) and the results grid.

use crate::app::{App, Focus, Job};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mantissa_backend::model::athena_cost_usd;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

pub fn handle_key(app: &mut App, key: KeyEvent) -> Vec<Job> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let half = 10;
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => app.grid.move_by(1),
        KeyCode::Char('k') | KeyCode::Up => app.grid.move_by(-1),
        KeyCode::Char('d') if ctrl => app.grid.move_by(half),
        KeyCode::Char('u') if ctrl => app.grid.move_by(-half),
        KeyCode::PageDown => app.grid.move_by(half * 2),
        KeyCode::PageUp => app.grid.move_by(-half * 2),
        KeyCode::Char('g') | KeyCode::Home => app.grid.selected = 0,
        KeyCode::Char('G') | KeyCode::End => app.grid.move_by(isize::MAX / 2),
        KeyCode::Char('l') | KeyCode::Right => app.grid.scroll_cols(1),
        KeyCode::Char('h') | KeyCode::Left => app.grid.scroll_cols(-1),
        _ => {}
    }
    vec![]
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
    app.editor
        .set_block(Block::bordered().title(" SQL (F5 run) ").border_style(focus(app.focus == Focus::Editor)));
    f.render_widget(&app.editor, editor);

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
    let title = format!(
        " results {} ",
        if app.grid.rows > 0 {
            format!("{}/{}", app.grid.selected + 1, app.grid.rows)
        } else {
            String::new()
        }
    );
    let block = Block::bordered().title(title).border_style(focus(app.focus == Focus::Grid));
    let (header, selected) = (app.theme.header(), app.theme.selected());
    app.grid.render(f, grid, block, header, selected);
}
