//! The results grid: Arrow-backed, formats only the visible cells, sizes columns from the
//! visible rows (capped at a third of the width, with an ellipsis, unless the row has room),
//! numbers aligned right, horizontal scroll with a
//! frozen first column, a column cursor, sort and filter (computed off the UI thread as a row
//! order), cell and row selection, and the text/JSON of a cell, a record or a selection.
//! Text from logs is neutralised before it is drawn.

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use std::cell::Cell;
use std::sync::Arc;

mod view;
pub use view::{ViewRequest, compute_view, ordered};

/// What `v`/`V` started: cells of the current row from a column, or rows from a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Cells { from_col: usize },
    Rows { from_row: usize },
}

#[derive(Default)]
pub struct Grid {
    pub batches: Vec<RecordBatch>,
    /// The first row of each batch in the whole result, for finding a row's batch.
    starts: Vec<usize>,
    pub rows: usize,
    /// The rows shown, in order, once sorted or filtered (indices into the whole result).
    order: Option<Arc<Vec<u32>>>,
    /// `(column, descending)`.
    pub sort: Option<(usize, bool)>,
    pub filter: String,
    /// Bumped by every new result and view request; older view replies are dropped.
    generation: u64,
    /// The first row and first scrolled column on screen: they follow the cursor when drawn,
    /// where the viewport's size is known (ratatui-textarea keeps its viewport the same way).
    top: Cell<usize>,
    first_col: Cell<usize>,
    /// The cursor's position among the shown rows, and its column.
    pub selected: usize,
    pub col: usize,
    pub selection: Option<Selection>,
}

pub(crate) fn format_options() -> FormatOptions<'static> {
    mantissa_backend::query::display_options()
}

impl Grid {
    pub fn set(&mut self, batches: Vec<RecordBatch>) {
        let mut start = 0;
        self.starts = batches
            .iter()
            .map(|b| {
                let s = start;
                start += b.num_rows();
                s
            })
            .collect();
        self.rows = start;
        self.batches = batches;
        self.order = None;
        self.sort = None;
        self.filter.clear();
        self.generation += 1;
        self.top.set(0);
        self.selected = 0;
        self.col = 0;
        self.first_col.set(0);
        self.selection = None;
    }

    pub fn columns(&self) -> usize {
        self.batches.first().map_or(0, |b| b.num_columns())
    }

    pub fn column_name(&self, col: usize) -> Option<String> {
        self.batches.first().map(|b| b.schema().field(col).name().clone())
    }

    /// Rows shown (after the filter).
    pub fn shown(&self) -> usize {
        self.order.as_ref().map_or(self.rows, |o| o.len())
    }

    /// The whole-result index of the row at `pos` among the shown rows.
    fn global(&self, pos: usize) -> usize {
        self.order.as_ref().map_or(pos, |o| o[pos] as usize)
    }

    fn locate(&self, global: usize) -> (&RecordBatch, usize) {
        let b = self.starts.partition_point(|&s| s <= global) - 1;
        (&self.batches[b], global - self.starts[b])
    }

    /// The cell as the engine formats it, not neutralised (for copying and detail views).
    pub fn value(&self, pos: usize, col: usize) -> String {
        let (batch, r) = self.locate(self.global(pos));
        match ArrayFormatter::try_new(batch.column(col).as_ref(), &format_options()) {
            Ok(f) => f.value(r).to_string(),
            Err(_) => "?".into(),
        }
    }

    /// Column `c` of the shown rows at `positions`, formatted and neutralised for drawing.
    fn column_cells(&self, c: usize, positions: &[usize]) -> Vec<String> {
        let opts = format_options();
        positions
            .iter()
            .map(|&p| {
                let (batch, r) = self.locate(self.global(p));
                ArrayFormatter::try_new(batch.column(c).as_ref(), &opts)
                    .map(|fm| neutralize(&fm.value(r).to_string()).into_owned())
                    .unwrap_or_else(|_| "?".into())
            })
            .collect()
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.shown();
        if n == 0 {
            return;
        }
        self.selected = (self.selected as isize).saturating_add(delta).clamp(0, n as isize - 1) as usize;
    }

    pub fn move_col(&mut self, delta: isize) {
        let max = self.columns().saturating_sub(1);
        self.col = (self.col as isize + delta).clamp(0, max as isize) as usize;
    }

    /// `sort` cycles the cursor's column: ascending, descending, as returned.
    pub fn cycle_sort(&mut self) -> ViewRequest {
        self.sort = match self.sort {
            Some((c, false)) if c == self.col => Some((c, true)),
            Some((c, true)) if c == self.col => None,
            _ => Some((self.col, false)),
        };
        self.view_request()
    }

    pub fn filter_by(&mut self, filter: String) -> ViewRequest {
        self.filter = filter;
        self.view_request()
    }

    fn view_request(&mut self) -> ViewRequest {
        self.generation += 1;
        ViewRequest {
            generation: self.generation,
            batches: self.batches.clone(),
            sort: self.sort,
            filter: self.filter.clone(),
        }
    }

