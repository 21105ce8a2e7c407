//! SQL over the logs on Athena: StartQueryExecution in database `mantissa_log`, status and
//! live statistics from GetQueryExecution, GetQueryResults paged into typed Arrow columns (the
//! first row of the first page is the header), StopQueryExecution to cancel.

use super::sdk_err;
use crate::error::{Error, Result};
use crate::model::{QueryId, QueryState, QueryStats, QueryStatus};
use crate::ports::{BatchSink, PageRequest, QueryEngine, ResultPage, TableSchema};
use async_trait::async_trait;
use aws_sdk_athena::Client;
use aws_sdk_athena::types::{
    ColumnInfo, QueryExecutionContext, QueryExecutionState, ResultConfiguration, Row,
};
use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use std::sync::Arc;

/// GetQueryResults returns at most 1000 rows a call.
const ATHENA_PAGE_MAX: usize = 1000;

#[derive(Debug, Clone)]
pub struct AthenaSettings {
    pub database: String,
    pub workgroup: String,
    /// `s3://bucket/prefix/`; None when the workgroup enforces its own.
    pub output_location: Option<String>,
}

#[derive(Clone)]
pub struct AthenaEngine {
    client: Client,
    settings: AthenaSettings,
    /// The catalog Athena reads; the table list comes from it.
    glue: Option<aws_sdk_glue::Client>,
}

impl AthenaEngine {
    /// Rows the query has produced so far (GetQueryRuntimeStatistics).
    async fn output_rows(&self, id: &QueryId) -> Option<u64> {
        let out = self.client.get_query_runtime_statistics().query_execution_id(&id.0).send().await.ok()?;
        let rows = out.query_runtime_statistics?.rows?;
        rows.output_rows.map(|n| n.max(0) as u64)
    }

    pub fn new(client: Client, settings: AthenaSettings) -> Self {
        AthenaEngine { client, settings, glue: None }
    }

    /// Lists tables from Glue (what Athena sees) instead of the built-in schemas.
    pub fn with_glue(mut self, glue: aws_sdk_glue::Client) -> Self {
        self.glue = Some(glue);
        self
    }
}

/// Athena's type names (ResultSetMetadata) as Arrow types; nested types stay as their text.
pub fn arrow_type(athena_type: &str) -> DataType {
    match athena_type.to_ascii_lowercase().split('(').next().unwrap_or("") {
        "boolean" => DataType::Boolean,
        "tinyint" | "smallint" | "integer" | "int" => DataType::Int32,
        "bigint" => DataType::Int64,
        "double" | "float" | "real" | "decimal" => DataType::Float64,
        "date" => DataType::Date32,
        "timestamp" | "timestamp with time zone" => DataType::Timestamp(TimeUnit::Millisecond, None),
        _ => DataType::Utf8,
    }
}

/// Rows of text cells to one typed batch; a cell that does not parse as its column's type is
/// an error naming the column, not a silent null.
pub fn to_batch(columns: &[ColumnInfo], rows: &[Row]) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| {
            Field::new(
                c.name(),
                arrow_type(c.r#type()),
                c.nullable().is_none_or(|n| n.as_str() != "NOT_NULL"),
            )
        })
        .collect();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        let text: StringArray =
            rows.iter().map(|r| r.data().get(i).and_then(|d| d.var_char_value.as_deref())).collect();
        let text = Arc::new(text) as ArrayRef;
        let typed = if field.data_type() == &DataType::Utf8 {
            text
        } else {
            cast_with_options(&text, field.data_type(), &CastOptions { safe: false, ..Default::default() })
                .map_err(|e| Error::backend("athena results", format!("column `{}`: {e}", field.name())))?
        };
        arrays.push(typed);
    }
    let fields: Vec<Field> = fields.into_iter().map(|f| f.with_nullable(true)).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options).map_err(Error::from)
}

