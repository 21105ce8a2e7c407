//! Files and row groups left out of a scan at planning time by their bloom filters: DataFusion 55
//! checks them only for top-level columns (apache/datafusion#20871) and only as it opens each
//! file, so a lookup by access key read the column in every file and one by address opened them.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::common::{Result, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::FileGroup;
use datafusion::datasource::physical_plan::parquet::ParquetAccessPlan;
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::cache::cache_manager::FileMetadataCache;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType};
use datafusion::parquet::bloom_filter::Sbbf;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt};

/// Files read at once while their bloom filters are checked.
const FILES_AT_ONCE: usize = 16;

/// A listing table whose scans first drop the row groups (and files) whose bloom filters rule
/// out every value an equality filter asks for; the rest of the scan is the table's own.
#[derive(Debug)]
pub struct BloomPrunedTable {
    inner: Arc<dyn TableProvider>,
}

impl BloomPrunedTable {
    pub fn new(inner: Arc<dyn TableProvider>) -> Self {
        BloomPrunedTable { inner }
    }
}

/// A filter a bloom filter can answer: the column's path in the file, and the values it may equal.
#[derive(Debug, PartialEq)]
pub struct LeafEquality {
    pub path: Vec<String>,
    pub values: Vec<String>,
}

/// `a = 'x'`, `'x' = a.b`, `a.b IN ('x', 'y')` and `a = 'x' OR a = 'y'` over a column or
/// struct leaf; anything else is `None`.
pub fn leaf_equality(filter: &Expr) -> Option<LeafEquality> {
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => {
            let (leaf, value) = match (leaf_path(left), leaf_path(right)) {
                (Some(path), None) => (path, text(right)?),
                (None, Some(path)) => (path, text(left)?),
                _ => return None,
            };
            Some(LeafEquality { path: leaf, values: vec![value] })
        }
        // DataFusion writes a short `IN` list as `a = 'x' OR a = 'y'`.
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
            let (mut left, right) = (leaf_equality(left)?, leaf_equality(right)?);
            (left.path == right.path).then(|| {
                left.values.extend(right.values);
                left
            })
        }
        Expr::InList(list) if !list.negated => {
            let path = leaf_path(&list.expr)?;
            let values = list.list.iter().map(text).collect::<Option<Vec<_>>>()?;
            Some(LeafEquality { path, values })
        }
        _ => None,
    }
}

/// The path of `column[.field...]`.
fn leaf_path(expr: &Expr) -> Option<Vec<String>> {
    if let Expr::Column(column) = expr {
        return Some(vec![column.name.clone()]);
    }
    let Expr::ScalarFunction(call) = expr else { return None };
    if call.func.name() != "get_field" {
        return None;
    }
    let (base, fields) = call.args.split_first()?;
    let mut path = leaf_path(base)?;
    for field in fields {
        path.push(text(field)?);
    }
    Some(path)
}

fn text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Some(s.clone()),
        _ => None,
    }
}

#[async_trait]
impl TableProvider for BloomPrunedTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let args = ScanArgs::default()
            .with_projection(projection.map(|p| p.as_slice()))
            .with_filters(Some(filters))
            .with_limit(limit);
        Ok(self.scan_with_args(state, args).await?.into_inner())
    }

    async fn scan_with_args<'a>(&self, state: &dyn Session, args: ScanArgs<'a>) -> Result<ScanResult> {
        let wanted: Vec<LeafEquality> =
            args.filters().unwrap_or(&[]).iter().filter_map(leaf_equality).collect();
        let plan = self.inner.scan_with_args(state, args).await?.into_inner();
        if wanted.is_empty() {
            return Ok(plan.into());
        }
        Ok(prune(state, plan, &wanted).await?.into())
    }
}

/// The scan `plan` with the row groups no value of `wanted` can be in left out.
async fn prune(
    state: &dyn Session,
    plan: Arc<dyn ExecutionPlan>,
    wanted: &[LeafEquality],
) -> Result<Arc<dyn ExecutionPlan>> {
    let Some(config) = super::file_scan(&plan) else {
        return Ok(plan);
    };
    // A partition column (`dt = '...'`, in nearly every query) is not in the files: no footer
    // is read for it.
    let in_files = config.file_schema();
    let wanted: Vec<&LeafEquality> =
        wanted.iter().filter(|w| in_files.field_with_name(&w.path[0]).is_ok()).collect();
    if wanted.is_empty() {
        return Ok(plan);
    }
    let wanted = wanted.as_slice();
    let store = state.runtime_env().object_store(&config.object_store_url)?;
    let cache = state.runtime_env().cache_manager.get_file_metadata_cache();
    let mut groups = Vec::with_capacity(config.file_groups.len());
    for group in &config.file_groups {
        let files: Vec<PartitionedFile> = futures::stream::iter(group.iter().cloned())
            .map(|file| {
                let (store, cache) = (Arc::clone(&store), Arc::clone(&cache));
                async move { keep_row_groups(store.as_ref(), cache, file, wanted).await }
            })
            .buffered(FILES_AT_ONCE)
            .try_filter_map(futures::future::ok)
            .try_collect()
            .await?;
        if !files.is_empty() {
            groups.push(FileGroup::new(files));
        }
    }
    if groups.is_empty() {
        return Ok(Arc::new(EmptyExec::new(plan.schema())));
    }
    let mut config = config.clone();
    config.file_groups = groups;
    Ok(DataSourceExec::from_data_source(config))
}

