//! A user's settings: the query assistant's provider and model, and UI preferences. Each key
//! is checked here (allowed values, ranges) before it is stored; the API key itself is never a
//! setting, only the id of the secret that holds it.

use serde_json::{Value, json};

/// The LLM providers the assistant speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Anthropic,
    OpenAi,
    Google,
    Bedrock,
}

impl Provider {
    pub const ALL: [Provider; 4] =
        [Provider::Anthropic, Provider::OpenAi, Provider::Google, Provider::Bedrock];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Google => "google",
            Provider::Bedrock => "bedrock",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == s.trim().to_ascii_lowercase())
    }

    /// The model used when the user names none (each provider's current general model).
    pub fn default_model(self) -> &'static str {
        match self {
            Provider::Anthropic => "claude-sonnet-4-5",
            Provider::OpenAi => "gpt-4.1",
            Provider::Google => "gemini-2.5-flash",
            Provider::Bedrock => "anthropic.claude-3-5-sonnet-20240620-v1:0",
        }
    }

    /// Bedrock signs with the AWS credential chain; the others need an API key (an
    /// OpenAI-compatible local server given by `llm_base_url` may not).
    pub fn needs_key(self) -> bool {
        self != Provider::Bedrock
    }
}

/// The look-back a new query, pivot or timeline starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRange {
    Day,
    Week,
    Month,
}

impl TimeRange {
    pub const NAMES: [&'static str; 3] = ["24h", "7d", "30d"];

    pub fn parse(s: &str) -> Option<TimeRange> {
        match s.trim() {
            "24h" => Some(TimeRange::Day),
            "7d" => Some(TimeRange::Week),
            "30d" => Some(TimeRange::Month),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeRange::Day => "24h",
            TimeRange::Week => "7d",
            TimeRange::Month => "30d",
        }
    }

    pub fn days(self) -> i64 {
        match self {
            TimeRange::Day => 1,
            TimeRange::Week => 7,
            TimeRange::Month => 30,
        }
    }
}

/// Where a key lives in the user's settings item: a top-level attribute, or a field of the
/// `ui_preferences` map (the seed's item layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Top(&'static str),
    Ui(&'static str),
    /// Written to the secret store; the item keeps the secret's id under this attribute.
    Secret(&'static str),
}

/// One key the user may set, with what it accepts.
#[derive(Debug, Clone, Copy)]
pub struct SettingKey {
    pub name: &'static str,
    pub slot: Slot,
    pub help: &'static str,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Url,
    Choice(&'static [&'static str]),
    Integer { min: i64, max: i64 },
    Number { min: f64, max: f64 },
}

const PROVIDERS: &[&str] = &["anthropic", "openai", "google", "bedrock", "none"];
pub const MAX_TOKENS_LIMIT: i64 = 64_000;
pub const DEFAULT_MAX_TOKENS: u32 = 2_048;
pub const DEFAULT_TEMPERATURE: f64 = 0.0;
pub const DEFAULT_ITEMS_PER_PAGE: u32 = 200;

/// Every key, in the order `settings list` shows them.
pub const KEYS: &[SettingKey] = &[
    SettingKey {
        name: "llm_provider",
        slot: Slot::Top("llm_provider"),
        help: "who answers the assistant (none: nothing is sent anywhere)",
        kind: Kind::Choice(PROVIDERS),
    },
    SettingKey {
        name: "llm_model",
        slot: Slot::Top("llm_model"),
        help: "the model, e.g. claude-sonnet-4-5, gpt-4.1, gemini-2.5-flash",
        kind: Kind::Text,
    },
    SettingKey {
        name: "llm_api_key",
        slot: Slot::Secret("api_key_secret_id"),
        help: "the provider's API key (kept in the secret store; shown masked)",
        kind: Kind::Text,
    },
    SettingKey {
        name: "llm_base_url",
        slot: Slot::Top("llm_base_url"),
        help: "another endpoint: an OpenAI-compatible server, a proxy, a Bedrock endpoint",
        kind: Kind::Url,
    },
    SettingKey {
        name: "query_model",
        slot: Slot::Top("query_model"),
        help: "the model for questions turned into SQL (default: llm_model)",
        kind: Kind::Text,
    },
    SettingKey {
        name: "detection_model",
        slot: Slot::Top("detection_model"),
        help: "the model for rule drafts and alert explanations (default: llm_model)",
        kind: Kind::Text,
    },
    SettingKey {
        name: "max_tokens",
        slot: Slot::Top("max_tokens"),
        help: "the longest answer, in tokens",
        kind: Kind::Integer { min: 64, max: MAX_TOKENS_LIMIT },
    },
    SettingKey {
        name: "temperature",
        slot: Slot::Top("temperature"),
        help: "0 answers the same way each time; higher varies more",
        kind: Kind::Number { min: 0.0, max: 2.0 },
    },
    SettingKey {
        name: "theme",
        slot: Slot::Ui("theme"),
        help: "the console's theme (a name from `:theme`)",
        kind: Kind::Text,
    },
    SettingKey {
        name: "default_time_range",
        slot: Slot::Ui("default_time_range"),
        help: "the look-back of new queries, pivots and timelines",
        kind: Kind::Choice(&TimeRange::NAMES),
    },
    SettingKey {
        name: "items_per_page",
        slot: Slot::Ui("items_per_page"),
        help: "alerts loaded per page in the console",
        kind: Kind::Integer { min: 10, max: 5_000 },
    },
];

/// The key named, or an error that lists the keys and the closest one.
pub fn key(name: &str) -> Result<&'static SettingKey, String> {
    let name = name.trim();
    KEYS.iter().find(|k| k.name == name).ok_or_else(|| {
        let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        let close = names
            .iter()
            .map(|n| (strsim::jaro_winkler(n, name), *n))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        format!("unknown setting `{name}`: {close}the settings are {}", names.join(", "))
    })
}

