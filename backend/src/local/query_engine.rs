//! Queries on the embedded lake as jobs: planned at start, run on threads of their own, with
//! live statistics read from DataFusion's Parquet metrics and cancellation that stops execution.

use crate::error::{Error, Result};
use crate::model::{QueryId, QueryState, QueryStats, QueryStatus};
use crate::ports::{BatchSink, HELD_BYTES, HELD_ROWS, PageRequest, QueryEngine, ResultPage, TableSchema};
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use futures::StreamExt;
use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::task::JoinHandle;

use super::Lake;

/// Finished jobs kept for paging; older finished ones are dropped to bound memory. Running jobs
/// are never dropped: a scheduler running dozens of rules at once must find each of its own.
const KEPT_JOBS: usize = 64;

pub struct LocalQueryEngine {
    ctx: SessionContext,
    jobs: Mutex<Jobs>,
}

#[derive(Default)]
struct Jobs {
    by_id: HashMap<QueryId, Arc<Job>>,
    order: VecDeque<QueryId>,
}

struct Job {
    started: Instant,
    plan: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    files: u64,
    rows: AtomicU64,
    progress: Mutex<Progress>,
    /// True once the state is terminal, so a waiter wakes the moment the query ends.
    ended: tokio::sync::watch::Sender<bool>,
}

struct Progress {
    state: QueryState,
    elapsed_ms: Option<u64>,
    /// The first rows, within [`HELD_ROWS`] and [`HELD_BYTES`]; the rest are counted only.
    batches: Vec<RecordBatch>,
    held_bytes: usize,
    task: Option<JoinHandle<()>>,
}

impl Progress {
    /// Keeps what fits of `batch` under the caps.
    fn hold(&mut self, batch: RecordBatch) {
        let held: usize = self.batches.iter().map(RecordBatch::num_rows).sum();
        let room = HELD_ROWS.saturating_sub(held).min(batch.num_rows());
        if room == 0 || self.held_bytes >= HELD_BYTES {
            return;
        }
        let kept = batch.slice(0, room);
        self.held_bytes += kept.get_array_memory_size();
        self.batches.push(kept);
    }
}

impl LocalQueryEngine {
    pub async fn open(lake: &Lake) -> Result<Self> {
        Ok(Self::with_context(lake.session().await?))
    }

    pub fn with_context(ctx: SessionContext) -> Self {
        LocalQueryEngine { ctx, jobs: Mutex::new(Jobs::default()) }
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    fn job(&self, id: &QueryId) -> Result<Arc<Job>> {
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.by_id.get(id).cloned().ok_or_else(|| Error::NotFound { kind: "query", id: id.0.clone() })
    }

    fn remember(&self, id: QueryId, job: Arc<Job>) {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        jobs.by_id.insert(id.clone(), job);
        jobs.order.push_back(id);
        let Jobs { by_id, order } = &mut *jobs;
        let finished = |id: &QueryId| {
            by_id.get(id).is_some_and(|j| j.progress.lock().expect("progress lock").state.is_terminal())
        };
        let mut excess = order.iter().filter(|id| finished(id)).count().saturating_sub(KEPT_JOBS);
        let mut dropped = vec![];
        order.retain(|id| {
            let drop = excess > 0 && finished(id);
            if drop {
                excess -= 1;
                dropped.push(id.clone());
            }
            !drop
        });
        for id in dropped {
            by_id.remove(&id);
        }
    }
}

/// The threads queries run on, apart from the caller's runtime: a CPU-bound join on the
/// caller's workers would starve its other tasks (the console's status polls and its cancel,
/// the scheduler's clock), as DataFusion's `thread_pools` example explains. One pool per
/// process, never dropped (a runtime may not be dropped inside another).
fn query_runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("mantissa-query")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::backend("query threads", format!("cannot start them: {e}")))
}

/// The lake is read-only through SQL: no DDL, DML (`COPY ... TO`, `INSERT`) or SET statements.
pub(crate) fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

/// Refuses a plan that would write or change anything (what [`read_only`] refuses), for the
/// callers that plan SQL themselves (rule tests, validation, dry runs); the message says why.
pub(crate) fn verify_read_only(plan: &datafusion::logical_expr::LogicalPlan) -> Result<()> {
    read_only().verify_plan(plan).map_err(|e| {
        crate::Error::Sql(format!(
            "only a read-only query (SELECT, WITH, VALUES) may run here: {}",
            e.strip_backtrace().trim_start_matches("Error during planning: ")
        ))
    })
}

