//! A list of records (rules, alerts, integrations, dead letters) as a table: the cursor, the
//! `/` filter (k9s's grammar: a substring, `!` for rows without it), marks for bulk actions.

use crate::config::keymap::Action;
use crate::config::theme::Theme;
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use std::collections::BTreeSet;

/// What a list action did: moved or marked, or asks for the `/` filter input, starting from
/// the kept filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    Moved,
    AskFilter(String),
}

/// What a list needs of its records.
pub trait Record {
    /// Stable across refreshes: marks are kept by it.
    fn id(&self) -> String;
    /// The text `/` searches: what the row shows.
    fn haystack(&self) -> String;
}

pub struct List<T> {
    pub items: Vec<T>,
    /// The cursor's position among the rows the filter lets through.
    pub cursor: usize,
    pub filter: String,
    /// Ids marked with `mark` for a bulk action.
    pub marks: BTreeSet<String>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List { items: vec![], cursor: 0, filter: String::new(), marks: BTreeSet::new() }
    }
}

/// A table's title, column names and widths; the rows come from the records.
pub struct Columns<'a> {
    pub title: &'a str,
    pub header: Vec<&'a str>,
    pub widths: Vec<Constraint>,
}

impl<T: Record + PartialEq> List<T> {
    /// New records from a refresh; returns whether anything changed. The cursor stays on the
    /// record it was on (new alerts arrive above it), so a key acts on what the analyst chose.
    pub fn set(&mut self, items: Vec<T>) -> bool {
        if items == self.items {
            return false;
        }
        let on = self.selected().map(Record::id);
        self.items = items;
        if let Some(id) = on
            && let Some(at) = self.visible().iter().position(|&i| self.items[i].id() == id)
        {
            self.cursor = at;
        }
        true
    }

    /// Indices of the records the filter lets through, case-insensitively.
    pub fn visible(&self) -> Vec<usize> {
        let filter = self.filter.to_lowercase();
        let (invert, needle) = match filter.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, filter.as_str()),
        };
        self.items
            .iter()
            .enumerate()
            .filter(|(_, r)| needle.is_empty() || r.haystack().to_lowercase().contains(needle) != invert)
            .map(|(i, _)| i)
            .collect()
    }

    pub fn selected(&self) -> Option<&T> {
        self.visible().get(self.cursor).map(|&i| &self.items[i])
    }

    /// What a bulk action works on: the marked records, else the selected one.
    pub fn targets(&self) -> Vec<String> {
        let marked: Vec<String> =
            self.items.iter().map(Record::id).filter(|id| self.marks.contains(id)).collect();
        if !marked.is_empty() {
            return marked;
        }
        self.selected().map(Record::id).into_iter().collect()
    }

    /// The targets of a bulk action that ends the marking (triage, redrive, delete).
    pub fn take_targets(&mut self) -> Vec<String> {
        let targets = self.targets();
        self.marks.clear();
        targets
    }

    /// The filter as typed so far: the list narrows and the cursor goes to the first match.
    pub fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.cursor = 0;
    }

    fn step(&mut self, delta: isize, len: usize) {
        self.cursor =
            if len == 0 { 0 } else { (self.cursor as isize + delta).clamp(0, len as isize - 1) as usize };
    }

    /// Motions, `/` and marks, which every list shares; `None` for any other action. The list
    /// changes itself and says what it needs of the screen (the `/` input to open).
    pub fn act(&mut self, action: Action) -> Option<Listed> {
        use Action::*;
        match action {
            Top => self.cursor = 0,
            Filter => return Some(Listed::AskFilter(self.filter.clone())),
            Down | Up | PageDown | PageUp | Bottom | Mark => {
                // The filter pass runs once, and only for the actions that move over the rows.
                let shown = self.visible();
                let n = shown.len();
                match action {
                    Down => self.step(1, n),
                    Up => self.step(-1, n),
                    PageDown => self.step(10, n),
                    PageUp => self.step(-10, n),
                    Bottom => self.step(isize::MAX / 2, n),
                    _ => {
                        if let Some(id) = shown.get(self.cursor).map(|&i| self.items[i].id())
                            && !self.marks.remove(&id)
                        {
                            self.marks.insert(id);
                        }
                        self.step(1, n);
                    }
                }
            }
            _ => return None,
        }
        Some(Listed::Moved)
    }

    /// The records the filter lets through as a table, a `*` column for the marks, the filter
    /// and its counts in the bottom border while one is set or typed.
    pub fn render<'a>(
        &self,
        f: &mut Frame,
        area: Rect,
        columns: Columns,
        cells: impl Fn(&T) -> Vec<Cell<'a>>,
        theme: &Theme,
        typing_filter: bool,
    ) {
        let shown = self.visible();
        let Columns { title, mut header, mut widths } = columns;
        header.insert(0, "");
        widths.insert(0, Constraint::Length(1));
        let rows: Vec<Row> = shown
            .iter()
            .map(|&i| {
                let record = &self.items[i];
                let mark = if self.marks.contains(&record.id()) { "*" } else { " " };
                Row::new(std::iter::once(Cell::from(mark)).chain(cells(record)))
            })
            .collect();
        // How many there are, and with a filter kept, how many it lets through.
        let mut title = match self.filter.is_empty() {
            true => format!("{title}· {} ", self.items.len()),
            false => {
                format!("{title}· /{} {} of {} ", neutralize(&self.filter), shown.len(), self.items.len())
            }
        };
        if !self.marks.is_empty() {
            title.push_str(&format!("· {} marked ", self.marks.len()));
        }
        let mut block = Block::bordered().title(title).border_style(Style::default());
        if !self.filter.is_empty() || typing_filter {
            block = block.title_bottom(format!(
                " /{} · {}/{} ",
                neutralize(&self.filter),
                shown.len(),
                self.items.len()
            ));
        }
        let selected = (!rows.is_empty()).then_some(self.cursor);
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.header()))
            .row_highlight_style(theme.selected())
            .block(block);
        f.render_stateful_widget(table, area, &mut TableState::default().with_selected(selected));
    }
}

