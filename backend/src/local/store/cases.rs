//! Cases in SQLite: one row a case, its body JSON, its version checked in the write's
//! transaction.

use super::{Db, json_err, sql_err};
use crate::error::Result;
use crate::model::Case;
use crate::ports::CaseStore;
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl CaseStore for Db {
    async fn put_case(&self, case: &Case) -> Result<bool> {
        let body = serde_json::to_string(case).map_err(json_err)?;
        let (user, id, version, at) =
            (case.user_id.clone(), case.id.clone(), case.version, super::ts(case.updated_at));
        self.call(move |c| {
            let tx = super::write_tx(c)?;
            let stored: Option<i64> = tx
                .query_row(
                    "SELECT version FROM cases WHERE user_id = ?1 AND case_id = ?2",
                    params![user, id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            if stored.map_or(0, |v| v as u64) + 1 != version {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO cases (user_id, case_id, version, updated_at, body) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (user_id, case_id) DO UPDATE SET version = ?3, updated_at = ?4, body = ?5",
                params![user, id, version as i64, at, body],
            )
            .map_err(sql_err)?;
            tx.commit().map_err(sql_err)?;
            Ok(true)
        })
        .await
    }

    async fn get_case(&self, user_id: &str, case_id: &str) -> Result<Option<Case>> {
        let (user, id) = (user_id.to_string(), case_id.to_string());
        self.call(move |c| {
            let body: Option<String> = c
                .query_row(
                    "SELECT body FROM cases WHERE user_id = ?1 AND case_id = ?2",
                    params![user, id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            body.map(|b| serde_json::from_str(&b).map_err(json_err)).transpose()
        })
        .await
    }

    async fn list_cases(&self, user_id: &str) -> Result<Vec<Case>> {
        let user = user_id.to_string();
        self.call(move |c| {
            let mut st = c
                .prepare("SELECT body FROM cases WHERE user_id = ?1 ORDER BY updated_at DESC, case_id")
                .map_err(sql_err)?;
            let rows = st.query_map([&user], |r| r.get::<_, String>(0)).map_err(sql_err)?;
            rows.map(|b| serde_json::from_str(&b.map_err(sql_err)?).map_err(json_err)).collect()
        })
        .await
    }
}
