//! File sink: one JSON line per alert, appended and flushed to disk; for air-gapped installs
//! and the demo's working destination.

use super::{SendError, Sent, need};
use crate::model::Alert;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

pub(super) async fn send(config: &Value, alert: &Alert) -> Result<Sent, SendError> {
    let path = need(config, "path", "file").map_err(SendError::new)?;
    if let Some(dir) = std::path::Path::new(path).parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| SendError::new(format!("{}: {e}", dir.display())))?;
    }
    let mut line = serde_json::to_vec(&json!({"source": "mantissa-log", "alert": alert}))
        .map_err(|e| SendError::new(e.to_string()))?;
    line.push(b'\n');
    let mut f = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await
        .map_err(|e| SendError::new(format!("{path}: {e}")))?;
    f.write_all(&line).await.map_err(|e| SendError::new(format!("{path}: {e}")))?;
    f.sync_data().await.map_err(|e| SendError::new(format!("{path}: {e}")))?;
    Ok(Sent { http_status: None, reference: None })
}