    /// A computed order arrives; `None` means as returned. Stale replies return false.
    pub fn apply_view(&mut self, generation: u64, order: Option<Vec<u32>>) -> bool {
        if generation != self.generation {
            return false;
        }
        self.order = order.map(Arc::new);
        self.selected = 0;
        self.top.set(0);
        self.selection = None;
        true
    }

    /// The result as shown, for export: batches and the row order (sorted, filtered).
    pub fn snapshot(&self) -> (Vec<RecordBatch>, Option<Arc<Vec<u32>>>) {
        (self.batches.clone(), self.order.clone())
    }

    /// `v` or `V`: starts a selection at the cursor, or ends the one of that kind.
    pub fn toggle_selection(&mut self, rows: bool) {
        let new = if rows {
            Selection::Rows { from_row: self.selected }
        } else {
            Selection::Cells { from_col: self.col }
        };
        self.selection = match self.selection {
            Some(Selection::Rows { .. }) if rows => None,
            Some(Selection::Cells { .. }) if !rows => None,
            _ => Some(new),
        };
    }

    fn selected_rows(&self) -> std::ops::RangeInclusive<usize> {
        match self.selection {
            Some(Selection::Rows { from_row }) => from_row.min(self.selected)..=from_row.max(self.selected),
            _ => self.selected..=self.selected,
        }
    }

    fn selected_cols(&self) -> std::ops::RangeInclusive<usize> {
        match self.selection {
            Some(Selection::Cells { from_col }) => from_col.min(self.col)..=from_col.max(self.col),
            Some(Selection::Rows { .. }) => 0..=self.columns().saturating_sub(1),
            None => self.col..=self.col,
        }
    }

    /// The selection (or the cell) as text: tab-separated, rows with a header line.
    /// The cursor's cell or the selection as tab-separated text, neutralised as the screen
    /// shows it (a paste into a terminal or a ticket runs no escape sequence) unless `raw`.
    pub fn copy_text(&self, raw: bool) -> Option<String> {
        if self.shown() == 0 {
            return None;
        }
        let cols: Vec<usize> = self.selected_cols().collect();
        let mut lines = vec![];
        if matches!(self.selection, Some(Selection::Rows { .. })) {
            lines.push(cols.iter().filter_map(|&c| self.column_name(c)).collect::<Vec<_>>().join("\t"));
        }
        for pos in self.selected_rows() {
            let cell = |c: usize| {
                let v = self.value(pos, c);
                if raw { v } else { neutralize(&v).into_owned() }
            };
            lines.push(cols.iter().map(|&c| cell(c)).collect::<Vec<_>>().join("\t"));
        }
        Some(lines.join("\n"))
    }

    /// The selected rows (or the cursor's row) as JSON objects with their Arrow types kept:
    /// one object for one row, an array for more.
    pub fn copy_json(&self) -> Option<String> {
        if self.shown() == 0 {
            return None;
        }
        // One-row slices of their own batches: copying a row never copies the whole result.
        let slices: Vec<RecordBatch> = self
            .selected_rows()
            .map(|p| {
                let (batch, r) = self.locate(self.global(p));
                batch.slice(r, 1)
            })
            .collect();
        let batch = concat_batches(&self.batches[0].schema(), &slices).ok()?;
        let mut w = arrow_json::ArrayWriter::new(Vec::new());
        w.write_batches(&[&batch]).ok()?;
        w.finish().ok()?;
        let value: serde_json::Value = serde_json::from_slice(&w.into_inner()).ok()?;
        let value = match value {
            serde_json::Value::Array(mut one) if one.len() == 1 => one.remove(0),
            v => v,
        };
        serde_json::to_string_pretty(&value).ok()
    }

