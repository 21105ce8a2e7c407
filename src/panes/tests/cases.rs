//! The cases pane driven from the keyboard: marked alerts into a case, a case's detail and
//! timeline, the suggestions, ownership, notes and closing.

use super::*;
use crate::app::Job;
use mantissa_backend::cases::{CaseView, Change, TimelineEntry, suggest::Suggestion};
use mantissa_backend::model::{Case, CaseStatus, Classification};
use mantissa_backend::timeline::EntityKind;

pub fn case(id: &str, title: &str, mins: i64, alerts: &[&str]) -> Case {
    let at = Utc::now() - Duration::minutes(mins);
    let mut c = Case::new(id, "analyst", title, "alice", at);
    c.alert_ids = alerts.iter().map(|a| a.to_string()).collect();
    c.alert_severity = Severity::Critical;
    c.version = 1;
    c
}

/// Fixed times: the detail shows them whole.
fn at() -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").unwrap().with_timezone(&Utc)
}

fn view(a: &App) -> CaseView {
    let mut c = a.cases.list.items[0].clone();
    let at = at();
    (c.created_at, c.updated_at) = (at, at + Duration::minutes(2));
    let mut alerts = a.alerts.list.items.clone();
    for (i, alert) in alerts.iter_mut().enumerate() {
        alert.window_start = at - Duration::minutes(30 * (i as i64 + 1));
    }
    CaseView {
        case: c,
        alerts,
        missing: vec![],
        entities: vec![(EntityKind::Ip, "45.155.205.233".into(), 2)],
        timeline: vec![
            TimelineEntry {
                at,
                subject: "case".into(),
                who: "alice".into(),
                what: "opened: intruder".into(),
            },
            TimelineEntry {
                at: at + Duration::minutes(1),
                subject: "Root account used".into(),
                who: "bob".into(),
                what: "status: open → acknowledged".into(),
            },
        ],
    }
}

#[test]
fn marked_alerts_make_a_case_or_join_an_open_one() {
    let mut a = filled();
    a.pane = Pane::Alerts;
    special(&mut a, KeyCode::Char(' '));
    special(&mut a, KeyCode::Char(' '));
    press(&mut a, "c");
    assert!(draw(&a, 80, 24).contains("2 alert(s) to: new TITLE, or a case id"), "{}", draw(&a, 80, 24));
    let jobs = type_and_enter(&mut a, "intruder in carol's account");
    let [Job::OpenCase { title, alert_ids }] = &jobs[..] else { panic!("{jobs:?}") };
    assert_eq!((title.as_str(), alert_ids.len()), ("intruder in carol's account", 2));
    // `:case ID` (its start will do) adds the selected alert to an open case.
    a.update(Msg::Cases(vec![case("case-1a2b3c4d", "intruder", 5, &["a1", "a2"])]));
    let jobs = a.run_command("case case-1a");
    assert!(
        matches!(&jobs[..], [Job::ChangeCase { case_id, change: Change::Add(ids) }] if case_id == "case-1a2b3c4d" && ids.len() == 1),
        "{jobs:?}"
    );
    assert!(a.run_command("case nonsense").is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("type `new TITLE`"));
}

#[test]
fn a_case_opens_with_its_alerts_entities_and_timeline() {
    let mut a = filled();
    a.pane = Pane::Cases;
    let jobs = special(&mut a, KeyCode::Enter);
    assert!(
        matches!(&jobs[..], [Job::LoadCase { case_id, timeline: false }] if case_id == "case-1a2b3c4d"),
        "{jobs:?}"
    );
    let v = view(&a);
    a.update(Msg::CaseView { timeline: false, view: Ok(Box::new(v.clone())) });
    let screen = draw(&a, 80, 24);
    for want in ["intruder in carol's account", "alerts (2)", "45.155.205.233", "opened: intruder", "bob"] {
        assert!(screen.contains(want), "{want}:\n{screen}");
    }
    insta::assert_snapshot!("case_detail_80x24", screen);
    special(&mut a, KeyCode::Esc);
    // T: the case's shared entities across every table, in the editor, its scan estimated.
    let jobs = press(&mut a, "T");
    assert!(matches!(&jobs[..], [Job::LoadCase { timeline: true, .. }]), "{jobs:?}");
    a.update(Msg::CaseView { timeline: true, view: Ok(Box::new(v)) });
    assert_eq!(a.pane, Pane::Query);
    assert!(a.query.sql().contains("srcaddr = '45.155.205.233'"), "{}", a.query.sql());
    assert!(matches!(&a.ui.queued[..], [Job::Estimate(_)]), "{:?}", a.ui.queued);
}

