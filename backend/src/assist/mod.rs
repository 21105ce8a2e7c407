//! The query assistant: a question in words becomes SQL or a rule draft, checked against the
//! lake before it is offered, and an alert gets a short explanation. Off until the user sets a
//! provider; only table schemas leave the machine, never log rows (except an alert's samples
//! when the analyst asks for its explanation).

pub mod answer;
pub mod anthropic;
pub mod bedrock;
pub mod explain;
pub mod gemini;
pub mod llm;
pub mod openai;
pub mod prompt;
pub mod query;
pub mod rule;

use crate::error::{Error, Result};
use crate::model::settings::{LlmSettings, Provider};
use crate::services::Services;
use llm::{Llm, Request, Turn};
use std::time::Duration;

/// How long one answer may take before the request is given up.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// What to tell a user who has no provider set: nothing was sent.
pub const NOT_SET: &str = "the assistant is off (no provider set, nothing was sent anywhere): set one with \
     `mantissa settings set llm_provider anthropic|openai|google|bedrock` and \
     `mantissa settings set llm_api_key KEY`, or `:settings` in the console";

/// A provider with the user's settings.
pub struct Assistant {
    llm: Box<dyn Llm>,
    pub settings: LlmSettings,
}

/// Which model a task uses.
#[derive(Debug, Clone, Copy)]
pub enum Task {
    Query,
    Detection,
}

impl Assistant {
    pub fn new(llm: Box<dyn Llm>, settings: LlmSettings) -> Self {
        Assistant { llm, settings }
    }

    /// The user's assistant, or an error saying how to set one up (nothing is sent).
    pub async fn connect(s: &Services, user_id: &str, timeout: Duration) -> Result<Assistant> {
        let Some(settings) = crate::settings::load(s, user_id).await?.llm else {
            return Err(Error::invalid("assistant", NOT_SET));
        };
        let key = crate::settings::api_key(s, &settings).await?;
        let client = llm::client(timeout);
        let base_url = settings.base_url.clone();
        let missing = || {
            Error::invalid(
                "assistant",
                format!(
                    "{} needs an API key: `:set llm_api_key` in the console, `mantissa settings set llm_api_key` \
                     on the command line (kept in the secret store)",
                    settings.provider.name()
                ),
            )
        };
        let llm: Box<dyn Llm> = match settings.provider {
            Provider::Anthropic => {
                Box::new(anthropic::Anthropic { client, base_url, api_key: key.ok_or_else(missing)? })
            }
            // A compatible server named by `llm_base_url` may take no key.
            Provider::OpenAi if key.is_none() && base_url.is_none() => return Err(missing()),
            Provider::OpenAi => Box::new(openai::OpenAi { client, base_url, api_key: key }),
            Provider::Google => {
                Box::new(gemini::Gemini { client, base_url, api_key: key.ok_or_else(missing)? })
            }
            Provider::Bedrock => Box::new(bedrock::Bedrock::from_env(client, base_url).await?),
        };
        Ok(Assistant { llm, settings })
    }

    pub fn provider(&self) -> &'static str {
        self.llm.name()
    }

    /// One completion of the conversation so far.
    pub async fn complete(&self, task: Task, system: &str, turns: &[Turn]) -> Result<String> {
        let model = match task {
            Task::Query => &self.settings.query_model,
            Task::Detection => &self.settings.detection_model,
        };
        let req = Request {
            model: model.clone(),
            system: system.to_string(),
            turns: turns.to_vec(),
            max_tokens: self.settings.max_tokens,
            temperature: self.settings.temperature,
        };
        self.llm.complete(&req).await
    }
}

/// A model id or name as one URL path segment (`:` and `/` escaped, `-` `.` `_` kept).
fn path_segment(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}
