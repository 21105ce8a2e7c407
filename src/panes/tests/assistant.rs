//! The assistant and the settings from the keyboard: off until a provider is set (and then
//! nothing is sent), questions become jobs, drafts land in the editors, an explanation's
//! follow-ups open on digits, and the API key is typed masked.

use super::*;
use mantissa_backend::assist::query::{QueryDraft, Scan};
use mantissa_backend::model::settings::{LlmSettings, Provider};

fn with_provider(a: &mut App) {
    a.settings.llm = Some(LlmSettings {
        provider: Provider::Anthropic,
        model: "m".into(),
        query_model: "m".into(),
        detection_model: "m".into(),
        base_url: None,
        api_key_secret_id: Some("id".into()),
        max_tokens: 1000,
        temperature: 0.0,
    });
}

fn f4(a: &mut App) -> Vec<crate::app::Job> {
    special(a, KeyCode::F(4))
}

#[test]
fn with_no_provider_the_keys_say_how_to_set_one_and_nothing_is_asked() {
    let mut a = app();
    assert!(f4(&mut a).is_empty());
    assert!(a.ui.prompt.is_none());
    let (is_error, text) = a.ui.message.clone().unwrap();
    assert!(is_error && text.contains(":set llm_provider anthropic|openai|google|bedrock"), "{text}");
    assert!(a.run_command("ask failed logins").is_empty());
    a.update(Msg::Alerts(vec![alert("a1", Severity::High, 5, DeliveryStatus::Delivered)]));
    a.pane = Pane::Alerts;
    assert!(press(&mut a, "E").is_empty());
    assert!(a.ui.confirm.is_none(), "nothing to confirm: nothing would be sent");
}

#[test]
fn a_question_becomes_sql_in_the_editor_with_its_cost() {
    let mut a = app();
    with_provider(&mut a);
    assert!(f4(&mut a).is_empty());
    let jobs = type_and_enter(&mut a, "failed logins by ip");
    assert!(matches!(&jobs[..], [crate::app::Job::Ask(q)] if q == "failed logins by ip"), "{jobs:?}");
    let sql = "SELECT sourceipaddress FROM cloudtrail_logs WHERE dt >= '2026-11-30'";
    let scan = vec![Scan { table: "cloudtrail_logs".into(), dt_filtered: true, bytes: Some(2 << 20) }];
    a.pane = Pane::Rules;
    a.update(Msg::QueryDrafted(Ok(QueryDraft { sql: sql.into(), problem: None, corrected: true, scan })));
    assert_eq!(a.pane, Pane::Query);
    assert_eq!(a.query.sql(), sql);
    let text = a.ui.message.clone().unwrap().1;
    assert!(
        text.contains("(corrected once)") && text.contains("of 2.0 MB") && text.contains("F5 runs it"),
        "{text}"
    );
    // Nothing ran: the analyst reads it first.
    assert!(a.query.running.is_none());
}

#[test]
fn an_explanation_offers_its_follow_up_queries_on_digits() {
    let mut a = app();
    with_provider(&mut a);
    a.update(Msg::Alerts(vec![alert("a1", Severity::High, 5, DeliveryStatus::Delivered)]));
    a.pane = Pane::Alerts;
    assert!(press(&mut a, "E").is_empty());
    assert!(a.ui.confirm.as_ref().unwrap().0.contains("sample rows (log data) to anthropic"));
    let jobs = press(&mut a, "y");
    assert!(matches!(&jobs[..], [crate::app::Job::Explain(al)] if al.id == "a1"), "{jobs:?}");
    let explanation = mantissa_backend::assist::explain::Explanation {
        summary: "The root user signed in from an unknown address.".into(),
        queries: vec![
            ("What root did next".into(), "SELECT eventname FROM cloudtrail_logs".into(), None),
            ("Broken".into(), "SELECT nosuch FROM cloudtrail_logs".into(), Some("no column `nosuch`".into())),
        ],
    };
    a.update(Msg::Explained(Ok(explanation)));
    let screen = draw(&a, 80, 24);
    assert!(
        screen.contains("The root user signed in") && screen.contains("1  What root did next"),
        "{screen}"
    );
    assert!(screen.contains("does not plan: no column `nosuch`"), "{screen}");
    press(&mut a, "1");
    assert!(a.ui.popup.is_none());
    assert_eq!((a.pane, a.query.sql()), (Pane::Query, "SELECT eventname FROM cloudtrail_logs".to_string()));
}

