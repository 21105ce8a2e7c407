//! `GROUP BY` of text columns with `count(*)`, answered from the Parquet files' dictionaries:
//! a row is one integer key per column, not a decoded and hashed string. DataFusion 55 hashes
//! every value (DuckDB groups dictionary vectors as this does); a physical rule puts
//! [`DictionaryCountExec`] in place of a partial aggregate over a Parquet scan it can answer.

use std::any::Any;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, DictionaryArray, RecordBatch};
use datafusion::arrow::compute::{cast, filter};
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields, Int32Type, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, ScalarValue};
use datafusion::datasource::physical_plan::ParquetSource;
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::datasource::physical_plan::parquet::{ParquetAccessPlan, RowGroupAccess};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowPredicateFn, ArrowReaderMetadata, ArrowReaderOptions, RowFilter,
};
use datafusion::parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, ScalarFunctionExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::expressions::{Column, Literal};
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::udaf::AggregateFunctionExpr;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PhysicalExpr, PlanProperties};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

/// Groups a partition holds before it hands them on: the final aggregate merges a group met
/// twice, so memory stays bounded whatever the number of distinct values.
const GROUPS_HELD: usize = 64 * 1024;

mod groups;
use groups::Groups;

/// Puts [`DictionaryCountExec`] in place of each partial aggregate it can answer.
#[derive(Debug, Default)]
pub struct DictionaryCount;

