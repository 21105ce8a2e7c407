//! The results grid: Arrow-backed, formats only the visible cells, sizes columns from the
//! visible rows (capped at a third of the width, with an ellipsis), horizontal scroll with a
//! frozen first column. Text from logs is neutralised before it is drawn.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

#[derive(Default)]
pub struct Grid {
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
    pub top: usize,
    pub selected: usize,
    pub first_col: usize,
}

impl Grid {
    pub fn set(&mut self, batches: Vec<RecordBatch>) {
        self.rows = batches.iter().map(RecordBatch::num_rows).sum();
        self.batches = batches;
        self.top = 0;
        self.selected = 0;
        self.first_col = 0;
    }

    pub fn columns(&self) -> usize {
        self.batches.first().map_or(0, |b| b.num_columns())
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.rows == 0 {
            return;
        }
        self.selected = (self.selected as isize + delta).clamp(0, self.rows as isize - 1) as usize;
    }

    pub fn scroll_cols(&mut self, delta: isize) {
        let max = self.columns().saturating_sub(1);
        self.first_col = (self.first_col as isize + delta).clamp(0, max as isize) as usize;
    }

    /// The cell text of `row` (global index), neutralised, for the visible columns.
    fn cells(&self, row: usize, cols: &[usize]) -> Vec<String> {
        let mut r = row;
        for b in &self.batches {
            if r < b.num_rows() {
                let opts = FormatOptions::default().with_null("NULL");
                return cols
                    .iter()
                    .map(|&c| match ArrayFormatter::try_new(b.column(c).as_ref(), &opts) {
                        Ok(f) => neutralize(&f.value(r).to_string()).into_owned(),
                        Err(_) => "?".into(),
                    })
                    .collect();
            }
            r -= b.num_rows();
        }
        vec![]
    }

    pub fn render(
        &mut self,
        f: &mut Frame,
        area: Rect,
        block: Block,
        header_style: Style,
        selected_style: Style,
    ) {
        let inner = block.inner(area);
        f.render_widget(block, area);
        let Some(first) = self.batches.first() else {
            f.render_widget(Paragraph::new("No results yet: write SQL above and press F5."), inner);
            return;
        };
        let height = inner.height.saturating_sub(1) as usize;
        if self.selected < self.top {
            self.top = self.selected;
        } else if height > 0 && self.selected >= self.top + height {
            self.top = self.selected + 1 - height;
        }
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
        // Frozen first column, then the scrolled ones.
        let mut cols = vec![0];
        cols.extend((self.first_col.max(1)..ncols).take(64));
        let visible: Vec<usize> = (self.top..(self.top + height).min(self.rows)).collect();
        let rows: Vec<Vec<String>> = visible.iter().map(|&r| self.cells(r, &cols)).collect();
        let cap = (inner.width as usize / 3).max(8);
        let widths: Vec<usize> = cols
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let head = schema.field(c).name().chars().count();
                rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(head).min(cap)
            })
            .collect();
        let fit = |s: &str, w: usize| {
            let n = s.chars().count();
            if n <= w {
                format!("{s:<w$}")
            } else {
                format!("{}…", s.chars().take(w.saturating_sub(1)).collect::<String>())
            }
        };
        let mut lines = vec![];
        let header: Vec<Span> = cols
            .iter()
            .enumerate()
            .map(|(i, &c)| Span::styled(format!("{} ", fit(schema.field(c).name(), widths[i])), header_style))
            .collect();
        lines.push(Line::from(header));
        for (k, r) in rows.iter().enumerate() {
            let text: String = r.iter().enumerate().map(|(i, v)| format!("{} ", fit(v, widths[i]))).collect();
            let style = if visible[k] == self.selected { selected_style } else { Style::default() };
            lines.push(Line::from(Span::styled(text, style)));
        }
        f.render_widget(Paragraph::new(lines), inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Schema;
    use datafusion::arrow::record_batch::RecordBatchOptions;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::sync::Arc;

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
        t.draw(|f| grid.render(f, f.area(), Block::bordered(), Style::default(), Style::default())).unwrap();
        let text: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
        assert!(text.contains("returned 0 rows and no columns"), "{text}");
    }
}
