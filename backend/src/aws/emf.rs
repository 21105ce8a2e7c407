//! The Lambdas' counters as CloudWatch Embedded Metric Format lines on stdout: CloudWatch
//! Logs turns each into metrics (namespace `MantissaLog`, dimensions with `Env`) with no SDK
//! call, and the line stays searchable by Logs Insights (rule ids, trace id, errors).

use crate::error::Result;
use crate::model::metric::{Sample, Total};
use crate::ports::Counters;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::sync::Mutex;

pub const DEFAULT_NAMESPACE: &str = "MantissaLog";

pub struct EmfCounters {
    namespace: String,
    env: String,
    out: Mutex<Box<dyn Write + Send>>,
}

impl EmfCounters {
    /// Lines to stdout, where the Lambda runtime hands them to CloudWatch Logs.
    pub fn stdout(namespace: &str, env: &str) -> Self {
        Self::to_writer(namespace, env, Box::new(std::io::stdout()))
    }

    pub fn to_writer(namespace: &str, env: &str, out: Box<dyn Write + Send>) -> Self {
        EmfCounters { namespace: namespace.into(), env: env.into(), out: Mutex::new(out) }
    }
}

/// One sample as an EMF line. The user id is not in it (logs are read by operators, records
/// are scoped by user); the X-Ray trace id of the invocation is, when there is one.
pub fn emf_line(namespace: &str, env: &str, sample: &Sample, trace_id: Option<&str>) -> Value {
    let mut dimension_names = vec!["Env".to_string()];
    dimension_names.extend(sample.dimensions.iter().map(|(k, _)| k.to_string()));
    let metrics: Vec<Value> =
        sample.values.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit.name()})).collect();
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": sample.at.timestamp_millis(),
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [dimension_names], "Metrics": metrics}],
        }),
    );
    line.insert("Metric".into(), json!(sample.metric));
    line.insert("Env".into(), json!(env));
    for (k, v) in &sample.dimensions {
        line.insert(k.to_string(), json!(v));
    }
    for (name, _, value) in &sample.values {
        line.insert(name.to_string(), json!(value));
    }
    for (k, v) in &sample.properties {
        line.insert(k.to_string(), v.clone());
    }
    if let Some(trace) = trace_id {
        line.insert("TraceId".into(), json!(trace));
    }
    Value::Object(line)
}

#[async_trait]
impl Counters for EmfCounters {
    async fn add(&self, sample: &Sample) -> Result<()> {
        // The Lambda runtime sets the invocation's trace header in the environment.
        let trace = std::env::var("_X_AMZN_TRACE_ID").ok();
        let trace_id = trace.as_deref().and_then(|h| h.split(';').find_map(|p| p.strip_prefix("Root=")));
        let line = emf_line(&self.namespace, &self.env, sample, trace_id);
        if let Ok(mut out) = self.out.lock() {
            // A lost metric line must not fail a detection or a delivery.
            let _ = writeln!(out, "{line}");
        }
        Ok(())
    }

    /// CloudWatch holds these totals; none are kept here.
    async fn totals(&self, _user_id: &str, _since: DateTime<Utc>) -> Result<Vec<Total>> {
        Ok(vec![])
    }
}

/// The console on AWS runs no pipeline: nothing to count.
pub struct NoCounters;

#[async_trait]
impl Counters for NoCounters {
    async fn add(&self, _sample: &Sample) -> Result<()> {
        Ok(())
    }

    async fn totals(&self, _user_id: &str, _since: DateTime<Utc>) -> Result<Vec<Total>> {
        Ok(vec![])
    }
}
