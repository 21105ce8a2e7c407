//! The ports bundled: what detection, routing, delivery and health need, for one backend.

use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::local::{Db, FileSecretStore, Lake, LocalQueryEngine};
use crate::ports::{
    ActivityLog, AlertQueue, AlertStore, CaseStore, Counters, DedupCache, IntegrationStore, QueryEngine,
    RuleStore, Scheduler, SecretStore, SettingsStore,
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
    pub activity: Arc<dyn ActivityLog>,
    pub cases: Arc<dyn CaseStore>,
    pub queue: Arc<dyn AlertQueue>,
    pub secrets: Arc<dyn SecretStore>,
    pub scheduler: Arc<dyn Scheduler>,
    /// Where rule runs, routed alerts and deliveries are counted.
    pub counters: Arc<dyn Counters>,
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

    /// The data dir is made owner-only (0700) here; its files are 0600.
    pub async fn local_with_clock(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        crate::local::private::secure_dir(data_dir)?;
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
            activity: db.clone(),
            cases: db.clone(),
            queue: db.clone(),
            scheduler: db.clone(),
            counters: db,
            secrets: Arc::new(FileSecretStore::new(data_dir)),
            clock,
            allowed_hosts: vec!["127.0.0.1".into(), "localhost".into(), "::1".into()],
            enqueued: Arc::new(tokio::sync::Notify::new()),
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    /// On a shared host the data dir, state.db (and its journals), secrets.json and the lake's
    /// Parquet are the owner's only, whatever the umask and an older, looser layout.
    #[tokio::test]
    async fn the_data_dir_and_its_files_are_private() {
        let tmp = tempfile::TempDir::new().unwrap();
        let dir = tmp.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("state.db-wal"), b"").unwrap();
        std::fs::set_permissions(dir.join("state.db-wal"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = Services::local(&dir).await.unwrap();
        s.secrets.put_secret("k", "v").await.unwrap();
        s.settings.put_setting("u", "theme", &serde_json::json!("light")).await.unwrap();
        let report = crate::ingest::ingest_bytes(
            &Lake::new(&dir),
            crate::model::Table::Custom,
            Path::new("app.jsonl"),
            br#"{"timestamp": "2024-11-20T10:00:00Z", "message": "hi"}"#,
        )
        .unwrap();
        assert_eq!(mode(&dir), 0o700);
        for f in ["state.db", "state.db-wal", "state.db-shm", "secrets.json"] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
        assert_eq!(report.parquet_files.len(), 1);
        assert_eq!(mode(&report.parquet_files[0]), 0o600);
    }
}

/// Counts `sample`; a counter that cannot be written is said on stderr, never the run's failure.
pub async fn count(s: &Services, sample: crate::model::metric::Sample) {
    if let Err(e) = s.counters.add(&sample).await {
        eprintln!("counters: {e}");
    }
}
