//! Alert history in `alert-history` (user_id, alert_id): the alert's fields, `timestamp` for
//! the `rule-alerts-index` and `severity-index` GSIs, and `delivery_attempts` appended with
//! `list_append` so concurrent workers never overwrite each other's attempts.

use super::{
    DynamoStore, Item, RULE_ALERTS_INDEX, SEVERITY_INDEX, USER_TIME_INDEX, from_item, landed, s, sdk_err,
    set_all_but, timestamp, to_item,
};
use crate::aws::names::Table;
use crate::error::Result;
use crate::model::{Alert, DeliveryAttempt, Severity};
use crate::ports::{AlertQuery, AlertStore, AttemptRecord};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};

const ATTEMPTS: &str = "delivery_attempts";
/// Alerts whose deliveries may still be attempted: the DLQ keeps messages 14 days.
const ATTEMPT_HORIZON_DAYS: i64 = 14;
/// Parallel requests for batch calls (DynamoDB conditional puts cannot be batched).
const PARALLEL: usize = 16;

pub fn alert_item(alert: &Alert) -> Result<Item> {
    let mut stored = alert.clone();
    let attempts = std::mem::take(&mut stored.attempts);
    let mut item = to_item("alert item", &stored)?;
    item.remove("id");
    item.remove("attempts");
    item.insert("alert_id".into(), s(&alert.id));
    item.insert("timestamp".into(), s(timestamp(alert.created_at)));
    let attempts = attempts.iter().map(|a| to_item("delivery attempt", a).map(AttributeValue::M));
    item.insert(ATTEMPTS.into(), AttributeValue::L(attempts.collect::<Result<_>>()?));
    Ok(item)
}

pub fn alert_from_item(mut item: Item) -> Result<Alert> {
    item.remove("timestamp");
    if let Some(id) = item.remove("alert_id") {
        item.insert("id".into(), id);
    }
    let attempts = item.remove(ATTEMPTS).unwrap_or(AttributeValue::L(vec![]));
    item.insert("attempts".into(), attempts);
    from_item("alert item", item)
}

impl DynamoStore {
    /// A newest-first query of the user's alerts with the time bounds of `q` bound as `:since`
    /// and `:before`, and the key condition's range part for them (` AND #ts ...`). With both
    /// bounds the key takes `BETWEEN` (inclusive), and [`before_filter`] keeps `before` strict.
    fn alerts_query(&self, user_id: &str, q: &AlertQuery) -> (QueryFluentBuilder, &'static str) {
        let mut query = self
            .client
            .query()
            .table_name(self.table(Table::AlertHistory))
            .scan_index_forward(false)
            .expression_attribute_values(":u", s(user_id));
        if q.since.is_some() || q.before.is_some() {
            query = query.expression_attribute_names("#ts", "timestamp");
        }
        if let Some(t) = q.since {
            query = query.expression_attribute_values(":since", s(timestamp(t)));
        }
        if let Some(t) = q.before {
            query = query.expression_attribute_values(":before", s(timestamp(t)));
        }
        let range = match (q.since, q.before) {
            (None, None) => "",
            (Some(_), None) => " AND #ts >= :since",
            (None, Some(_)) => " AND #ts < :before",
            (Some(_), Some(_)) => " AND #ts BETWEEN :since AND :before",
        };
        (query, range)
    }

    /// What keeps `before` strict when the key condition took `BETWEEN`.
    fn before_filter(q: &AlertQuery) -> &'static str {
        if q.since.is_some() && q.before.is_some() { " AND #ts < :before" } else { "" }
    }

    async fn alerts(&self, q: QueryFluentBuilder, limit: Option<usize>) -> Result<Vec<Alert>> {
        self.collect(q, limit).await?.into_iter().map(alert_from_item).collect()
    }
}

#[async_trait]
impl AlertStore for DynamoStore {
    async fn put_alert(&self, alert: &Alert) -> Result<()> {
        let update = self
            .client
            .update_item()
            .table_name(self.table(Table::AlertHistory))
            .key("user_id", s(&alert.user_id))
            .key("alert_id", s(&alert.id));
        set_all_but(update, alert_item(alert)?, &["user_id", "alert_id"], &[ATTEMPTS])
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb UpdateItem", e))?;
        Ok(())
    }

    async fn put_alert_if_absent(&self, alert: &Alert) -> Result<bool> {
        let mut clean = alert.clone();
        clean.attempts.clear();
        let put = self
            .client
            .put_item()
            .table_name(self.table(Table::AlertHistory))
            .set_item(Some(alert_item(&clean)?))
            .condition_expression("attribute_not_exists(alert_id)")
            .send()
            .await;
        landed(put)
    }

