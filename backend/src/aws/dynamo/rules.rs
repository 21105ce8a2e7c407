//! Detection rules in `detection-rules` (user_id, rule_id), with `enabled` as "true"/"false"
//! and `last_executed` so the `enabled-rules-index` GSI can list what should run.

use super::{DynamoStore, ENABLED_RULES_INDEX, Item, from_item, s, sdk_err, timestamp, to_item};
use crate::aws::names::Table;
use crate::error::Result;
use crate::model::Rule;
use crate::ports::RuleStore;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

/// The seed's layout: the rule's fields, `rule_id` for `id`, `user_id`, `enabled` as a string
/// (a GSI key cannot be a boolean) and `last_executed` (the last run, else the creation time,
/// so a rule that never ran still appears in the index).
pub fn rule_item(user_id: &str, rule: &Rule) -> Result<Item> {
    let mut item = to_item("rule item", rule)?;
    item.remove("id");
    item.insert("rule_id".into(), s(&rule.id));
    item.insert("user_id".into(), s(user_id));
    item.insert("enabled".into(), s(if rule.enabled { "true" } else { "false" }));
    item.insert("last_executed".into(), s(timestamp(rule.last_execution.unwrap_or(rule.created_at))));
    Ok(item)
}

pub fn rule_from_item(mut item: Item) -> Result<Rule> {
    item.remove("user_id");
    item.remove("last_executed");
    if let Some(id) = item.remove("rule_id") {
        item.insert("id".into(), id);
    }
    let enabled = matches!(item.get("enabled"), Some(AttributeValue::S(v)) if v == "true")
        || matches!(item.get("enabled"), Some(AttributeValue::Bool(true)));
    item.insert("enabled".into(), AttributeValue::Bool(enabled));
    from_item("rule item", item)
}

impl DynamoStore {
    /// Enabled rules of every user, least recently run first, through the GSI (for the health
    /// monitor, which checks each has its schedule).
    pub async fn enabled_rules(&self) -> Result<Vec<(String, Rule)>> {
        let q = self
            .client
            .query()
            .table_name(self.table(Table::Rules))
            .index_name(ENABLED_RULES_INDEX)
            .key_condition_expression("enabled = :t")
            .expression_attribute_values(":t", s("true"));
        let items = self.collect(q, None).await?;
        items
            .into_iter()
            .map(|mut i| {
                let user = match i.remove("user_id") {
                    Some(AttributeValue::S(u)) => u,
                    _ => String::new(),
                };
                Ok((user, rule_from_item(i)?))
            })
            .collect()
    }
}

#[async_trait]
impl RuleStore for DynamoStore {
    async fn list_rules(&self, user_id: &str) -> Result<Vec<Rule>> {
        let q = self
            .client
            .query()
            .table_name(self.table(Table::Rules))
            .key_condition_expression("user_id = :u")
            .expression_attribute_values(":u", s(user_id));
        self.collect(q, None).await?.into_iter().map(rule_from_item).collect()
    }

    async fn get_rule(&self, user_id: &str, rule_id: &str) -> Result<Option<Rule>> {
        let item = self.get_by_key(Table::Rules, &[("user_id", user_id), ("rule_id", rule_id)]).await?;
        item.map(rule_from_item).transpose()
    }

    async fn put_rule(&self, user_id: &str, rule: &Rule) -> Result<()> {
        self.client
            .put_item()
            .table_name(self.table(Table::Rules))
            .set_item(Some(rule_item(user_id, rule)?))
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb PutItem", e))?;
        Ok(())
    }

    async fn delete_rule(&self, user_id: &str, rule_id: &str) -> Result<()> {
        self.delete_by_key(Table::Rules, &[("user_id", user_id), ("rule_id", rule_id)]).await
    }
}