/// How long ago, in the largest unit that keeps it short: `45s`, `12m`, `5h`, `3d`.
pub fn age(t: chrono::DateTime<chrono::Utc>) -> String {
    let s = (chrono::Utc::now() - t).num_seconds().max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Log or network text made safe to draw in a cell.
pub fn clean(s: &str) -> String {
    neutralize(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(PartialEq)]
    struct Item(&'static str);

    impl Record for Item {
        fn id(&self) -> String {
            self.0.to_string()
        }
        fn haystack(&self) -> String {
            self.0.to_string()
        }
    }

    #[test]
    fn filter_marks_and_targets_follow_the_rows_on_screen() {
        let mut list = List::default();
        assert!(list.set(vec![Item("Alpha"), Item("beta"), Item("alphabet")]));
        assert!(!list.set(vec![Item("Alpha"), Item("beta"), Item("alphabet")]), "no change");
        list.set_filter("ALPHA");
        assert_eq!(list.visible(), vec![0, 2]);
        list.act(Action::Bottom);
        assert_eq!(list.selected().map(|i| i.0), Some("alphabet"));
        list.set_filter("!alpha");
        assert_eq!(list.visible(), vec![1]);
        assert_eq!(list.take_targets(), vec!["beta"]);
        list.set_filter("");
        list.act(Action::Mark);
        list.act(Action::Mark);
        assert_eq!(list.cursor, 2, "marking moves down");
        assert_eq!(list.take_targets(), vec!["Alpha", "beta"]);
        assert!(list.marks.is_empty(), "a bulk action uses the marks up");
        assert_eq!(list.act(Action::Acknowledge), None, "not a list action");
        list.set_filter("beta");
        assert_eq!(
            list.act(Action::Filter),
            Some(Listed::AskFilter("beta".into())),
            "the input starts from the kept filter"
        );
    }
}