    async fn put_alerts_if_absent(&self, alerts: &[Alert]) -> Result<()> {
        for chunk in alerts.chunks(PARALLEL) {
            futures::future::try_join_all(chunk.iter().map(|a| self.put_alert_if_absent(a))).await?;
        }
        Ok(())
    }

    async fn get_alert(&self, user_id: &str, alert_id: &str) -> Result<Option<Alert>> {
        let item =
            self.get_by_key(Table::AlertHistory, &[("user_id", user_id), ("alert_id", alert_id)]).await?;
        item.map(alert_from_item).transpose()
    }

    /// By rule: the `rule-alerts-index`; by severity: one `severity-index` query per admitted
    /// severity, merged (each filters on `user_id`); else the `user-time-index`, newest first.
    async fn list_alerts(&self, user_id: &str, q: &AlertQuery) -> Result<Vec<Alert>> {
        let strict = Self::before_filter(q);
        let admitted: Vec<Severity> =
            Severity::ALL.into_iter().filter(|s| q.min_severity.is_none_or(|m| *s >= m)).collect();
        let mut out = if let Some(rule) = &q.rule_id {
            let (query, range) = self.alerts_query(user_id, q);
            let mut query = query
                .index_name(RULE_ALERTS_INDEX)
                .key_condition_expression(format!("rule_id = :r{range}"))
                .expression_attribute_values(":r", s(rule));
            let mut filter = format!("user_id = :u{strict}");
            if q.min_severity.is_some() {
                let names: Vec<String> = (0..admitted.len()).map(|i| format!(":s{i}")).collect();
                filter.push_str(&format!(" AND severity IN ({})", names.join(", ")));
                for (name, sev) in names.into_iter().zip(&admitted) {
                    query = query.expression_attribute_values(name, s(sev.as_str()));
                }
            }
            self.alerts(query.filter_expression(filter), q.limit).await?
        } else if q.min_severity.is_some() {
            let mut all = vec![];
            for sev in &admitted {
                let (query, range) = self.alerts_query(user_id, q);
                let query = query
                    .index_name(SEVERITY_INDEX)
                    .key_condition_expression(format!("severity = :s{range}"))
                    .expression_attribute_values(":s", s(sev.as_str()))
                    .filter_expression(format!("user_id = :u{strict}"));
                all.extend(self.alerts(query, q.limit).await?);
            }
            all
        } else {
            let (query, range) = self.alerts_query(user_id, q);
            let mut query =
                query.index_name(USER_TIME_INDEX).key_condition_expression(format!("user_id = :u{range}"));
            if !strict.is_empty() {
                query = query.filter_expression("#ts < :before");
            }
            self.alerts(query, q.limit).await?
        };
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        if let Some(l) = q.limit {
            out.truncate(l);
        }
        Ok(out)
    }

    async fn record_attempt(&self, user_id: &str, alert_id: &str, attempt: &DeliveryAttempt) -> Result<()> {
        let entry = AttributeValue::L(vec![AttributeValue::M(to_item("delivery attempt", attempt)?)]);
        self.client
            .update_item()
            .table_name(self.table(Table::AlertHistory))
            .key("user_id", s(user_id))
            .key("alert_id", s(alert_id))
            .update_expression("SET #d = list_append(if_not_exists(#d, :empty), :new)")
            .expression_attribute_names("#d", ATTEMPTS)
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":new", entry)
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb UpdateItem", e))?;
        Ok(())
    }

    async fn record_attempts(&self, records: &[AttemptRecord]) -> Result<()> {
        for chunk in records.chunks(PARALLEL) {
            futures::future::try_join_all(
                chunk.iter().map(|r| self.record_attempt(&r.user_id, &r.alert_id, &r.attempt)),
            )
            .await?;
        }
        Ok(())
    }

    async fn attempts_since(&self, user_id: &str, since: DateTime<Utc>) -> Result<Vec<DeliveryAttempt>> {
        let floor = timestamp(since - Duration::days(ATTEMPT_HORIZON_DAYS));
        let query = self
            .client
            .query()
            .table_name(self.table(Table::AlertHistory))
            .index_name(USER_TIME_INDEX)
            .key_condition_expression("user_id = :u AND #ts >= :lo")
            .expression_attribute_names("#ts", "timestamp")
            .expression_attribute_values(":u", s(user_id))
            .expression_attribute_values(":lo", s(floor))
            .projection_expression("#d")
            .expression_attribute_names("#d", ATTEMPTS);
        let mut out = vec![];
        for mut item in self.collect(query, None).await? {
            if let Some(AttributeValue::L(list)) = item.remove(ATTEMPTS) {
                for v in list {
                    if let AttributeValue::M(m) = v {
                        let a: DeliveryAttempt = from_item("delivery attempt", m)?;
                        if a.at >= since {
                            out.push(a);
                        }
                    }
                }
            }
        }
        out.sort_by_key(|a| a.at);
        Ok(out)
    }
}
