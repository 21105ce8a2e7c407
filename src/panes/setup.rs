//! Integration setup forms (Slack, Jira, PagerDuty, email, webhook, file): the fields of each
//! kind, the integration they make, and the form's actions (check, test-send, Jira projects,
//! save with the secret going to the secret store).

use crate::component::{Job, SecretText, Ui};
use crate::config::keymap::Action;
use crate::widgets::form::{Field, FieldKind, Form};
use crate::widgets::picker::{Picker, PickerKind};
use mantissa_backend::deliver::setup::secret_label;
use mantissa_backend::model::{Integration, IntegrationKind, Severity};
use mantissa_backend::rules::import::slug;
use serde_json::{Map, Value, json};

const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];
const YES_NO: &[&str] = &["yes", "no"];
const TLS: &[&str] = &["starttls", "tls", "none"];
const METHODS: &[&str] = &["POST", "PUT"];

/// The kinds offered by `new`, with what each sends.
pub const KINDS: &[(IntegrationKind, &str, &str)] = &[
    (IntegrationKind::Slack, "slack", "Slack: a message through an incoming webhook"),
    (IntegrationKind::Jira, "jira", "Jira: an issue in a project (Jira Cloud REST v3)"),
    (IntegrationKind::PagerDuty, "pagerduty", "PagerDuty: an incident through Events API v2"),
    (IntegrationKind::Email, "email", "Email: a message over SMTP"),
    (IntegrationKind::Webhook, "webhook", "Webhook: the alert as JSON to any URL"),
    (IntegrationKind::File, "file", "File: one JSON line per alert, appended"),
];

pub fn kind_name(kind: IntegrationKind) -> &'static str {
    KINDS.iter().find(|(k, ..)| *k == kind).map_or("?", |(_, n, _)| n)
}

/// The picker `new` opens: which kind to set up.
pub fn kinds_picker() -> Picker {
    let items = KINDS.iter().map(|(_, name, what)| (what.to_string(), name.to_string())).collect();
    Picker::new(PickerKind::IntegrationKind, "set up an integration", items)
}

/// An open setup form: a new integration, or an existing one being changed.
#[derive(Debug, Clone)]
pub struct Setup {
    pub kind: IntegrationKind,
    pub existing: Option<Integration>,
    pub form: Form,
    /// A test send or project lookup is on its way.
    pub busy: bool,
}

