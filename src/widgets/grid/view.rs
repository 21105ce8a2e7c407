//! The grid's views, computed off the UI thread: the row order a sort and a `/` filter give,
//! and the result in that order for an export.

use super::format_options;
use datafusion::arrow::array::{Array, ArrayRef, UInt32Array};
use datafusion::arrow::compute::{SortOptions, concat, concat_batches, sort_to_indices, take_record_batch};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::ArrayFormatter;

/// Asks for a row order (sort and filter) to be computed off the UI thread.
#[derive(Debug, Clone)]
pub struct ViewRequest {
    pub generation: u64,
    pub batches: Vec<RecordBatch>,
    pub sort: Option<(usize, bool)>,
    pub filter: String,
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
