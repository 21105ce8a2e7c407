//! The ports: what the services need from storage, queues, secrets, schedules and the query
//! engine. The embedded backend (`local`) and AWS (`aws`) implement the same traits.

use crate::error::Result;
use crate::model::{Alert, DeliveryAttempt, Integration, QueryId, QueryStatus, Rule, Schedule};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

/// Which slice of a finished query's rows to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// `None` for the first page, else the `next_token` of the previous page.
    pub token: Option<String>,
    pub max_rows: usize,
}

impl PageRequest {
    pub fn first(max_rows: usize) -> Self {
        PageRequest { token: None, max_rows }
    }
}

#[derive(Debug, Clone)]
pub struct ResultPage {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub next_token: Option<String>,
}

impl ResultPage {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// A table the engine can query, for the console's browser and for rule validation.
#[derive(Debug, Clone)]
pub struct TableSchema {
    pub name: String,
    pub schema: SchemaRef,
}

/// Result rows a reader holds at most (the console's grid, a detection's evidence): past it,
/// rows are counted (the status's `rows`) and not fetched, so a `SELECT *` over a month stays
/// within [`HELD_BYTES`]. [`QueryEngine::stream`] hands every row to a writer instead.
pub const HELD_ROWS: usize = 100_000;
/// The Arrow bytes the embedded engine keeps of a result, whatever its row count.
pub const HELD_BYTES: usize = 256 << 20;

/// Where [`QueryEngine::stream`] hands each batch; an error stops the query.
pub type BatchSink<'a> = dyn FnMut(RecordBatch) -> Result<()> + Send + 'a;

/// SQL over the logs as jobs: start, watch, page through results, cancel.
#[async_trait]
pub trait QueryEngine: Send + Sync {
    /// Starts a query; SQL that does not parse or plan is refused here with `Error::Sql`.
    async fn start(&self, sql: &str) -> Result<QueryId>;
    /// State and statistics, live while the query runs; `rows` counts every result row, held
    /// or not.
    async fn status(&self, id: &QueryId) -> Result<QueryStatus>;
    /// The status once the query has ended or `patience` has passed, whichever comes first.
    /// This default polls [`Self::status`] (2 ms, doubling to 250 ms: Athena's queries take
    /// seconds); the embedded engine answers the moment its query ends.
    async fn wait(&self, id: &QueryId, patience: std::time::Duration) -> Result<QueryStatus> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut delay = std::time::Duration::from_millis(2);
        loop {
            let status = self.status(id).await?;
            let now = tokio::time::Instant::now();
            if status.state.is_terminal() || now >= deadline {
                return Ok(status);
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 2).min(std::time::Duration::from_millis(250));
        }
    }
    /// Data rows of a succeeded query (never a header row); the embedded engine keeps the
    /// first [`HELD_ROWS`] (within [`HELD_BYTES`]), Athena all of them (in S3).
    async fn results(&self, id: &QueryId, page: PageRequest) -> Result<ResultPage>;
    /// Runs `sql` and hands every result batch to `sink` as it comes, holding none past the
    /// one in hand (exports, the CLI's CSV); the first batch is empty and carries the schema
    /// (a result without rows still has columns). Returns the finished run's status.
    async fn stream(&self, sql: &str, sink: &mut BatchSink<'_>) -> Result<QueryStatus>;
    /// Stops the query on the engine, not just the waiting.
    async fn cancel(&self, id: &QueryId) -> Result<()>;
    async fn tables(&self) -> Result<Vec<TableSchema>>;
}

#[async_trait]
pub trait RuleStore: Send + Sync {
    async fn list_rules(&self, user_id: &str) -> Result<Vec<Rule>>;
    async fn get_rule(&self, user_id: &str, rule_id: &str) -> Result<Option<Rule>>;
    async fn put_rule(&self, user_id: &str, rule: &Rule) -> Result<()>;
    async fn delete_rule(&self, user_id: &str, rule_id: &str) -> Result<()>;
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub rule_id: Option<String>,
    pub min_severity: Option<crate::model::Severity>,
    pub since: Option<DateTime<Utc>>,
    /// Created strictly before this: the next page after an alert list's oldest.
    pub before: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
}

/// One delivery attempt and the alert it belongs to.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub user_id: String,
    pub alert_id: String,
    pub attempt: DeliveryAttempt,
}