fn config_text(i: Option<&Integration>, key: &str) -> String {
    match i.and_then(|i| i.config.get(key)) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

impl Setup {
    /// `lookup_key` is named in the Jira project field's hint.
    pub fn new(kind: IntegrationKind, existing: Option<Integration>, lookup_key: &str) -> Self {
        let e = existing.as_ref();
        let cfg = |key: &'static str, label: &'static str, kind: FieldKind| {
            Field::new(key, label, kind).value(config_text(e, key))
        };
        let mut fields = vec![
            Field::new("name", "name", FieldKind::Text)
                .required()
                .hint("how rules and :route name it, e.g. secops-slack")
                .value(e.map(|i| i.name.clone()).unwrap_or_default()),
            Field::new("min_severity", "min severity", FieldKind::Choice(SEVERITIES))
                .hint("alerts below this severity are not sent here (Left/Right)")
                .value(e.map_or("medium", |i| i.min_severity.as_str())),
            Field::new("enabled", "enabled", FieldKind::Choice(YES_NO))
                .value(if e.is_none_or(|i| i.enabled) { "yes" } else { "no" }),
        ];
        let secret = |required: bool| {
            let f = Field::new("secret", "secret", FieldKind::Secret).hint(format!(
                "{}: kept in the secret store, never shown",
                secret_label(kind).unwrap_or("secret")
            ));
            if required && e.is_none_or(|i| i.secret_ref.is_none()) { f.required() } else { f }
        };
        match kind {
            IntegrationKind::Slack => fields.extend([
                secret(true),
                cfg("mention", "mention", FieldKind::Text)
                    .hint("who is pinged on critical alerts; empty: <!channel>"),
            ]),
            IntegrationKind::Jira => fields.extend([
                cfg("base_url", "site URL", FieldKind::Text)
                    .required()
                    .hint("https://your-site.atlassian.net"),
                cfg("email", "account email", FieldKind::Text)
                    .required()
                    .hint("the Atlassian account of the token"),
                secret(true),
                cfg("project_key", "project", FieldKind::Text)
                    .required()
                    .hint(format!("project key; {lookup_key} lists the projects the credentials can see")),
                cfg("issue_type", "issue type", FieldKind::Text).hint("empty: Task"),
                cfg("labels", "labels", FieldKind::List).hint("comma-separated, added to every issue"),
            ]),
            IntegrationKind::PagerDuty => fields.extend([
                secret(true),
                cfg("source", "source", FieldKind::Text).hint("empty: mantissa-log"),
                cfg("dedup_key_prefix", "dedup prefix", FieldKind::Text).hint("empty: mantissa"),
                cfg("url", "events URL", FieldKind::Text)
                    .hint("empty: https://events.pagerduty.com/v2/enqueue"),
            ]),
            IntegrationKind::Email => fields.extend([
                cfg("host", "SMTP host", FieldKind::Text).required().hint("e.g. smtp.example.com"),
                cfg("port", "port", FieldKind::Number).hint("empty: 587"),
                Field::new("tls", "TLS", FieldKind::Choice(TLS)).value(match config_text(e, "tls") {
                    t if t.is_empty() => "starttls".to_string(),
                    t => t,
                }),
                cfg("from", "from", FieldKind::Text).required().hint("Mantissa Log <siem@example.com>"),
                cfg("to", "to", FieldKind::List).required().hint("comma-separated addresses"),
                secret(false),
            ]),
            IntegrationKind::Webhook => fields.extend([
                // The URL and header values are kept in the secret store (tokens ride in them):
                // when editing, empty keeps the stored ones.
                match e.and_then(|i| i.config.get("endpoint")).and_then(|v| v.as_str()) {
                    Some(endpoint) if e.is_some_and(|i| i.secret_ref.is_some()) => {
                        cfg("url", "URL", FieldKind::Text)
                            .hint(format!("stored: {endpoint} (type to replace; kept as a secret)"))
                    }
                    _ => cfg("url", "URL", FieldKind::Text)
                        .required()
                        .hint("receives the alert as JSON; kept as a secret"),
                },
                Field::new("method", "method", FieldKind::Choice(METHODS)).value(
                    match config_text(e, "method") {
                        m if m.is_empty() => "POST".to_string(),
                        m => m.to_ascii_uppercase(),
                    },
                ),
                match e.and_then(|i| i.config.get("header_names")).and_then(|v| v.as_array()) {
                    Some(names) if !names.is_empty() => {
                        cfg("headers", "headers", FieldKind::Pairs).hint(format!(
                            "stored: {} (type all to replace; values kept as secrets)",
                            names.iter().filter_map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    }
                    _ => cfg("headers", "headers", FieldKind::Pairs)
                        .hint("Name: value; ... (${SECRET} is replaced by the secret; kept as secrets)"),
                },
                secret(false),
                cfg("timeout_secs", "timeout s", FieldKind::Number).hint("empty: 10"),
            ]),
            IntegrationKind::File => fields.push(
                cfg("path", "path", FieldKind::Text)
                    .required()
                    .hint("a JSON line per alert is appended here"),
            ),
        }
        let verb = if existing.is_some() { "change" } else { "new" };
        let mut form = Form::new(format!("{verb} {} integration", kind_name(kind)), fields);
        if let Some(r) = e.and_then(|i| i.secret_ref.as_ref()) {
            form.secret_kept = Some("stored (type to replace)".into());
            form.fields
                .iter_mut()
                .filter(|f| f.key == "secret")
                .for_each(|f| f.hint = format!("stored as {r}"));
        }
        Setup { kind, existing, form, busy: false }
    }

    /// The integration the form describes and the secret typed (none: keep the stored one).
    /// `complete`: every required field must be filled (a project lookup needs only some).
    pub fn build(&self, user: &str, complete: bool) -> Result<(Integration, Option<SecretText>), String> {
        if let Some(label) = self.form.missing().filter(|_| complete) {
            return Err(format!("{label}: required"));
        }
        let name = self.form.get("name").to_string();
        let mut config = Map::new();
        for field in &self.form.fields {
            let text = field.input.text.trim();
            if text.is_empty() || matches!(field.key, "name" | "min_severity" | "enabled" | "secret") {
                continue;
            }
            let value = match field.kind {
                FieldKind::Number => {
                    json!(
                        text.parse::<u64>()
                            .map_err(|_| format!("{}: a whole number, not `{text}`", field.label))?
                    )
                }
                FieldKind::List => {
                    json!(text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>())
                }
                FieldKind::Pairs => {
                    let mut map = Map::new();
                    for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                        let (k, v) = pair
                            .split_once(':')
                            .ok_or_else(|| format!("{}: write `Name: value`, not `{pair}`", field.label))?;
                        map.insert(k.trim().to_string(), json!(v.trim()));
                    }
                    Value::Object(map)
                }
                _ => json!(text),
            };
            config.insert(field.key.to_string(), value);
        }
        let old = self.existing.as_ref();
        let integration = Integration {
            id: old.map(|i| i.id.clone()).unwrap_or_else(|| slug(&name)),
            user_id: user.to_string(),
            kind: self.kind,
            name,
            enabled: self.form.get("enabled") == "yes",
            min_severity: self.form.get("min_severity").parse::<Severity>().unwrap_or(Severity::Medium),
            config: Value::Object(config),
            secret_ref: old.and_then(|i| i.secret_ref.clone()),
            created_at: old.map_or_else(chrono::Utc::now, |i| i.created_at),
        };
        if integration.id.is_empty() && complete {
            return Err("name: use letters or digits".into());
        }
        let secret =
            Some(self.form.get("secret")).filter(|s| !s.is_empty()).map(|s| SecretText(s.to_string()));
        Ok((integration, secret))
    }
}

impl Setup {
    /// The form's actions: move between fields, save, test-send, look up Jira projects.
    /// `taken` says whether an integration id is in use already.
    pub fn act(&mut self, action: Action, ui: &mut Ui, taken: impl Fn(&str) -> bool) -> Vec<Job> {
        match action {
            Action::NextField => self.form.step(1),
            Action::PrevField => self.form.step(-1),
            Action::SaveForm | Action::TestForm | Action::Lookup => {
                let (integration, secret) = match self.build(&ui.user, action != Action::Lookup) {
                    Ok(b) => b,
                    Err(e) => {
                        self.form.status = Some((true, e));
                        return vec![];
                    }
                };
                let (status, job) = match action {
                    Action::SaveForm if ui.read_only => {
                        self.form.status = Some((true, "read-only session: saving is refused".into()));
                        return vec![];
                    }
                    Action::SaveForm if self.existing.is_none() && taken(&integration.id) => {
                        let why = format!("name: `{}` is taken; choose another name", integration.id);
                        self.form.status = Some((true, why));
                        return vec![];
                    }
                    Action::SaveForm => ("saving…", Job::SaveIntegration { integration, secret }),
                    Action::TestForm => ("sending a test alert…", Job::TestSetup { integration, secret }),
                    _ if self.kind == IntegrationKind::Jira => {
                        ("asking Jira for projects…", Job::JiraProjects { integration, secret })
                    }
                    _ => {
                        self.form.status = Some((true, "nothing to look up for this kind".into()));
                        return vec![];
                    }
                };
                self.busy = true;
                self.form.status = Some((false, status.into()));
                return vec![job];
            }
            _ => {}
        }
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{App, Context, Msg, jobs};
    use crate::panes::Pane;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::sync::{Arc, Mutex};

    fn press(app: &mut App, code: KeyCode) -> Vec<Job> {
        app.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
    }
    fn ctrl(app: &mut App, c: char) -> Vec<Job> {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }
    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            press(app, KeyCode::Char(c));
        }
    }
    fn screen(app: &App) -> String {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| crate::app::frame::render(app, f)).unwrap();
        let buf = t.backend().buffer().clone();
        buf.content.chunks(80).map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n").collect()
    }

    /// The job's one reply, from the real backend.
    async fn reply(ctx: &Context, mut jobs_asked: Vec<Job>) -> Msg {
        assert_eq!(jobs_asked.len(), 1, "{jobs_asked:?}");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        jobs::spawn(ctx, jobs_asked.remove(0), tx);
        rx.recv().await.expect("the job replies")
    }

    type Seen = Arc<Mutex<Vec<serde_json::Value>>>;

    /// Jira Cloud's project search and issue creation on loopback, for soc@example.com with
    /// the token `jira-token` only.
    async fn fake_jira() -> (String, Seen) {
        use base64::Engine;
        let seen: Seen = Arc::default();
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("soc@example.com:jira-token")
        );
        let ok =
            move |h: &HeaderMap| h.get("authorization").and_then(|v| v.to_str().ok()) == Some(auth.as_str());
        let (ok2, seen2) = (ok.clone(), seen.clone());
        let app = axum::Router::new()
            .route(
                "/rest/api/3/project/search",
                axum::routing::get(move |h: HeaderMap| async move {
                    if !ok(&h) {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    axum::Json(json!({"isLast": true, "values": [
                        {"id": "1", "key": "SEC", "name": "Security Operations"},
                        {"id": "2", "key": "IR", "name": "Incident Response"}
                    ]}))
                    .into_response()
                }),
            )
            .route(
                "/rest/api/3/issue",
                axum::routing::post(move |h: HeaderMap, axum::Json(body): axum::Json<Value>| async move {
                    if !ok2(&h) {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    seen2.lock().unwrap().push(body);
                    (StatusCode::CREATED, axum::Json(json!({"id": "10001", "key": "SEC-7"}))).into_response()
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), seen)
    }

    #[tokio::test]
    async fn jira_is_set_up_from_the_keyboard_projects_fetched_tested_and_saved() {
        let dir = tempfile::TempDir::new().unwrap();
        let ctx = Context::for_tests(dir.path()).await;
        let (base, seen) = fake_jira().await;
        let mut app = App::new(String::new(), false);
        app.pane = Pane::Integrations;

        press(&mut app, KeyCode::Char('n'));
        type_text(&mut app, "jira");
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.integrations.setup.as_ref().map(|s| s.kind), Some(IntegrationKind::Jira));
        // Saving too early names the first field to fill.
        ctrl(&mut app, 's');
        assert_eq!(
            app.integrations.setup.as_ref().unwrap().form.status,
            Some((true, "name: required".into()))
        );

        type_text(&mut app, "SecOps Jira");
        press(&mut app, KeyCode::Tab);
        press(&mut app, KeyCode::Right); // min severity medium -> high
        press(&mut app, KeyCode::Tab);
        press(&mut app, KeyCode::Tab); // enabled stays yes
        type_text(&mut app, &base);
        press(&mut app, KeyCode::Enter);
        type_text(&mut app, "soc@example.com");
        press(&mut app, KeyCode::Enter);
        type_text(&mut app, "jira-token");
        press(&mut app, KeyCode::Enter);
        let drawn = screen(&app);
        assert!(drawn.contains("••••••••••") && !drawn.contains("jira-token"), "{drawn}");

        // The projects the typed credentials see, picked from a list.
        let msg = reply(&ctx, ctrl(&mut app, 'f')).await;
        app.update(msg);
        assert!(screen(&app).contains("SEC  Security Operations"));
        type_text(&mut app, "incident");
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.integrations.setup.as_ref().unwrap().form.get("project_key"), "IR");

        // A test alert with these settings, before anything is saved.
        let msg = reply(&ctx, ctrl(&mut app, 't')).await;
        app.update(msg);
        let status = app.integrations.setup.as_ref().unwrap().form.status.clone().unwrap();
        assert_eq!(status, (false, "test alert sent (HTTP 201): check it arrived, then save".into()));
        assert_eq!(seen.lock().unwrap()[0]["fields"]["project"]["key"], "IR");

        let msg = reply(&ctx, ctrl(&mut app, 's')).await;
        app.update(msg);
        assert!(app.integrations.setup.is_none(), "the form closes once saved");
        let note = app.ui.message.clone().unwrap().1;
        assert!(note.contains("saved integration secops-jira (jira); secret stored as mantissa-log/users/analyst/integrations/secops-jira"), "{note}");
        let saved = ctx.s.integrations.get_integration("analyst", "secops-jira").await.unwrap().unwrap();
        assert_eq!((saved.min_severity, saved.config["project_key"].as_str()), (Severity::High, Some("IR")));
        let secret = ctx.s.secrets.get_secret(saved.secret_ref.as_deref().unwrap()).await.unwrap();
        assert_eq!(secret.as_deref(), Some("jira-token"));
        assert!(!serde_json::to_string(&saved).unwrap().contains("jira-token"));

        // Changing it later keeps the stored secret unless a new one is typed.
        app.integrations.list.items = vec![(saved, None)];
        press(&mut app, KeyCode::Char('e'));
        let drawn = screen(&app);
        assert!(drawn.contains("secret         stored (type to replace)"), "{drawn}");
        let msg = reply(&ctx, ctrl(&mut app, 't')).await;
        app.update(msg);
        assert!(
            !app.integrations.setup.as_ref().unwrap().form.status.as_ref().unwrap().0,
            "the stored token is used"
        );
        press(&mut app, KeyCode::Esc);
        assert!(app.integrations.setup.is_none());
    }

    #[test]
    fn every_kind_builds_its_config_and_bad_values_name_the_field() {
        let mut webhook = Setup::new(IntegrationKind::Webhook, None, "Ctrl-f");
        webhook.form.set("name", "SOC hook");
        webhook.form.set("url", "https://hooks.example.com/x");
        webhook.form.set("headers", "Authorization: Bearer ${SECRET}; X-Env: prod");
        webhook.form.set("timeout_secs", "5");
        let (i, secret) = webhook.build("u", true).unwrap();
        assert_eq!(i.id, "soc-hook");
        assert!(secret.is_none());
        assert_eq!(
            i.config,
            json!({"url": "https://hooks.example.com/x", "method": "POST", "timeout_secs": 5,
                   "headers": {"Authorization": "Bearer ${SECRET}", "X-Env": "prod"}})
        );
        webhook.form.set("timeout_secs", "soon");
        assert_eq!(webhook.build("u", true).unwrap_err(), "timeout s: a whole number, not `soon`");

        let mut email = Setup::new(IntegrationKind::Email, None, "Ctrl-f");
        email.form.set("name", "mail");
        email.form.set("host", "smtp.example.com");
        email.form.set("from", "siem@example.com");
        email.form.set("to", "a@example.com, b@example.com");
        let (i, _) = email.build("u", true).unwrap();
        assert_eq!(i.config["to"], json!(["a@example.com", "b@example.com"]));
        assert_eq!(i.config["tls"], "starttls");
        mantissa_backend::deliver::setup::check(&i, None).unwrap();

        for (kind, ..) in KINDS {
            let setup = Setup::new(*kind, None, "Ctrl-f");
            assert!(setup.build("u", true).unwrap_err().starts_with("name"), "{kind:?}");
        }
    }

    #[test]
    fn the_form_at_80x24() {
        let mut app = App::new(String::new(), false);
        app.ui.theme = app.ui.theme.without_color();
        app.pane = Pane::Integrations;
        let mut setup = Setup::new(IntegrationKind::Email, None, "Ctrl-f");
        setup.form.set("name", "soc-mail");
        setup.form.set("secret", "smtp-user:hunter2");
        setup.form.focus = 3;
        app.integrations.setup = Some(setup);
        insta::assert_snapshot!(screen(&app));
    }
}
