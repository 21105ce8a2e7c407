//! File sink: one JSON line per alert, appended with a single write and synced to disk; for
//! air-gapped installs and the demo's working destination.

use super::{SendError, Sent, need};
use crate::model::Alert;
use serde_json::{Value, json};
use std::io::{Read, Seek, SeekFrom, Write};

fn append_line(path: &str, line: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = std::path::Path::new(path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).read(true).open(path)?;
    // A writer killed mid-line leaves no newline: start on a fresh line so ours stays whole.
    let len = f.metadata()?.len();
    let mut buf = Vec::with_capacity(line.len() + 1);
    if len > 0 {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::Start(len - 1))?;
        f.read_exact(&mut last)?;
        if last[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    buf.extend_from_slice(line);
    f.write_all(&buf)?;
    f.sync_data()
}

pub(super) async fn send(config: &Value, alert: &Alert) -> Result<Sent, SendError> {
    let path = need(config, "path", "file").map_err(SendError::new)?.to_string();
    let mut line = serde_json::to_vec(&json!({"source": "mantissa-log", "alert": alert}))
        .map_err(|e| SendError::new(e.to_string()))?;
    line.push(b'\n');
    let p = path.clone();
    tokio::task::spawn_blocking(move || append_line(&p, &line))
        .await
        .map_err(|e| SendError::new(e.to_string()))?
        .map_err(|e| SendError::new(format!("{path}: {e}")))?;
    Ok(Sent { http_status: None, reference: None })
}
