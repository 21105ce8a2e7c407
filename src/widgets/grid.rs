//! The results grid: Arrow-backed, formats only the visible cells, sizes columns from the
//! visible rows (capped at a third of the width, with an ellipsis, unless the row has room),
//! numbers aligned right, horizontal scroll with a
//! frozen first column, a column cursor, sort and filter (computed off the UI thread as a row
//! order), cell and row selection, and the text/JSON of a cell, a record or a selection.
//! Text from logs is neutralised before it is drawn.

use datafusion::arrow::array::{Array, ArrayRef, UInt32Array};
use datafusion::arrow::compute::{SortOptions, concat, concat_batches, sort_to_indices, take_record_batch};
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

/// What `v`/`V` started: cells of the current row from a column, or rows from a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Cells { from_col: usize },
    Rows { from_row: usize },
}

/// Asks for a row order (sort and filter) to be computed off the UI thread.
#[derive(Debug, Clone)]
pub struct ViewRequest {
    pub generation: u64,
    pub batches: Vec<RecordBatch>,
    pub sort: Option<(usize, bool)>,
    pub filter: String,
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

fn format_options() -> FormatOptions<'static> {
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
    /// decoded too), then neutralised.
    pub fn cell_lines(&self) -> Vec<Line<'static>> {
        if self.shown() == 0 || self.columns() == 0 {
            return vec![];
        }
        let raw = self.value(self.selected, self.col);
        let text = match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                serde_json::to_string_pretty(&decode_nested(v)).unwrap_or(raw)
            }
            _ => raw,
        };
        text_lines(&text)
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

/// Text as neutralised lines, one per line of the text (the view wraps them to its width).
pub fn text_lines(text: &str) -> Vec<Line<'static>> {
    text.lines().map(|l| Line::from(neutralize(l).into_owned())).collect()
}

/// JSON kept as a string inside JSON (a policy document in CloudTrail's request parameters)
/// decoded in place, so the cell view shows it as JSON rather than one escaped line.
pub fn decode_nested(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => match serde_json::from_str::<Value>(&s)
        {
            Ok(inner @ (Value::Object(_) | Value::Array(_))) => decode_nested(inner),
            _ => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(decode_nested).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, decode_nested(v))).collect()),
        other => other,
    }
}

/// The result as shown, one batch: rows in `order` when there is one.
pub fn ordered(
    batches: &[RecordBatch],
    order: Option<&[u32]>,
) -> datafusion::arrow::error::Result<Vec<RecordBatch>> {
    match (order, batches.first()) {
        (Some(order), Some(first)) => {
            let all = concat_batches(&first.schema(), batches)?;
            Ok(vec![take_record_batch(&all, &UInt32Array::from(order.to_vec()))?])
        }
        _ => Ok(batches.to_vec()),
    }
}