impl PhysicalOptimizerRule for DictionaryCount {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match DictionaryCountExec::replacing(&node) {
                Some(exec) => Transformed::yes(Arc::new(exec) as Arc<dyn ExecutionPlan>),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "dictionary_count"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// One file to read, with the row groups a bloom check left (all when `None`).
#[derive(Debug, Clone)]
struct FileToRead {
    meta: ObjectMeta,
    row_groups: Option<Vec<usize>>,
}

/// A partition's share of the files: whole files, or every `n`th row group of a file when there
/// are fewer files than partitions.
#[derive(Debug, Clone)]
struct Share {
    file: usize,
    stride: Option<(usize, usize)>,
}

/// The partial aggregate `GROUP BY <text leaves> ... count(*)` over a Parquet scan, read with
/// the grouped columns as Arrow dictionaries and counted by their keys.
#[derive(Debug)]
pub struct DictionaryCountExec {
    /// The grouped columns' paths in the files (`["useridentity", "arn"]`).
    leaves: Vec<Vec<String>>,
    /// The table's file schema with those leaves as dictionaries.
    hint: SchemaRef,
    /// The scan's filter, over the top-level columns in `predicate_fields`.
    predicate: Option<Arc<dyn PhysicalExpr>>,
    predicate_fields: Vec<FieldRef>,
    counts: usize,
    files: Vec<FileToRead>,
    shares: Vec<Vec<Share>>,
    store: ObjectStoreUrl,
    batch_size: usize,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl DictionaryCountExec {
    /// The replacement for `node` when it is a partial aggregate this can answer.
    fn replacing(node: &Arc<dyn ExecutionPlan>) -> Option<Self> {
        let any: &dyn Any = node.as_ref();
        let agg = any.downcast_ref::<AggregateExec>()?;
        let plain = *agg.mode() == AggregateMode::Partial
            && agg.group_expr().is_single()
            && !agg.group_expr().expr().is_empty()
            && agg.limit_options().is_none()
            && agg.dynamic_expressions_produced().is_empty()
            && agg.filter_expr().iter().all(Option::is_none)
            && !agg.aggr_expr().is_empty()
            && agg.aggr_expr().iter().all(|a| counts_rows(a));
        if !plain {
            return None;
        }
        let config = super::file_scan(agg.input())?;
        let parquet: &dyn Any = config.file_source().as_ref();
        if parquet.downcast_ref::<ParquetSource>().is_none() || config.limit.is_some() {
            return None;
        }
        let table = config.file_source().table_schema();
        let (table_schema, file_schema) = (table.table_schema(), table.file_schema());

        // A group column is a column of the scan's output: its projection says which leaf.
        let projection: Option<Vec<Arc<dyn PhysicalExpr>>> =
            config.file_source().projection().map(|p| p.iter().map(|e| Arc::clone(&e.expr)).collect());
        let in_table = |c: &Column| Some(vec![c.name().to_string()]);
        let scanned = |c: &Column| match &projection {
            Some(exprs) => leaf_path(exprs.get(c.index())?, &in_table),
            None => in_table(c),
        };
        let leaves: Vec<Vec<String>> =
            agg.group_expr().expr().iter().map(|(e, _)| leaf_path(e, &scanned)).collect::<Option<_>>()?;
        if !leaves.iter().all(|path| is_text_leaf(file_schema, path)) {
            return None;
        }

        let predicate = config.file_source().filter();
        let mut predicate_fields: Vec<FieldRef> = vec![];
        if let Some(predicate) = &predicate {
            for column in collect_columns(predicate) {
                let field = table_schema.field_with_name(column.name()).ok()?;
                let flat = !field.data_type().is_nested();
                let grouped = leaves.iter().any(|path| path[0] == column.name());
                if !flat || grouped || file_schema.field_with_name(column.name()).is_err() {
                    return None;
                }
                predicate_fields.push(Arc::new(field.clone()));
            }
        }

        let mut files: Vec<FileToRead> = vec![];
        let mut seen = std::collections::HashSet::new();
        for file in config.file_groups.iter().flat_map(|g| g.iter()) {
            if !seen.insert(&file.object_meta.location) {
                continue; // a file split into byte ranges is read once, whole
            }
            let row_groups = match file.extension::<ParquetAccessPlan>() {
                None if file.extensions.is_empty() => None,
                Some(plan) if file.extensions.len() == 1 => {
                    if plan.inner().iter().any(|a| matches!(a, RowGroupAccess::Selection(_))) {
                        return None;
                    }
                    Some(plan.row_group_indexes())
                }
                _ => return None,
            };
            files.push(FileToRead { meta: file.object_meta.clone(), row_groups });
        }

        let partitions = agg.properties().output_partitioning().partition_count().max(1);
        let mut shares = vec![vec![]; partitions];
        for file in 0..files.len() {
            if files.len() >= partitions {
                shares[file % partitions].push(Share { file, stride: None });
            } else {
                for (p, share) in shares.iter_mut().enumerate() {
                    share.push(Share { file, stride: Some((p, partitions)) });
                }
            }
        }
        let schema = agg.schema();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Some(DictionaryCountExec {
            hint: dictionary_hint(file_schema, &leaves),
            leaves,
            predicate,
            predicate_fields,
            counts: agg.aggr_expr().len(),
            files,
            shares,
            store: config.object_store_url.clone(),
            batch_size: config.batch_size.unwrap_or(8192),
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    /// Files this reads (each once).
    pub fn file_count(&self) -> usize {
        self.files.len()
    }
}

/// `count(*)` or `count(<non-null constant>)`: the number of rows.
fn counts_rows(aggregate: &AggregateFunctionExpr) -> bool {
    let args = aggregate.expressions();
    aggregate.fun().name() == "count"
        && !aggregate.is_distinct()
        && aggregate.order_bys().is_empty()
        && args.len() == 1
        && args[0].downcast_ref::<Literal>().is_some_and(|l| !l.value().is_null())
}

/// The leaf `expr` reads: a column (its path from `column`) or `get_field` of one.
fn leaf_path(
    expr: &Arc<dyn PhysicalExpr>,
    column: &dyn Fn(&Column) -> Option<Vec<String>>,
) -> Option<Vec<String>> {
    if let Some(c) = expr.downcast_ref::<Column>() {
        return column(c);
    }
    let call = expr.downcast_ref::<ScalarFunctionExpr>()?;
    let (base, names) = call.args().split_first()?;
    if call.name() != "get_field" || names.is_empty() {
        return None;
    }
    let mut path = leaf_path(base, column)?;
    for name in names {
        match name.downcast_ref::<Literal>()?.value() {
            ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
                path.push(s.clone())
            }
            _ => return None,
        }
    }
    Some(path)
}

/// Whether `path` names a text column or struct leaf of `schema`.
fn is_text_leaf(schema: &Schema, path: &[String]) -> bool {
    let Ok(mut field) = schema.field_with_name(&path[0]) else { return false };
    for name in &path[1..] {
        let DataType::Struct(children) = field.data_type() else { return false };
        let Some((_, child)) = children.find(name) else { return false };
        field = child;
    }
    matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8)
}

/// `schema` with the text leaves at `leaves` read as dictionaries.
fn dictionary_hint(schema: &Schema, leaves: &[Vec<String>]) -> SchemaRef {
    let paths: Vec<&[String]> = leaves.iter().map(Vec::as_slice).collect();
    Arc::new(Schema::new_with_metadata(with_dictionaries(schema.fields(), &paths), schema.metadata().clone()))
}

/// `fields` with the leaves at `paths` (relative to them) read as dictionaries.
fn with_dictionaries(fields: &Fields, paths: &[&[String]]) -> Fields {
    fields
        .iter()
        .map(|field| {
            let below: Vec<&[String]> =
                paths.iter().filter(|p| p[0] == *field.name()).map(|p| &p[1..]).collect();
            let retyped = match field.data_type() {
                _ if below.is_empty() => return Arc::clone(field),
                value @ (DataType::Utf8 | DataType::LargeUtf8) if below.iter().any(|p| p.is_empty()) => {
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(value.clone()))
                }
                DataType::Struct(children) => {
                    let deeper: Vec<&[String]> = below.into_iter().filter(|p| !p.is_empty()).collect();
                    DataType::Struct(with_dictionaries(children, &deeper))
                }
                _ => return Arc::clone(field),
            };
            Arc::new(field.as_ref().clone().with_data_type(retyped))
        })
        .collect()
}

impl DisplayAs for DictionaryCountExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let leaves: Vec<String> = self.leaves.iter().map(|p| p.join(".")).collect();
        write!(f, "DictionaryCountExec: gby=[{}], files={}", leaves.join(", "), self.files.len())?;
        if let Some(predicate) = &self.predicate {
            write!(f, ", predicate={predicate}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for DictionaryCountExec {
    fn name(&self) -> &str {
        "DictionaryCountExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        match &self.predicate {
            Some(predicate) => f(predicate),
            None => Ok(TreeNodeRecursion::Continue),
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let shares = self.shares.get(partition).cloned().unwrap_or_default();
        let predicate_schema = Arc::new(Schema::new(self.predicate_fields.clone()));
        let predicate = match &self.predicate {
            Some(p) => Some(datafusion::physical_expr::utils::reassign_expr_columns(
                Arc::clone(p),
                &predicate_schema,
            )?),
            None => None,
        };
        let job = Job {
            leaves: self.leaves.clone(),
            hint: Arc::clone(&self.hint),
            predicate,
            predicate_schema,
            counts: self.counts,
            files: shares.iter().map(|s| (self.files[s.file].clone(), s.stride)).collect(),
            store: context.runtime_env().object_store(&self.store)?,
            cache: context.runtime_env().cache_manager.get_file_metadata_cache(),
            batch_size: self.batch_size,
            schema: Arc::clone(&self.schema),
            scanned: MetricBuilder::new(&self.metrics).counter("bytes_scanned", partition),
            output_rows: MetricBuilder::new(&self.metrics).output_rows(partition),
        };
        let mut builder = RecordBatchReceiverStreamBuilder::new(Arc::clone(&self.schema), 2);
        let tx = builder.tx();
        builder.spawn(async move {
            job.run(|batch| {
                let tx = tx.clone();
                async move { tx.send(Ok(batch)).await.is_ok() }
            })
            .await
        });
        Ok(builder.build())
    }
}

/// One partition's work.
struct Job {
    leaves: Vec<Vec<String>>,
    hint: SchemaRef,
    predicate: Option<Arc<dyn PhysicalExpr>>,
    predicate_schema: SchemaRef,
    counts: usize,
    files: Vec<(FileToRead, Option<(usize, usize)>)>,
    store: Arc<dyn ObjectStore>,
    cache: Arc<datafusion::execution::cache::cache_manager::FileMetadataCache>,
    batch_size: usize,
    schema: SchemaRef,
    scanned: Count,
    output_rows: Count,
}

impl Job {
    /// Reads the files, handing each full set of groups to `emit` (false: nobody is listening).
    async fn run<F, Fut>(self, emit: F) -> Result<()>
    where
        F: Fn(RecordBatch) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let mut groups = Groups::new(self.leaves.len());
        for (file, stride) in &self.files {
            let metadata = DFParquetMetadata::new(self.store.as_ref(), &file.meta)
                .with_file_metadata_cache(Some(Arc::clone(&self.cache)))
                .fetch_metadata()
                .await?;
            let row_groups: Vec<usize> = file
                .row_groups
                .clone()
                .unwrap_or_else(|| (0..metadata.num_row_groups()).collect())
                .into_iter()
                .filter(|rg| stride.is_none_or(|(p, n)| rg % n == p))
                .collect();
            if row_groups.is_empty() {
                continue;
            }
            let reader_metadata = self.reader_metadata(&metadata)?;
            let columns = metadata.file_metadata().schema_descr().columns();
            let find = |path: &[String]| columns.iter().position(|c| c.path().parts() == path);
            let group_leaves: Vec<Option<usize>> = self.leaves.iter().map(|p| find(p)).collect();
            let predicate_leaves: Vec<usize> = self
                .predicate_schema
                .fields()
                .iter()
                .filter_map(|f| find(std::slice::from_ref(f.name())))
                .collect();
            let descr = metadata.file_metadata().schema_descr();
            let mask = ProjectionMask::leaves(descr, group_leaves.iter().flatten().copied());
            let reader = CountingReader {
                store: Arc::clone(&self.store),
                location: file.meta.location.clone(),
                metadata: Arc::clone(&metadata),
                scanned: self.scanned.clone(),
            };
            let mut builder = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, reader_metadata)
                .with_projection(mask)
                .with_row_groups(row_groups)
                .with_batch_size(self.batch_size);
            // The filter's columns are decoded first and the grouped ones only for the rows it
            // keeps; a file without any of them has the filter judge NULLs, row by row.
            let mut judge_nulls = None;
            if let Some(predicate) = &self.predicate {
                if predicate_leaves.is_empty() {
                    judge_nulls = Some(predicate);
                } else {
                    let (predicate, schema) = (Arc::clone(predicate), Arc::clone(&self.predicate_schema));
                    let judge = ArrowPredicateFn::new(
                        ProjectionMask::leaves(descr, predicate_leaves),
                        move |batch| {
                            kept_rows(&predicate, &schema, &batch)
                                .map_err(|e| ArrowError::ExternalError(Box::new(e)))
                        },
                    );
                    builder = builder.with_row_filter(RowFilter::new(vec![Box::new(judge)]));
                }
            }
            let mut stream = builder.build()?;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                let keep = match judge_nulls {
                    Some(predicate) => Some(kept_rows(predicate, &self.predicate_schema, &batch)?),
                    None => None,
                };
                let mut keyed = Vec::with_capacity(self.leaves.len());
                for path in &self.leaves {
                    keyed.push(dictionary_at(&batch, path, keep.as_ref())?);
                }
                let rows = keep.as_ref().map_or(batch.num_rows(), BooleanArray::true_count);
                groups.add(&keyed, rows);
                if groups.len() >= GROUPS_HELD && !self.hand_on(&mut groups, &emit).await? {
                    return Ok(());
                }
            }
        }
        if groups.len() > 0 {
            self.hand_on(&mut groups, &emit).await?;
        }
        Ok(())
    }

