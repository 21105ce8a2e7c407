//! Running a query to the end through any `QueryEngine`: the CLI, detections and tests use
//! this rather than polling by hand.

use crate::error::{Error, Result};
use crate::model::{QueryState, QueryStatus};
use crate::ports::{BatchSink, HELD_ROWS, PageRequest, QueryEngine};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use std::time::Duration;

/// Rows fetched per page; Athena's GetQueryResults allows 1,000.
const PAGE_ROWS: usize = 1_000;

#[derive(Debug, Clone)]
pub struct QueryOutcome {
    pub status: QueryStatus,
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Rows were left unread (past the rows asked for, or past what the engine holds).
    pub unread: bool,
}

impl QueryOutcome {
    /// The rows held (at most [`HELD_ROWS`]).
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Every row the query returned, read or only counted (the engine's count is used only
    /// when rows were left unread).
    pub fn total_rows(&self) -> u64 {
        let read = self.num_rows() as u64;
        if self.unread { self.status.stats.rows.max(read + 1) } else { read }
    }
}

/// How values are shown to people (the console's grid, the CLI's table and CSV): NULL as
/// `NULL`, and times to the millisecond as Athena prints them, not to the nanosecond.
pub fn display_options() -> datafusion::arrow::util::display::FormatOptions<'static> {
    datafusion::arrow::util::display::FormatOptions::default()
        .with_null("NULL")
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.3f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.3f %Z"))
}

/// Waits for a started query to end; a failed or cancelled one is the error.
pub async fn wait(engine: &dyn QueryEngine, id: &crate::model::QueryId) -> Result<QueryStatus> {
    loop {
        let status = engine.wait(id, Duration::from_secs(60)).await?;
        match &status.state {
            QueryState::Succeeded => return Ok(status),
            QueryState::Failed(reason) => {
                return Err(Error::QueryFailed { id: id.0.clone(), reason: reason.clone() });
            }
            QueryState::Cancelled => return Err(Error::QueryCancelled(id.0.clone())),
            QueryState::Queued | QueryState::Running => {}
        }
    }
}

/// Starts `sql`, waits for it, and fetches its first [`HELD_ROWS`] rows; the status's `rows`
/// counts them all (a detection counts past what it reads).
pub async fn run_to_end(engine: &dyn QueryEngine, sql: &str) -> Result<QueryOutcome> {
    run_reading(engine, sql, HELD_ROWS).await
}

/// [`run_to_end`] reading only the first `max` rows (a detection reads what it splits).
pub async fn run_reading(engine: &dyn QueryEngine, sql: &str, max: usize) -> Result<QueryOutcome> {
    let id = engine.start(sql).await?;
    let status = wait(engine, &id).await?;
    let (schema, batches, unread) = held_rows(engine, &id, max).await?;
    // The final status carries the statistics of the finished run.
    let status = engine.status(&id).await.unwrap_or(status);
    Ok(QueryOutcome { status, schema, batches, unread })
}

/// Up to `max` rows of a succeeded query, page by page, and whether rows were left unread.
pub async fn held_rows(
    engine: &dyn QueryEngine,
    id: &crate::model::QueryId,
    max: usize,
) -> Result<(SchemaRef, Vec<RecordBatch>, bool)> {
    let mut page = engine.results(id, PageRequest::first(PAGE_ROWS.min(max))).await?;
    let schema = page.schema.clone();
    let mut batches = std::mem::take(&mut page.batches);
    let mut held: usize = batches.iter().map(RecordBatch::num_rows).sum();
    while held < max {
        let Some(token) = page.next_token.take() else { break };
        let want = PAGE_ROWS.min(max - held);
        page = engine.results(id, PageRequest { token: Some(token), max_rows: want }).await?;
        held += page.num_rows();
        batches.append(&mut page.batches);
    }
    Ok((schema, batches, page.next_token.is_some()))
}

/// [`QueryEngine::stream`] for an engine that keeps whole results (Athena, in S3): start,
/// wait, and hand each page to `sink` as it is read.
pub async fn stream_pages(
    engine: &dyn QueryEngine,
    sql: &str,
    sink: &mut BatchSink<'_>,
) -> Result<QueryStatus> {
    let id = engine.start(sql).await?;
    let status = wait(engine, &id).await?;
    let mut page = engine.results(&id, PageRequest::first(PAGE_ROWS)).await?;
    sink(RecordBatch::new_empty(page.schema.clone()))?;
    loop {
        for batch in std::mem::take(&mut page.batches) {
            sink(batch)?;
        }
        let Some(token) = page.next_token.take() else { break };
        page = engine.results(&id, PageRequest { token: Some(token), max_rows: PAGE_ROWS }).await?;
    }
    Ok(engine.status(&id).await.unwrap_or(status))
}

/// The lake's tables as queries see them: the Athena DDL columns plus the `dt` partition.
/// Both engines serve the same tables (Athena's are created from the same DDLs).
pub fn lake_tables() -> Vec<crate::ports::TableSchema> {
    use crate::model::tables::{PARTITION_COLUMN, Table};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    Table::ALL
        .iter()
        .map(|t| {
            let mut fields: Vec<Field> =
                t.file_schema().fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.push(Field::new(PARTITION_COLUMN, DataType::Utf8, false));
            crate::ports::TableSchema {
                name: t.name().to_string(),
                schema: std::sync::Arc::new(Schema::new(fields)),
            }
        })
        .collect()
}

/// A session that plans (never runs) queries over `tables`: each an empty table of its schema,
/// with the Trino functions. Rule checks plan against what the engine says it has, so on AWS
/// they see the Glue tables Athena reads, not the built-in schemas.
pub fn planning_session(
    tables: &[crate::ports::TableSchema],
) -> crate::error::Result<datafusion::prelude::SessionContext> {
    let runtime = std::sync::Arc::new(datafusion::execution::runtime_env::RuntimeEnv::default());
    let ctx = crate::local::new_session(crate::local::lake::session_config()?, runtime);
    for t in tables {
        let empty = datafusion::datasource::MemTable::try_new(t.schema.clone(), vec![vec![]])?;
        ctx.register_table(t.name.as_str(), std::sync::Arc::new(empty))?;
    }
    Ok(ctx)
}
