//! Which rule runs on which schedule (`schedules`: user_id, rule_id; `expression-index` on the
//! expression): the members of the EventBridge rule of one schedule expression.

use super::{DynamoStore, Item, SCHEDULE_INDEX, s};
use crate::aws::names::Table;
use crate::error::Result;
use crate::model::Schedule;
use crate::ports::ScheduledRule;
use aws_sdk_dynamodb::types::AttributeValue;

fn entry_from_item(item: &Item) -> Option<ScheduledRule> {
    let text = |k: &str| match item.get(k) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    Some(ScheduledRule {
        user_id: text("user_id")?,
        rule_id: text("rule_id")?,
        schedule: Schedule::parse(&text("expression")?).ok()?,
        enabled: matches!(item.get("enabled"), Some(AttributeValue::Bool(true))),
    })
}

impl DynamoStore {
    pub async fn put_member(&self, entry: &ScheduledRule) -> Result<()> {
        self.client
            .put_item()
            .table_name(self.table(Table::Schedules))
            .item("user_id", s(&entry.user_id))
            .item("rule_id", s(&entry.rule_id))
            .item("expression", s(entry.schedule.as_str()))
            .item("enabled", AttributeValue::Bool(entry.enabled))
            .send()
            .await
            .map_err(|e| super::sdk_err("dynamodb PutItem", e))?;
        Ok(())
    }

    pub async fn member(&self, user_id: &str, rule_id: &str) -> Result<Option<ScheduledRule>> {
        let item = self.get_by_key(Table::Schedules, &[("user_id", user_id), ("rule_id", rule_id)]).await?;
        Ok(item.as_ref().and_then(entry_from_item))
    }

    pub async fn delete_member(&self, user_id: &str, rule_id: &str) -> Result<()> {
        self.delete_by_key(Table::Schedules, &[("user_id", user_id), ("rule_id", rule_id)]).await
    }

    pub async fn members_of_user(&self, user_id: &str) -> Result<Vec<ScheduledRule>> {
        let q = self
            .client
            .query()
            .table_name(self.table(Table::Schedules))
            .key_condition_expression("user_id = :u")
            .expression_attribute_values(":u", s(user_id));
        Ok(self.collect(q, None).await?.iter().filter_map(entry_from_item).collect())
    }

    /// Every user's rules on `expression` (through the GSI); `limit` stops early, for "are
    /// there any".
    pub async fn members_on(&self, expression: &str, limit: Option<usize>) -> Result<Vec<ScheduledRule>> {
        let q = self
            .client
            .query()
            .table_name(self.table(Table::Schedules))
            .index_name(SCHEDULE_INDEX)
            .key_condition_expression("expression = :e")
            .expression_attribute_values(":e", s(expression));
        let mut out: Vec<ScheduledRule> =
            self.collect(q, limit).await?.iter().filter_map(entry_from_item).collect();
        out.sort_by(|a, b| (&a.user_id, &a.rule_id).cmp(&(&b.user_id, &b.rule_id)));
        Ok(out)
    }
}
