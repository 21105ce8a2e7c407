//! DynamoDB stores: rules, alert history, integrations, the dedup cache and user settings, in
//! the tables and item layout of the seed's design (`mantissa-log-<table>-<env>`). Records are
//! written attribute by attribute (serde_dynamo), keyed by `user_id` so every read is scoped.

mod alerts;
mod cases;
mod misc;
mod rules;
mod schedules;

use super::names::Table;
pub(crate) use super::sdk_err;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

pub type Item = HashMap<String, AttributeValue>;

pub const ENABLED_RULES_INDEX: &str = "enabled-rules-index";
pub const RULE_ALERTS_INDEX: &str = "rule-alerts-index";
pub const SEVERITY_INDEX: &str = "severity-index";
/// A user's alerts by creation time (alert ids are content digests, so the table's own key
/// order is no time order).
pub const USER_TIME_INDEX: &str = "user-time-index";
pub const TYPE_INDEX: &str = "type-index";
/// Every user's rules on one schedule expression (for the detection Lambda's tick).
pub const SCHEDULE_INDEX: &str = "expression-index";

/// The five tables of one environment behind the store ports.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    env: String,
    clock: Arc<dyn Clock>,
}

impl DynamoStore {
    pub fn new(client: Client, env: &str) -> Self {
        DynamoStore { client, env: env.to_string(), clock: Arc::new(SystemClock) }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn table(&self, t: Table) -> String {
        t.name(&self.env)
    }

    /// One item by its key, read consistently.
    async fn get_by_key(&self, t: Table, key: &[(&str, &str)]) -> Result<Option<Item>> {
        let mut get = self.client.get_item().table_name(self.table(t)).consistent_read(true);
        for (k, v) in key {
            get = get.key(*k, s(*v));
        }
        Ok(get.send().await.map_err(|e| sdk_err("dynamodb GetItem", e))?.item)
    }

    async fn delete_by_key(&self, t: Table, key: &[(&str, &str)]) -> Result<()> {
        let mut delete = self.client.delete_item().table_name(self.table(t));
        for (k, v) in key {
            delete = delete.key(*k, s(*v));
        }
        delete.send().await.map_err(|e| sdk_err("dynamodb DeleteItem", e))?;
        Ok(())
    }

    /// Every item a query yields, following LastEvaluatedKey, stopping at `limit` items.
    async fn collect(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: Option<usize>,
    ) -> Result<Vec<Item>> {
        let mut pages = query.into_paginator().send();
        let mut out = vec![];
        while let Some(page) = pages.try_next().await.map_err(|e| sdk_err("dynamodb Query", e))? {
            out.extend(page.items.unwrap_or_default());
            if limit.is_some_and(|l| out.len() >= l) {
                out.truncate(limit.unwrap_or(usize::MAX));
                break;
            }
        }
        Ok(out)
    }
}

/// A conditional PutItem's answer: true if it landed, false if its condition held it back.
pub(crate) fn landed(
    put: std::result::Result<
        aws_sdk_dynamodb::operation::put_item::PutItemOutput,
        aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError>,
    >,
) -> Result<bool> {
    match put {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
            Ok(false)
        }
        Err(e) => Err(sdk_err("dynamodb PutItem", e)),
    }
}

/// Fixed-width UTC text (microseconds, `Z`): sort keys compare as strings in time order.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn to_item<T: Serialize>(what: &'static str, value: &T) -> Result<Item> {
    serde_dynamo::to_item(value).map_err(|e| Error::backend(what, e))
}

pub(crate) fn from_item<T: DeserializeOwned>(what: &'static str, item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::backend(what, e))
}

/// An UpdateItem that sets every attribute of `item` but the keys and those in `keep`
/// (which are only set when absent), so a re-put never overwrites appended history.
pub(crate) fn set_all_but(
    update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    mut item: Item,
    keys: &[&str],
    keep: &[&str],
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    for k in keys {
        item.remove(*k);
    }
    let mut sets = vec![];
    let mut update = update;
    for (i, (name, value)) in item.into_iter().enumerate() {
        let (nk, vk) = (format!("#a{i}"), format!(":v{i}"));
        if keep.contains(&name.as_str()) {
            sets.push(format!("{nk} = if_not_exists({nk}, {vk})"));
        } else {
            sets.push(format!("{nk} = {vk}"));
        }
        update = update.expression_attribute_names(nk, name).expression_attribute_values(vk, value);
    }
    update.update_expression(format!("SET {}", sets.join(", ")))
}
