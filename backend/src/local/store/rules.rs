//! Rules and their schedules in SQLite.

use super::{Db, json_err, sql_err};
use crate::error::Result;
use crate::model::{Rule, Schedule};
use crate::ports::{RuleStore, ScheduledRule, Scheduler};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl RuleStore for Db {
    async fn list_rules(&self, user_id: &str) -> Result<Vec<Rule>> {
        let user = user_id.to_string();
        self.call(move |c| {
            let mut st =
                c.prepare("SELECT body FROM rules WHERE user_id = ?1 ORDER BY rule_id").map_err(sql_err)?;
            let rows = st.query_map([&user], |r| r.get::<_, String>(0)).map_err(sql_err)?;
            rows.map(|b| serde_json::from_str(&b.map_err(sql_err)?).map_err(json_err)).collect()
        })
        .await
    }

    async fn get_rule(&self, user_id: &str, rule_id: &str) -> Result<Option<Rule>> {
        let (user, id) = (user_id.to_string(), rule_id.to_string());
        self.call(move |c| {
            let body: Option<String> = c
                .query_row("SELECT body FROM rules WHERE user_id = ?1 AND rule_id = ?2", [&user, &id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql_err)?;
            body.map(|b| serde_json::from_str(&b).map_err(json_err)).transpose()
        })
        .await
    }

    async fn put_rule(&self, user_id: &str, rule: &Rule) -> Result<()> {
        let body = serde_json::to_string(rule).map_err(json_err)?;
        let (user, id, enabled) = (user_id.to_string(), rule.id.clone(), rule.enabled);
        self.call(move |c| {
            c.execute(
                "INSERT INTO rules (user_id, rule_id, enabled, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, rule_id) DO UPDATE SET enabled = ?3, body = ?4",
                params![user, id, enabled, body],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_rule(&self, user_id: &str, rule_id: &str) -> Result<()> {
        let (user, id) = (user_id.to_string(), rule_id.to_string());
        self.call(move |c| {
            c.execute("DELETE FROM rules WHERE user_id = ?1 AND rule_id = ?2", [&user, &id])
                .map_err(sql_err)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl Scheduler for Db {
    async fn put_schedule(&self, entry: &ScheduledRule) -> Result<()> {
        let e = entry.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO schedules (user_id, rule_id, expression, enabled) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, rule_id) DO UPDATE SET expression = ?3, enabled = ?4",
                params![e.user_id, e.rule_id, e.schedule.as_str(), e.enabled],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_schedule(&self, user_id: &str, rule_id: &str) -> Result<()> {
        let (user, id) = (user_id.to_string(), rule_id.to_string());
        self.call(move |c| {
            c.execute("DELETE FROM schedules WHERE user_id = ?1 AND rule_id = ?2", [&user, &id])
                .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn list_schedules(&self, user_id: &str) -> Result<Vec<ScheduledRule>> {
        self.schedules("user_id = ?1", user_id).await
    }

    async fn on_schedule(&self, expression: &str) -> Result<Vec<ScheduledRule>> {
        self.schedules("expression = ?1", expression).await
    }
}

impl Db {
    /// Schedules where `column = ?1`, by user and rule.
    async fn schedules(&self, condition: &'static str, value: &str) -> Result<Vec<ScheduledRule>> {
        let value = value.to_string();
        self.call(move |c| {
            let sql = format!(
                "SELECT user_id, rule_id, expression, enabled FROM schedules WHERE {condition} ORDER BY user_id, rule_id"
            );
            let mut st = c.prepare(&sql).map_err(sql_err)?;
            let rows = st
                .query_map([&value], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
                })
                .map_err(sql_err)?;
            let mut out = vec![];
            for row in rows {
                let (user_id, rule_id, expr, enabled) = row.map_err(sql_err)?;
                out.push(ScheduledRule { user_id, rule_id, schedule: Schedule::parse(&expr)?, enabled });
            }
            Ok(out)
        })
        .await
    }
}
