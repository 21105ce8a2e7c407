//! The alerts pane driven from the keyboard: triage, marks, assignment, notes, the pivot, and
//! paging through history.

use super::*;

#[test]
fn triage_and_pivot_from_the_keyboard() {
    let mut a = app();
    a.update(Msg::Alerts(vec![alert("a1", Severity::Critical, 5, DeliveryStatus::Delivered)]));
    a.pane = Pane::Alerts;
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let jobs = a.handle_key(key('a'));
    assert!(
        matches!(&jobs[..], [crate::app::Job::SaveAlerts { alerts, report }]
            if alerts[0].status == AlertStatus::Acknowledged && report == "alert a1 (Root account used) acknowledged"),
        "{jobs:?}"
    );
    // The pivot replaces the last query's results and says how to run it.
    results(&mut a);
    a.pane = Pane::Alerts;
    a.handle_key(key('p'));
    assert_eq!(a.pane, Pane::Query);
    assert!(a.query.sql().contains("sourceipaddress = '45.155.205.233'"), "{}", a.query.sql());
    let day = a.alerts.list.items[0].window_start.format("%Y-%m-%d").to_string();
    assert!(a.query.sql().contains(&format!("dt BETWEEN '{day}' AND '{day}'")), "{}", a.query.sql());
    let screen = draw(&a, 80, 24);
    assert!(!screen.contains("CreateLogStream") && !screen.contains("SUCCEEDED"), "stale results:\n{screen}");
    assert!(screen.contains("F5 runs it"), "{screen}");
}

#[test]
fn marked_alerts_are_triaged_assigned_and_noted_together() {
    let mut a = filled();
    a.pane = Pane::Alerts;
    special(&mut a, KeyCode::Char(' '));
    special(&mut a, KeyCode::Char(' '));
    assert!(draw(&a, 80, 24).contains("· 2 marked"));
    let jobs = press(&mut a, "a");
    let [crate::app::Job::SaveAlerts { alerts, report }] = &jobs[..] else { panic!("{jobs:?}") };
    assert_eq!((alerts.len(), report.as_str()), (2, "2 alerts acknowledged"), "one report names both");
    assert!(a.alerts.list.items.iter().all(|al| al.status == AlertStatus::Acknowledged));
    assert!(a.alerts.list.marks.is_empty(), "a bulk action clears the marks");
    // Assign the selected one (the cursor moved down with the marks).
    press(&mut a, "A");
    let jobs = type_and_enter(&mut a, "sam");
    assert!(matches!(&jobs[..], [crate::app::Job::SaveAlerts { alerts, report }]
            if alerts[0].assignee.as_deref() == Some("sam") && alerts[0].id == "a2" && report.ends_with("assigned to sam")));
    press(&mut a, "N");
    let jobs = type_and_enter(&mut a, "benign scanner");
    assert!(matches!(&jobs[..], [crate::app::Job::SaveAlerts { alerts, report }]
            if alerts[0].notes[0].ends_with("analyst: benign scanner") && report.ends_with("noted")));
    // The detail shows attempts, assignee and notes.
    special(&mut a, KeyCode::Enter);
    let screen = draw(&a, 80, 24);
    for part in ["assignee    sam", "delivery attempts", "soc-webhook", "benign scanner"] {
        assert!(screen.contains(part), "{part} in {screen}");
    }
}

