//! The grid: sizes, selection, copies and views over results of several batches.

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
    t.draw(|f| grid.render(f, f.area(), Block::bordered(), "", Style::default(), Style::default())).unwrap();
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
    let cell: Vec<String> =
        g.cell_lines(&crate::config::theme::Theme::default()).iter().map(|l| l.to_string()).collect();
    assert_eq!(cell, vec!["{", "  \"bucketName\": \"x\"", "}"]);
    let record: Vec<String> = g.record_lines(Style::default()).iter().map(|l| l.to_string()).collect();
    assert_eq!(record[1], "n       NULL");
}
