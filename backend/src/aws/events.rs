//! Scheduled detections as EventBridge rules, one per (user, rule), named
//! `detection-{user}-{rule}-{env}` (shortened when needed), targeting the detection Lambda
//! with input `{"rule_id", "user_id"}`.

use super::names;
use super::sdk_err;
use crate::error::{Error, Result};
use crate::model::Schedule;
use crate::ports::{ScheduledRule, Scheduler};
use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::{RuleState, Target};
use serde::{Deserialize, Serialize};

const TARGET_ID: &str = "detection";

/// What the detection Lambda receives; also kept in the rule's description so listing needs
/// no call per rule (names may be shortened, so they cannot be parsed back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionInput {
    pub rule_id: String,
    pub user_id: String,
}

#[derive(Clone)]
pub struct EventBridgeScheduler {
    client: Client,
    env: String,
    detection_lambda_arn: String,
}

impl EventBridgeScheduler {
    pub fn new(client: Client, env: &str, detection_lambda_arn: &str) -> Self {
        EventBridgeScheduler { client, env: env.into(), detection_lambda_arn: detection_lambda_arn.into() }
    }

    pub fn rule_name(&self, user_id: &str, rule_id: &str) -> String {
        names::detection_rule(user_id, rule_id, &self.env)
    }

    /// The target's input of a rule, as EventBridge will send it.
    pub async fn target_input(&self, user_id: &str, rule_id: &str) -> Result<Option<DetectionInput>> {
        let out = self
            .client
            .list_targets_by_rule()
            .rule(self.rule_name(user_id, rule_id))
            .send()
            .await
            .map_err(|e| sdk_err("events ListTargetsByRule", e))?;
        let input = out.targets.unwrap_or_default().into_iter().find_map(|t| t.input);
        input
            .map(|i| serde_json::from_str(&i).map_err(|e| Error::backend("events target input", e)))
            .transpose()
    }
}

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    /// The expression is parsed by the same parser as rule files before the call, so a bad
    /// one is refused with the fix, not with EventBridge's ValidationException.
    async fn put_schedule(&self, entry: &ScheduledRule) -> Result<()> {
        let expression = entry.schedule.as_str().to_string();
        Schedule::parse(&expression)?;
        let name = self.rule_name(&entry.user_id, &entry.rule_id);
        let input = DetectionInput { rule_id: entry.rule_id.clone(), user_id: entry.user_id.clone() };
        let input = serde_json::to_string(&input).map_err(|e| Error::backend("events input", e))?;
        self.client
            .put_rule()
            .name(&name)
            .schedule_expression(&expression)
            .state(if entry.enabled { RuleState::Enabled } else { RuleState::Disabled })
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

    async fn delete_schedule(&self, user_id: &str, rule_id: &str) -> Result<()> {
        let name = self.rule_name(user_id, rule_id);
        let removed = self.client.remove_targets().rule(&name).ids(TARGET_ID).send().await;
        match removed {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                return Ok(());
            }
            Err(e) => return Err(sdk_err("events RemoveTargets", e)),
        }
        match self.client.delete_rule().name(&name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(sdk_err("events DeleteRule", e)),
        }
    }

    async fn list_schedules(&self, user_id: &str) -> Result<Vec<ScheduledRule>> {
        let mut out = vec![];
        let mut token = None;
        loop {
            let page = self
                .client
                .list_rules()
                .name_prefix(names::RULE_NAME_PREFIX)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_err("events ListRules", e))?;
            for rule in page.rules.unwrap_or_default() {
                let name = rule.name.unwrap_or_default();
                if !name.ends_with(&format!("-{}", self.env)) {
                    continue;
                }
                let Some(input) =
                    rule.description.and_then(|d| serde_json::from_str::<DetectionInput>(&d).ok())
                else {
                    continue;
                };
                if input.user_id != user_id || name != self.rule_name(&input.user_id, &input.rule_id) {
                    continue;
                }
                let Some(expression) = rule.schedule_expression else { continue };
                out.push(ScheduledRule {
                    user_id: input.user_id,
                    rule_id: input.rule_id,
                    schedule: Schedule::parse(&expression)?,
                    enabled: rule.state == Some(RuleState::Enabled),
                });
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        out.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
        Ok(out)
    }
}
