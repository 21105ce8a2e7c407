//! Reading and changing a user's settings through the ports: values checked by
//! [`model::settings`](crate::model::settings), UI preferences kept in one `ui_preferences`
//! map, and the assistant's API key put in the secret store (the settings keep its id).

use crate::error::{Error, Result};
use crate::model::settings::{self, KEYS, Slot, UserSettings};
use crate::services::Services;
use serde_json::Value;

/// The map of UI preferences inside the user's settings item.
pub const UI_PREFERENCES: &str = "ui_preferences";

/// The secret store's name for the user's assistant API key.
pub fn api_key_secret_name(user_id: &str) -> String {
    format!("mantissa-log/users/{user_id}/llm/api-key")
}

pub async fn load(s: &Services, user_id: &str) -> Result<UserSettings> {
    let all = s.settings.all_settings(user_id).await?;
    let ui = all.get(UI_PREFERENCES).cloned().unwrap_or(Value::Null);
    Ok(UserSettings::from_values(|k| all.get(k).cloned().filter(|v| !v.is_null()), &ui))
}

/// Sets `key` to `raw` (empty clears it) and says what was done; the message never repeats
/// an API key.
pub async fn set(s: &Services, user_id: &str, key: &str, raw: &str) -> Result<String> {
    let k = settings::key(key).map_err(|e| Error::invalid("settings", e))?;
    let value = k.parse(raw).map_err(|e| Error::invalid("settings", e))?;
    match (k.slot, value) {
        (Slot::Top(attr), value) => {
            s.settings.put_setting(user_id, attr, value.as_ref().unwrap_or(&Value::Null)).await?;
        }
        (Slot::Ui(field), value) => {
            let mut ui = match s.settings.get_setting(user_id, UI_PREFERENCES).await? {
                Some(Value::Object(m)) => m,
                _ => serde_json::Map::new(),
            };
            match value {
                Some(v) => ui.insert(field.to_string(), v),
                None => ui.remove(field),
            };
            s.settings.put_setting(user_id, UI_PREFERENCES, &Value::Object(ui)).await?;
        }
        (Slot::Secret(attr), Some(_)) => {
            let name = api_key_secret_name(user_id);
            s.secrets.put_secret(&name, raw.trim()).await?;
            s.settings.put_setting(user_id, attr, &Value::String(name)).await?;
            return Ok(format!("{} stored in the secret store (shown masked)", k.name));
        }
        (Slot::Secret(attr), None) => {
            s.secrets.delete_secret(&api_key_secret_name(user_id)).await?;
            s.settings.put_setting(user_id, attr, &Value::Null).await?;
            return Ok(format!("{} removed", k.name));
        }
    }
    Ok(match raw.trim() {
        "" | "none" => format!("{} cleared", k.name),
        v => format!("{} = {v}", k.name),
    })
}

/// One row of `settings list` and the settings view: the key, its value as shown (an API key
/// masked, a default in brackets), and what it accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub key: &'static str,
    pub value: String,
    pub accepts: String,
    pub help: &'static str,
}

pub async fn list(s: &Services, user_id: &str) -> Result<Vec<Shown>> {
    let all = s.settings.all_settings(user_id).await?;
    let ui = all.get(UI_PREFERENCES).cloned().unwrap_or(Value::Null);
    let effective = load(s, user_id).await?;
    let shown = |v: Option<&Value>| match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(crate::text::neutralize(s).into_owned()),
        Some(other) => Some(other.to_string()),
    };
    Ok(KEYS
        .iter()
        .map(|k| {
            let value = match k.slot {
                Slot::Top(attr) => shown(all.get(attr)).or_else(|| default_of(k.name, &effective)),
                Slot::Ui(field) => shown(ui.get(field)).or_else(|| default_of(k.name, &effective)),
                Slot::Secret(attr) => {
                    shown(all.get(attr)).map(|_| "•••••••• (in the secret store)".to_string())
                }
            }
            .unwrap_or_else(|| "(not set)".into());
            Shown { key: k.name, value, accepts: k.accepts(), help: k.help }
        })
        .collect())
}

/// What a key falls back to when unset, in brackets.
fn default_of(key: &str, s: &UserSettings) -> Option<String> {
    let llm = s.llm.as_ref();
    let v = match key {
        "llm_provider" => "none".to_string(),
        "llm_model" => llm?.model.clone(),
        "query_model" => llm?.query_model.clone(),
        "detection_model" => llm?.detection_model.clone(),
        "max_tokens" => llm?.max_tokens.to_string(),
        "temperature" => llm?.temperature.to_string(),
        "default_time_range" => s.ui.default_time_range.name().to_string(),
        "items_per_page" => s.ui.items_per_page.to_string(),
        _ => return None,
    };
    Some(format!("[{v}]"))
}

/// The assistant's API key from the secret store, if one is set.
pub async fn api_key(s: &Services, llm: &settings::LlmSettings) -> Result<Option<String>> {
    match &llm.api_key_secret_id {
        Some(id) => s.secrets.get_secret(id).await,
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_are_checked_kept_per_user_and_the_key_goes_to_the_secret_store() {
        let dir = tempfile::tempdir().unwrap();
        let s = Services::local(dir.path()).await.unwrap();
        assert_eq!(load(&s, "alice").await.unwrap(), UserSettings::default());
        set(&s, "alice", "llm_provider", "anthropic").await.unwrap();
        set(&s, "alice", "max_tokens", "1000").await.unwrap();
        set(&s, "alice", "default_time_range", "7d").await.unwrap();
        set(&s, "alice", "items_per_page", "50").await.unwrap();
        let said = set(&s, "alice", "llm_api_key", "sk-ant-secret-123").await.unwrap();
        assert!(!said.contains("sk-ant"), "{said}");
        assert!(set(&s, "alice", "max_tokens", "9").await.unwrap_err().to_string().contains("from 64"));
        let a = load(&s, "alice").await.unwrap();
        let llm = a.llm.clone().unwrap();
        assert_eq!(llm.max_tokens, 1000);
        assert_eq!(llm.api_key_secret_id.as_deref(), Some("mantissa-log/users/alice/llm/api-key"));
        assert_eq!(api_key(&s, &llm).await.unwrap().as_deref(), Some("sk-ant-secret-123"));
        assert_eq!(a.ui.items_per_page, 50);
        // Nothing of the key is in the settings or the listing.
        let stored = s.settings.all_settings("alice").await.unwrap();
        assert!(!serde_json::to_string(&stored).unwrap().contains("sk-ant"));
        let rows = list(&s, "alice").await.unwrap();
        assert!(rows.iter().all(|r| !r.value.contains("sk-ant")));
        assert!(rows.iter().any(|r| r.key == "llm_model" && r.value == "[claude-sonnet-4-5]"));
        // Bob sees none of Alice's.
        assert_eq!(load(&s, "bob").await.unwrap(), UserSettings::default());
        // Clearing the provider turns the assistant off; clearing the key deletes the secret.
        set(&s, "alice", "llm_api_key", "").await.unwrap();
        assert_eq!(s.secrets.get_secret("mantissa-log/users/alice/llm/api-key").await.unwrap(), None);
        set(&s, "alice", "llm_provider", "none").await.unwrap();
        assert_eq!(load(&s, "alice").await.unwrap().llm, None);
        assert_eq!(load(&s, "alice").await.unwrap().ui.items_per_page, 50);
    }
}
