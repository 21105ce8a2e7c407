//! The alert queue on SQLite with SQS FIFO semantics: message groups delivered in order (a
//! group's next message waits while its head is in flight or backing off), visibility
//! timeouts, receive counts, and a dead-letter queue after 3 receives. Rows survive crashes.

use super::store::{Db, sql_err};
use crate::error::Result;
use crate::ports::{AlertQueue, DeadLetter, QueueDepth, ReceivedMessage, message_owner};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

/// SQS's maxReceiveCount in the seed's RedrivePolicy.
pub const MAX_RECEIVES: u32 = 3;
/// FIFO queues drop a repeated deduplication id within five minutes.
const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Seconds as milliseconds, capped at SQS's longest visibility timeout (12 hours).
fn secs_to_millis(secs: u64) -> i64 {
    secs.min(43_200) as i64 * 1000
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn to_dead_letter(c: &Connection, message_id: &str, error: Option<&str>, now: i64) -> Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO dead_letters (message_id, group_id, body, receive_count, last_error, sent_at, dead_at, user_id)
         SELECT message_id, group_id, body, receive_count, COALESCE(?2, last_error), sent_at, ?3, user_id FROM queue WHERE message_id = ?1",
        params![message_id, error, now],
    )
    .map_err(sql_err)?;
    c.execute("DELETE FROM queue WHERE message_id = ?1", [message_id]).map_err(sql_err)?;
    Ok(())
}

#[async_trait]
impl AlertQueue for Db {
    async fn send(&self, group_id: &str, dedup_id: &str, body: &str) -> Result<String> {
        let (group, dedup, body) = (group_id.to_string(), dedup_id.to_string(), body.to_string());
        let owner = message_owner(&body);
        let now = millis(self.now());
        self.call(move |c| {
            let tx = super::store::write_tx(c)?;
            tx.execute("DELETE FROM queue_dedup WHERE sent_at < ?1", [now - DEDUP_WINDOW_MS]).map_err(sql_err)?;
            let seen: Option<String> = tx
                .query_row("SELECT message_id FROM queue_dedup WHERE dedup_id = ?1", [&dedup], |r| r.get(0))
                .optional()
                .map_err(sql_err)?;
            if let Some(id) = seen {
                return Ok(id);
            }
            let id = uuid::Uuid::now_v7().to_string();
            tx.execute(
                "INSERT INTO queue (message_id, group_id, body, sent_at, visible_at, user_id) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                params![id, group, body, now, owner],
            )
            .map_err(sql_err)?;
            tx.execute("INSERT INTO queue_dedup (dedup_id, message_id, sent_at) VALUES (?1, ?2, ?3)", params![dedup, id, now])
                .map_err(sql_err)?;
            tx.commit().map_err(sql_err)?;
            Ok(id)
        })
        .await
    }

