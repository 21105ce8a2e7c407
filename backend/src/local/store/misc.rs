//! Integrations, dedup keys and user settings in SQLite.

use super::{Db, json_err, sql_err};
use crate::error::Result;
use crate::model::Integration;
use crate::ports::{DedupCache, IntegrationStore, SettingsStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl IntegrationStore for Db {
    async fn list_integrations(&self, user_id: &str) -> Result<Vec<Integration>> {
        let user = user_id.to_string();
        self.call(move |c| {
            let mut st = c
                .prepare("SELECT body FROM integrations WHERE user_id = ?1 ORDER BY integration_id")
                .map_err(sql_err)?;
            let rows = st.query_map([&user], |r| r.get::<_, String>(0)).map_err(sql_err)?;
            rows.map(|b| serde_json::from_str(&b.map_err(sql_err)?).map_err(json_err)).collect()
        })
        .await
    }

    async fn get_integration(&self, user_id: &str, id: &str) -> Result<Option<Integration>> {
        let (user, id) = (user_id.to_string(), id.to_string());
        self.call(move |c| {
            let body: Option<String> = c
                .query_row(
                    "SELECT body FROM integrations WHERE user_id = ?1 AND integration_id = ?2",
                    [&user, &id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            body.map(|b| serde_json::from_str(&b).map_err(json_err)).transpose()
        })
        .await
    }

    async fn put_integration(&self, integration: &Integration) -> Result<()> {
        let body = serde_json::to_string(integration).map_err(json_err)?;
        let (user, id) = (integration.user_id.clone(), integration.id.clone());
        self.call(move |c| {
            c.execute(
                "INSERT INTO integrations (user_id, integration_id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id, integration_id) DO UPDATE SET body = ?3",
                params![user, id, body],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_integration(&self, user_id: &str, id: &str) -> Result<()> {
        let (user, id) = (user_id.to_string(), id.to_string());
        self.call(move |c| {
            c.execute("DELETE FROM integrations WHERE user_id = ?1 AND integration_id = ?2", [&user, &id])
                .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn integration_users(&self) -> Result<Vec<String>> {
        self.call(|c| {
            let mut st =
                c.prepare("SELECT DISTINCT user_id FROM integrations ORDER BY user_id").map_err(sql_err)?;
            let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(sql_err)?;
            rows.map(|r| r.map_err(sql_err)).collect()
        })
        .await
    }
}

/// Insert, or take over an expired entry; a live entry is left alone.
const CLAIM_SQL: &str = "INSERT INTO dedup (dedup_key, value, expires_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (dedup_key) DO UPDATE SET value = ?2, expires_at = ?3 WHERE dedup.expires_at <= ?4";
const HOLDER_SQL: &str = "SELECT value FROM dedup WHERE dedup_key = ?1 AND expires_at > ?2";

#[async_trait]
impl DedupCache for Db {
    /// One statement: insert, or take over an expired entry; a live entry is left alone.
    async fn insert_if_absent(&self, key: &str, value: &str, expires_at: DateTime<Utc>) -> Result<bool> {
        let (key, value) = (key.to_string(), value.to_string());
        let now = self.now().timestamp_millis();
        self.call(move |c| {
            let changed = c
                .prepare_cached(CLAIM_SQL)
                .and_then(|mut st| st.execute(params![key, value, expires_at.timestamp_millis(), now]))
                .map_err(sql_err)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn claim_many(&self, claims: &[(String, String, DateTime<Utc>)]) -> Result<Vec<Option<String>>> {
        let claims = claims.to_vec();
        let now = self.now().timestamp_millis();
        self.call(move |c| {
            let tx = super::write_tx(c)?;
            let mut out = Vec::with_capacity(claims.len());
            {
                let mut insert = tx.prepare_cached(CLAIM_SQL).map_err(sql_err)?;
                let mut holder = tx.prepare_cached(HOLDER_SQL).map_err(sql_err)?;
                for (key, value, expires_at) in &claims {
                    let inserted = insert
                        .execute(params![key, value, expires_at.timestamp_millis(), now])
                        .map_err(sql_err)?
                        == 1;
                    out.push(if inserted {
                        None
                    } else {
                        holder.query_row(params![key, now], |r| r.get(0)).optional().map_err(sql_err)?
                    });
                }
            }
            tx.commit().map_err(sql_err)?;
            Ok(out)
        })
        .await
    }

    async fn release(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.call(move |c| {
            c.execute("DELETE FROM dedup WHERE dedup_key = ?1 AND value = ?2", [&key, &value])
                .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        let now = self.now().timestamp_millis();
        self.call(move |c| {
            c.prepare_cached(HOLDER_SQL)
                .and_then(|mut st| st.query_row(params![key, now], |r| r.get(0)).optional())
                .map_err(sql_err)
        })
        .await
    }
}

#[async_trait]
impl SettingsStore for Db {
    async fn get_setting(&self, user_id: &str, key: &str) -> Result<Option<serde_json::Value>> {
        let (user, key) = (user_id.to_string(), key.to_string());
        self.call(move |c| {
            let v: Option<String> = c
                .query_row("SELECT value FROM settings WHERE user_id = ?1 AND key = ?2", [&user, &key], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql_err)?;
            v.map(|v| serde_json::from_str(&v).map_err(json_err)).transpose()
        })
        .await
    }

    async fn put_setting(&self, user_id: &str, key: &str, value: &serde_json::Value) -> Result<()> {
        let (user, key, value) = (user_id.to_string(), key.to_string(), value.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO settings (user_id, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id, key) DO UPDATE SET value = ?3",
                params![user, key, value],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn all_settings(&self, user_id: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
        let user = user_id.to_string();
        self.call(move |c| {
            let mut st = c.prepare("SELECT key, value FROM settings WHERE user_id = ?1").map_err(sql_err)?;
            let rows = st
                .query_map([&user], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(sql_err)?;
            let mut out = serde_json::Map::new();
            for row in rows {
                let (key, value) = row.map_err(sql_err)?;
                out.insert(key, serde_json::from_str(&value).map_err(json_err)?);
            }
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl crate::ports::ActivityLog for Db {
    async fn append_activity(&self, user_id: &str, entries: &[crate::model::Activity]) -> Result<()> {
        let user = user_id.to_string();
        let rows: Vec<(String, String, String)> = entries
            .iter()
            .map(|e| Ok((e.alert_id.clone(), super::ts(e.at), serde_json::to_string(e).map_err(json_err)?)))
            .collect::<Result<_>>()?;
        self.call(move |c| {
            let tx = super::write_tx(c)?;
            for (alert_id, at, body) in &rows {
                tx.execute(
                    "INSERT INTO activity (user_id, alert_id, at, body) VALUES (?1, ?2, ?3, ?4)",
                    params![user, alert_id, at, body],
                )
                .map_err(sql_err)?;
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn activity(&self, user_id: &str, alert_id: &str) -> Result<Vec<crate::model::Activity>> {
        let (user, alert) = (user_id.to_string(), alert_id.to_string());
        self.call(move |c| {
            let mut st = c
                .prepare("SELECT body FROM activity WHERE user_id = ?1 AND alert_id = ?2 ORDER BY seq")
                .map_err(sql_err)?;
            let rows = st.query_map([&user, &alert], |r| r.get::<_, String>(0)).map_err(sql_err)?;
            rows.map(|r| serde_json::from_str(&r.map_err(sql_err)?).map_err(json_err)).collect()
        })
        .await
    }
}
