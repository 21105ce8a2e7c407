//! OpenAI's Chat Completions API (`POST {base}/chat/completions`, bearer key), which
//! compatible servers (a local model server, a gateway) also speak: set `llm_base_url`.

use super::llm::{Llm, Post, Request, endpoint, no_text};
use crate::error::Result;
use async_trait::async_trait;
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
    messages.extend(req.turns.iter().map(|t| json!({"role": t.role.name("assistant"), "content": t.text})));
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
        let url = endpoint(self.base_url.as_deref(), DEFAULT_BASE, "/chat/completions");
        let mut post = Post::json(self.name(), &self.client, &url, &body(req), self.api_key.as_deref());
        if let Some(key) = &self.api_key {
            post = post.header(reqwest::header::AUTHORIZATION, &format!("Bearer {key}"))?;
        }
        let answer = post.send().await?;
        match answer.pointer("/choices/0/message/content").and_then(Value::as_str) {
            Some(text) if !text.trim().is_empty() => Ok(text.to_string()),
            _ => Err(no_text(self.name())),
        }
    }
}
