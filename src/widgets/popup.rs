//! A scrollable text overlay: the `?` help, a grid record or cell, an alert's detail, a DLQ
//! payload. Callers neutralise log text before it becomes a line.

use crate::config::keymap::Action;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use std::cell::Cell;

/// Free text (JSON, descriptions, cells) is wrapped to this, the view's inner width at 80x24.
pub const TEXT_WIDTH: usize = 76;

#[derive(Debug, Clone, Default)]
pub struct TextView {
    pub title: String,
    pub lines: Vec<Line<'static>>,
    pub scroll: usize,
    /// The body height at the last draw, for paging (known only when drawn).
    page: Cell<usize>,
}

impl TextView {
    pub fn new(title: impl Into<String>, lines: Vec<Line<'static>>) -> Self {
        TextView { title: title.into(), lines, scroll: 0, page: Cell::new(10) }
    }

    /// Scrolls on motion actions; returns false for any other key, which closes the view.
    pub fn scroll_by(&mut self, action: Option<Action>) -> bool {
        let page = self.page.get();
        let max = self.lines.len().saturating_sub(page.max(1));
        let half = (page / 2).max(1);
        self.scroll = match action {
            Some(Action::Down) => self.scroll + 1,
            Some(Action::Up) => self.scroll.saturating_sub(1),
            Some(Action::PageDown) => self.scroll + half,
            Some(Action::PageUp) => self.scroll.saturating_sub(half),
            Some(Action::Top) => 0,
            Some(Action::Bottom) => max,
            _ => return false,
        }
        .min(max);
        true
    }

    /// Centred, as large as the screen allows (the whole screen at 80x24).
    pub fn render(&self, f: &mut Frame, border: ratatui::style::Style, scroll_keys: &str) {
        let area = f.area();
        let w = area.width.saturating_sub(2).min(110);
        let h = area.height.saturating_sub(2).min(self.lines.len() as u16 + 2).max(3);
        let rect = Rect { x: (area.width - w) / 2, y: (area.height - h) / 2, width: w, height: h };
        let page = h.saturating_sub(2) as usize;
        self.page.set(page);
        let more = self.lines.len() > page;
        let position = if more {
            format!(
                " {}-{}/{} ",
                self.scroll + 1,
                (self.scroll + page).min(self.lines.len()),
                self.lines.len()
            )
        } else {
            String::new()
        };
        let block = Block::bordered().border_style(border).title(format!(" {} ", self.title)).title_bottom(
            Line::from(format!("{position} {scroll_keys} scroll · any other key closes ")).right_aligned(),
        );
        let shown: Vec<Line> = self.lines.iter().skip(self.scroll).take(page).cloned().collect();
        f.render_widget(Clear, rect);
        f.render_widget(Paragraph::new(shown).block(block), rect);
    }
}