    async fn receive(&self, max: usize, visibility_secs: u64) -> Result<Vec<ReceivedMessage>> {
        let now = millis(self.now());
        let until = now.saturating_add(secs_to_millis(visibility_secs));
        self.call(move |c| {
            let tx = super::store::write_tx(c)?;
            let mut out = vec![];
            {
                // Only each group's head may be handed out, and only when it is visible. The
                // recursive CTE walks the distinct groups through the (group_id, seq) index, one
                // seek per group, so the cost grows with groups, not with queued messages.
                let mut heads = tx
                    .prepare_cached(
                        "WITH RECURSIVE g(id) AS (
                             SELECT MIN(group_id) FROM queue
                             UNION ALL
                             SELECT (SELECT MIN(group_id) FROM queue WHERE group_id > g.id) FROM g WHERE g.id IS NOT NULL)
                         SELECT q.message_id, q.group_id, q.body, q.receive_count
                         FROM g JOIN queue q ON q.seq = (SELECT MIN(seq) FROM queue WHERE group_id = g.id)
                         WHERE g.id IS NOT NULL AND q.visible_at <= ?1
                         ORDER BY q.seq LIMIT ?2",
                    )
                    .map_err(sql_err)?;
                let rows = heads
                    .query_map(params![now, max as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, u32>(3)?)))
                    .map_err(sql_err)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql_err)?;
                for (id, group, body, count) in rows {
                    if out.len() >= max {
                        break;
                    }
                    if count >= MAX_RECEIVES {
                        // Received three times and never deleted (a crash, or no verdict): DLQ.
                        to_dead_letter(&tx, &id, None, now)?;
                        continue;
                    }
                    let receipt = uuid::Uuid::new_v4().to_string();
                    tx.execute(
                        "UPDATE queue SET receive_count = receive_count + 1, visible_at = ?2, receipt = ?3 WHERE message_id = ?1",
                        params![id, until, receipt],
                    )
                    .map_err(sql_err)?;
                    out.push(ReceivedMessage { message_id: id, receipt, group_id: group, body, receive_count: count + 1 });
                }
            }
            tx.commit().map_err(sql_err)?;
            Ok(out)
        })
        .await
    }

    async fn delete(&self, receipt: &str) -> Result<()> {
        let receipt = receipt.to_string();
        self.call(move |c| {
            c.execute("DELETE FROM queue WHERE receipt = ?1", [&receipt]).map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_batch(&self, receipts: &[String]) -> Result<()> {
        let receipts = receipts.to_vec();
        self.call(move |c| {
            let tx = super::store::write_tx(c)?;
            {
                let mut st = tx.prepare_cached("DELETE FROM queue WHERE receipt = ?1").map_err(sql_err)?;
                for r in &receipts {
                    st.execute([r]).map_err(sql_err)?;
                }
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn retry_later(&self, receipt: &str, secs: u64, error: &str) -> Result<()> {
        let (receipt, error) = (receipt.to_string(), error.to_string());
        let now = millis(self.now());
        self.call(move |c| {
            let tx = super::store::write_tx(c)?;
            let found: Option<(String, u32)> = tx
                .query_row("SELECT message_id, receive_count FROM queue WHERE receipt = ?1", [&receipt], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .map_err(sql_err)?;
            if let Some((id, count)) = found {
                if count >= MAX_RECEIVES {
                    to_dead_letter(&tx, &id, Some(&error), now)?;
                } else {
                    tx.execute(
                        "UPDATE queue SET visible_at = ?2, last_error = ?3, receipt = NULL WHERE message_id = ?1",
                        params![id, now.saturating_add(secs_to_millis(secs)), error],
                    )
                    .map_err(sql_err)?;
                }
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn dead_letters(&self, user_id: &str) -> Result<Vec<DeadLetter>> {
        let user = user_id.to_string();
        self.call(move |c| {
            let mut st = c
                .prepare(
                    "SELECT message_id, group_id, body, receive_count, last_error, sent_at FROM dead_letters
                     WHERE user_id = ?1 ORDER BY dead_at, message_id",
                )
                .map_err(sql_err)?;
            let rows = st
                .query_map([&user], |r| {
                    Ok(DeadLetter {
                        message_id: r.get(0)?,
                        group_id: r.get(1)?,
                        body: r.get(2)?,
                        receive_count: r.get(3)?,
                        last_error: r.get(4)?,
                        sent_at: from_millis(r.get(5)?),
                    })
                })
                .map_err(sql_err)?;
            rows.collect::<Result<_, _>>().map_err(sql_err)
        })
        .await
    }

    /// Back to the end of their groups with a fresh receive count.
    async fn redrive(&self, user_id: &str, message_ids: &[String]) -> Result<usize> {
        let (user, ids) = (user_id.to_string(), message_ids.to_vec());
        let now = millis(self.now());
        self.call(move |c| {
            let tx = super::store::write_tx(c)?;
            let mut moved = 0;
            for id in &ids {
                moved += tx
                    .execute(
                        "INSERT INTO queue (message_id, group_id, body, sent_at, visible_at, last_error, user_id)
                         SELECT message_id, group_id, body, ?2, ?2, last_error, user_id FROM dead_letters
                         WHERE message_id = ?1 AND user_id = ?3",
                        params![id, now, user],
                    )
                    .map_err(sql_err)?;
                tx.execute("DELETE FROM dead_letters WHERE message_id = ?1 AND user_id = ?2", params![id, user])
                    .map_err(sql_err)?;
            }
            tx.commit().map_err(sql_err)?;
            Ok(moved)
        })
        .await
    }

    async fn delete_dead_letter(&self, user_id: &str, message_id: &str) -> Result<()> {
        let (user, id) = (user_id.to_string(), message_id.to_string());
        self.call(move |c| {
            let n = c
                .execute("DELETE FROM dead_letters WHERE message_id = ?1 AND user_id = ?2", params![id, user])
                .map_err(sql_err)?;
            if n == 0 {
                return Err(crate::Error::NotFound { kind: "dead letter", id });
            }
            Ok(())
        })
        .await
    }

    async fn purge_dead_letters(&self, user_id: &str) -> Result<usize> {
        let user = user_id.to_string();
        self.call(move |c| c.execute("DELETE FROM dead_letters WHERE user_id = ?1", [&user]).map_err(sql_err))
            .await
    }

    async fn depth(&self) -> Result<QueueDepth> {
        self.call(|c| {
            let count =
                |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(sql_err);
            Ok(QueueDepth {
                queued: count("SELECT count(*) FROM queue")?,
                dead: count("SELECT count(*) FROM dead_letters")?,
            })
        })
        .await
    }
}