#[async_trait]
impl QueryEngine for LocalQueryEngine {
    async fn start(&self, sql: &str) -> Result<QueryId> {
        let plan = self.plan(sql).await?;
        let id = QueryId(uuid::Uuid::new_v4().to_string());
        let schema = readable_names(&plan.schema());
        let renamed = (schema != plan.schema()).then(|| schema.clone());
        let job = Arc::new(Job {
            started: Instant::now(),
            schema,
            files: count_files(&plan),
            plan: plan.clone(),
            rows: AtomicU64::new(0),
            progress: Mutex::new(Progress {
                state: QueryState::Running,
                elapsed_ms: None,
                batches: vec![],
                held_bytes: 0,
                task: None,
            }),
            ended: tokio::sync::watch::Sender::new(false),
        });
        let runner = job.clone();
        let task_ctx = self.ctx.task_ctx();
        let handle = query_runtime()?.spawn(async move {
            let outcome = async {
                let mut stream = execute_stream(runner.plan.clone(), task_ctx)?;
                while let Some(batch) = stream.next().await {
                    let batch = renamed_batch(batch?, renamed.as_ref())?;
                    runner.rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                    runner.progress.lock().expect("progress lock").hold(batch);
                }
                Ok::<_, datafusion::error::DataFusionError>(())
            }
            .await;
            let mut p = runner.progress.lock().expect("progress lock");
            if p.state == QueryState::Running {
                p.state = match outcome {
                    Ok(()) => QueryState::Succeeded,
                    Err(e) => QueryState::Failed(failure(e)),
                };
                p.elapsed_ms = Some(runner.started.elapsed().as_millis() as u64);
            }
            drop(p);
            runner.ended.send_replace(true);
        });
        job.progress.lock().expect("progress lock").task = Some(handle);
        self.remember(id.clone(), job);
        Ok(id)
    }

    async fn status(&self, id: &QueryId) -> Result<QueryStatus> {
        let job = self.job(id)?;
        let p = job.progress.lock().expect("progress lock");
        let elapsed_ms = p.elapsed_ms.unwrap_or_else(|| job.started.elapsed().as_millis() as u64);
        let stats = QueryStats {
            elapsed_ms,
            queue_ms: 0,
            bytes_scanned: bytes_scanned(&job.plan),
            rows: job.rows.load(Ordering::Relaxed),
            files_scanned: Some(job.files),
        };
        Ok(QueryStatus { id: id.clone(), state: p.state.clone(), stats })
    }

    async fn wait(&self, id: &QueryId, patience: std::time::Duration) -> Result<QueryStatus> {
        let mut ended = self.job(id)?.ended.subscribe();
        // Patience running out is an answer too: the caller gets the live status.
        let _ = tokio::time::timeout(patience, ended.wait_for(|ended| *ended)).await;
        self.status(id).await
    }

    async fn results(&self, id: &QueryId, page: PageRequest) -> Result<ResultPage> {
        let job = self.job(id)?;
        let p = job.progress.lock().expect("progress lock");
        match &p.state {
            QueryState::Succeeded => {}
            QueryState::Failed(reason) => {
                return Err(Error::QueryFailed { id: id.0.clone(), reason: reason.clone() });
            }
            QueryState::Cancelled => return Err(Error::QueryCancelled(id.0.clone())),
            QueryState::Queued | QueryState::Running => {
                return Err(Error::invalid(format!("query {id}"), "still running; wait for it to finish"));
            }
        }
        let offset: usize = match &page.token {
            None => 0,
            Some(t) => t
                .parse()
                .map_err(|_| Error::invalid("page token", format!("`{t}` is not a token of this engine")))?,
        };
        let (batches, mut next) = slice_rows(&p.batches, offset, page.max_rows.max(1));
        // Rows past the held ones were counted, not kept: the last held page says there is
        // more, so a reader knows it has not read everything.
        let held: usize = p.batches.iter().map(RecordBatch::num_rows).sum();
        if next.is_none() && offset < held && job.rows.load(Ordering::Relaxed) > held as u64 {
            next = Some(held);
        }
        Ok(ResultPage { schema: job.schema.clone(), batches, next_token: next.map(|n| n.to_string()) })
    }

