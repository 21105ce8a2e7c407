//! SQLite (bundled, WAL) for the embedded backend's state: rules, alerts and delivery
//! attempts, integrations, dedup keys, settings, schedules and the alert queue. Records are
//! kept as JSON bodies beside the columns that queries filter on; every row carries user_id.

mod alerts;
mod cases;
mod counters;
mod misc;
mod rules;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS rules (
    user_id TEXT NOT NULL, rule_id TEXT NOT NULL, enabled INTEGER NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (user_id, rule_id));
CREATE TABLE IF NOT EXISTS alerts (
    user_id TEXT NOT NULL, alert_id TEXT NOT NULL, rule_id TEXT NOT NULL, severity INTEGER NOT NULL,
    created_at TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (user_id, alert_id));
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (user_id, created_at);
CREATE INDEX IF NOT EXISTS alerts_by_rule ON alerts (user_id, rule_id, created_at);
CREATE TABLE IF NOT EXISTS attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, alert_id TEXT NOT NULL,
    integration_id TEXT NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_by_alert ON attempts (user_id, alert_id);
CREATE INDEX IF NOT EXISTS attempts_by_integration ON attempts (user_id, integration_id, at);
CREATE TABLE IF NOT EXISTS integrations (
    user_id TEXT NOT NULL, integration_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (user_id, integration_id));
CREATE TABLE IF NOT EXISTS dedup (
    dedup_key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS activity (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, alert_id TEXT NOT NULL,
    at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS activity_by_alert ON activity (user_id, alert_id, seq);
CREATE TABLE IF NOT EXISTS cases (
    user_id TEXT NOT NULL, case_id TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (user_id, case_id));
CREATE TABLE IF NOT EXISTS settings (
    user_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (user_id, key));
CREATE TABLE IF NOT EXISTS schedules (
    user_id TEXT NOT NULL, rule_id TEXT NOT NULL, expression TEXT NOT NULL, enabled INTEGER NOT NULL,
    PRIMARY KEY (user_id, rule_id));
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE, group_id TEXT NOT NULL,
    body TEXT NOT NULL, sent_at INTEGER NOT NULL, visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0, receipt TEXT, last_error TEXT, user_id TEXT);
CREATE INDEX IF NOT EXISTS queue_by_group ON queue (group_id, seq);
CREATE INDEX IF NOT EXISTS queue_by_receipt ON queue (receipt);
CREATE TABLE IF NOT EXISTS queue_dedup (
    dedup_id TEXT PRIMARY KEY, message_id TEXT NOT NULL, sent_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
    user_id TEXT NOT NULL, day TEXT NOT NULL, metric TEXT NOT NULL, dimensions TEXT NOT NULL,
    value TEXT NOT NULL, sum REAL NOT NULL, samples INTEGER NOT NULL,
    PRIMARY KEY (user_id, day, metric, dimensions, value));
CREATE TABLE IF NOT EXISTS dead_letters (
    message_id TEXT PRIMARY KEY, group_id TEXT NOT NULL, body TEXT NOT NULL,
    receive_count INTEGER NOT NULL, last_error TEXT, sent_at INTEGER NOT NULL, dead_at INTEGER NOT NULL,
    user_id TEXT);
"#;

/// Queued messages and dead letters carry their owner (the body's `user_id`) in a column, so
/// DLQ calls match the user exactly. A database made before the column gets it, filled from
/// the bodies, once (in one IMMEDIATE transaction, so two processes opening it do not race).
fn add_owner_columns(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for table in ["queue", "dead_letters"] {
        let has: i64 = tx.query_row(
            &format!("SELECT count(*) FROM pragma_table_info('{table}') WHERE name = 'user_id'"),
            [],
            |r| r.get(0),
        )?;
        if has == 0 {
            tx.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN user_id TEXT;
                 UPDATE {table} SET user_id = CASE WHEN json_valid(body) THEN
                     CASE WHEN json_type(body, '$.user_id') = 'text' THEN json_extract(body, '$.user_id') END END;"
            ))?;
        }
    }
    tx.execute_batch("CREATE INDEX IF NOT EXISTS dead_letters_by_user ON dead_letters (user_id, dead_at);")?;
    tx.commit()
}

/// One SQLite database shared by the local stores; calls run on the blocking pool.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
}

impl Db {
    /// Opens (or makes) the database; it and its `-wal`/`-shm` files are owner-only (0600):
    /// made so before SQLite writes (its journal files take the database's mode), and
    /// tightened when an older one was looser.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        if !path.exists() {
            let created = std::fs::OpenOptions::new().append(true).create(true).open(path);
            drop(created.map_err(|e| Error::io(path, e))?);
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            super::private::tighten(Path::new(&name))?;
        }
        let conn = Connection::open(path).map_err(|e| Error::backend("sqlite open", e))?;
        Self::init(conn)
    }

    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory().map_err(|e| Error::backend("sqlite open", e))?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| Error::backend("sqlite", e))?;
        // WAL + NORMAL survives a process crash (SIGKILL) without losing committed rows.
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| Error::backend("sqlite", e))?;
        // Several processes (a console, `serve`, CLI calls) share one state.db: a writer waits
        // for another's commit instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| Error::backend("sqlite", e))?;
        let mut conn = conn;
        conn.execute_batch(SCHEMA).map_err(|e| Error::backend("sqlite schema", e))?;
        add_owner_columns(&mut conn).map_err(|e| Error::backend("sqlite schema", e))?;
        Ok(Db { conn: Arc::new(Mutex::new(conn)), clock: Arc::new(SystemClock) })
    }

    /// The same database seen through another clock (tests drive time by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| Error::backend("sqlite", "connection lock poisoned"))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| Error::backend("sqlite task", e))?
    }
}

/// A write transaction that takes the write lock at its start (IMMEDIATE): a deferred one
/// that reads first and writes later fails at once with `database is locked` when another
/// process writes in between, where an immediate one waits out the busy timeout.
pub(crate) fn write_tx(c: &mut Connection) -> Result<rusqlite::Transaction<'_>> {
    c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sql_err)
}

pub(crate) fn sql_err(e: rusqlite::Error) -> Error {
    Error::backend("sqlite", e)
}

pub(crate) fn json_err(e: serde_json::Error) -> Error {
    Error::backend("stored record", e)
}

#[cfg(test)]
mod tests;

/// Fixed-width UTC text, so that string order is time order in SQL.
pub(crate) fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