#[test]
fn alerts_load_a_page_at_a_time_as_the_cursor_reaches_the_end() {
    use crate::panes::alerts::ALERT_PAGE;
    let page = |from: usize| -> Vec<Alert> {
        (from..from + ALERT_PAGE)
            .map(|i| alert(&format!("a{i}"), Severity::Low, i as i64, DeliveryStatus::Delivered))
            .collect()
    };
    let mut a = app();
    a.pane = Pane::Alerts;
    a.update(Msg::Alerts(page(0)));
    assert!(draw(&a, 80, 24).contains("alerts · older below"));
    assert!(press(&mut a, "j").is_empty(), "no page while rows are left");
    let jobs = press(&mut a, "G");
    let before = a.alerts.list.items.last().unwrap().created_at;
    assert!(
        matches!(&jobs[..], [crate::app::Job::OlderAlerts { before: b }] if *b == before),
        "the next page, before the oldest loaded: {jobs:?}"
    );
    assert!(press(&mut a, "k").is_empty() && press(&mut a, "j").is_empty(), "one page request at a time");
    a.update(Msg::OlderAlerts(Ok(page(ALERT_PAGE)[..50].to_vec())));
    assert_eq!(a.alerts.list.items.len(), ALERT_PAGE + 50);
    assert!(!a.alerts.more, "a short page is the last");
    assert!(!draw(&a, 80, 24).contains("older below"), "{}", draw(&a, 80, 24));
    // A refresh brings the newest page back; the older rows loaded stay below it.
    let mut newest = page(0);
    newest[0].status = AlertStatus::Acknowledged;
    a.update(Msg::Alerts(newest));
    assert_eq!(a.alerts.list.items.len(), ALERT_PAGE + 50);
    assert_eq!(a.alerts.list.items[0].status, AlertStatus::Acknowledged);
    // A failed page is shown and may be asked for again.
    a.alerts.more = true;
    press(&mut a, "G");
    a.update(Msg::OlderAlerts(Err("throttled".into())));
    assert!(!a.alerts.loading_more);
    assert!(a.ui.message.as_ref().is_some_and(|m| m.1.contains("throttled")));
}

#[test]
fn s_orders_the_alerts_and_the_title_counts_them() {
    let mut a = app();
    a.update(Msg::Alerts(vec![
        alert("a1", Severity::Low, 1, DeliveryStatus::Delivered),
        alert("a2", Severity::Critical, 5, DeliveryStatus::Delivered),
        alert("a3", Severity::Medium, 9, DeliveryStatus::Delivered),
    ]));
    a.pane = Pane::Alerts;
    assert!(draw(&a, 80, 24).contains(" alerts · 3 "), "{}", draw(&a, 80, 24));
    press(&mut a, "s");
    let ids: Vec<&str> = a.alerts.list.items.iter().map(|al| al.id.as_str()).collect();
    assert_eq!(ids, ["a2", "a3", "a1"], "by severity");
    assert_eq!(a.alerts.list.selected().unwrap().id, "a2", "a new order is read from its top");
    assert!(draw(&a, 80, 24).contains("alerts · by severity · 3"));
    // A refresh keeps the order.
    a.update(Msg::Alerts(vec![
        alert("a0", Severity::High, 0, DeliveryStatus::Delivered),
        alert("a1", Severity::Low, 1, DeliveryStatus::Delivered),
        alert("a2", Severity::Critical, 5, DeliveryStatus::Delivered),
        alert("a3", Severity::Medium, 9, DeliveryStatus::Delivered),
    ]));
    let ids: Vec<&str> = a.alerts.list.items.iter().map(|al| al.id.as_str()).collect();
    assert_eq!(ids, ["a2", "a0", "a3", "a1"]);
    press(&mut a, "sss");
    assert_eq!(a.alerts.order, crate::panes::alerts::AlertOrder::Newest);
    // A kept filter is in the title with its count.
    for c in "/crit".chars() {
        a.handle_key(key(c));
    }
    special(&mut a, KeyCode::Enter);
    assert!(draw(&a, 80, 24).contains("· /crit 1 of 4"), "{}", draw(&a, 80, 24));
}

#[test]
fn the_cursor_stays_on_its_alert_when_new_ones_arrive() {
    let mut a = app();
    a.pane = Pane::Alerts;
    a.update(Msg::Alerts(vec![
        alert("a1", Severity::Low, 1, DeliveryStatus::Delivered),
        alert("a2", Severity::High, 5, DeliveryStatus::Delivered),
    ]));
    press(&mut a, "j");
    assert_eq!(a.alerts.list.selected().unwrap().id, "a2");
    // A refresh brings a newer alert above it: `a` still acknowledges a2.
    a.update(Msg::Alerts(vec![
        alert("a0", Severity::Critical, 0, DeliveryStatus::Delivered),
        alert("a1", Severity::Low, 1, DeliveryStatus::Delivered),
        alert("a2", Severity::High, 5, DeliveryStatus::Delivered),
    ]));
    let jobs = press(&mut a, "a");
    assert!(
        matches!(&jobs[..], [crate::app::Job::SaveAlerts { alerts, .. }] if alerts[0].id == "a2"),
        "{jobs:?}"
    );
    // The same with an order picked: the refresh comes newest first, the cursor keeps a2.
    press(&mut a, "s");
    press(&mut a, "j");
    a.update(Msg::Alerts(vec![
        alert("a00", Severity::Low, 0, DeliveryStatus::Delivered),
        alert("a0", Severity::Critical, 0, DeliveryStatus::Delivered),
        alert("a1", Severity::Low, 1, DeliveryStatus::Delivered),
        alert("a2", Severity::High, 5, DeliveryStatus::Delivered),
    ]));
    assert_eq!(a.alerts.list.selected().unwrap().id, "a2");
}

