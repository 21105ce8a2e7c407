//! An alert explained: its rule, window and sample rows go to the model (only when the
//! analyst asks, since the samples are log rows), and what comes back is a short summary and
//! follow-up queries, each planned against the lake before it is offered.

use super::query::LakeView;
use super::{Assistant, Task, answer, llm::Turn, prompt};
use crate::error::{Error, Result};
use crate::model::Alert;
use serde_json::{Value, json};

/// Sample rows sent at most (the alert keeps more).
pub const MAX_SAMPLES_SENT: usize = 10;

#[derive(Debug, Clone)]
pub struct Explanation {
    pub summary: String,
    /// Title, SQL, and why it does not plan (if it does not).
    pub queries: Vec<(String, String, Option<String>)>,
}

/// What is sent about the alert.
pub fn alert_message(alert: &Alert) -> String {
    let samples: Vec<&Value> = alert.sample_rows.iter().take(MAX_SAMPLES_SENT).collect();
    json!({
        "rule_id": alert.rule_id,
        "rule_name": alert.rule_name,
        "severity": alert.severity.to_string(),
        "summary": alert.summary,
        "description": alert.description,
        "window_start": alert.window_start.to_rfc3339(),
        "window_end": alert.window_end.to_rfc3339(),
        "matching_rows": alert.result_count,
        "rule_query": alert.query,
        "sample_rows": samples,
    })
    .to_string()
}

pub async fn explain(assistant: &Assistant, alert: &Alert, view: &LakeView<'_>) -> Result<Explanation> {
    let system = prompt::for_explanation(view.tables);
    let reply = assistant.complete(Task::Detection, &system, &[Turn::user(alert_message(alert))]).await?;
    let fail = |e: String| Error::backend("assistant", format!("{}: {e}", assistant.provider()));
    let v = answer::json_object(&reply).map_err(fail)?;
    let summary = v
        .get("summary")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| fail("the answer has no `summary`; try again".into()))?
        .trim()
        .to_string();
    let summary = answer::without_controls(&summary);
    let mut queries = vec![];
    for q in v.get("queries").and_then(Value::as_array).into_iter().flatten().take(9) {
        let (Some(title), Some(sql)) =
            (q.get("title").and_then(Value::as_str), q.get("sql").and_then(Value::as_str))
        else {
            continue;
        };
        let problem = view.check(sql).await.err();
        let (title, sql) = (answer::without_controls(title), answer::without_controls(sql));
        queries.push((title, sql.trim().trim_end_matches(';').to_string(), problem));
    }
    Ok(Explanation { summary, queries })
}