#[test]
fn settings_are_set_from_the_command_line_and_the_key_is_typed_masked() {
    let mut a = app();
    assert!(matches!(&a.run_command("settings")[..], [crate::app::Job::LoadSettings { view: true }]));
    assert!(a.run_command("set temprature 1").is_empty());
    assert!(a.ui.message.clone().unwrap().1.contains("did you mean `temperature`?"));
    assert!(a.run_command("set max_tokens 5").is_empty());
    assert!(a.ui.message.clone().unwrap().1.contains("from 64 to 64000"));
    let jobs = a.run_command("set default_time_range 7d");
    assert!(
        matches!(&jobs[..], [crate::app::Job::SetSetting { key, value }] if key == "default_time_range" && value.0 == "7d")
    );
    // A key on the command line would be on screen: refused, and asked for masked instead.
    assert!(a.run_command("set llm_api_key sk-ant-visible").is_empty());
    assert!(a.run_command("set llm_api_key").is_empty());
    let jobs = type_and_enter(&mut a, "sk-ant-typed-secret");
    let [crate::app::Job::SetSetting { key: name, value }] = &jobs[..] else { panic!("{jobs:?}") };
    assert_eq!((name.as_str(), value.0.as_str()), ("llm_api_key", "sk-ant-typed-secret"));
    assert!(!format!("{jobs:?}").contains("sk-ant"), "Debug hides the key");
    assert!(a.run_command("set llm_api_key").is_empty());
    for c in "sk-ant-typed".chars() {
        a.handle_key(key(c));
    }
    let screen = draw(&a, 80, 24);
    assert!(!screen.contains("sk-ant") && screen.contains("••••••••••••"), "{screen}");
    // Saved: the settings are read again and the preferences applied.
    special(&mut a, KeyCode::Esc);
    a.update(Msg::SettingSaved(Ok("items_per_page = 50".into())));
    assert!(matches!(&a.ui.queued[..], [crate::app::Job::LoadSettings { view: false }]));
    let mut s = mantissa_backend::model::settings::UserSettings::default();
    s.ui.items_per_page = 50;
    a.update(Msg::Settings { view: false, settings: Ok((s, vec![])) });
    assert_eq!(a.alerts.page_size(), 50);
}

#[test]
fn a_rule_draft_opens_in_the_editor_with_what_its_checks_say() {
    let mut a = app();
    with_provider(&mut a);
    a.pane = Pane::Rules;
    assert!(press(&mut a, "a").is_empty());
    let jobs = type_and_enter(&mut a, "root sign-ins");
    assert!(matches!(&jobs[..], [crate::app::Job::DraftRule(q)] if q == "root sign-ins"), "{jobs:?}");
    let draft = mantissa_backend::assist::rule::RuleDraft {
        yaml: "id: drafted\nname: Drafted\nquery: SELECT 1\n".into(),
        problems: vec![],
        tests_passed: (2, 2),
        corrected: false,
    };
    a.update(Msg::RuleDrafted(Ok(draft)));
    assert_eq!(a.pane, Pane::Rules);
    assert!(a.rules.editor.is_some());
    assert!(draw(&a, 80, 24).contains("id: drafted"));
    assert!(a.ui.message.clone().unwrap().1.contains("passes validate and its tests (2/2); Ctrl-s saves it"));
}