#[test]
fn resolving_asks_how_the_alert_is_judged_and_the_detail_shows_the_activity() {
    let mut a = app();
    a.update(Msg::Alerts(vec![alert("a1", Severity::Critical, 5, DeliveryStatus::Delivered)]));
    a.pane = Pane::Alerts;
    let jobs = press(&mut a, "w");
    assert!(
        matches!(&jobs[..], [crate::app::Job::SaveAlerts { alerts, .. }] if alerts[0].status == AlertStatus::InProgress),
        "{jobs:?}"
    );
    assert!(draw(&a, 80, 24).contains("working"));
    // r asks; a word that is no classification says which there are, and nothing is saved.
    assert!(press(&mut a, "r").is_empty());
    assert!(a.ui.prompt.as_ref().unwrap().label.contains("tp|bp|fp|un"));
    assert!(type_and_enter(&mut a, "maybe it was fine").is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("tp (true positive), bp (benign positive)"));
    // f starts the answer at fp: the reason typed after it is kept.
    press(&mut a, "f");
    let jobs = type_and_enter(&mut a, "the vendor's weekly scan");
    let [crate::app::Job::SaveAlerts { alerts, report }] = &jobs[..] else { panic!("{jobs:?}") };
    assert_eq!(alerts[0].status, AlertStatus::Resolved);
    assert_eq!(alerts[0].classification, Some(mantissa_backend::model::Classification::FalsePositive));
    assert_eq!(alerts[0].classification_reason.as_deref(), Some("the vendor's weekly scan"));
    assert!(report.ends_with("resolved as false positive"), "{report}");
    assert!(draw(&a, 80, 24).contains("res fp"));
    // The detail asks for the log, and shows it when it comes.
    let jobs = special(&mut a, KeyCode::Enter);
    assert!(matches!(&jobs[..], [crate::app::Job::LoadActivity(id)] if id == "a1"), "{jobs:?}");
    let entry = |kind, detail: &str| mantissa_backend::model::Activity {
        alert_id: "a1".into(),
        at: chrono::Utc::now(),
        who: "alice".into(),
        kind,
        detail: detail.into(),
    };
    use mantissa_backend::model::ActivityKind;
    a.update(Msg::Activity {
        alert_id: "a1".into(),
        entries: Ok(vec![
            entry(ActivityKind::Status, "open → in progress"),
            entry(ActivityKind::Classification, "false positive: the vendor's weekly scan"),
        ]),
    });
    let view = a.ui.popup.as_ref().unwrap();
    let text: String = view.lines.iter().map(|l| l.to_string() + "\n").collect();
    assert!(text.contains("judged") && text.contains("false positive: the vendor's weekly scan"), "{text}");
    assert!(text.contains("alice      status          open → in progress"), "{text}");
}

