//! One scheduler per workspace and user: an advisory lock on a file in the data dir, held for
//! the life of the process and let go by the OS when it exits or is killed.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Held while this process runs the workspace's scheduler for one user.
#[derive(Debug)]
pub struct SchedulerLock {
    _file: File,
    path: PathBuf,
}

impl SchedulerLock {
    /// The lock file for `user` in `data_dir` (the user's name hashed, so any name is a file name).
    pub fn path(data_dir: &Path, user: &str) -> PathBuf {
        use sha2::{Digest, Sha256};
        let digest = hex::encode(Sha256::digest(user.as_bytes()));
        data_dir.join("locks").join(format!("scheduler-{}.lock", &digest[..16]))
    }

    /// Takes the lock, or `None` when another process holds it.
    pub fn try_acquire(data_dir: &Path, user: &str) -> Result<Option<SchedulerLock>> {
        let path = Self::path(data_dir, user);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SchedulerLock { _file: file, path })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }

    pub fn file(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let first = SchedulerLock::try_acquire(dir.path(), "alice").unwrap();
        assert!(first.is_some());
        assert!(SchedulerLock::try_acquire(dir.path(), "alice").unwrap().is_none(), "second holder refused");
        assert!(SchedulerLock::try_acquire(dir.path(), "bob").unwrap().is_some(), "another user has its own");
        drop(first);
        assert!(SchedulerLock::try_acquire(dir.path(), "alice").unwrap().is_some(), "free again once let go");
    }
}