    /// The cursor's row as `field  value` lines, neutralised.
    pub fn record_lines(&self, name_style: Style) -> Vec<Line<'static>> {
        let Some(first) = self.batches.first() else { return vec![] };
        if self.shown() == 0 {
            return vec![];
        }
        let schema = first.schema();
        let width = schema.fields().iter().map(|f| f.name().chars().count()).max().unwrap_or(0).min(30);
        (0..schema.fields().len())
            .map(|c| {
                let name = neutralize(schema.field(c).name()).into_owned();
                let value = neutralize(&self.value(self.selected, c)).into_owned();
                Line::from(vec![Span::styled(format!("{name:<width$}  "), name_style), Span::raw(value)])
            })
            .collect()
    }

    /// The cursor's cell in full: JSON objects and arrays pretty-printed (JSON strings inside
    /// decoded too) and coloured, neutralised.
    pub fn cell_lines(&self, theme: &crate::config::theme::Theme) -> Vec<Line<'static>> {
        if self.shown() == 0 || self.columns() == 0 {
            return vec![];
        }
        let raw = self.value(self.selected, self.col);
        match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                let pretty = serde_json::to_string_pretty(&super::text::decode_nested(v)).unwrap_or(raw);
                super::highlight::lines(&pretty, super::highlight::Language::Json, theme)
            }
            _ => super::text::text_lines(&raw),
        }
    }

    pub fn render(
        &self,
        f: &mut Frame,
        area: Rect,
        block: Block,
        empty: &str,
        header_style: Style,
        selected_style: Style,
    ) {
        let inner = block.inner(area);
        f.render_widget(block, area);
        let Some(first) = self.batches.first() else {
            f.render_widget(Paragraph::new(empty).wrap(ratatui::widgets::Wrap { trim: true }), inner);
            return;
        };
        let schema = first.schema();
        let ncols = schema.fields().len();
        if ncols == 0 {
            // An engine may answer a statement with no columns at all (Athena DDL, an emulator).
            f.render_widget(
                Paragraph::new(format!("The query returned {} rows and no columns.", self.rows)),
                inner,
            );
            return;
        }
        if self.shown() == 0 {
            let why = if self.filter.is_empty() {
                "The query returned no rows."
            } else {
                "No row matches the filter."
            };
            f.render_widget(Paragraph::new(why), inner);
            return;
        }
        let height = inner.height.saturating_sub(1) as usize;
        let mut top = self.top.get();
        if self.selected < top {
            top = self.selected;
        } else if height > 0 && self.selected >= top + height {
            top = self.selected + 1 - height;
        }
        self.top.set(top);
        // Frozen first column, then as many scrolled ones as fit, keeping the cursor's in view.
        let mut first_col = self.first_col.get();
        if self.col > 0 && self.col < first_col.max(1) {
            first_col = self.col;
        }
        let visible: Vec<usize> = (top..(top + height).min(self.shown())).collect();
        let cap = (inner.width as usize / 3).max(8);
        // Each visible column is formatted once per frame, on first need: for its width and
        // again for drawing, and not at all when it does not fit.
        let mut cells: Vec<Option<Vec<String>>> = vec![None; ncols];
        let natural = |c: usize, cells: &mut Vec<Option<Vec<String>>>| {
            let column = cells[c].get_or_insert_with(|| self.column_cells(c, &visible));
            // The header also carries the sort arrow.
            let head =
                schema.field(c).name().chars().count() + usize::from(self.sort.is_some_and(|(s, _)| s == c));
            column.iter().map(|v| v.chars().count()).max().unwrap_or(0).max(head)
        };
        // `(column, width, natural width)`.
        let mut widths: Vec<(usize, usize, usize)>;
        let mut used;
        loop {
            let n = natural(0, &mut cells);
            widths = vec![(0, n.min(cap), n)];
            used = n.min(cap) + 1;
            for c in first_col.max(1)..ncols {
                let n = natural(c, &mut cells);
                let w = n.min(cap);
                if used + w > inner.width as usize && widths.len() > 1 {
                    break;
                }
                used += w + 1;
                widths.push((c, w, n));
            }
            let last = widths.last().map_or(0, |w| w.0);
            if self.col <= last || first_col >= ncols - 1 {
                break;
            }
            first_col = first_col.max(1) + 1;
        }
        // Room the shown columns leave goes to those the cap cut, so an ARN reads in full when
        // the grid has the space.
        let mut spare = (inner.width as usize).saturating_sub(used);
        for (_, w, n) in widths.iter_mut() {
            let more = n.saturating_sub(*w).min(spare);
            *w += more;
            spare -= more;
        }
        let numeric: Vec<bool> = schema.fields().iter().map(|f| f.data_type().is_numeric()).collect();
        let fit = |s: &str, w: usize, right: bool| {
            let n = s.chars().count();
            if n > w {
                format!("{}…", s.chars().take(w.saturating_sub(1)).collect::<String>())
            } else if right {
                format!("{s:>w$}")
            } else {
                format!("{s:<w$}")
            }
        };
        let sort_mark = |c: usize| match self.sort {
            Some((s, false)) if s == c => "↑",
            Some((s, true)) if s == c => "↓",
            _ => "",
        };
        let header: Vec<Span> = widths
            .iter()
            .map(|&(c, w, _)| {
                let name = format!("{}{}", sort_mark(c), neutralize(schema.field(c).name()));
                let style = if c == self.col {
                    header_style.add_modifier(Modifier::UNDERLINED)
                } else {
                    header_style
                };
                Span::styled(format!("{} ", fit(&name, w, numeric[c])), style)
            })
            .collect();
        let mut lines = vec![Line::from(header)];
        self.first_col.set(first_col);
        let rows = self.selected_rows();
        let cols = self.selected_cols();
        for (k, &p) in visible.iter().enumerate() {
            let in_rows = rows.contains(&p);
            let spans: Vec<Span> = widths
                .iter()
                .map(|&(c, w, _)| {
                    let v = cells[c].as_ref().map_or("?", |column| column[k].as_str());
                    let mut style = if in_rows && (self.selection.is_some() || p == self.selected) {
                        selected_style
                    } else {
                        Style::default()
                    };
                    if p == self.selected && (cols.contains(&c) && self.selection.is_some() || c == self.col)
                    {
                        style = style.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
                    }
                    Span::styled(format!("{} ", fit(v, w, numeric[c] && v != "NULL")), style)
                })
                .collect();
            lines.push(Line::from(spans));
        }
        f.render_widget(Paragraph::new(lines), inner);
    }
}

#[cfg(test)]
mod tests;
