//! Scheduled detections as one EventBridge rule per schedule expression, named
//! `detection-schedule-{expression}-{hash}-{env}`, targeting the detection Lambda with input
//! `{"schedule": "<expression>"}`; which user's rule is on it is kept in the `schedules` table,
//! so a tick runs every rule due at it and the rule count is the number of distinct
//! expressions, not of rules (EventBridge allows 300 rules a bus by default). The seed's
//! per-rule rules (`detection-{user}-{rule}-{env}`, input `{"rule_id", "user_id"}`) are still
//! understood by the Lambda, and removed when their rule is scheduled again.

use super::dynamo::DynamoStore;
use super::names;
use super::sdk_err;
use crate::error::{Error, Result};
use crate::model::Schedule;
use crate::ports::{ScheduledRule, Scheduler};
use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::{RuleState, Target};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const TARGET_ID: &str = "detection";

/// What the detection Lambda receives from a schedule's rule; also kept in the rule's
/// description so listing needs no call per rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickInput {
    pub schedule: String,
}

#[derive(Clone)]
pub struct EventBridgeScheduler {
    client: Client,
    env: String,
    detection_lambda_arn: String,
    members: Arc<DynamoStore>,
}

impl EventBridgeScheduler {
    pub fn new(client: Client, env: &str, detection_lambda_arn: &str, members: Arc<DynamoStore>) -> Self {
        EventBridgeScheduler {
            client,
            env: env.into(),
            detection_lambda_arn: detection_lambda_arn.into(),
            members,
        }
    }

    pub fn rule_name(&self, expression: &str) -> String {
        names::schedule_rule(expression, &self.env)
    }

    /// The target's input of an expression's rule, as EventBridge will send it.
    pub async fn target_input(&self, expression: &str) -> Result<Option<TickInput>> {
        let out = self
            .client
            .list_targets_by_rule()
            .rule(self.rule_name(expression))
            .send()
            .await
            .map_err(|e| sdk_err("events ListTargetsByRule", e))?;
        let input = out.targets.unwrap_or_default().into_iter().find_map(|t| t.input);
        input
            .map(|i| serde_json::from_str(&i).map_err(|e| Error::backend("events target input", e)))
            .transpose()
    }

    /// The schedule expressions that have a rule in this environment.
    pub async fn schedule_rules(&self) -> Result<Vec<String>> {
        let mut out = vec![];
        let mut token = None;
        let prefix = format!("{}schedule-", names::RULE_NAME_PREFIX);
        loop {
            let page = self
                .client
                .list_rules()
                .name_prefix(&prefix)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_err("events ListRules", e))?;
            for rule in page.rules.unwrap_or_default() {
                let input = rule.description.and_then(|d| serde_json::from_str::<TickInput>(&d).ok());
                if let Some(input) =
                    input.filter(|i| rule.name.as_deref() == Some(&*self.rule_name(&i.schedule)))
                {
                    out.push(input.schedule);
                }
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        out.sort();
        Ok(out)
    }

    /// The expression's rule, made if missing (idempotent: PutRule and PutTargets overwrite).
    async fn ensure_rule(&self, expression: &str) -> Result<()> {
        let name = self.rule_name(expression);
        let input = serde_json::to_string(&TickInput { schedule: expression.to_string() })
            .map_err(|e| Error::backend("events input", e))?;
        self.client
            .put_rule()
            .name(&name)
            .schedule_expression(expression)
            .state(RuleState::Enabled)
            .description(&input)
            .send()
            .await
            .map_err(|e| sdk_err("events PutRule", e))?;
        let target = Target::builder()
            .id(TARGET_ID)
            .arn(&self.detection_lambda_arn)
            .input(input)
            .build()
            .map_err(|e| Error::backend("events target", e))?;
        let out = self
            .client
            .put_targets()
            .rule(&name)
            .targets(target)
            .send()
            .await
            .map_err(|e| sdk_err("events PutTargets", e))?;
        if out.failed_entry_count > 0 {
            let why = out
                .failed_entries
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.error_message)
                .collect::<Vec<_>>();
            return Err(Error::backend("events PutTargets", why.join("; ")));
        }
        Ok(())
    }

    /// Removes an EventBridge rule and its target; a missing one is fine.
    async fn remove_rule(&self, name: &str) -> Result<()> {
        let removed = self.client.remove_targets().rule(name).ids(TARGET_ID).send().await;
        match removed {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                return Ok(());
            }
            Err(e) => return Err(sdk_err("events RemoveTargets", e)),
        }
        match self.client.delete_rule().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(sdk_err("events DeleteRule", e)),
        }
    }

    /// Deletes the rule of an expression no rule is on any more. A member added meanwhile
    /// gets the rule back, so a schedule is never left without its tick.
    pub async fn prune(&self, expression: &str) -> Result<bool> {
        if !self.members.members_on(expression, Some(1)).await?.is_empty() {
            return Ok(false);
        }
        self.remove_rule(&self.rule_name(expression)).await?;
        if !self.members.members_on(expression, Some(1)).await?.is_empty() {
            self.ensure_rule(expression).await?;
            return Ok(false);
        }
        Ok(true)
    }
}

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    /// The expression is parsed by the same parser as rule files before the call, so a bad
    /// one is refused with the fix, not with EventBridge's ValidationException.
    async fn put_schedule(&self, entry: &ScheduledRule) -> Result<()> {
        let expression = entry.schedule.as_str().to_string();
        Schedule::parse(&expression)?;
        let before = self.members.member(&entry.user_id, &entry.rule_id).await?;
        self.ensure_rule(&expression).await?;
        self.members.put_member(entry).await?;
        // The seed's rule of this (user, rule), if an older deploy made one.
        self.remove_rule(&names::detection_rule(&entry.user_id, &entry.rule_id, &self.env)).await?;
        if let Some(old) = before.filter(|b| b.schedule.as_str() != expression) {
            self.prune(old.schedule.as_str()).await?;
        }
        Ok(())
    }

    async fn delete_schedule(&self, user_id: &str, rule_id: &str) -> Result<()> {
        let before = self.members.member(user_id, rule_id).await?;
        self.members.delete_member(user_id, rule_id).await?;
        self.remove_rule(&names::detection_rule(user_id, rule_id, &self.env)).await?;
        if let Some(old) = before {
            self.prune(old.schedule.as_str()).await?;
        }
        Ok(())
    }

    async fn list_schedules(&self, user_id: &str) -> Result<Vec<ScheduledRule>> {
        let mut out = self.members.members_of_user(user_id).await?;
        out.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
        Ok(out)
    }

    async fn on_schedule(&self, expression: &str) -> Result<Vec<ScheduledRule>> {
        self.members.members_on(expression, None).await
    }
}