impl SettingKey {
    /// The allowed values in words, for errors and the settings view.
    pub fn accepts(&self) -> String {
        match self.kind {
            Kind::Text => "text".into(),
            Kind::Url => "an http(s) URL".into(),
            Kind::Choice(c) => c.join("|"),
            Kind::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Number { min, max } => format!("a number from {min} to {max}"),
        }
    }

    /// The value as stored, or why `raw` is refused (never repeating a secret). An empty
    /// value clears the key.
    pub fn parse(&self, raw: &str) -> Result<Option<Value>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let refuse = |shown: &str| Err(format!("{}: `{shown}` is not {}", self.name, self.accepts()));
        let value = match self.kind {
            Kind::Text if raw.chars().any(char::is_control) => {
                return Err(format!("{}: control characters are not allowed", self.name));
            }
            Kind::Text if raw.len() > 4_096 => return Err(format!("{}: longer than 4096 bytes", self.name)),
            Kind::Text => json!(raw),
            Kind::Url => match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                    json!(raw.trim_end_matches('/'))
                }
                _ => return refuse(raw),
            },
            Kind::Choice(c) => match c.iter().find(|v| v.eq_ignore_ascii_case(raw)) {
                Some(v) if *v == "none" => return Ok(None),
                Some(v) => json!(v),
                None => return refuse(raw),
            },
            Kind::Integer { min, max } => match raw.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => json!(n),
                _ => return refuse(raw),
            },
            Kind::Number { min, max } => match raw.parse::<f64>() {
                Ok(n) if n.is_finite() && (min..=max).contains(&n) => json!(n),
                _ => return refuse(raw),
            },
        };
        Ok(Some(value))
    }
}

/// The assistant's settings, read from the user's item.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmSettings {
    pub provider: Provider,
    pub model: String,
    pub query_model: String,
    pub detection_model: String,
    pub base_url: Option<String>,
    pub api_key_secret_id: Option<String>,
    pub max_tokens: u32,
    pub temperature: f64,
}

/// What the console honours.
#[derive(Debug, Clone, PartialEq)]
pub struct UiPreferences {
    pub theme: Option<String>,
    pub default_time_range: TimeRange,
    pub items_per_page: u32,
}

impl Default for UiPreferences {
    fn default() -> Self {
        UiPreferences {
            theme: None,
            default_time_range: TimeRange::Day,
            items_per_page: DEFAULT_ITEMS_PER_PAGE,
        }
    }
}

/// A user's settings as read: the assistant (none when no provider is set) and UI preferences.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserSettings {
    pub llm: Option<LlmSettings>,
    pub ui: UiPreferences,
}

