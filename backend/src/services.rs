//! The ports bundled: what detection, routing, delivery and health need, for one backend.

use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::local::{Db, FileSecretStore, Lake, LocalQueryEngine};
use crate::ports::{
    AlertQueue, AlertStore, DedupCache, IntegrationStore, QueryEngine, RuleStore, Scheduler, SecretStore,
    SettingsStore,
};
use std::path::Path;
use std::sync::Arc;

#[derive(Clone)]
pub struct Services {
    pub engine: Arc<dyn QueryEngine>,
    pub rules: Arc<dyn RuleStore>,
    pub alerts: Arc<dyn AlertStore>,
    pub integrations: Arc<dyn IntegrationStore>,
    pub dedup: Arc<dyn DedupCache>,
    pub settings: Arc<dyn SettingsStore>,
    pub queue: Arc<dyn AlertQueue>,
    pub secrets: Arc<dyn SecretStore>,
    pub scheduler: Arc<dyn Scheduler>,
    pub clock: Arc<dyn Clock>,
    /// Hosts that may be reached over plain http or on private addresses (loopback for dev).
    pub allowed_hosts: Vec<String>,
    /// Woken when the router enqueues, so an in-process worker starts at once instead of at
    /// its next poll.
    pub enqueued: Arc<tokio::sync::Notify>,
}

impl Services {
    /// The embedded backend over `data_dir`: lake, `state.db`, `secrets.json`.
    pub async fn local(data_dir: &Path) -> Result<Self> {
        Self::local_with_clock(data_dir, Arc::new(SystemClock)).await
    }

    pub async fn local_with_clock(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        let lake = Lake::new(data_dir);
        let engine = Arc::new(LocalQueryEngine::open(&lake).await?);
        let db = Db::open(&data_dir.join("state.db"))?.with_clock(clock.clone());
        let db = Arc::new(db);
        Ok(Services {
            engine,
            rules: db.clone(),
            alerts: db.clone(),
            integrations: db.clone(),
            dedup: db.clone(),
            settings: db.clone(),
            queue: db.clone(),
            scheduler: db,
            secrets: Arc::new(FileSecretStore::new(data_dir)),
            clock,
            allowed_hosts: vec!["127.0.0.1".into(), "localhost".into(), "::1".into()],
            enqueued: Arc::new(tokio::sync::Notify::new()),
        })
    }
}
