//! A searchable list over the pane (query history, tables and columns, integration kinds, Jira
//! projects): type to narrow,
//! arrows or Ctrl-n/Ctrl-p to move, Enter to choose, Esc to close.

use super::input::LineInput;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    History,
    Tables,
    /// Which kind of integration to set up.
    IntegrationKind,
    /// A Jira project for the setup form.
    JiraProject,
}

#[derive(Debug, Clone)]
pub struct Picker {
    pub kind: PickerKind,
    pub title: String,
    /// `(shown, value)`: what the row says and what choosing it gives.
    pub items: Vec<(String, String)>,
    pub search: LineInput,
    pub cursor: usize,
}

impl Picker {
    pub fn new(kind: PickerKind, title: impl Into<String>, items: Vec<(String, String)>) -> Self {
        Picker { kind, title: title.into(), items, search: LineInput::default(), cursor: 0 }
    }

    /// Items matching every word of the search, case-insensitively: those that start with the
    /// first word first, then those with a word starting with it, then the rest, each in order
    /// (so `web` picks the webhook, not the Slack row that mentions a webhook).
    pub fn matches(&self) -> Vec<usize> {
        let words: Vec<String> = self.search.text.split_whitespace().map(str::to_lowercase).collect();
        let mut found: Vec<(u8, usize)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, (shown, value))| {
                let shown = shown.to_lowercase();
                if !words.iter().all(|w| shown.contains(w.as_str())) {
                    return None;
                }
                let Some(first) = words.first() else { return Some((0, i)) };
                let rank = if value.to_lowercase().starts_with(first.as_str())
                    || shown.starts_with(first.as_str())
                {
                    0
                } else if shown.split(|c: char| !c.is_alphanumeric()).any(|w| w.starts_with(first.as_str())) {
                    1
                } else {
                    2
                };
                Some((rank, i))
            })
            .collect();
        found.sort_by_key(|(rank, _)| *rank);
        found.into_iter().map(|(_, i)| i).collect()
    }

    /// `Some(Some(value))` when one is chosen, `Some(None)` when closed, `None` otherwise.
    pub fn key(&mut self, key: KeyEvent) -> Option<Option<String>> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let n = self.matches().len();
        match key.code {
            KeyCode::Down | KeyCode::Tab => self.cursor = (self.cursor + 1).min(n.saturating_sub(1)),
            KeyCode::Char('n') if ctrl => self.cursor = (self.cursor + 1).min(n.saturating_sub(1)),
            KeyCode::Up | KeyCode::BackTab => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Char('p') if ctrl => self.cursor = self.cursor.saturating_sub(1),
            _ => match self.search.key(key) {
                Some(true) => {
                    let chosen = self.matches().get(self.cursor).map(|&i| self.items[i].1.clone());
                    return Some(chosen);
                }
                Some(false) => return Some(None),
                None => self.cursor = 0,
            },
        }
        None
    }

    pub fn render(&self, f: &mut Frame, area: Rect, border: Style, selected: Style) {
        let w = area.width.saturating_sub(2).min(100);
        // Short lists get a short box (search line, items, borders).
        let h = area.height.saturating_sub(2).min(24).min(self.items.len().max(1) as u16 + 3);
        let rect =
            Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
        let matches = self.matches();
        let body = h.saturating_sub(3) as usize;
        let first = self.cursor.saturating_sub(body.saturating_sub(1));
        let (before, after) = self.search.split();
        let mut lines = vec![Line::from(format!("search: {}▏{}", neutralize(&before), neutralize(&after)))];
        for (k, &i) in matches.iter().enumerate().skip(first).take(body) {
            let text = neutralize(&self.items[i].0).replace('\n', " ");
            let style = if k == self.cursor { selected } else { Style::default() };
            lines.push(Line::from(Span::styled(text, style)));
        }
        let block = Block::bordered()
            .border_style(border)
            .title(format!(" {} · {}/{} ", self.title, matches.len(), self.items.len()))
            .title_bottom(Line::from(" type to search · ↑/↓ · Enter choose · Esc close ").right_aligned());
        f.render_widget(Clear, rect);
        f.render_widget(Paragraph::new(lines).block(block), rect);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_starting_with_the_search_comes_before_a_mention() {
        let items = [
            ("Slack: a message through an incoming webhook", "slack"),
            ("Webhook: the alert as JSON to any URL", "webhook"),
        ]
        .map(|(shown, value)| (shown.to_string(), value.to_string()))
        .into();
        let mut picker = Picker::new(PickerKind::IntegrationKind, "kinds", items);
        for c in "web".chars() {
            picker.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let chosen = picker.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        assert_eq!(chosen, Some(Some("webhook".to_string())), "Slack's row mentions a webhook too");
    }
}