impl UserSettings {
    /// From the stored attributes (`top` for top-level keys, `ui` for `ui_preferences`). A
    /// stored value out of range (written by an older version, or by hand) falls back to
    /// the default rather than being used.
    pub fn from_values(top: impl Fn(&str) -> Option<Value>, ui: &Value) -> Self {
        let text =
            |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string)).filter(|s| !s.is_empty());
        let checked = |name: &str, v: Option<Value>| {
            let raw = match v? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            key(name).ok()?.parse(&raw).ok().flatten()
        };
        let llm = text(top("llm_provider")).and_then(|p| Provider::parse(&p)).map(|provider| {
            let model = text(top("llm_model")).unwrap_or_else(|| provider.default_model().to_string());
            LlmSettings {
                provider,
                query_model: text(top("query_model")).unwrap_or_else(|| model.clone()),
                detection_model: text(top("detection_model")).unwrap_or_else(|| model.clone()),
                model,
                base_url: text(top("llm_base_url")),
                api_key_secret_id: text(top("api_key_secret_id")),
                max_tokens: checked("max_tokens", top("max_tokens"))
                    .and_then(|v| v.as_u64())
                    .map_or(DEFAULT_MAX_TOKENS, |n| n as u32),
                temperature: checked("temperature", top("temperature"))
                    .and_then(|v| v.as_f64())
                    .unwrap_or(DEFAULT_TEMPERATURE),
            }
        });
        let ui_field = |k: &str| ui.get(k).cloned();
        let prefs = UiPreferences {
            theme: text(ui_field("theme")),
            default_time_range: text(ui_field("default_time_range"))
                .and_then(|t| TimeRange::parse(&t))
                .unwrap_or(TimeRange::Day),
            items_per_page: checked("items_per_page", ui_field("items_per_page"))
                .and_then(|v| v.as_u64())
                .map_or(DEFAULT_ITEMS_PER_PAGE, |n| n as u32),
        };
        UserSettings { llm, ui: prefs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_check_their_values_and_name_what_is_allowed() {
        let provider = key("llm_provider").unwrap();
        assert_eq!(provider.parse("Anthropic").unwrap(), Some(json!("anthropic")));
        assert_eq!(provider.parse("none").unwrap(), None);
        let e = provider.parse("claude").unwrap_err();
        assert!(e.contains("anthropic|openai|google|bedrock|none"), "{e}");
        let tokens = key("max_tokens").unwrap();
        assert_eq!(tokens.parse("1024").unwrap(), Some(json!(1024)));
        assert!(tokens.parse("0").unwrap_err().contains("from 64 to 64000"));
        assert!(tokens.parse("lots").is_err());
        let temp = key("temperature").unwrap();
        assert!(temp.parse("NaN").is_err());
        assert!(temp.parse("2.5").is_err());
        assert_eq!(temp.parse("0.2").unwrap(), Some(json!(0.2)));
        assert!(key("default_time_range").unwrap().parse("1y").unwrap_err().contains("24h|7d|30d"));
        assert!(key("llm_base_url").unwrap().parse("ftp://x").is_err());
        assert_eq!(
            key("llm_base_url").unwrap().parse("http://127.0.0.1:8080/v1/").unwrap(),
            Some(json!("http://127.0.0.1:8080/v1"))
        );
        assert!(key("llm_model").unwrap().parse("a\x1b[2Jb").is_err());
        let e = key("temprature").unwrap_err();
        assert!(e.contains("did you mean `temperature`?"), "{e}");
    }

    #[test]
    fn stored_values_out_of_range_fall_back_to_defaults() {
        let top = |k: &str| match k {
            "llm_provider" => Some(json!("openai")),
            "max_tokens" => Some(json!(10_000_000)),
            "temperature" => Some(json!("0.5")),
            _ => None,
        };
        let s = UserSettings::from_values(top, &json!({"items_per_page": -3, "default_time_range": "7d"}));
        let llm = s.llm.unwrap();
        assert_eq!(llm.provider, Provider::OpenAi);
        assert_eq!(llm.model, "gpt-4.1");
        assert_eq!(llm.query_model, "gpt-4.1");
        assert_eq!(llm.max_tokens, DEFAULT_MAX_TOKENS);
        assert_eq!(llm.temperature, 0.5);
        assert_eq!(s.ui.items_per_page, DEFAULT_ITEMS_PER_PAGE);
        assert_eq!(s.ui.default_time_range, TimeRange::Week);
        assert_eq!(UserSettings::from_values(|_| None, &Value::Null), UserSettings::default());
    }
}
