//! The lake on S3: `s3://<bucket>/<prefix>/<table>/dt=YYYY-MM-DD/*.parquet`, the same layout
//! and schemas as the local folder. DataFusion reads it through `object_store`; writers add
//! immutable batch files, one per table and day per batch, and claim each source file first
//! (`_ingest/claims/<table>/<source>.json`, a conditional put) so a source is in exactly one
//! file even when SQS delivers its notification twice or a Lambda dies half way.

use super::s3::{S3Url, store_err};
use crate::error::{Error, Result};
use crate::ingest::convert::Converted;
use crate::ingest::writer::{parquet_bytes, to_batches};
use crate::local::lake::{register_table, session_config};
use crate::model::Table;
use crate::model::tables::PARTITION_COLUMN;
use chrono::{DateTime, Utc};
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::context::SessionContext;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// How long a listing of an S3 table is reused: files written since are seen at most this late.
/// Each scan of a table otherwise costs one LIST request per `dt=` prefix it reads.
pub const LIST_CACHE_TTL: Duration = Duration::from_secs(30);

/// A claim without files older than this was left by a writer that died (the ingest Lambda's
/// timeout is 5 minutes), so another writer may take its sources over.
pub const STALE_CLAIM: chrono::Duration = chrono::Duration::minutes(15);

/// Claim requests sent at once.
const REQUESTS_IN_FLIGHT: usize = 16;

/// The footer key listing the source files (content-derived names) a Parquet file holds.
pub const SOURCES_KEY: &str = "mantissa.sources";

#[derive(Clone)]
pub struct S3Lake {
    url: S3Url,
    store: Arc<dyn ObjectStore>,
}

/// What happened to one source file of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOutcome {
    /// Its rows are in these files now.
    Written(Vec<String>),
    /// An earlier batch already wrote it (a repeated notification, a re-ingest).
    AlreadyIngested(Vec<String>),
    /// Another writer holds its claim right now; try again later.
    Busy,
    /// Nothing to write (no good record).
    Empty,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    claimed_at: DateTime<Utc>,
    /// The files the claimant is writing (planned) ...
    #[serde(default)]
    planned: Vec<String>,
    /// ... and, once they are all written, the files that hold the source.
    #[serde(default)]
    files: Option<Vec<String>>,
}

impl S3Lake {
    pub fn new(url: S3Url, store: Arc<dyn ObjectStore>) -> Self {
        S3Lake { url, store }
    }

    /// The lake at `url` (`s3://bucket[/prefix]`), reached with the settings' credentials,
    /// region and endpoint.
    pub async fn open(settings: &super::AwsSettings, url: &str) -> Result<Self> {
        let url = S3Url::parse(url)?;
        let conf = settings.sdk_config().await;
        let store = super::s3::S3Stores::new(settings, &conf)?.bucket(&url.bucket)?;
        Ok(S3Lake { url, store })
    }

    pub fn url(&self) -> &S3Url {
        &self.url
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// `s3://bucket/prefix/<table>/`.
    pub fn table_url(&self, table: Table) -> String {
        self.url.url(&format!("{}/", table.name()))
    }

    /// A DataFusion session with every table on S3. Listings are cached for
    /// [`LIST_CACHE_TTL`], so a rule running every few minutes costs a few LISTs, and files
    /// written by the ingest Lambda are seen within that time.
    pub async fn session(&self) -> Result<SessionContext> {
        let runtime = crate::local::lake::runtime(
            CacheManagerConfig::default().with_list_files_cache_ttl(Some(LIST_CACHE_TTL)),
        )?;
        let bucket_url = url::Url::parse(&format!("s3://{}", self.url.bucket))
            .map_err(|e| Error::invalid(self.url.to_string(), e.to_string()))?;
        runtime.register_object_store(&bucket_url, self.store.clone());
        let ctx = crate::local::new_session(session_config()?, runtime);
        for table in Table::ALL {
            register_table(&ctx, table, &self.table_url(table)).await?;
        }
        Ok(ctx)
    }

    /// The Parquet files of one table and day, with their sizes.
    pub async fn files(&self, table: Table, dt: &str) -> Result<Vec<(String, u64)>> {
        let prefix = Path::from(self.url.key(&format!("{}/{PARTITION_COLUMN}={dt}/", table.name())));
        let listed: Vec<_> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| store_err(&self.url.url(prefix.as_ref()), e))?;
        let mut files: Vec<(String, u64)> = listed
            .into_iter()
            .filter(|m| m.location.as_ref().ends_with(".parquet"))
            .map(|m| (m.location.to_string(), m.size))
            .collect();
        files.sort();
        Ok(files)
    }

    fn claim_path(&self, table: Table, source: &str) -> Path {
        Path::from(self.url.key(&format!("_ingest/claims/{}/{source}.json", table.name())))
    }