#[test]
fn snooze_and_suppress_ask_until_when_and_why() {
    use mantissa_backend::model::suppression::Scope;
    let mut a = filled();
    a.pane = Pane::Rules;
    assert!(press(&mut a, "z").is_empty());
    assert!(a.ui.prompt.as_ref().unwrap().label.starts_with("snooze "));
    assert!(type_and_enter(&mut a, "2h").is_empty(), "no reason: refused");
    assert!(a.ui.message.as_ref().unwrap().1.contains("say why"));
    press(&mut a, "z");
    let jobs = type_and_enter(&mut a, "2h noisy during the migration");
    let [crate::app::Job::AddSuppression { suppression, alert_id: None }] = &jobs[..] else {
        panic!("{jobs:?}")
    };
    assert_eq!(
        (&suppression.scope, suppression.reason.as_str()),
        (&Scope::Snooze, "noisy during the migration")
    );
    assert_eq!(suppression.who, "analyst");

    // S on an alert starts from its entity; the suppression is logged on the alert.
    a.pane = Pane::Alerts;
    press(&mut a, "S");
    let input = a.ui.prompt.as_ref().unwrap().input.text.clone();
    assert!(input.starts_with("sourceipaddress=45.155.205.233 7d"), "{input}");
    let jobs = type_and_enter(&mut a, "our red team");
    let [crate::app::Job::AddSuppression { suppression, alert_id: Some(id) }] = &jobs[..] else {
        panic!("{jobs:?}")
    };
    assert_eq!(id, "a1");
    assert_eq!(suppression.reason, "our red team");
    assert!(
        matches!(&suppression.scope, Scope::Match { field, values } if field == "sourceipaddress" && values == &["45.155.205.233"])
    );

    // A suppressed alert shows so in the list and says why in its detail.
    let mut held = a.alerts.list.items[0].clone();
    held.suppressed = Some(suppression.stamp());
    a.update(Msg::Alerts(vec![held]));
    assert!(draw(&a, 80, 24).contains("suppr"));
    special(&mut a, KeyCode::Enter);
    let text: String = a.ui.popup.as_ref().unwrap().lines.iter().map(|l| l.to_string() + "\n").collect();
    assert!(text.contains("suppressed") && text.contains("by analyst: our red team"), "{text}");
    assert!(
        matches!(&a.run_command("unsuppress s-1")[..], [crate::app::Job::LiftSuppression(id)] if id == "s-1")
    );

    // A recurring maintenance window for every rule, and a one-off range for one rule.
    let jobs = a.run_command("maintenance * cron(0 2 ? * SUN *) 3h 30d weekly patching");
    let [crate::app::Job::AddSuppression { suppression, alert_id: None }] = &jobs[..] else {
        panic!("{jobs:?} {:?}", a.ui.message)
    };
    assert!(matches!(&suppression.scope, Scope::Window { lasts_mins: 180, .. }), "{:?}", suppression.scope);
    let rule = a.rules.list.items[0].id.clone();
    let jobs = a.run_command(&format!("maintenance {rule} 1h 3h the database failover"));
    let [crate::app::Job::AddSuppression { suppression, .. }] = &jobs[..] else { panic!("{jobs:?}") };
    assert!(suppression.from.is_some() && suppression.rule_id == rule);
    assert!(a.run_command("maintenance no-such-rule 1h 3h x").is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("no rule `no-such-rule`"));
}

#[test]
fn t_opens_the_entitys_timeline_from_a_cell_or_an_alert() {
    let mut a = app();
    // A cell that is no entity says what would be.
    results(&mut a);
    a.query.focus = crate::panes::query::Focus::Grid;
    assert!(press(&mut a, "T").is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("is no entity to follow"));
    // An address cell: the query lands in the editor, not run, and its cost is asked for.
    let schema = Arc::new(Schema::new(vec![Field::new("sourceipaddress", DataType::Utf8, true)]));
    let batch =
        RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec!["45.155.205.233"]))]).unwrap();
    a.update(Msg::QueryResults(vec![batch]));
    let jobs = press(&mut a, "T");
    assert!(matches!(&jobs[..], [crate::app::Job::Estimate(sql)] if sql.contains("UNION ALL")), "{jobs:?}");
    assert!(a.query.sql().starts_with("-- timeline of address 45.155.205.233"), "{}", a.query.sql());
    assert!(a.query.sql().contains("FROM vpc_flow_logs") && a.query.sql().contains("FROM s3_access_logs"));
    assert!(a.query.running.is_none(), "not run by itself");
    // From an alert: over its window, an hour either side.
    a.update(Msg::Alerts(vec![alert("a1", Severity::High, 5, DeliveryStatus::Delivered)]));
    a.pane = Pane::Alerts;
    let jobs = press(&mut a, "T");
    assert!(matches!(&jobs[..], [crate::app::Job::Estimate(_)]), "{jobs:?}");
    assert_eq!(a.pane, Pane::Query);
    let start = (a.alerts.list.items[0].window_start - chrono::Duration::hours(1))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert!(a.query.sql().contains(&start), "{}", a.query.sql());
}
