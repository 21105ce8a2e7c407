//! Integration secrets for the embedded backend: one JSON file, mode 0600, in the data dir,
//! never inside the SQLite tables. Written atomically (temp file, rename). A file that group
//! or others may read or write is refused (not used, not rewritten) until it is `chmod 600`.

use crate::error::{Error, Result};
use crate::ports::SecretStore;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tokio::sync::Mutex;

pub struct FileSecretStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSecretStore {
    pub fn new(data_dir: &Path) -> Self {
        FileSecretStore { path: data_dir.join("secrets.json"), lock: Mutex::new(()) }
    }

    fn load(&self) -> Result<BTreeMap<String, String>> {
        match super::private::loose_mode(&self.path) {
            Ok(Some(mode)) => {
                return Err(Error::invalid(
                    self.path.display().to_string(),
                    format!(
                        "the secrets file has mode {mode:03o}: others on this machine may read it, so it is \
                         not used; run `chmod 600 {}`",
                        self.path.display()
                    ),
                ));
            }
            Ok(None) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(Error::io(&self.path, e)),
        }
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::invalid(
                    self.path.display().to_string(),
                    format!("not a secrets file ({e}); fix or remove it"),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }

    fn save(&self, map: &BTreeMap<String, String>) -> Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(map).map_err(|e| Error::backend("secrets", e))?;
        write_private(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// Writes `bytes` to a new 0600 file (also when a stale temp file was looser).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = super::private::create_private(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[async_trait]
impl SecretStore for FileSecretStore {
    async fn put_secret(&self, name: &str, value: &str) -> Result<()> {
        let _guard = self.lock.lock().await;
        let mut map = self.load()?;
        map.insert(name.to_string(), value.to_string());
        self.save(&map)
    }

    async fn get_secret(&self, name: &str) -> Result<Option<String>> {
        let _guard = self.lock.lock().await;
        Ok(self.load()?.get(name).cloned())
    }

    async fn delete_secret(&self, name: &str) -> Result<()> {
        let _guard = self.lock.lock().await;
        let mut map = self.load()?;
        if map.remove(name).is_some() {
            self.save(&map)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lifecycle_and_permissions() {
        let dir = tempfile::TempDir::new().unwrap();
        let s = FileSecretStore::new(dir.path());
        assert_eq!(s.get_secret("a").await.unwrap(), None);
        s.put_secret("a", "hunter2").await.unwrap();
        s.put_secret("a", "rotated").await.unwrap();
        assert_eq!(s.get_secret("a").await.unwrap().as_deref(), Some("rotated"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        s.delete_secret("a").await.unwrap();
        assert_eq!(s.get_secret("a").await.unwrap(), None);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_loose_secrets_file_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::TempDir::new().unwrap();
        let s = FileSecretStore::new(dir.path());
        s.put_secret("a", "hunter2").await.unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = s.get_secret("a").await.unwrap_err().to_string();
        assert!(e.contains(&format!("chmod 600 {}", path.display())) && e.contains("mode 644"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        // Nor is it rewritten (a put would keep the loose file's other secrets exposed).
        assert!(s.put_secret("b", "x").await.is_err());
        assert!(s.delete_secret("a").await.is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(s.get_secret("a").await.unwrap().as_deref(), Some("hunter2"));
        assert_eq!(s.get_secret("b").await.unwrap(), None);
    }
}