#[async_trait]
pub trait AlertStore: Send + Sync {
    async fn put_alert(&self, alert: &Alert) -> Result<()>;
    /// Stores the alert unless one with its id exists (a conditional put); true if stored.
    async fn put_alert_if_absent(&self, alert: &Alert) -> Result<bool>;
    async fn get_alert(&self, user_id: &str, alert_id: &str) -> Result<Option<Alert>>;
    async fn list_alerts(&self, user_id: &str, query: &AlertQuery) -> Result<Vec<Alert>>;
    /// The newest alert of `rule_id` for the incident `dedup_key` that is still open or
    /// acknowledged: where a new match of the same incident is folded in.
    async fn open_alert(&self, user_id: &str, rule_id: &str, dedup_key: &str) -> Result<Option<Alert>> {
        let query = AlertQuery { rule_id: Some(rule_id.to_string()), limit: Some(200), ..Default::default() };
        Ok(self
            .list_alerts(user_id, &query)
            .await?
            .into_iter()
            .find(|a| a.dedup_key == dedup_key && a.is_open()))
    }
    async fn record_attempt(&self, user_id: &str, alert_id: &str, attempt: &DeliveryAttempt) -> Result<()>;
    /// Conditional puts for a batch (DynamoDB's BatchWriteItem, one SQLite transaction).
    async fn put_alerts_if_absent(&self, alerts: &[Alert]) -> Result<()> {
        for a in alerts {
            self.put_alert_if_absent(a).await?;
        }
        Ok(())
    }
    /// Appends a batch of delivery attempts.
    async fn record_attempts(&self, records: &[AttemptRecord]) -> Result<()> {
        for r in records {
            self.record_attempt(&r.user_id, &r.alert_id, &r.attempt).await?;
        }
        Ok(())
    }
    /// Every delivery attempt since `since`, for integration health.
    async fn attempts_since(&self, user_id: &str, since: DateTime<Utc>) -> Result<Vec<DeliveryAttempt>>;
}

#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn list_integrations(&self, user_id: &str) -> Result<Vec<Integration>>;
    async fn get_integration(&self, user_id: &str, id: &str) -> Result<Option<Integration>>;
    async fn put_integration(&self, integration: &Integration) -> Result<()>;
    async fn delete_integration(&self, user_id: &str, id: &str) -> Result<()>;
    /// Every user that has an integration (for the scheduled health monitor, which serves all).
    async fn integration_users(&self) -> Result<Vec<String>>;
}

#[async_trait]
pub trait DedupCache: Send + Sync {
    /// Atomically records `key` until `expires_at` unless a live entry exists; true when this
    /// call inserted it (never check-then-put).
    async fn insert_if_absent(&self, key: &str, value: &str, expires_at: DateTime<Utc>) -> Result<bool>;
    /// The value stored under a live key, so a retry of the same alert can recognise itself.
    async fn get(&self, key: &str) -> Result<Option<String>>;
    /// Lets go of `key` if `value` still holds it: a delivery that failed must not keep a
    /// later alert of the same incident from being sent.
    async fn release(&self, key: &str, value: &str) -> Result<()>;
    /// [`DedupCache::insert_if_absent`] for a batch of `(key, value, expires_at)`; each answer
    /// is the live holder's value when the insert did not happen.
    async fn claim_many(&self, claims: &[(String, String, DateTime<Utc>)]) -> Result<Vec<Option<String>>> {
        let mut out = Vec::with_capacity(claims.len());
        for (key, value, expires_at) in claims {
            out.push(if self.insert_if_absent(key, value, *expires_at).await? {
                None
            } else {
                self.get(key).await?
            });
        }
        Ok(out)
    }
}

/// The alerts' activity logs, append-only: entries are added, never changed or removed.
#[async_trait]
pub trait ActivityLog: Send + Sync {
    /// Adds the entries (of any of the user's alerts) in their order.
    async fn append_activity(&self, user_id: &str, entries: &[crate::model::Activity]) -> Result<()>;
    /// One alert's entries, oldest first.
    async fn activity(&self, user_id: &str, alert_id: &str) -> Result<Vec<crate::model::Activity>>;
}

/// Cases (incidents), each written whole. A write carries the version it makes (one past the
/// version it read), so of two analysts changing one case at once the second learns of the
/// first and applies its change again rather than overwriting it.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Stores `case` if the stored one is at `case.version - 1` (absent, for version 1);
    /// false when another write got there first.
    async fn put_case(&self, case: &crate::model::Case) -> Result<bool>;
    async fn get_case(&self, user_id: &str, case_id: &str) -> Result<Option<crate::model::Case>>;
    /// The user's cases, the latest changed first.
    async fn list_cases(&self, user_id: &str) -> Result<Vec<crate::model::Case>>;
}

