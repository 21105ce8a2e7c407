//! Alert history and delivery attempts in SQLite.

use super::{Db, json_err, sql_err};
use crate::error::Result;
use crate::model::{Alert, DeliveryAttempt, Severity};
use crate::ports::{AlertQuery, AlertStore, AttemptRecord};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

fn severity_rank(s: Severity) -> i64 {
    s as i64
}

fn attempts_of(c: &Connection, user: &str, alert_id: &str) -> Result<Vec<DeliveryAttempt>> {
    let mut st = c
        .prepare_cached("SELECT body FROM attempts WHERE user_id = ?1 AND alert_id = ?2 ORDER BY seq")
        .map_err(sql_err)?;
    let rows = st.query_map([user, alert_id], |r| r.get::<_, String>(0)).map_err(sql_err)?;
    rows.map(|b| serde_json::from_str(&b.map_err(sql_err)?).map_err(json_err)).collect()
}

fn with_attempts(c: &Connection, user: &str, body: &str) -> Result<Alert> {
    let mut alert: Alert = serde_json::from_str(body).map_err(json_err)?;
    alert.attempts = attempts_of(c, user, &alert.id)?;
    Ok(alert)
}

#[async_trait]
impl AlertStore for Db {
    /// Upserts the alert's own fields; attempts are appended separately and never lost here.
    async fn put_alert(&self, alert: &Alert) -> Result<()> {
        let mut stored = alert.clone();
        let new_attempts = std::mem::take(&mut stored.attempts);
        let body = serde_json::to_string(&stored).map_err(json_err)?;
        let a = stored;
        self.call(move |c| {
            let tx = super::write_tx(c)?;
            let existed: bool = tx
                .query_row("SELECT 1 FROM alerts WHERE user_id = ?1 AND alert_id = ?2", [&a.user_id, &a.id], |_| Ok(()))
                .optional()
                .map_err(sql_err)?
                .is_some();
            tx.execute(
                "INSERT INTO alerts (user_id, alert_id, rule_id, severity, created_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (user_id, alert_id) DO UPDATE SET body = ?6",
                params![a.user_id, a.id, a.rule_id, severity_rank(a.severity), super::ts(a.created_at), body],
            )
            .map_err(sql_err)?;
            if !existed {
                for at in &new_attempts {
                    insert_attempt(&tx, &a.user_id, &a.id, at)?;
                }
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn put_alert_if_absent(&self, alert: &Alert) -> Result<bool> {
        let mut stored = alert.clone();
        stored.attempts.clear();
        let body = serde_json::to_string(&stored).map_err(json_err)?;
        let a = stored;
        self.call(move |c| {
            let n = c
                .execute(
                    "INSERT OR IGNORE INTO alerts (user_id, alert_id, rule_id, severity, created_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![a.user_id, a.id, a.rule_id, severity_rank(a.severity), super::ts(a.created_at), body],
                )
                .map_err(sql_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn get_alert(&self, user_id: &str, alert_id: &str) -> Result<Option<Alert>> {
        let (user, id) = (user_id.to_string(), alert_id.to_string());
        self.call(move |c| {
            let body: Option<String> = c
                .query_row(
                    "SELECT body FROM alerts WHERE user_id = ?1 AND alert_id = ?2",
                    [&user, &id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            body.map(|b| with_attempts(c, &user, &b)).transpose()
        })
        .await
    }

    async fn list_alerts(&self, user_id: &str, q: &AlertQuery) -> Result<Vec<Alert>> {
        let user = user_id.to_string();
        let q = q.clone();
        self.call(move |c| {
            let mut st = c
                .prepare(
                    "SELECT body FROM alerts WHERE user_id = ?1
                       AND (?2 IS NULL OR rule_id = ?2) AND (?3 IS NULL OR severity >= ?3)
                       AND (?4 IS NULL OR created_at >= ?4) AND (?6 IS NULL OR created_at < ?6)
                     ORDER BY created_at DESC, alert_id DESC LIMIT ?5",
                )
                .map_err(sql_err)?;
            let limit = q.limit.map_or(-1, |l| l as i64);
            let rows = st
                .query_map(
                    params![
                        user,
                        q.rule_id,
                        q.min_severity.map(severity_rank),
                        q.since.map(super::ts),
                        limit,
                        q.before.map(super::ts)
                    ],
                    |r| r.get::<_, String>(0),
                )
                .map_err(sql_err)?;
            let bodies: Vec<String> = rows.collect::<Result<_, _>>().map_err(sql_err)?;
            bodies.iter().map(|b| with_attempts(c, &user, b)).collect()
        })
        .await
    }

    async fn open_alert(&self, user_id: &str, rule_id: &str, dedup_key: &str) -> Result<Option<Alert>> {
        let (user, rule, key) = (user_id.to_string(), rule_id.to_string(), dedup_key.to_string());
        self.call(move |c| {
            let body: Option<String> = c
                .query_row(
                    "SELECT body FROM alerts WHERE user_id = ?1 AND rule_id = ?2
                       AND coalesce(json_extract(body, '$.dedup_key'), '') = ?3
                       AND coalesce(json_extract(body, '$.status'), 'open') IN ('open', 'acknowledged')
                     ORDER BY created_at DESC, alert_id DESC LIMIT 1",
                    params![user, rule, key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            body.map(|b| with_attempts(c, &user, &b)).transpose()
        })
        .await
    }

    async fn put_alerts_if_absent(&self, alerts: &[Alert]) -> Result<()> {
        let rows = alerts
            .iter()
            .map(|a| {
                let mut stored = a.clone();
                stored.attempts.clear();
                Ok((serde_json::to_string(&stored).map_err(json_err)?, stored))
            })
            .collect::<Result<Vec<_>>>()?;
        self.call(move |c| {
            let tx = super::write_tx(c)?;
            {
                let mut st = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO alerts (user_id, alert_id, rule_id, severity, created_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(sql_err)?;
                for (body, a) in &rows {
                    st.execute(params![a.user_id, a.id, a.rule_id, severity_rank(a.severity), super::ts(a.created_at), body])
                        .map_err(sql_err)?;
                }
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn record_attempts(&self, records: &[AttemptRecord]) -> Result<()> {
        let records = records.to_vec();
        self.call(move |c| {
            let tx = super::write_tx(c)?;
            for r in &records {
                insert_attempt(&tx, &r.user_id, &r.alert_id, &r.attempt)?;
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn record_attempt(&self, user_id: &str, alert_id: &str, attempt: &DeliveryAttempt) -> Result<()> {
        let (user, id, at) = (user_id.to_string(), alert_id.to_string(), attempt.clone());
        self.call(move |c| insert_attempt(c, &user, &id, &at)).await
    }

    async fn attempts_since(&self, user_id: &str, since: DateTime<Utc>) -> Result<Vec<DeliveryAttempt>> {
        let user = user_id.to_string();
        self.call(move |c| {
            let mut st = c
                .prepare("SELECT body FROM attempts WHERE user_id = ?1 AND at >= ?2 ORDER BY seq")
                .map_err(sql_err)?;
            let rows =
                st.query_map(params![user, super::ts(since)], |r| r.get::<_, String>(0)).map_err(sql_err)?;
            rows.map(|b| serde_json::from_str(&b.map_err(sql_err)?).map_err(json_err)).collect()
        })
        .await
    }
}

fn insert_attempt(c: &Connection, user: &str, alert_id: &str, at: &DeliveryAttempt) -> Result<()> {
    let body = serde_json::to_string(at).map_err(json_err)?;
    c.prepare_cached(
        "INSERT INTO attempts (user_id, alert_id, integration_id, at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| st.execute(params![user, alert_id, at.integration_id, super::ts(at.at), body]))
    .map_err(sql_err)?;
    Ok(())
}
