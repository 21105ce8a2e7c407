//! A scrollable text overlay: the `?` help, a grid record or cell, an alert's detail, a DLQ
//! payload, `:messages`. Lines are wrapped at words to the width it is drawn at (a `name  value`
//! line hangs under its value). Callers neutralise log text before it becomes a line.

use crate::config::keymap::Action;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use std::cell::Cell;
use unicode_width::UnicodeWidthChar;

#[derive(Debug, Clone, Default)]
pub struct TextView {
    pub title: String,
    pub lines: Vec<Line<'static>>,
    /// The first row shown, in wrapped rows.
    pub scroll: usize,
    /// The body's height and its wrapped rows at the last draw, for paging (known only when
    /// drawn, at the screen's width).
    page: Cell<usize>,
    rows: Cell<usize>,
}

impl TextView {
    pub fn new(title: impl Into<String>, lines: Vec<Line<'static>>) -> Self {
        let rows = lines.len();
        TextView { title: title.into(), lines, scroll: 0, page: Cell::new(10), rows: Cell::new(rows) }
    }

    /// Opens at the end (a log, newest last).
    pub fn at_end(mut self) -> Self {
        self.scroll = usize::MAX;
        self
    }

    /// Scrolls on motion actions; returns false for any other key, which closes the view.
    pub fn scroll_by(&mut self, action: Option<Action>) -> bool {
        let page = self.page.get();
        let max = self.rows.get().saturating_sub(page.max(1));
        let half = (page / 2).max(1);
        let from = self.scroll.min(max);
        self.scroll = match action {
            Some(Action::Down) => from + 1,
            Some(Action::Up) => from.saturating_sub(1),
            Some(Action::PageDown) => from + half,
            Some(Action::PageUp) => from.saturating_sub(half),
            Some(Action::Top) => 0,
            Some(Action::Bottom) => max,
            _ => return false,
        }
        .min(max);
        true
    }

    /// Centred, as large as the screen allows (the whole screen at 80x24).
    pub fn render(&self, f: &mut Frame, border: Style, scroll_keys: &str) {
        let area = f.area();
        let w = area.width.saturating_sub(2).min(110);
        let rows: Vec<Line> =
            self.lines.iter().flat_map(|l| wrap_line(l, w.saturating_sub(2) as usize)).collect();
        let h = area.height.saturating_sub(2).min(rows.len() as u16 + 2).max(3);
        let rect = Rect { x: (area.width - w) / 2, y: (area.height - h) / 2, width: w, height: h };
        let page = h.saturating_sub(2) as usize;
        self.page.set(page);
        self.rows.set(rows.len());
        let scroll = self.scroll.min(rows.len().saturating_sub(page));
        let position = if rows.len() > page {
            format!(" {}-{}/{} ", scroll + 1, (scroll + page).min(rows.len()), rows.len())
        } else {
            String::new()
        };
        let block = Block::bordered().border_style(border).title(format!(" {} ", self.title)).title_bottom(
            Line::from(format!("{position} {scroll_keys} scroll · any other key closes ")).right_aligned(),
        );
        let shown: Vec<Line> = rows.into_iter().skip(scroll).take(page).collect();
        f.render_widget(Clear, rect);
        f.render_widget(Paragraph::new(shown).block(block), rect);
    }
}

/// `line` as rows of at most `width` columns, broken after a space where there is one; a line
/// of several spans (`name  value`) continues indented under its last, when that starts in the
/// row's first half.
pub fn wrap_line(line: &Line<'static>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let cells: Vec<(char, Style)> =
        line.spans.iter().flat_map(|s| s.content.chars().map(move |c| (c, s.style))).collect();
    // Under the last span: the value of `name  value`, the text of `context  keys  text`.
    let indent = match line.spans.split_last() {
        Some((_, head)) if !head.is_empty() => {
            let w: usize = head.iter().map(Span::width).sum();
            if w <= width / 2 { w } else { 0 }
        }
        _ => 0,
    };
    let mut rows = vec![];
    let mut start = 0;
    while start < cells.len() {
        let room = if rows.is_empty() { width } else { width - indent };
        let (mut end, mut used, mut space) = (start, 0, None);
        while end < cells.len() {
            let w = cells[end].0.width().unwrap_or(0);
            if used + w > room {
                break;
            }
            if cells[end].0 == ' ' {
                space = Some(end);
            }
            used += w;
            end += 1;
        }
        if end < cells.len()
            && let Some(s) = space.filter(|s| *s > start)
        {
            end = s + 1;
        }
        // A character wider than the room still takes a row of its own.
        let end = end.max(start + 1);
        let mut row = if rows.is_empty() { vec![] } else { vec![Span::raw(" ".repeat(indent))] };
        row.extend(spans(&cells[start..end]));
        rows.push(Line::from(row).style(line.style));
        start = end;
    }
    if rows.is_empty() {
        rows.push(Line::default().style(line.style));
    }
    rows
}

/// Runs of one style as spans.
fn spans(cells: &[(char, Style)]) -> Vec<Span<'static>> {
    let mut out: Vec<Span<'static>> = vec![];
    for (c, style) in cells {
        match out.last_mut() {
            Some(last) if last.style == *style => last.content.to_mut().push(*c),
            _ => out.push(Span::styled(c.to_string(), *style)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rows: &[Line]) -> Vec<String> {
        rows.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn lines_wrap_at_words_and_values_hang_under_their_value() {
        let plain = Line::from("the quick brown fox jumps over the lazy dog");
        assert_eq!(text(&wrap_line(&plain, 16)), ["the quick brown ", "fox jumps over ", "the lazy dog"]);
        let field =
            Line::from(vec![Span::raw("summary     "), Span::raw("root login from 203.0.113.7 without MFA")]);
        assert_eq!(
            text(&wrap_line(&field, 40)),
            ["summary     root login from 203.0.113.7 ", "            without MFA"]
        );
        // A word longer than the row is cut, not lost.
        let arn = Line::from("arn:aws:iam::123456789012:role/OrganizationAccountAccessRole");
        let rows = text(&wrap_line(&arn, 20));
        assert_eq!(rows.concat(), "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole");
        assert!(rows.iter().all(|r| r.chars().count() <= 20), "{rows:?}");
        assert_eq!(text(&wrap_line(&Line::default(), 10)), [""]);
    }
}