#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn get_setting(&self, user_id: &str, key: &str) -> Result<Option<serde_json::Value>>;
    async fn put_setting(&self, user_id: &str, key: &str, value: &serde_json::Value) -> Result<()>;
    /// Every setting of the user in one read (the settings view, the console's start).
    async fn all_settings(&self, user_id: &str) -> Result<serde_json::Map<String, serde_json::Value>>;
}

/// A message handed out by the queue; `receipt` deletes it or changes its visibility.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt: String,
    pub group_id: String,
    pub body: String,
    pub receive_count: u32,
}

/// A message that failed its receives and sits in the dead-letter queue.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub message_id: String,
    pub group_id: String,
    pub body: String,
    pub receive_count: u32,
    pub last_error: Option<String>,
    pub sent_at: DateTime<Utc>,
}

/// Whose message this is: the `user_id` of the JSON delivery message in `body` (the router
/// writes it), or `None` for a body that names nobody (such a letter is no user's).
pub fn message_owner(body: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Owner {
        user_id: String,
    }
    serde_json::from_str::<Owner>(body).ok().map(|o| o.user_id)
}

/// A FIFO queue with message groups, visibility timeouts and a dead-letter queue (SQS FIFO).
#[async_trait]
pub trait AlertQueue: Send + Sync {
    async fn send(&self, group_id: &str, dedup_id: &str, body: &str) -> Result<String>;
    async fn receive(&self, max: usize, visibility_secs: u64) -> Result<Vec<ReceivedMessage>>;
    async fn delete(&self, receipt: &str) -> Result<()>;
    /// Deletes a batch of received messages (SQS's DeleteMessageBatch).
    async fn delete_batch(&self, receipts: &[String]) -> Result<()> {
        for r in receipts {
            self.delete(r).await?;
        }
        Ok(())
    }
    /// Makes a received message visible again after `secs`, noting why it failed.
    async fn retry_later(&self, receipt: &str, secs: u64, error: &str) -> Result<()>;
    /// The DLQ calls act only on `user_id`'s own letters: those whose message body names that
    /// user exactly ([`message_owner`]). Group ids are `{user}:{integration}`, so a prefix match
    /// would give user `a` the letters of user `a:b`.
    async fn dead_letters(&self, user_id: &str) -> Result<Vec<DeadLetter>>;
    /// Moves the user's letters among `message_ids` back to the queue; others' are left alone.
    async fn redrive(&self, user_id: &str, message_ids: &[String]) -> Result<usize>;
    /// `NotFound` unless the letter exists and is the user's.
    async fn delete_dead_letter(&self, user_id: &str, message_id: &str) -> Result<()>;
    async fn purge_dead_letters(&self, user_id: &str) -> Result<usize>;
    /// Messages waiting or in flight, and messages in the DLQ (SQS's approximate counts).
    async fn depth(&self) -> Result<QueueDepth>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    pub queued: u64,
    pub dead: u64,
}

/// Integration credentials; tables hold only the secret's name.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn put_secret(&self, name: &str, value: &str) -> Result<()>;
    async fn get_secret(&self, name: &str) -> Result<Option<String>>;
    async fn delete_secret(&self, name: &str) -> Result<()>;
}

/// One scheduled detection as the scheduler knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledRule {
    pub user_id: String,
    pub rule_id: String,
    pub schedule: Schedule,
    pub enabled: bool,
}

#[async_trait]
pub trait Scheduler: Send + Sync {
    async fn put_schedule(&self, entry: &ScheduledRule) -> Result<()>;
    async fn delete_schedule(&self, user_id: &str, rule_id: &str) -> Result<()>;
    async fn list_schedules(&self, user_id: &str) -> Result<Vec<ScheduledRule>>;
    /// Every user's rules on one schedule expression: what its tick runs.
    async fn on_schedule(&self, expression: &str) -> Result<Vec<ScheduledRule>>;
}

/// Where the pipeline's counters go: added up per day in the embedded store (for `mantissa
/// status` and the console), printed as CloudWatch EMF lines by the Lambdas.
#[async_trait]
pub trait Counters: Send + Sync {
    async fn add(&self, sample: &crate::model::metric::Sample) -> Result<()>;
    /// The user's totals since `since` (by day); empty where the counters live elsewhere.
    async fn totals(&self, user_id: &str, since: DateTime<Utc>) -> Result<Vec<crate::model::metric::Total>>;
}
