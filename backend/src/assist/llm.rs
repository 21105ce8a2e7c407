//! The one small trait every provider implements, the request they all take, and the HTTP
//! exchange they share: timeouts, 429 with `retry-after`, error bodies in words, answers read
//! with a size cap, and the API key scrubbed from anything that could be shown.

use crate::error::{Error, Result};
use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::Duration;

/// Who speaks in a turn of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub role: Role,
    pub text: String,
}

impl Role {
    /// The role's name in a provider's API, which names the model's side `assistant_is`.
    pub fn name(self, assistant_is: &'static str) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => assistant_is,
        }
    }
}

impl Turn {
    pub fn user(text: impl Into<String>) -> Self {
        Turn { role: Role::User, text: text.into() }
    }
    pub fn assistant(text: impl Into<String>) -> Self {
        Turn { role: Role::Assistant, text: text.into() }
    }
}

/// One completion: the system prompt, the turns so far, and the sampling settings.
#[derive(Debug, Clone)]
pub struct Request {
    pub model: String,
    pub system: String,
    pub turns: Vec<Turn>,
    pub max_tokens: u32,
    pub temperature: f64,
}

#[async_trait]
pub trait Llm: Send + Sync {
    /// The provider's name, for messages.
    fn name(&self) -> &'static str;
    /// The answer's text.
    async fn complete(&self, req: &Request) -> Result<String>;
}

/// The most of an answer read (a long answer is a few tens of KB).
const MAX_ANSWER_BYTES: usize = 2 << 20;
/// A `retry-after` this short is waited out once; a longer one is reported.
const MAX_WAIT_SECS: u64 = 5;

/// The HTTP client the providers use: no redirects (an answer never moves the key to
/// another host), a whole-request timeout.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .user_agent(concat!("mantissa-log/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("http client")
}

/// What a provider needs to post: where, with which headers, and the secret to scrub.
pub struct Post<'a> {
    pub provider: &'static str,
    pub client: &'a reqwest::Client,
    pub url: &'a str,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Never shown: removed from any text of an error.
    pub secret: Option<&'a str>,
}

impl<'a> Post<'a> {
    /// A JSON `body` for `url`; `secret`, if any, is scrubbed from errors.
    pub fn json(
        provider: &'static str,
        client: &'a reqwest::Client,
        url: &'a str,
        body: &Value,
        secret: Option<&'a str>,
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        Post { provider, client, url, headers, body: body.to_string().into_bytes(), secret }
    }

    /// Adds a header whose value is marked sensitive (a key, a signature), so no debug output
    /// shows it.
    pub fn header(mut self, name: impl reqwest::header::IntoHeaderName, value: &str) -> Result<Self> {
        let mut v = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
            Error::invalid("llm_api_key", "the key holds characters a header cannot carry; set it again")
        })?;
        v.set_sensitive(true);
        self.headers.insert(name, v);
        Ok(self)
    }

    /// Posts the body and returns the answer's JSON, waiting out one short `retry-after`.
    pub async fn send(&self) -> Result<Value> {
        let mut waited = false;
        loop {
            let sent =
                self.client.post(self.url).headers(self.headers.clone()).body(self.body.clone()).send().await;
            let answer = sent.map_err(|e| self.fail(transport(&e)))?;
            let status = answer.status();
            if status.as_u16() == 429 {
                let after = answer
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                match after {
                    Some(secs) if secs <= MAX_WAIT_SECS && !waited => {
                        waited = true;
                        tokio::time::sleep(Duration::from_secs(secs)).await;
                        continue;
                    }
                    Some(secs) => {
                        return Err(
                            self.fail(format!("is rate-limiting requests (429): try again in {secs} s"))
                        );
                    }
                    None => {
                        return Err(
                            self.fail("is rate-limiting requests (429): try again in a minute".into())
                        );
                    }
                }
            }
            let bytes = read_capped(answer).await.map_err(|e| self.fail(e))?;
            if !status.is_success() {
                let said = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| error_message(&v));
                let said = said.map(|m| format!(": {}", self.scrub(&m))).unwrap_or_default();
                return Err(self.fail(format!("answered {status}{said}")));
            }
            return serde_json::from_slice(&bytes)
                .map_err(|e| self.fail(format!("sent an answer that is not JSON ({e}); try again")));
        }
    }

    fn scrub(&self, text: &str) -> String {
        let text = crate::text::neutralize(text);
        let mut text: String = text.chars().take(300).collect();
        if let Some(secret) = self.secret.filter(|s| s.len() >= 4) {
            text = text.replace(secret, "<api key>");
        }
        text
    }

    fn fail(&self, what: String) -> Error {
        Error::backend("assistant", format!("{} {what}", self.provider))
    }
}

/// A transport failure in words, with the host but never the path or query.
fn transport(e: &reqwest::Error) -> String {
    let host =
        e.url().and_then(|u| u.host_str().map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0))));
    let at = host.map(|h| format!(" at {h}")).unwrap_or_default();
    if e.is_timeout() {
        format!("did not answer in time{at}: try again, ask a shorter question, or check the network")
    } else if e.is_connect() {
        format!("cannot be reached{at}: check `llm_base_url` and the network")
    } else {
        format!("request failed{at}")
    }
}

async fn read_capped(mut answer: reqwest::Response) -> std::result::Result<Vec<u8>, String> {
    let mut out = vec![];
    while let Some(chunk) = answer.chunk().await.map_err(|e| transport(&e))? {
        if out.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!("sent an answer over {} MB; refused", MAX_ANSWER_BYTES >> 20));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The error text of a provider's error body (`{"error": {"message": ...}}` for Anthropic,
/// OpenAI and Google, `{"message": ...}` for Bedrock).
fn error_message(v: &Value) -> Option<String> {
    v.pointer("/error/message")
        .or_else(|| v.get("message"))
        .or_else(|| v.get("Message"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The text parts of an answer joined, or an error saying the answer had none.
pub fn joined_text<'a>(provider: &'static str, parts: impl Iterator<Item = &'a Value>) -> Result<String> {
    let text: Vec<&str> = parts.filter_map(|p| p.get("text").and_then(Value::as_str)).collect();
    if text.iter().all(|t| t.trim().is_empty()) {
        return Err(no_text(provider));
    }
    Ok(text.concat())
}

/// An answer that parsed but holds no text (a refusal, a cut-off, another shape).
pub fn no_text(provider: &'static str) -> Error {
    Error::backend("assistant", format!("{provider} sent an answer with no text in it; try again"))
}

/// Joins `path` onto a base URL given by the user or the provider's default.
pub fn endpoint(base: Option<&str>, default: &str, path: &str) -> String {
    format!("{}{path}", base.unwrap_or(default).trim_end_matches('/'))
}
