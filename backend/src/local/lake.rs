//! The local lake: `<data-dir>/lake/<table>/dt=YYYY-MM-DD/*.parquet`, registered in a
//! DataFusion session with the Athena column layout and the Trino functions.

use super::bloom_prune::BloomPrunedTable;
use crate::error::{Error, Result};
use crate::model::Table;
use crate::model::tables::PARTITION_COLUMN;
use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::context::SessionContext;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{SessionConfig, col};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

impl Lake {
    /// The lake under `data_dir/lake`; table folders are made on first use.
    pub fn new(data_dir: &Path) -> Self {
        Lake { root: data_dir.join("lake") }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn table_dir(&self, table: Table) -> PathBuf {
        self.root.join(table.name())
    }

    pub fn partition_dir(&self, table: Table, dt: &str) -> PathBuf {
        self.table_dir(table).join(format!("{PARTITION_COLUMN}={dt}"))
    }

    /// Parquet files and their total size per table, for status lines.
    pub fn inventory(&self) -> Vec<(Table, u64, u64)> {
        Table::ALL
            .iter()
            .map(|&t| {
                let (mut files, mut bytes) = (0, 0);
                for entry in walkdir::WalkDir::new(self.table_dir(t)).into_iter().flatten() {
                    if entry.path().extension().is_some_and(|e| e == "parquet") {
                        files += 1;
                        bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
                    }
                }
                (t, files, bytes)
            })
            .collect()
    }

    /// A session with every table registered. Tables list their files at each scan, so data
    /// ingested later (by this process or another) is seen by the next query without a new
    /// session: DataFusion's list-files cache (on by default since 52, with no expiry) is turned
    /// off, since listing a local folder costs a few directory reads per table scanned.
    pub async fn session(&self) -> Result<SessionContext> {
        let runtime = runtime(CacheManagerConfig::default().with_list_files_cache_limit(0))?;
        let ctx = super::new_session(session_config()?, runtime);
        for table in Table::ALL {
            let dir = self.table_dir(table);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            register_table(&ctx, table, &format!("{}/", dir.display())).await?;
        }
        Ok(ctx)
    }
}

/// The memory a process's queries may use together (sorts, aggregates and joins spill to disk
/// past their share, then fail with [`memory_exhausted`]): 2 GiB unless
/// `MANTISSA_QUERY_MEMORY` says otherwise (`4GiB`, `512MiB`).
pub const DEFAULT_QUERY_MEMORY: u64 = 2 << 30;
pub const QUERY_MEMORY_VAR: &str = "MANTISSA_QUERY_MEMORY";

/// The query memory limit in bytes, from [`QUERY_MEMORY_VAR`] or the default; a value that is
/// not a size, or under 64 MiB, is an error naming the variable.
pub fn query_memory_limit() -> Result<u64> {
    let Ok(text) = std::env::var(QUERY_MEMORY_VAR) else { return Ok(DEFAULT_QUERY_MEMORY) };
    let bytes = crate::ingest::parse_size(&text).map_err(|e| Error::invalid(QUERY_MEMORY_VAR, e))?;
    if bytes < 64 << 20 {
        return Err(Error::invalid(QUERY_MEMORY_VAR, format!("`{text}` is under the 64MiB a query needs")));
    }
    Ok(bytes)
}

/// What a query that ran out of memory is told: the limit, how to narrow the query, and the
/// variable that raises it.
pub fn memory_exhausted() -> String {
    let limit = query_memory_limit().unwrap_or(DEFAULT_QUERY_MEMORY);
    format!(
        "the query needs more memory than the {} the engine may use: narrow it (fewer days of dt, \
         fewer columns, a LIMIT, an aggregate instead of every row) or raise {QUERY_MEMORY_VAR}",
        crate::ingest::decode::show_size(limit)
    )
}

/// The runtime both lakes (a local folder, an S3 lake) use: the given file-listing cache and a
/// memory pool of [`query_memory_limit`] shared fairly by the queries that spill.
pub fn runtime(cache: CacheManagerConfig) -> Result<Arc<RuntimeEnv>> {
    let limit = usize::try_from(query_memory_limit()?).unwrap_or(usize::MAX);
    let top = std::num::NonZeroUsize::new(3).expect("3 is not zero");
    let pool = Arc::new(TrackConsumersPool::new(FairSpillPool::new(limit), top));
    Ok(RuntimeEnvBuilder::new().with_cache_manager(cache).with_memory_pool(pool).build_arc()?)
}

/// The session settings both lakes use. A `DATAFUSION_*` variable (DataFusion's own names,
/// `DATAFUSION_EXECUTION_TARGET_PARTITIONS=4`) overrides any of them; a bad value is an error
/// naming the variable.
pub fn session_config() -> Result<SessionConfig> {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        // Keep plain Utf8 columns as declared in the schema (Athena's STRING).
        .set_bool("datafusion.execution.parquet.schema_force_view_types", false)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true);
    let keys: Vec<String> = config.options().entries().into_iter().map(|e| e.key).collect();
    for key in keys {
        let var = key.to_ascii_uppercase().replace('.', "_");
        if let Ok(value) = std::env::var(&var) {
            config.options_mut().set(&key, &value).map_err(|e| Error::invalid(var, e.strip_backtrace()))?;
        }
    }
    Ok(config)
}

/// The column each table's files are sorted by (ascending), as the writer sorts them; S3
/// access log times are text that does not sort by time, so none is declared for them.
pub fn sorted_by(table: Table) -> Option<&'static str> {
    match table {
        Table::S3Access => None,
        _ => Some(table.time_column()),
    }
}

/// Registers `table` as a listing table over `url` (a folder or `s3://.../<table>/`), with the
/// schema from `model::tables`, the `dt` partition column and the files' sort order; scans
/// leave out the files and row groups bloom filters rule out ([`BloomPrunedTable`]).
pub async fn register_table(ctx: &SessionContext, table: Table, url: &str) -> Result<()> {
    let order = sorted_by(table).map(|c| vec![col(c).sort(true, true)]).into_iter().collect();
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(PARTITION_COLUMN.to_string(), DataType::Utf8)])
        .with_file_sort_order(order);
    let path = ListingTableUrl::parse(url)?.with_table_ref(table.name().into());
    let config = ListingTableConfig::new(path).with_listing_options(options).with_schema(table.file_schema());
    let listing =
        ListingTable::try_new(config)?.with_cache(ctx.runtime_env().cache_manager.get_file_statistic_cache());
    ctx.register_table(table.name(), Arc::new(BloomPrunedTable::new(Arc::new(listing))))?;
    Ok(())
}
