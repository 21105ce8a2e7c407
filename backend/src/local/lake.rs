//! The local lake: `<data-dir>/lake/<table>/dt=YYYY-MM-DD/*.parquet`, registered in a
//! DataFusion session with the Athena column layout and the Trino functions.

use crate::error::{Error, Result};
use crate::model::Table;
use crate::model::tables::PARTITION_COLUMN;
use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::context::SessionContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
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
        let runtime = RuntimeEnvBuilder::new()
            .with_cache_manager(CacheManagerConfig::default().with_list_files_cache_limit(0))
            .build_arc()?;
        let ctx = SessionContext::new_with_config_rt(session_config(), runtime);
        for table in Table::ALL {
            let dir = self.table_dir(table);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            register_table(&ctx, table, &format!("{}/", dir.display())).await?;
        }
        super::udf::register_trino_functions(&ctx);
        Ok(ctx)
    }
}

/// The session settings both lakes (a local folder, an S3 lake) use.
pub fn session_config() -> SessionConfig {
    SessionConfig::new()
        .with_information_schema(true)
        // Keep plain Utf8 columns as declared in the schema (Athena's STRING).
        .set_bool("datafusion.execution.parquet.schema_force_view_types", false)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true)
}

/// Registers `table` as a listing table over `url` (a folder or `s3://.../<table>/`), with the
/// schema from `model::tables` and the `dt` partition column.
pub async fn register_table(ctx: &SessionContext, table: Table, url: &str) -> Result<()> {
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(PARTITION_COLUMN.to_string(), DataType::Utf8)]);
    ctx.register_listing_table(table.name(), url, options, Some(table.file_schema()), None).await?;
    Ok(())
}