/// The row order for a sort and a filter (`!text` keeps rows without it), or `None` for the
/// result as returned. Runs on a blocking task: a million rows take a while to format.
pub fn compute_view(req: &ViewRequest) -> Result<Option<Vec<u32>>, String> {
    let Some(first) = req.batches.first() else { return Ok(None) };
    let total: usize = req.batches.iter().map(RecordBatch::num_rows).sum();
    let mut order: Option<Vec<u32>> = None;
    if let Some((col, descending)) = req.sort {
        let arrays: Vec<&dyn Array> = req.batches.iter().map(|b| b.column(col).as_ref()).collect();
        let column: ArrayRef = concat(&arrays).map_err(|e| e.to_string())?;
        let opts = SortOptions { descending, nulls_first: false };
        let idx = sort_to_indices(&column, Some(opts), None)
            .map_err(|e| format!("cannot sort {}: {e}", first.schema().field(col).name()))?;
        order = Some(idx.values().to_vec());
    }
    let filter = req.filter.to_lowercase();
    let (invert, needle) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest.to_string()),
        None => (false, filter.clone()),
    };
    if needle.is_empty() {
        return Ok(order);
    }
    let opts = format_options();
    let mut keep = vec![false; total];
    let mut start = 0;
    for b in &req.batches {
        let fmts: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        for r in 0..b.num_rows() {
            let hit = fmts.iter().any(|f| f.value(r).to_string().to_lowercase().contains(&needle));
            keep[start + r] = hit != invert;
        }
        start += b.num_rows();
    }
    let base: Vec<u32> = order.unwrap_or_else(|| (0..total as u32).collect());
    Ok(Some(base.into_iter().filter(|&i| keep[i as usize]).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatchOptions;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    #[test]
    fn a_result_without_columns_says_so_instead_of_panicking() {
        let empty = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(0)),
        )
        .unwrap();
        let mut grid = Grid::default();
        grid.set(vec![empty]);
        let mut t = Terminal::new(TestBackend::new(60, 5)).unwrap();
        t.draw(|f| grid.render(f, f.area(), Block::bordered(), "", Style::default(), Style::default()))
            .unwrap();
        let text: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
        assert!(text.contains("returned 0 rows and no columns"), "{text}");
    }

    fn two_batches() -> Vec<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
            Field::new("params", DataType::Utf8, true),
        ]));
        let batch = |names: Vec<Option<&str>>, ns: Vec<Option<i64>>, ps: Vec<&str>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from(names)),
                    Arc::new(Int64Array::from(ns)),
                    Arc::new(StringArray::from(ps)),
                ],
            )
            .unwrap()
        };
        vec![
            batch(vec![Some("b"), Some("a")], vec![Some(2), None], vec!["{}", "{\"bucketName\":\"x\"}"]),
            batch(vec![Some("c")], vec![Some(1)], vec!["plain"]),
        ]
    }

    #[test]
    fn sort_and_filter_make_a_row_order_across_batches() {
        let mut g = Grid::default();
        g.set(two_batches());
        g.move_col(1);
        let req = g.cycle_sort();
        let order = compute_view(&req).unwrap();
        assert_eq!(order, Some(vec![2, 0, 1]), "ascending, nulls last");
        assert!(g.apply_view(req.generation, order));
        assert_eq!(g.value(0, 0), "c");
        let req = g.cycle_sort();
        assert_eq!(compute_view(&req).unwrap(), Some(vec![0, 2, 1]), "descending, nulls last");
        // A stale reply is dropped.
        let newer = g.filter_by("!2".into());
        assert!(!g.apply_view(req.generation, Some(vec![])));
        let order = compute_view(&newer).unwrap();
        assert_eq!(order, Some(vec![2, 1]), "rows without a `2`, still sorted");
        g.apply_view(newer.generation, order);
        assert_eq!(g.shown(), 2);
        let (batches, order) = g.snapshot();
        let out = ordered(&batches, order.as_deref().map(|v| v.as_slice())).unwrap();
        assert_eq!(out[0].num_rows(), 2);
        // Off again: as returned.
        g.cycle_sort();
        let req = g.filter_by(String::new());
        assert_eq!(compute_view(&req).unwrap(), None);
    }

    #[test]
    fn copy_cells_rows_and_json_keep_what_the_engine_returned() {
        let mut g = Grid::default();
        g.set(two_batches());
        assert_eq!(g.copy_text(false).unwrap(), "b");
        g.toggle_selection(false);
        g.move_col(2);
        assert_eq!(g.copy_text(false).unwrap(), "b\t2\t{}");
        g.toggle_selection(true);
        g.move_by(2);
        assert_eq!(
            g.copy_text(false).unwrap(),
            "name\tn\tparams\nb\t2\t{}\na\tNULL\t{\"bucketName\":\"x\"}\nc\t1\tplain"
        );
        let json: serde_json::Value = serde_json::from_str(&g.copy_json().unwrap()).unwrap();
        assert_eq!(json[2]["n"], 1, "numbers stay numbers");
        assert_eq!(json.as_array().unwrap().len(), 3);
        g.toggle_selection(true);
        g.move_by(-1);
        let cell: Vec<String> = g.cell_lines().iter().map(|l| l.to_string()).collect();
        assert_eq!(cell, vec!["{", "  \"bucketName\": \"x\"", "}"]);
        let record: Vec<String> = g.record_lines(Style::default()).iter().map(|l| l.to_string()).collect();
        assert_eq!(record[1], "n       NULL");
    }
}
