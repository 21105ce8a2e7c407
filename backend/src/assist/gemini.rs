//! Google's Gemini API (`POST /v1beta/models/{model}:generateContent`, key in the
//! `x-goog-api-key` header, never in the URL where logs and errors would carry it).

use super::llm::{Llm, Post, Request, endpoint, joined_text};
use crate::error::Result;
use async_trait::async_trait;
use serde_json::{Value, json};

pub const DEFAULT_BASE: &str = "https://generativelanguage.googleapis.com";

pub struct Gemini {
    pub client: reqwest::Client,
    pub base_url: Option<String>,
    pub api_key: String,
}

pub fn body(req: &Request) -> Value {
    let contents: Vec<Value> = req
        .turns
        .iter()
        .map(|t| json!({"role": t.role.name("model"), "parts": [{"text": t.text}]}))
        .collect();
    json!({
        "systemInstruction": {"parts": [{"text": req.system}]},
        "contents": contents,
        "generationConfig": {"maxOutputTokens": req.max_tokens, "temperature": req.temperature},
    })
}

#[async_trait]
impl Llm for Gemini {
    fn name(&self) -> &'static str {
        "google"
    }

    async fn complete(&self, req: &Request) -> Result<String> {
        let path = format!("/v1beta/models/{}:generateContent", super::path_segment(&req.model));
        let url = endpoint(self.base_url.as_deref(), DEFAULT_BASE, &path);
        let answer = Post::json(self.name(), &self.client, &url, &body(req), Some(&self.api_key))
            .header("x-goog-api-key", &self.api_key)?
            .send()
            .await?;
        let parts =
            answer.pointer("/candidates/0/content/parts").and_then(Value::as_array).into_iter().flatten();
        joined_text(self.name(), parts)
    }
}
