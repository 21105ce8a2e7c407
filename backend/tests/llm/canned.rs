//! A loopback stand-in for an LLM provider: records every request (path, headers, JSON body)
//! and answers from a queue of canned replies, as the provider's public API shapes them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub enum Reply {
    Json(u16, Value),
    RateLimited(&'static str),
    Raw(u16, &'static str),
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
pub struct Canned {
    replies: Mutex<VecDeque<Reply>>,
    pub seen: Mutex<Vec<Seen>>,
}

impl Canned {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// The answer body of each provider carrying `text`.
pub fn answer(provider: &str, text: &str) -> Value {
    match provider {
        "anthropic" => json!({"id": "msg_01", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 10, "output_tokens": 20}}),
        "openai" => json!({"id": "chatcmpl-1", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}),
        "google" => json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
            "finishReason": "STOP"}]}),
        "bedrock" => json!({"output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 10, "outputTokens": 20, "totalTokens": 30}}),
        other => panic!("no provider {other}"),
    }
}

pub async fn start(replies: Vec<Reply>) -> (String, Arc<Canned>) {
    let canned = Arc::new(Canned { replies: Mutex::new(replies.into()), ..Default::default() });
    let app = Router::new().fallback(handle).with_state(canned.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, canned)
}

async fn handle(State(c): State<Arc<Canned>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    c.seen.lock().unwrap().push(Seen { path: uri.path().to_string(), headers, body });
    let reply = c.replies.lock().unwrap().pop_front();
    match reply {
        Some(Reply::Json(code, v)) => (StatusCode::from_u16(code).unwrap(), axum::Json(v)).into_response(),
        Some(Reply::RateLimited(after)) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", after)],
            axum::Json(json!({"error": {"type": "rate_limit_error", "message": "slow down"}})),
        )
            .into_response(),
        Some(Reply::Raw(code, text)) => (StatusCode::from_u16(code).unwrap(), text).into_response(),
        Some(Reply::Slow(d)) => {
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
        None => (StatusCode::INTERNAL_SERVER_ERROR, "no canned reply left").into_response(),
    }
}
