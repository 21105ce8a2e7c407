//! The groups one partition of [`super::DictionaryCountExec`] has counted: each grouped
//! column's values get small ids once per dictionary, rows are counted by their ids.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Field, Int32Type, SchemaRef};
use datafusion::common::{HashMap, Result};

/// A dictionary key not looked up yet.
const UNSEEN: u32 = u32::MAX;

/// Where a dictionary's text lies (values, offsets, length), the ids of its keys, how many unseen.
type LastDictionary = ((usize, usize, usize), Vec<u32>, usize);

/// One grouped column's values seen so far: id 0 is NULL, ids from 1 index `names`.
#[derive(Default)]
pub(super) struct Values {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Option<Box<str>>>,
    /// The last dictionary met (where its text lies) and the id of each of its keys: a row
    /// group's batches share one, though a struct's leaf comes in a new array each batch.
    /// Keys are looked up as rows need them: `UNSEEN` marks those not yet, counted by the last.
    last: Option<LastDictionary>,
}

impl Values {
    fn new() -> Self {
        Values { names: vec![None], ..Default::default() }
    }

    /// The ids of the rows of `column` (all NULL when absent).
    fn ids_of(&mut self, column: Option<&DictionaryArray<Int32Type>>, rows: usize) -> Vec<u32> {
        let Some(column) = column else { return vec![0; rows] };
        let text: &StringArray = column.values().as_string::<i32>();
        let place = (text.values().as_ptr() as usize, text.offsets().as_ptr() as usize, text.len());
        let (mut mapping, mut unseen) = match self.last.take() {
            Some((seen, mapping, unseen)) if seen == place => (mapping, unseen),
            _ => (vec![UNSEEN; text.len()], text.len()),
        };
        // A batch with more rows than the dictionary has values looks them all up; a smaller
        // one (a filter kept few rows) only the keys its rows have.
        if unseen > 0 && rows >= text.len() {
            for (k, id) in mapping.iter_mut().enumerate() {
                *id = if text.is_null(k) { 0 } else { self.id(text.value(k)) };
            }
            unseen = 0;
        }
        let keys = column.keys();
        let ids = if unseen == 0 {
            match keys.nulls() {
                None => keys.values().iter().map(|&k| mapping[k as usize]).collect(),
                Some(nulls) => keys
                    .values()
                    .iter()
                    .zip(nulls.iter())
                    .map(|(&k, valid)| if valid { mapping[k as usize] } else { 0 })
                    .collect(),
            }
        } else {
            let mut id_of = |k: i32| {
                let k = k as usize;
                if mapping[k] == UNSEEN {
                    mapping[k] = if text.is_null(k) { 0 } else { self.id(text.value(k)) };
                    unseen -= 1;
                }
                mapping[k]
            };
            let valid = |i: usize| keys.is_valid(i);
            keys.values().iter().enumerate().map(|(i, &k)| if valid(i) { id_of(k) } else { 0 }).collect()
        };
        self.last = Some((place, mapping, unseen));
        ids
    }

    fn id(&mut self, value: &str) -> u32 {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(Some(value.into()));
        self.ids.insert(value.into(), id);
        id
    }
}

/// The groups of one partition: the first column's ids, then each further column paired with
/// the group so far (`pairs[c]`: (group before, id) -> group), and a count per final group.
pub(super) struct Groups {
    values: Vec<Values>,
    pairs: Vec<HashMap<u64, u32>>,
    parents: Vec<Vec<(u32, u32)>>,
    counts: Vec<i64>,
}

impl Groups {
    pub(super) fn new(columns: usize) -> Self {
        Groups {
            values: (0..columns).map(|_| Values::new()).collect(),
            pairs: (1..columns).map(|_| HashMap::default()).collect(),
            parents: (1..columns).map(|_| vec![]).collect(),
            counts: vec![],
        }
    }

    pub(super) fn len(&self) -> usize {
        let values = self.values.iter().map(|v| v.names.len()).max().unwrap_or(0);
        values.max(self.counts.len())
    }

    /// Counts `rows` rows, their grouped columns' keys in `columns` (`None`: all NULL).
    pub(super) fn add(&mut self, columns: &[Option<DictionaryArray<Int32Type>>], rows: usize) {
        if rows == 0 {
            return;
        }
        let mut group = self.values[0].ids_of(columns[0].as_ref(), rows);
        for (c, column) in columns.iter().enumerate().skip(1) {
            let ids = self.values[c].ids_of(column.as_ref(), rows);
            let (pairs, parents) = (&mut self.pairs[c - 1], &mut self.parents[c - 1]);
            for (g, id) in group.iter_mut().zip(ids) {
                let key = (u64::from(*g) << 32) | u64::from(id);
                *g = *pairs.entry(key).or_insert_with(|| {
                    parents.push((*g, id));
                    (parents.len() - 1) as u32
                });
            }
        }
        let size = match self.parents.last() {
            Some(last) => last.len(),
            None => self.values[0].names.len(),
        };
        if self.counts.len() < size {
            self.counts.resize(size, 0);
        }
        for g in group {
            self.counts[g as usize] += 1;
        }
    }

