//! OpenAI's Chat Completions API (`POST {base}/chat/completions`, bearer key), which
//! compatible servers (a local model server, a gateway) also speak: set `llm_base_url`.

use super::llm::{Llm, Post, Request, Role, endpoint, no_text};
use crate::error::Result;
use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

pub const DEFAULT_BASE: &str = "https://api.openai.com/v1";

pub struct OpenAi {
    pub client: reqwest::Client,
    pub base_url: Option<String>,
    /// None for a compatible server that takes no key.
    pub api_key: Option<String>,
}

pub fn body(req: &Request) -> Value {
    let mut messages = vec![json!({"role": "system", "content": req.system})];
    messages.extend(req.turns.iter().map(
        |t| json!({"role": if t.role == Role::User { "user" } else { "assistant" }, "content": t.text}),
    ));
    json!({
        "model": req.model,
        "messages": messages,
        "max_tokens": req.max_tokens,
        "temperature": req.temperature,
    })
}

#[async_trait]
impl Llm for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }

    async fn complete(&self, req: &Request) -> Result<String> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &self.api_key {
            headers.insert(AUTHORIZATION, super::secret_header(&format!("Bearer {key}"))?);
        }
        let url = endpoint(self.base_url.as_deref(), DEFAULT_BASE, "/chat/completions");
        let answer = Post {
            provider: self.name(),
            client: &self.client,
            url: &url,
            headers,
            body: body(req).to_string().into_bytes(),
            secret: self.api_key.as_deref(),
        }
        .send()
        .await?;
        match answer.pointer("/choices/0/message/content").and_then(Value::as_str) {
            Some(text) if !text.trim().is_empty() => Ok(text.to_string()),
            _ => Err(no_text(self.name())),
        }
    }
}