    /// How to read `metadata`'s file with the grouped leaves as dictionaries: the table's
    /// schema serves files written with it, a file of another shape gets its own.
    fn reader_metadata(&self, metadata: &Arc<ParquetMetaData>) -> Result<ArrowReaderMetadata> {
        let supplied = ArrowReaderOptions::new().with_schema(Arc::clone(&self.hint));
        if let Ok(read) = ArrowReaderMetadata::try_new(Arc::clone(metadata), supplied) {
            return Ok(read);
        }
        let own = ArrowReaderMetadata::try_new(Arc::clone(metadata), ArrowReaderOptions::new())?;
        let hint = dictionary_hint(own.schema(), &self.leaves);
        Ok(ArrowReaderMetadata::try_new(Arc::clone(metadata), ArrowReaderOptions::new().with_schema(hint))?)
    }

    async fn hand_on<F, Fut>(&self, groups: &mut Groups, emit: &F) -> Result<bool>
    where
        F: Fn(RecordBatch) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let batch = groups.take(&self.schema, self.counts)?;
        self.output_rows.add(batch.num_rows());
        Ok(emit(batch).await)
    }
}

/// The rows `predicate` (over `schema`'s columns, a missing one all NULL) keeps in `batch`.
fn kept_rows(
    predicate: &Arc<dyn PhysicalExpr>,
    schema: &SchemaRef,
    batch: &RecordBatch,
) -> Result<BooleanArray> {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(column) => Arc::clone(column),
            None => datafusion::arrow::array::new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    let input = RecordBatch::try_new(Arc::clone(schema), columns)?;
    let mask = predicate.evaluate(&input)?.into_array(batch.num_rows())?;
    let mask = mask.as_boolean_opt().cloned().ok_or_else(|| {
        datafusion::common::DataFusionError::Internal("a scan filter gave no booleans".into())
    })?;
    // A null answer drops the row, as a filter does.
    Ok(match mask.nulls() {
        Some(_) => datafusion::arrow::compute::prep_null_mask_filter(&mask),
        None => mask,
    })
}