    async fn stream(&self, sql: &str, sink: &mut BatchSink<'_>) -> Result<QueryStatus> {
        let started = Instant::now();
        let id = QueryId(uuid::Uuid::new_v4().to_string());
        let plan = self.plan(sql).await?;
        let schema = readable_names(&plan.schema());
        let renamed = (schema != plan.schema()).then(|| schema.clone());
        // Batches cross from the query threads through a short queue, so a slow writer holds
        // back the query instead of letting batches pile up.
        let (tx, mut rx) = tokio::sync::mpsc::channel(2);
        let runner = plan.clone();
        let task_ctx = self.ctx.task_ctx();
        let task = query_runtime()?.spawn(async move {
            let mut stream = match execute_stream(runner, task_ctx) {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            while let Some(batch) = stream.next().await {
                let batch = batch.and_then(|b| renamed_batch(b, renamed.as_ref()));
                let failed = batch.is_err();
                if tx.send(batch).await.is_err() || failed {
                    return;
                }
            }
        });
        // Dropping the task (an error from the sink, the caller gone) stops the query.
        let _abort = AbortOnDrop(task);
        sink(RecordBatch::new_empty(schema))?;
        let mut rows = 0u64;
        while let Some(batch) = rx.recv().await {
            let batch = batch.map_err(|e| Error::QueryFailed { id: id.0.clone(), reason: failure(e) })?;
            rows += batch.num_rows() as u64;
            sink(batch)?;
        }
        let stats = QueryStats {
            elapsed_ms: started.elapsed().as_millis() as u64,
            queue_ms: 0,
            bytes_scanned: bytes_scanned(&plan),
            rows,
            files_scanned: Some(count_files(&plan)),
        };
        Ok(QueryStatus { id, state: QueryState::Succeeded, stats })
    }

    /// Returns once execution has stopped, so the caller knows no more work is done.
    async fn cancel(&self, id: &QueryId) -> Result<()> {
        let job = self.job(id)?;
        let task = {
            let mut p = job.progress.lock().expect("progress lock");
            if p.state.is_terminal() {
                return Ok(());
            }
            p.state = QueryState::Cancelled;
            p.elapsed_ms = Some(job.started.elapsed().as_millis() as u64);
            p.task.take()
        };
        job.ended.send_replace(true);
        if let Some(task) = task {
            // Aborting drops the stream, which stops DataFusion's own spawned tasks too.
            task.abort();
            let _ = task.await;
        }
        Ok(())
    }

    async fn tables(&self) -> Result<Vec<TableSchema>> {
        Ok(crate::query::lake_tables())
    }
}

impl LocalQueryEngine {
    /// `sql` (in Athena's dialect) planned read-only, ready to execute.
    async fn plan(&self, sql: &str) -> Result<Arc<dyn ExecutionPlan>> {
        let sql = super::dialect::athena_to_datafusion(sql);
        let df = self.ctx.sql_with_options(&sql, read_only()).await?;
        cooperative_fan_outs(df.create_physical_plan().await?)
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The batch under the readable column names, when they differ from the plan's.
fn renamed_batch(batch: RecordBatch, schema: Option<&SchemaRef>) -> datafusion::error::Result<RecordBatch> {
    let Some(schema) = schema else { return Ok(batch) };
    let rows = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &rows)?)
}

/// Why a query failed, as people read it: running out of the memory pool says what to do.
fn failure(e: datafusion::error::DataFusionError) -> String {
    match e.find_root() {
        datafusion::error::DataFusionError::ResourcesExhausted(_) => super::lake::memory_exhausted(),
        _ => e.strip_backtrace().to_string(),
    }
}

/// Struct fields named as people write them: DataFusion calls `useridentity.arn`
/// `cloudtrail_logs.useridentity[arn]`, which the grid, CSV and JSON would show as is. Array
/// indexes (`resources[1]`) keep their brackets.
fn readable_names(schema: &SchemaRef) -> SchemaRef {
    let rename = |name: &str| -> Option<String> {
        let (base, rest) = name.split_once('[')?;
        let fields: Vec<&str> = rest.strip_suffix(']')?.split("][").collect();
        let named = |f: &&str| !f.is_empty() && f.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !fields.iter().all(named) || fields.iter().all(|f| f.chars().all(|c| c.is_ascii_digit())) {
            return None;
        }
        let base = base.rsplit_once('.').map_or(base, |(_, column)| column);
        let mut out = base.to_string();
        for f in fields {
            match f.chars().all(|c| c.is_ascii_digit()) {
                true => out.push_str(&format!("[{f}]")),
                false => out.push_str(&format!(".{f}")),
            }
        }
        Some(out)
    };
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match rename(f.name()) {
            Some(name) => Arc::new(f.as_ref().clone().with_name(name)),
            None => f.clone(),
        })
        .collect();
    Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Joins and unnests make many batches from one input batch without ever waiting, so the
/// operator above them loops on ready input and a cancel (an abort, seen only when a task
/// waits) never lands until the join ends. Above each, a `CooperativeExec` spends tokio's task
/// budget per batch and yields when it runs out, as DataFusion's data sources already do.
fn cooperative_fan_outs(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::physical_plan::coop::CooperativeExec;
    let plan = plan.transform_up(|node| {
        let name = node.name();
        Ok(if name.ends_with("JoinExec") || name == "UnnestExec" {
            Transformed::yes(Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>)
        } else {
            Transformed::no(node)
        })
    })?;
    Ok(plan.data)
}

/// Rows `offset..offset+max` as zero-copy slices, and the offset of the next page if any.
fn slice_rows(batches: &[RecordBatch], offset: usize, max: usize) -> (Vec<RecordBatch>, Option<usize>) {
    let mut out = vec![];
    let (mut skip, mut want, mut seen) = (offset, max, 0usize);
    for b in batches {
        seen += b.num_rows();
        if want == 0 {
            continue;
        }
        if skip >= b.num_rows() {
            skip -= b.num_rows();
            continue;
        }
        let take = (b.num_rows() - skip).min(want);
        out.push(b.slice(skip, take));
        want -= take;
        skip = 0;
    }
    let end = offset + max - want;
    (out, (end < seen).then_some(end))
}

fn visit(plan: &Arc<dyn ExecutionPlan>, f: &mut dyn FnMut(&Arc<dyn ExecutionPlan>)) {
    f(plan);
    for child in plan.children() {
        visit(child, f);
    }
}

/// Bytes read from Parquet so far, summed over every scan in the plan (live while running).
fn bytes_scanned(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    let mut total = 0;
    visit(plan, &mut |node| {
        if let Some(m) = node.metrics().and_then(|m| m.sum_by_name("bytes_scanned")) {
            total += m.as_usize() as u64;
        }
    });
    total
}

/// Files left to read after partition pruning (a file split into byte ranges across
/// partitions counts once).
fn count_files(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    let mut total = 0;
    let mut seen = std::collections::HashSet::new();
    visit(plan, &mut |node| {
        if let Some(config) = super::file_scan(node) {
            let files = config.file_groups.iter().flat_map(|g| g.iter());
            total += files.filter(|f| seen.insert(f.object_meta.location.clone())).count() as u64;
        }
        let plan: &dyn Any = node.as_ref();
        if let Some(counting) = plan.downcast_ref::<super::dict_count::DictionaryCountExec>() {
            total += counting.file_count() as u64;
        }
    });
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    fn batch(values: &[i32]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(values.to_vec()))]).unwrap()
    }

    fn values(batches: &[RecordBatch]) -> Vec<i32> {
        batches
            .iter()
            .flat_map(|b| {
                let a = b.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
                a.values().to_vec()
            })
            .collect()
    }

    /// Regression: 35 rules started at once used to lose running jobs to the finished-job cap.
    #[tokio::test]
    async fn running_jobs_are_never_dropped_and_finished_ones_are_capped() {
        let engine = LocalQueryEngine::with_context(SessionContext::new());
        // Queries that run for minutes, so all 100 are running at once.
        let mut ids = vec![];
        for _ in 0..100 {
            ids.push(engine.start("SELECT count(*) FROM generate_series(1, 100000000000)").await.unwrap());
        }
        for id in &ids {
            assert_eq!(engine.status(id).await.unwrap().state, QueryState::Running);
        }
        for id in &ids {
            engine.cancel(id).await.unwrap();
        }
        // Finished jobs are dropped, oldest first, only when a new job arrives.
        let last = engine.start("SELECT 1").await.unwrap();
        assert!(engine.status(&last).await.is_ok());
        assert!(engine.status(&ids[99]).await.is_ok());
        assert!(matches!(engine.status(&ids[0]).await, Err(Error::NotFound { .. })));
        assert!(engine.jobs.lock().unwrap().by_id.len() <= KEPT_JOBS + 1);
    }

    /// A join that would run for minutes is Cancelled at once and stops computing within a
    /// bound: a function in its output counts the batches made, and the count stops.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_join_stops_computing() {
        use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
        static BATCHES: AtomicU64 = AtomicU64::new(0);
        let ctx = SessionContext::new();
        ctx.register_udf(create_udf(
            "tick",
            vec![DataType::Int64],
            DataType::Int64,
            Volatility::Volatile,
            Arc::new(|args: &[ColumnarValue]| {
                BATCHES.fetch_add(1, Ordering::Relaxed);
                Ok(args[0].clone())
            }),
        ));
        let engine = LocalQueryEngine::with_context(ctx);
        let side = "(SELECT value % 1000 AS k FROM generate_series(1, 2000000))";
        let sql =
            format!("SELECT count(*) FROM {side} a JOIN {side} b ON a.k = b.k WHERE tick(a.k + b.k) >= 0");
        let id = engine.start(&sql).await.unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        while BATCHES.load(Ordering::Relaxed) == 0 {
            assert!(Instant::now() < deadline, "the join never produced a batch");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let asked = Instant::now();
        engine.cancel(&id).await.unwrap();
        let took = asked.elapsed();
        assert_eq!(engine.status(&id).await.unwrap().state, QueryState::Cancelled);
        // What was mid-batch when the cancel came may finish that batch.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let after = BATCHES.load(Ordering::Relaxed);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(BATCHES.load(Ordering::Relaxed), after, "batches were still made after the cancel");
        assert!(took < std::time::Duration::from_secs(1), "the cancel took {took:?}");
        assert!(engine.results(&id, PageRequest::first(10)).await.is_err());
    }

    /// A result past the held rows is counted whole and held in part; `stream` hands over
    /// every row (first an empty batch with the columns).
    #[tokio::test]
    async fn results_past_the_held_rows_are_counted_and_streamed() {
        let engine = LocalQueryEngine::with_context(SessionContext::new());
        let sql = "SELECT value AS n FROM generate_series(1, 250000)";
        let out = crate::query::run_to_end(&engine, sql).await.unwrap();
        assert_eq!(out.num_rows(), HELD_ROWS);
        assert_eq!(out.total_rows(), 250_000);
        let (mut rows, mut batches, mut first_empty) = (0, 0, None);
        let mut sink = |b: RecordBatch| {
            first_empty.get_or_insert(b.num_rows() == 0 && b.num_columns() == 1);
            rows += b.num_rows();
            batches += 1;
            Ok(())
        };
        let status = engine.stream(sql, &mut sink).await.unwrap();
        assert_eq!((rows, status.stats.rows, first_empty), (250_000, 250_000, Some(true)));
        assert!(batches > 2, "streamed in batches");
        // A sink that fails stops the stream with its error.
        let mut failing = |_: RecordBatch| Err(Error::backend("sink", "disk full"));
        let e = engine.stream(sql, &mut failing).await.unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
    }

    /// A query past the memory pool fails with what to do, not an allocator's message.
    #[tokio::test]
    async fn a_query_past_the_memory_limit_says_how_to_narrow_it() {
        use datafusion::execution::memory_pool::GreedyMemoryPool;
        use datafusion::execution::runtime_env::RuntimeEnvBuilder;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(GreedyMemoryPool::new(1 << 20)))
            .build_arc()
            .unwrap();
        let ctx = SessionContext::new_with_config_rt(datafusion::prelude::SessionConfig::new(), runtime);
        let engine = LocalQueryEngine::with_context(ctx);
        let e = crate::query::run_to_end(&engine, "SELECT array_agg(value) FROM generate_series(1, 5000000)")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs more memory than the"), "{e}");
        assert!(e.contains("MANTISSA_QUERY_MEMORY") && e.contains("fewer days of dt"), "{e}");
    }

    #[test]
    fn struct_fields_are_named_as_written() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("cloudtrail_logs.useridentity[arn]", DataType::Utf8, true),
            Field::new("useridentity[sessioncontext][attributes]", DataType::Utf8, true),
            Field::new("resources[1]", DataType::Utf8, true),
            Field::new("count(*)", DataType::Int64, false),
        ]));
        let names: Vec<String> = readable_names(&schema).fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(
            names,
            ["useridentity.arn", "useridentity.sessioncontext.attributes", "resources[1]", "count(*)"]
        );
    }

    #[test]
    fn pages_cross_batch_boundaries() {
        let batches = vec![batch(&[1, 2, 3]), batch(&[4, 5]), batch(&[6])];
        let (p, next) = slice_rows(&batches, 0, 4);
        assert_eq!((values(&p), next), (vec![1, 2, 3, 4], Some(4)));
        let (p, next) = slice_rows(&batches, 4, 4);
        assert_eq!((values(&p), next), (vec![5, 6], None));
        let (p, next) = slice_rows(&batches, 6, 4);
        assert_eq!((values(&p), next), (vec![], None));
        let (p, next) = slice_rows(&batches, 2, 1);
        assert_eq!((values(&p), next), (vec![3], Some(3)));
    }
}