    /// Writes converted source files of one table as one batch: claims each source, writes one
    /// Parquet file per day holding every claimed source's rows, then marks the claims done.
    /// Returns each source's outcome, in input order.
    pub async fn write_batch(&self, table: Table, sources: &[&Converted]) -> Result<Vec<SourceOutcome>> {
        let now = Utc::now();
        let mut outcomes = vec![SourceOutcome::Empty; sources.len()];
        let mut won: Vec<(usize, Option<String>)> = vec![]; // (index, claim etag)
        let mut seen = BTreeSet::new();
        let todo: Vec<usize> = (0..sources.len())
            .filter(|&i| !sources[i].partitions.is_empty() && seen.insert(sources[i].source.clone()))
            .collect();
        let claims: Vec<(usize, Claimed)> =
            futures::stream::iter(todo.into_iter().map(|i| async move {
                Ok::<_, Error>((i, self.claim(table, &sources[i].source, now).await?))
            }))
            .buffered(REQUESTS_IN_FLIGHT)
            .try_collect()
            .await?;
        for (i, claimed) in claims {
            match claimed {
                Claimed::Won(etag) => won.push((i, etag)),
                Claimed::Done(files) => outcomes[i] = SourceOutcome::AlreadyIngested(files),
                Claimed::Busy => outcomes[i] = SourceOutcome::Busy,
            }
        }
        if won.is_empty() {
            return Ok(outcomes);
        }
        // One file per day; named after the batch's sources, so a retry of the same batch
        // writes the same names (and a batch of one source gets that source's own name).
        let mut names: Vec<&str> = won.iter().map(|(i, _)| sources[*i].source.as_str()).collect();
        names.sort();
        let stem = if names.len() == 1 {
            names[0].to_string()
        } else {
            let mut h = Sha256::new();
            for n in &names {
                h.update(n.as_bytes());
                h.update([0]);
            }
            format!("batch-{}", &hex::encode(h.finalize())[..20])
        };
        let mut by_day: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (i, _) in &won {
            for (dt, rows) in sources[*i].partitions.iter() {
                by_day.entry(dt.clone()).or_default().extend(rows.iter().cloned());
            }
        }
        let planned: Vec<String> = by_day
            .keys()
            .map(|dt| self.url.key(&format!("{}/{PARTITION_COLUMN}={dt}/{stem}.parquet", table.name())))
            .collect();
        let planning = Claim { claimed_at: now, planned: planned.clone(), files: None };
        let etags: Vec<Option<String>> = futures::stream::iter(
            won.iter().map(|(i, etag)| self.put_claim(table, &sources[*i].source, &planning, etag.clone())),
        )
        .buffered(REQUESTS_IN_FLIGHT)
        .try_collect()
        .await?;
        let footer = vec![(SOURCES_KEY.to_string(), names.join(","))];
        for ((_, rows), key) in by_day.into_iter().zip(&planned) {
            let batches = to_batches(table, &rows)?;
            let bytes = parquet_bytes(table, &batches, footer.clone())?;
            self.store
                .put(&Path::from(key.as_str()), PutPayload::from(bytes))
                .await
                .map_err(|e| store_err(&format!("s3://{}/{key}", self.url.bucket), e))?;
        }
        let files: Vec<String> = planned.iter().map(|k| format!("s3://{}/{k}", self.url.bucket)).collect();
        let done = Claim { claimed_at: now, planned: planned.clone(), files: Some(files.clone()) };
        futures::stream::iter(
            won.iter()
                .zip(etags)
                .map(|((i, _), etag)| self.put_claim(table, &sources[*i].source, &done, etag)),
        )
        .buffered(REQUESTS_IN_FLIGHT)
        .try_collect::<Vec<_>>()
        .await?;
        for (i, _) in &won {
            outcomes[*i] = SourceOutcome::Written(files.clone());
        }
        Ok(outcomes)
    }

    async fn put_claim(
        &self,
        table: Table,
        source: &str,
        claim: &Claim,
        etag: Option<String>,
    ) -> Result<Option<String>> {
        let path = self.claim_path(table, source);
        let body = serde_json::to_vec(claim).map_err(|e| Error::backend("claim", e))?;
        let mode = match etag {
            Some(e) => PutMode::Update(UpdateVersion { e_tag: Some(e), version: None }),
            None => PutMode::Overwrite,
        };
        let put = self
            .store
            .put_opts(&path, PutPayload::from(body), PutOptions { mode, ..Default::default() })
            .await;
        match put {
            Ok(r) => Ok(r.e_tag),
            Err(object_store::Error::Precondition { .. }) => Err(Error::backend(
                "ingest claim",
                format!(
                    "{}: another writer took this source over; the message is retried",
                    self.url.url(path.as_ref())
                ),
            )),
            Err(e) => Err(store_err(&self.url.url(path.as_ref()), e)),
        }
    }

    async fn claim(&self, table: Table, source: &str, now: DateTime<Utc>) -> Result<Claimed> {
        let path = self.claim_path(table, source);
        let place = self.url.url(path.as_ref());
        let fresh = Claim { claimed_at: now, planned: vec![], files: None };
        let body = serde_json::to_vec(&fresh).map_err(|e| Error::backend("claim", e))?;
        let create = PutOptions { mode: PutMode::Create, ..Default::default() };
        match self.store.put_opts(&path, PutPayload::from(body), create).await {
            Ok(r) => return Ok(Claimed::Won(r.e_tag)),
            Err(object_store::Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(store_err(&place, e)),
        }
        let got = self.store.get(&path).await.map_err(|e| store_err(&place, e))?;
        let etag = got.meta.e_tag.clone();
        let text = got.bytes().await.map_err(|e| store_err(&place, e))?;
        let held: Claim = serde_json::from_slice(&text).map_err(|e| {
            Error::invalid(&place, format!("unreadable claim ({e}); delete it to re-ingest the source"))
        })?;
        if let Some(files) = held.files {
            return Ok(Claimed::Done(files));
        }
        if now - held.claimed_at < STALE_CLAIM {
            return Ok(Claimed::Busy);
        }
        // The claimant died: whatever it wrote is incomplete, so remove it before taking over
        // (its sources are all unfinished and come back, so nothing stays missing).
        for key in &held.planned {
            match self.store.delete(&Path::from(key.as_str())).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(store_err(&format!("s3://{}/{key}", self.url.bucket), e)),
            }
        }
        tracing::warn!(claim = %place, "took over a stale ingest claim");
        Ok(Claimed::Won(etag))
    }
}

enum Claimed {
    Won(Option<String>),
    Done(Vec<String>),
    Busy,
}