/// `file` with an access plan of the row groups that may hold a wanted value, or `None` when
/// none may. A column the file lacks, or a row group without a bloom filter for it, is
/// scanned; the footer read here is the one the scan then takes from the metadata cache.
async fn keep_row_groups(
    store: &dyn ObjectStore,
    cache: Arc<FileMetadataCache>,
    file: PartitionedFile,
    wanted: &[&LeafEquality],
) -> Result<Option<PartitionedFile>> {
    let metadata = DFParquetMetadata::new(store, &file.object_meta)
        .with_file_metadata_cache(Some(cache))
        .fetch_metadata()
        .await?;
    let leaves = metadata.file_metadata().schema_descr().columns();
    let columns: Vec<Option<usize>> =
        wanted.iter().map(|w| leaves.iter().position(|c| c.path().parts() == w.path.as_slice())).collect();
    let mut plan = ParquetAccessPlan::new_all(metadata.num_row_groups());
    for (index, group) in metadata.row_groups().iter().enumerate() {
        for (w, column) in wanted.iter().zip(&columns) {
            let Some(chunk) = column.map(|c| group.column(c)) else { continue };
            let (Some(offset), Some(length)) = (chunk.bloom_filter_offset(), chunk.bloom_filter_length())
            else {
                continue;
            };
            let (Ok(start), Ok(length)) = (u64::try_from(offset), u64::try_from(length)) else { continue };
            let bytes = store.get_range(&file.object_meta.location, start..start + length).await?;
            let Ok(filter) = Sbbf::from_bytes(&bytes) else { continue };
            if !w.values.iter().any(|v| filter.check(&v.as_str())) {
                plan.skip(index);
                break;
            }
        }
    }
    if plan.row_group_index_iter().next().is_none() {
        return Ok(None);
    }
    Ok(Some(file.with_extension(plan)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::functions::core::expr_fn::get_field;
    use datafusion::prelude::{col, lit};

    #[test]
    fn equalities_and_in_lists_on_columns_and_struct_leaves_are_found() {
        let key = get_field(col("useridentity"), "accesskeyid");
        let found = leaf_equality(&key.clone().eq(lit("AKIA1"))).unwrap();
        assert_eq!(
            found,
            LeafEquality {
                path: vec!["useridentity".into(), "accesskeyid".into()],
                values: vec!["AKIA1".into()]
            }
        );
        let flipped = leaf_equality(&lit("AKIA1").eq(key.clone())).unwrap();
        assert_eq!(flipped.values, vec!["AKIA1".to_string()]);
        let address = leaf_equality(&col("sourceipaddress").eq(lit("10.0.0.1"))).unwrap();
        assert_eq!(address.path, vec!["sourceipaddress".to_string()]);
        let listed = leaf_equality(&key.clone().in_list(vec![lit("a"), lit("b")], false)).unwrap();
        assert_eq!(listed.values, vec!["a".to_string(), "b".to_string()]);
        let either = leaf_equality(&key.clone().eq(lit("a")).or(key.clone().eq(lit("b")))).unwrap();
        assert_eq!(either.values, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn other_filters_are_left_to_datafusion() {
        let key = get_field(col("useridentity"), "accesskeyid");
        assert_eq!(leaf_equality(&key.clone().in_list(vec![lit("a")], true)), None, "NOT IN");
        assert_eq!(leaf_equality(&key.clone().not_eq(lit("a"))), None, "<>");
        let two_columns = key.clone().eq(lit("a")).or(col("sourceipaddress").eq(lit("b")));
        assert_eq!(leaf_equality(&two_columns), None, "OR over two columns");
        assert_eq!(leaf_equality(&key.clone().eq(col("eventname"))), None, "column against column");
        assert_eq!(leaf_equality(&key.eq(lit(3))), None, "not text");
    }
}
