//! Query history: every query run from the console, newest last, kept per user in
//! `<data dir>/history/<user>.jsonl` and searchable from the query pane.

use crate::widgets::picker::{Picker, PickerKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How many entries the file keeps; older ones are dropped when it is loaded at twice that.
const KEEP: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub sql: String,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    pub entries: Vec<Entry>,
    pub path: Option<PathBuf>,
}

impl History {
    pub fn path_for(data_dir: &Path, user: &str) -> PathBuf {
        let safe: String = user
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .collect();
        data_dir.join("history").join(format!("{safe}.jsonl"))
    }

    /// Reads the file; a damaged line is skipped and counted, so one bad write never loses the rest.
    pub fn load(path: PathBuf) -> (History, Option<String>) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut entries = vec![];
        let mut bad = vec![];
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            match serde_json::from_str::<Entry>(line) {
                Ok(e) => entries.push(e),
                Err(_) => bad.push(i + 1),
            }
        }
        let mut problem = (!bad.is_empty()).then(|| {
            format!(
                "{}: skipped {} unreadable line(s) ({:?}) of the query history",
                path.display(),
                bad.len(),
                bad
            )
        });
        // Grown to twice what is kept: rewrite the newest KEEP (written aside, then renamed).
        if entries.len() > 2 * KEEP {
            entries.drain(..entries.len() - KEEP);
            let text: String =
                entries.iter().filter_map(|e| serde_json::to_string(e).ok()).map(|l| l + "\n").collect();
            let tmp = path.with_extension("jsonl.tmp");
            if let Err(e) = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path)) {
                problem
                    .get_or_insert_with(|| format!("{}: cannot trim the query history: {e}", path.display()));
            }
        }
        (History { entries, path: Some(path) }, problem)
    }

    /// Adds a run; the same SQL run twice in a row is one entry with the newer time.
    pub fn push(&mut self, sql: &str, at: DateTime<Utc>) -> Option<Entry> {
        let sql = sql.trim();
        if sql.is_empty() {
            return None;
        }
        if self.entries.last().is_some_and(|e| e.sql == sql) {
            self.entries.pop();
        }
        let entry = Entry { at, sql: sql.to_string() };
        self.entries.push(entry.clone());
        Some(entry)
    }

    /// Newest first; the row shows the time and the SQL on one line, choosing gives the SQL.
    pub fn picker(&self) -> Picker {
        let items = self
            .entries
            .iter()
            .rev()
            .map(|e| {
                let one_line = e.sql.split_whitespace().collect::<Vec<_>>().join(" ");
                (format!("{}  {one_line}", e.at.format("%Y-%m-%d %H:%M")), e.sql.clone())
            })
            .collect();
        Picker::new(PickerKind::History, "query history", items)
    }
}

/// Appends one entry (run on a blocking task). The file is trimmed when it is loaded, so a run
/// costs one append and no read.
pub fn append(path: &Path, entry: &Entry) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(f, "{}", serde_json::to_string(entry).map_err(std::io::Error::other)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_persists_per_user_skips_damage_and_searches() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = History::path_for(dir.path(), "ana/../lyst");
        assert!(path.starts_with(dir.path().join("history")), "{path:?}");
        let mut h = History::load(path.clone()).0;
        let t = Utc::now();
        for sql in ["SELECT 1", "SELECT 1", "SELECT eventname FROM cloudtrail_logs", "  "] {
            if let Some(e) = h.push(sql, t) {
                append(&path, &e).unwrap();
            }
        }
        // A torn write: the rest still loads and the damage is named.
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        writeln!(f, "{{\"at\": 12").unwrap();
        let (again, problem) = History::load(path.clone());
        assert_eq!(again.entries.iter().map(|e| e.sql.as_str()).collect::<Vec<_>>().len(), 3);
        assert!(problem.unwrap().contains("skipped 1 unreadable line(s) ([4])"));
        // In memory the repeat collapsed; the picker lists newest first and narrows by words.
        assert_eq!(h.entries.len(), 2);
        let mut p = h.picker();
        assert!(p.items[0].1.contains("cloudtrail_logs"));
        p.search.text = "SELECT eventname".into();
        assert_eq!(p.matches(), vec![0]);
        p.search.text = "select".into();
        assert_eq!(p.matches(), vec![0, 1]);
    }

    #[test]
    fn a_file_grown_past_twice_the_limit_is_trimmed_on_load() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("h.jsonl");
        for i in 0..=2 * KEEP {
            append(&path, &Entry { at: Utc::now(), sql: format!("SELECT {i}") }).unwrap();
        }
        let (h, problem) = History::load(path.clone());
        assert!(problem.is_none(), "{problem:?}");
        assert_eq!(h.entries.len(), KEEP);
        assert_eq!(h.entries.last().unwrap().sql, format!("SELECT {}", 2 * KEEP));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), KEEP);
    }
}