#[async_trait]
impl QueryEngine for AthenaEngine {
    async fn start(&self, sql: &str) -> Result<QueryId> {
        let mut req = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.settings.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder().database(&self.settings.database).build(),
            );
        if let Some(out) = &self.settings.output_location {
            req = req.result_configuration(ResultConfiguration::builder().output_location(out).build());
        }
        match req.send().await {
            Ok(out) => Ok(QueryId(out.query_execution_id.unwrap_or_default())),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_invalid_request_exception()) => {
                Err(Error::Sql(aws_sdk_athena::error::DisplayErrorContext(e).to_string()))
            }
            Err(e) => Err(sdk_err("athena StartQueryExecution", e)),
        }
    }

    async fn status(&self, id: &QueryId) -> Result<QueryStatus> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(&id.0)
            .send()
            .await
            .map_err(|e| sdk_err("athena GetQueryExecution", e))?;
        let exec = out.query_execution.ok_or_else(|| Error::NotFound { kind: "query", id: id.0.clone() })?;
        let status = exec.status.as_ref();
        let state = match status.and_then(|s| s.state.as_ref()) {
            Some(QueryExecutionState::Queued) | None => QueryState::Queued,
            Some(QueryExecutionState::Running) => QueryState::Running,
            Some(QueryExecutionState::Succeeded) => QueryState::Succeeded,
            Some(QueryExecutionState::Cancelled) => QueryState::Cancelled,
            Some(_) => QueryState::Failed(
                status
                    .and_then(|s| {
                        s.athena_error
                            .as_ref()
                            .and_then(|e| e.error_message.clone())
                            .or(s.state_change_reason.clone())
                    })
                    .unwrap_or_else(|| "Athena reports the query failed".into()),
            ),
        };
        let stats = exec.statistics.as_ref();
        let ms = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
        // Rows are only in the runtime statistics (live while the query runs); a query still
        // queued has none yet, and a failed call leaves the count at 0 rather than failing
        // the status.
        let rows = match state {
            QueryState::Queued => 0,
            _ => self.output_rows(id).await.unwrap_or(0),
        };
        Ok(QueryStatus {
            id: id.clone(),
            state,
            stats: QueryStats {
                elapsed_ms: ms(stats.and_then(|s| s.engine_execution_time_in_millis)),
                queue_ms: ms(stats.and_then(|s| s.query_queue_time_in_millis)),
                bytes_scanned: ms(stats.and_then(|s| s.data_scanned_in_bytes)),
                rows,
                files_scanned: None,
            },
        })
    }

    async fn results(&self, id: &QueryId, page: PageRequest) -> Result<ResultPage> {
        let first = page.token.is_none();
        // The first page's first row is the header, so ask for one more row there.
        let max = (page.max_rows + usize::from(first)).clamp(1, ATHENA_PAGE_MAX);
        let out = self
            .client
            .get_query_results()
            .query_execution_id(&id.0)
            .set_next_token(page.token)
            .max_results(max as i32)
            .send()
            .await
            .map_err(|e| sdk_err("athena GetQueryResults", e))?;
        let set = out.result_set.unwrap_or_else(|| aws_sdk_athena::types::ResultSet::builder().build());
        let columns = set.result_set_metadata.and_then(|m| m.column_info).unwrap_or_default();
        let rows = set.rows.unwrap_or_default();
        let data = if first && !rows.is_empty() { &rows[1..] } else { &rows[..] };
        let batch = to_batch(&columns, data)?;
        Ok(ResultPage { schema: batch.schema(), batches: vec![batch], next_token: out.next_token })
    }

    async fn stream(&self, sql: &str, sink: &mut BatchSink<'_>) -> Result<QueryStatus> {
        crate::query::stream_pages(self, sql, sink).await
    }

    async fn cancel(&self, id: &QueryId) -> Result<()> {
        self.client
            .stop_query_execution()
            .query_execution_id(&id.0)
            .send()
            .await
            .map_err(|e| sdk_err("athena StopQueryExecution", e))?;
        Ok(())
    }

    async fn tables(&self) -> Result<Vec<TableSchema>> {
        match &self.glue {
            Some(glue) => super::catalog::glue_tables(glue, &self.settings.database).await,
            None => Ok(crate::query::lake_tables()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_athena::types::Datum;
    use datafusion::arrow::array::{Array, BooleanArray, Int64Array, TimestampMillisecondArray};

    fn col(name: &str, ty: &str) -> ColumnInfo {
        ColumnInfo::builder().name(name).r#type(ty).build().unwrap()
    }

    fn row(cells: &[Option<&str>]) -> Row {
        Row::builder()
            .set_data(Some(
                cells
                    .iter()
                    .map(|c| Datum::builder().set_var_char_value(c.map(String::from)).build())
                    .collect(),
            ))
            .build()
    }

    #[test]
    fn cells_become_typed_columns_with_nulls() {
        let cols = [col("n", "bigint"), col("ok", "boolean"), col("at", "timestamp"), col("who", "varchar")];
        let rows = [
            row(&[Some("42"), Some("true"), Some("2024-11-20 10:00:00.000"), Some("alice")]),
            row(&[None, Some("false"), None, None]),
        ];
        let b = to_batch(&cols, &rows).unwrap();
        let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!((n.value(0), n.is_null(1)), (42, true));
        let ok = b.column(1).as_any().downcast_ref::<BooleanArray>().unwrap();
        assert!(ok.value(0) && !ok.value(1));
        let at = b.column(2).as_any().downcast_ref::<TimestampMillisecondArray>().unwrap();
        assert_eq!(at.value(0), 1_732_096_800_000);
        assert_eq!(arrow_type("array(varchar)"), DataType::Utf8);
        assert_eq!(arrow_type("decimal(10,2)"), DataType::Float64);
    }

    #[test]
    fn a_cell_of_the_wrong_type_names_its_column() {
        let err = to_batch(&[col("count", "bigint")], &[row(&[Some("many")])]).unwrap_err().to_string();
        assert!(err.contains("column `count`"), "{err}");
    }
}
