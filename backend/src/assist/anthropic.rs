//! Anthropic's Messages API (`POST /v1/messages`, `x-api-key`, `anthropic-version`).

use super::llm::{Llm, Post, Request, endpoint, joined_text};
use crate::error::Result;
use async_trait::async_trait;
use serde_json::{Value, json};

pub const DEFAULT_BASE: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    pub client: reqwest::Client,
    pub base_url: Option<String>,
    pub api_key: String,
}

/// The request body, as the Messages API documents it.
pub fn body(req: &Request) -> Value {
    let messages: Vec<Value> =
        req.turns.iter().map(|t| json!({"role": t.role.name("assistant"), "content": t.text})).collect();
    json!({
        "model": req.model,
        "max_tokens": req.max_tokens,
        // The API takes 0..1; the setting allows up to 2 for the other providers.
        "temperature": req.temperature.min(1.0),
        "system": req.system,
        "messages": messages,
    })
}

#[async_trait]
impl Llm for Anthropic {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    async fn complete(&self, req: &Request) -> Result<String> {
        let url = endpoint(self.base_url.as_deref(), DEFAULT_BASE, "/v1/messages");
        let answer = Post::json(self.name(), &self.client, &url, &body(req), Some(&self.api_key))
            .header("anthropic-version", API_VERSION)?
            .header("x-api-key", &self.api_key)?
            .send()
            .await?;
        let parts = answer.get("content").and_then(Value::as_array).into_iter().flatten();
        joined_text(self.name(), parts.filter(|p| p.get("type").and_then(Value::as_str) == Some("text")))
    }
}