#[test]
fn owner_notes_status_and_closing_from_the_keyboard() {
    let mut a = filled();
    a.pane = Pane::Cases;
    press(&mut a, "A");
    assert_eq!(a.ui.prompt.as_ref().unwrap().input.text, "bob", "starts from the owner");
    for _ in 0..3 {
        special(&mut a, KeyCode::Backspace);
    }
    let jobs = type_and_enter(&mut a, "alice");
    assert!(
        matches!(&jobs[..], [Job::ChangeCase { change: Change::Owner(Some(o)), .. }] if o == "alice"),
        "{jobs:?}"
    );
    press(&mut a, "N");
    let jobs = type_and_enter(&mut a, "keys revoked");
    assert!(matches!(&jobs[..], [Job::ChangeCase { change: Change::Note(n), .. }] if n == "keys revoked"));
    let jobs = a.run_command("case severity high");
    assert!(
        matches!(&jobs[..], [Job::ChangeCase { change: Change::Severity(Some(Severity::High)), .. }]),
        "{jobs:?}"
    );
    let jobs = a.run_command("case title carol's account, taken over");
    assert!(
        matches!(&jobs[..], [Job::ChangeCase { change: Change::Title(t), .. }] if t == "carol's account, taken over")
    );
    assert!(a.run_command("case severity huge").is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("unknown severity `huge`"), "{:?}", a.ui.message);
    let jobs = press(&mut a, "w");
    assert!(matches!(&jobs[..], [Job::ChangeCase { change: Change::Status(CaseStatus::InProgress), .. }]));
    press(&mut a, "r");
    assert!(draw(&a, 80, 24).contains("close as tp|bp|fp|un"));
    let jobs = type_and_enter(&mut a, "maybe intruder");
    assert!(jobs.is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("no classification"));
    press(&mut a, "r");
    let jobs = type_and_enter(&mut a, "tp intruder from 185.220.101.47");
    assert!(
        matches!(&jobs[..], [Job::ChangeCase { change: Change::Close { classification: Classification::TruePositive, reason: Some(r) }, .. }]
            if r == "intruder from 185.220.101.47"),
        "{jobs:?}"
    );
}

#[test]
fn suggested_cases_open_as_cases_with_their_title() {
    let mut a = filled();
    a.pane = Pane::Cases;
    let jobs = press(&mut a, "S");
    assert!(matches!(&jobs[..], [Job::LoadSuggestions]), "{jobs:?}");
    assert!(draw(&a, 80, 24).contains("reading the open alerts"));
    let at = at();
    a.update(Msg::Suggestions(Ok(vec![Suggestion {
        entities: vec![
            (EntityKind::Ip, "185.220.101.47".into()),
            (EntityKind::AccessKey, "AKIA00000000000CAROL".into()),
        ],
        alert_ids: vec!["a3".into(), "a4".into(), "a5".into()],
        rules: vec!["Console login without MFA".into(), "Admin policy attached".into()],
        severity: Severity::High,
        first: at,
        last: at + Duration::minutes(40),
    }])));
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("suggested_cases_{w}x{h}"), draw(&a, w, h));
    }
    special(&mut a, KeyCode::Enter);
    let jobs = special(&mut a, KeyCode::Enter);
    let [Job::OpenCase { title, alert_ids }] = &jobs[..] else { panic!("{jobs:?}") };
    assert!(title.starts_with("address 185.220.101.47 and access key AKIA00000000000CAROL"), "{title}");
    assert_eq!(alert_ids.len(), 3);
    press(&mut a, "S");
    assert!(draw(&a, 80, 24).contains("cases · 1 open"));
}