    /// The groups counted so far as a partial aggregate's rows, and a fresh start.
    pub(super) fn take(&mut self, schema: &SchemaRef, counts: usize) -> Result<RecordBatch> {
        let finals: Vec<u32> =
            (0..self.counts.len() as u32).filter(|g| self.counts[*g as usize] > 0).collect();
        let columns = self.values.len();
        let mut ids: Vec<Vec<u32>> = vec![vec![]; columns];
        for &g in &finals {
            let mut at = g;
            for c in (1..columns).rev() {
                let (parent, id) = self.parents[c - 1][at as usize];
                ids[c].push(id);
                at = parent;
            }
            ids[0].push(at);
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns + counts);
        for (c, ids) in ids.iter().enumerate() {
            let names = &self.values[c].names;
            let text: StringArray = ids.iter().map(|&id| names[id as usize].as_deref()).collect();
            let field: &Field = schema.field(c);
            arrays.push(cast(&text, field.data_type())?);
        }
        let counted = Arc::new(Int64Array::from_iter_values(finals.iter().map(|&g| self.counts[g as usize])));
        arrays.extend((0..counts).map(|_| Arc::clone(&counted) as ArrayRef));
        *self = Groups::new(columns);
        Ok(RecordBatch::try_new(Arc::clone(schema), arrays)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::{DataType, Schema};

    fn dictionary(keys: &[Option<i32>], values: &[&str]) -> DictionaryArray<Int32Type> {
        let values: ArrayRef = Arc::new(StringArray::from(values.to_vec()));
        DictionaryArray::try_new(Int32Array::from(keys.to_vec()), values).unwrap()
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Utf8View, true),
            Field::new("n", DataType::Int64, false),
        ]))
    }

    /// The batch's rows as `a|b|n`, sorted.
    fn rows(batch: &RecordBatch) -> Vec<String> {
        let text = |c: usize, r: usize| {
            let column = cast(batch.column(c), &DataType::Utf8).unwrap();
            let column = column.as_string::<i32>();
            if column.is_null(r) { "NULL".to_string() } else { column.value(r).to_string() }
        };
        let mut out: Vec<String> =
            (0..batch.num_rows()).map(|r| format!("{}|{}|{}", text(0, r), text(1, r), text(2, r))).collect();
        out.sort();
        out
    }

    #[test]
    fn rows_are_counted_by_value_across_dictionaries_with_nulls_and_absent_columns() {
        let mut groups = Groups::new(2);
        // Two row groups with different dictionaries holding the same values in another order.
        let a = dictionary(&[Some(0), Some(1), Some(0), None], &["x", "y"]);
        let b = dictionary(&[Some(0), Some(0), Some(0), Some(1)], &["p", "q"]);
        groups.add(&[Some(a), Some(b)], 4);
        let a = dictionary(&[Some(1), Some(0)], &["y", "x"]);
        let b = dictionary(&[Some(0), None], &["p"]);
        groups.add(&[Some(a), Some(b)], 2);
        // A file without the second column: every value NULL.
        groups.add(&[Some(dictionary(&[Some(0)], &["x"])), None], 1);
        let batch = groups.take(&schema(), 1).unwrap();
        // Second batch: keys 1, 0 of ["y", "x"] are x, y.
        assert_eq!(rows(&batch), ["NULL|q|1", "x|NULL|1", "x|p|3", "y|NULL|1", "y|p|1"]);
        assert_eq!(groups.len(), 1, "taking the groups starts afresh (the NULL id stays)");
        groups.add(&[None, None], 3);
        assert_eq!(rows(&groups.take(&schema(), 1).unwrap()), ["NULL|NULL|3"]);
    }

    #[test]
    fn a_large_dictionary_with_few_rows_looks_up_only_the_keys_they_have() {
        let values: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let mut groups = Groups::new(1);
        groups.add(&[Some(dictionary(&[Some(7), Some(7), Some(42)], &values))], 3);
        assert_eq!(groups.values[0].names.len(), 3, "NULL and the two values met");
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
            Field::new("m", DataType::Int64, false),
        ]));
        let batch = groups.take(&schema, 2).unwrap();
        let counts: Vec<i64> =
            batch.column(1).as_primitive::<datafusion::arrow::datatypes::Int64Type>().values().to_vec();
        let mut counts = counts;
        counts.sort();
        assert_eq!(counts, [1, 2]);
        assert_eq!(batch.column(1).as_ref(), batch.column(2).as_ref(), "each count(*) gets the counts");
    }
}