/// The dictionary array at `path` in `batch` (the rows `keep` keeps), `None` when the file lacks
/// the column (every value null).
fn dictionary_at(
    batch: &RecordBatch,
    path: &[String],
    keep: Option<&BooleanArray>,
) -> Result<Option<DictionaryArray<Int32Type>>> {
    let Some(mut column) = batch.column_by_name(&path[0]).cloned() else { return Ok(None) };
    for name in &path[1..] {
        let Some(child) = column.as_struct_opt().and_then(|s| s.column_by_name(name)).cloned() else {
            return Ok(None);
        };
        column = child;
    }
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    if column.data_type() != &dictionary {
        column = cast(&column, &dictionary)?;
    }
    if let Some(keep) = keep {
        column = filter(&column, keep)?;
    }
    Ok(Some(column.as_dictionary::<Int32Type>().clone()))
}

/// Reads byte ranges from the store, counting them as the scan's `bytes_scanned`.
struct CountingReader {
    store: Arc<dyn ObjectStore>,
    location: Path,
    metadata: Arc<ParquetMetaData>,
    scanned: Count,
}

fn external(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for CountingReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, datafusion::parquet::errors::Result<Bytes>> {
        self.scanned.add((range.end - range.start) as usize);
        async move { self.store.get_range(&self.location, range).await.map_err(external) }.boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Vec<Bytes>>> {
        self.scanned.add(ranges.iter().map(|r| (r.end - r.start) as usize).sum());
        async move { self.store.get_ranges(&self.location, &ranges).await.map_err(external) }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, datafusion::parquet::errors::Result<Arc<ParquetMetaData>>> {
        let metadata = Arc::clone(&self.metadata);
        async move { Ok(metadata) }.boxed()
    }
}
