//! Integrations (`integrations`: user_id, integration_id; `type-index`), the dedup cache
//! (`dedup-cache`: dedup_key, TTL on `expires_at`) and user settings (`user-settings`: one item
//! per user, one attribute per setting).

use super::{DynamoStore, Item, from_item, landed, n, s, sdk_err, timestamp, to_item};
use crate::aws::names::Table;
use crate::error::Result;
use crate::model::Integration;
use crate::ports::{DedupCache, IntegrationStore, SettingsStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

/// The seed's layout: `integration_id`, `type` (the GSI key) and the rest of the fields; the
/// secret stays in Secrets Manager and only its name (`secret_ref`) is here.
pub fn integration_item(i: &Integration) -> Result<Item> {
    let mut item = to_item("integration item", i)?;
    item.remove("id");
    if let Some(kind) = item.remove("kind") {
        item.insert("type".into(), kind);
    }
    item.insert("integration_id".into(), s(&i.id));
    item.insert("created_at".into(), s(timestamp(i.created_at)));
    Ok(item)
}

pub fn integration_from_item(mut item: Item) -> Result<Integration> {
    if let Some(id) = item.remove("integration_id") {
        item.insert("id".into(), id);
    }
    if let Some(kind) = item.remove("type") {
        item.insert("kind".into(), kind);
    }
    from_item("integration item", item)
}

impl DynamoStore {
    /// A user's integrations of one kind, through `type-index` (filtered to the user).
    pub async fn integrations_of_type(&self, user_id: &str, kind: &str) -> Result<Vec<Integration>> {
        let q = self
            .client
            .query()
            .table_name(self.table(Table::Integrations))
            .index_name(super::TYPE_INDEX)
            .key_condition_expression("#t = :t")
            .filter_expression("user_id = :u")
            .expression_attribute_names("#t", "type")
            .expression_attribute_values(":t", s(kind))
            .expression_attribute_values(":u", s(user_id));
        self.collect(q, None).await?.into_iter().map(integration_from_item).collect()
    }
}

#[async_trait]
impl IntegrationStore for DynamoStore {
    async fn list_integrations(&self, user_id: &str) -> Result<Vec<Integration>> {
        let q = self
            .client
            .query()
            .table_name(self.table(Table::Integrations))
            .key_condition_expression("user_id = :u")
            .expression_attribute_values(":u", s(user_id));
        self.collect(q, None).await?.into_iter().map(integration_from_item).collect()
    }

    async fn get_integration(&self, user_id: &str, id: &str) -> Result<Option<Integration>> {
        let item =
            self.get_by_key(Table::Integrations, &[("user_id", user_id), ("integration_id", id)]).await?;
        item.map(integration_from_item).transpose()
    }

    async fn put_integration(&self, integration: &Integration) -> Result<()> {
        self.client
            .put_item()
            .table_name(self.table(Table::Integrations))
            .set_item(Some(integration_item(integration)?))
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb PutItem", e))?;
        Ok(())
    }

    async fn delete_integration(&self, user_id: &str, id: &str) -> Result<()> {
        self.delete_by_key(Table::Integrations, &[("user_id", user_id), ("integration_id", id)]).await
    }

    /// A Scan of the key attribute only: no key lists "all users", and this runs on a schedule,
    /// never from the console.
    async fn integration_users(&self) -> Result<Vec<String>> {
        let mut pages = self
            .client
            .scan()
            .table_name(self.table(Table::Integrations))
            .projection_expression("user_id")
            .into_paginator()
            .send();
        let mut users = std::collections::BTreeSet::new();
        while let Some(page) = pages.try_next().await.map_err(|e| sdk_err("dynamodb Scan", e))? {
            for item in page.items.unwrap_or_default() {
                if let Some(AttributeValue::S(u)) = item.get("user_id") {
                    users.insert(u.clone());
                }
            }
        }
        Ok(users.into_iter().collect())
    }
}

#[async_trait]
impl DedupCache for DynamoStore {
    /// One conditional PutItem: it lands only when no item exists or the one there has expired
    /// (TTL deletion lags by up to days, so expiry is checked here, not left to TTL).
    async fn insert_if_absent(&self, key: &str, value: &str, expires_at: DateTime<Utc>) -> Result<bool> {
        let now = self.clock.now().timestamp();
        let put = self
            .client
            .put_item()
            .table_name(self.table(Table::DedupCache))
            .item("dedup_key", s(key))
            .item("value", s(value))
            .item("expires_at", n(expires_at.timestamp()))
            .item("created_at", s(timestamp(self.clock.now())))
            .condition_expression("attribute_not_exists(dedup_key) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        landed(put)
    }

    async fn release(&self, key: &str, value: &str) -> Result<()> {
        let deleted = self
            .client
            .delete_item()
            .table_name(self.table(Table::DedupCache))
            .key("dedup_key", s(key))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":v", s(value))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            // Someone else holds it now (or nobody): nothing of ours to let go.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(sdk_err("dynamodb DeleteItem", e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<String>> {
        let now = self.clock.now().timestamp();
        let Some(item) = self.get_by_key(Table::DedupCache, &[("dedup_key", key)]).await? else {
            return Ok(None);
        };
        let live = match item.get("expires_at") {
            Some(AttributeValue::N(t)) => t.parse::<i64>().is_ok_and(|t| t > now),
            _ => false,
        };
        Ok(match item.get("value") {
            Some(AttributeValue::S(v)) if live => Some(v.clone()),
            _ => None,
        })
    }
}

#[async_trait]
impl SettingsStore for DynamoStore {
    async fn get_setting(&self, user_id: &str, key: &str) -> Result<Option<serde_json::Value>> {
        let out = self
            .client
            .get_item()
            .table_name(self.table(Table::UserSettings))
            .key("user_id", s(user_id))
            .projection_expression("#k")
            .expression_attribute_names("#k", key)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb GetItem", e))?;
        let Some(mut item) = out.item else { return Ok(None) };
        item.remove(key)
            .map(serde_dynamo::from_attribute_value)
            .transpose()
            .map_err(|e| crate::error::Error::backend("user setting", e))
    }

    async fn put_setting(&self, user_id: &str, key: &str, value: &serde_json::Value) -> Result<()> {
        let value: AttributeValue = serde_dynamo::to_attribute_value(value)
            .map_err(|e| crate::error::Error::backend("user setting", e))?;
        self.client
            .update_item()
            .table_name(self.table(Table::UserSettings))
            .key("user_id", s(user_id))
            .update_expression("SET #k = :v, updated_at = :t")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", value)
            .expression_attribute_values(":t", s(timestamp(self.clock.now())))
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb UpdateItem", e))?;
        Ok(())
    }

    async fn all_settings(&self, user_id: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
        let Some(item) = self.get_by_key(Table::UserSettings, &[("user_id", user_id)]).await? else {
            return Ok(serde_json::Map::new());
        };
        item.into_iter()
            .filter(|(k, _)| k != "user_id" && k != "updated_at")
            .map(|(k, v)| {
                serde_dynamo::from_attribute_value(v)
                    .map(|v| (k, v))
                    .map_err(|e| crate::error::Error::backend("user setting", e))
            })
            .collect()
    }
}

#[async_trait]
impl crate::ports::ActivityLog for DynamoStore {
    async fn append_activity(&self, user_id: &str, entries: &[crate::model::Activity]) -> Result<()> {
        for (i, e) in entries.iter().enumerate() {
            // The time to the nanosecond, the place in the call and a random part: entries of
            // the same instant keep their order, and two writers never overwrite each other.
            let at = e.at.format("%Y-%m-%dT%H:%M:%S%.9fZ");
            let key = format!("{}#{at}#{i:06}#{}", e.alert_id, uuid::Uuid::new_v4().simple());
            let mut item: std::collections::HashMap<String, AttributeValue> = serde_dynamo::to_item(e)
                .map_err(|err| crate::error::Error::backend("activity entry", err))?;
            item.insert("user_id".into(), s(user_id));
            item.insert("entry_key".into(), s(key));
            self.client
                .put_item()
                .table_name(self.table(Table::AlertActivity))
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(entry_key)")
                .send()
                .await
                .map_err(|err| sdk_err("dynamodb PutItem", err))?;
        }
        Ok(())
    }

    async fn activity(&self, user_id: &str, alert_id: &str) -> Result<Vec<crate::model::Activity>> {
        let q = self
            .client
            .query()
            .table_name(self.table(Table::AlertActivity))
            .key_condition_expression("user_id = :u AND begins_with(entry_key, :a)")
            .expression_attribute_values(":u", s(user_id))
            .expression_attribute_values(":a", s(format!("{alert_id}#")));
        self.collect(q, None)
            .await?
            .into_iter()
            .map(|mut item| {
                item.remove("user_id");
                item.remove("entry_key");
                serde_dynamo::from_item(item)
                    .map_err(|err| crate::error::Error::backend("activity entry", err))
            })
            .collect()
    }
}
