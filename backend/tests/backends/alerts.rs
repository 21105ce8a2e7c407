//! The alert history contract: newest first by creation time (never by id: ids are content
//! digests), each filter and page bound, attempts appended and kept (run on both backends).

use super::suite::{alert, attempt};
use chrono::{Duration, Utc};
use mantissa_backend::model::{Alert, AlertStatus, DeliveryStatus, Severity};
use mantissa_backend::ports::AlertQuery;
use mantissa_backend::services::Services;

pub async fn alert_history_filters_newest_first_and_keeps_attempts(s: &Services) {
    // Ids are content digests in production, so their order says nothing of time: here they
    // run against it (the newest has the smallest id).
    let with_id = |mut a: Alert, id: &str| {
        a.id = id.into();
        a
    };
    let a_old = with_id(alert("alice", "r1", Severity::Low, 30), "f0000000-0000-4000-8000-000000000000");
    let a_mid = with_id(alert("alice", "r2", Severity::Critical, 20), "80000000-0000-4000-8000-000000000000");
    let a_new = with_id(alert("alice", "r1", Severity::High, 10), "00000000-0000-4000-8000-000000000000");
    let b = alert("bob", "r1", Severity::Critical, 5);
    for a in [&a_old, &a_mid, &a_new, &b] {
        s.alerts.put_alert(a).await.unwrap();
    }
    let ids = |v: Vec<Alert>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let q = |f: fn(&mut AlertQuery)| {
        let mut q = AlertQuery::default();
        f(&mut q);
        q
    };
    let all = s.alerts.list_alerts("alice", &AlertQuery::default()).await.unwrap();
    assert_eq!(ids(all), [a_new.id.clone(), a_mid.id.clone(), a_old.id.clone()], "newest first, alice only");
    let by_rule = s.alerts.list_alerts("alice", &q(|q| q.rule_id = Some("r1".into()))).await.unwrap();
    assert_eq!(ids(by_rule), [a_new.id.clone(), a_old.id.clone()]);
    let severe = s.alerts.list_alerts("alice", &q(|q| q.min_severity = Some(Severity::High))).await.unwrap();
    assert_eq!(ids(severe), [a_new.id.clone(), a_mid.id.clone()]);
    let both = s
        .alerts
        .list_alerts("alice", &q(|q| (q.rule_id, q.min_severity) = (Some("r1".into()), Some(Severity::High))))
        .await
        .unwrap();
    assert_eq!(ids(both), std::slice::from_ref(&a_new.id));
    let recent = AlertQuery { since: Some(Utc::now() - Duration::minutes(25)), ..Default::default() };
    assert_eq!(
        ids(s.alerts.list_alerts("alice", &recent).await.unwrap()),
        [a_new.id.clone(), a_mid.id.clone()]
    );
    let one = s.alerts.list_alerts("alice", &q(|q| q.limit = Some(1))).await.unwrap();
    assert_eq!(ids(one), std::slice::from_ref(&a_new.id));
    // Pages: the next page starts strictly before the oldest of the last one, with or without
    // the other filters.
    let after_new = AlertQuery { before: Some(a_new.created_at), limit: Some(1), ..Default::default() };
    assert_eq!(
        ids(s.alerts.list_alerts("alice", &after_new).await.unwrap()),
        std::slice::from_ref(&a_mid.id)
    );
    let page = AlertQuery { before: Some(a_mid.created_at), ..Default::default() };
    assert_eq!(ids(s.alerts.list_alerts("alice", &page).await.unwrap()), std::slice::from_ref(&a_old.id));
    let bounded =
        AlertQuery { since: Some(a_old.created_at), before: Some(a_new.created_at), ..Default::default() };
    assert_eq!(
        ids(s.alerts.list_alerts("alice", &bounded).await.unwrap()),
        [a_mid.id.clone(), a_old.id.clone()]
    );
    let rule_page =
        AlertQuery { rule_id: Some("r1".into()), before: Some(a_new.created_at), ..Default::default() };
    assert_eq!(
        ids(s.alerts.list_alerts("alice", &rule_page).await.unwrap()),
        std::slice::from_ref(&a_old.id)
    );
    let severe_page = AlertQuery {
        min_severity: Some(Severity::High),
        before: Some(a_new.created_at),
        ..Default::default()
    };
    assert_eq!(
        ids(s.alerts.list_alerts("alice", &severe_page).await.unwrap()),
        std::slice::from_ref(&a_mid.id)
    );

    // Attempts append; re-storing the alert (triage) keeps them; the snapshot put is refused.
    s.alerts
        .record_attempt("alice", &a_new.id, &attempt("slack", 1, DeliveryStatus::Retrying))
        .await
        .unwrap();
    s.alerts
        .record_attempt("alice", &a_new.id, &attempt("slack", 2, DeliveryStatus::Delivered))
        .await
        .unwrap();
    let mut triaged = s.alerts.get_alert("alice", &a_new.id).await.unwrap().unwrap();
    assert_eq!(triaged.attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(triaged.sample_rows, a_new.sample_rows);
    triaged.status = AlertStatus::Acknowledged;
    triaged.assignee = Some("carol".into());
    triaged.notes.push("looking".into());
    s.alerts.put_alert(&triaged).await.unwrap();
    assert!(!s.alerts.put_alert_if_absent(&a_new).await.unwrap(), "exists already");
    let back = s.alerts.get_alert("alice", &a_new.id).await.unwrap().unwrap();
    assert_eq!(
        (back.status, back.assignee.as_deref(), back.attempts.len()),
        (AlertStatus::Acknowledged, Some("carol"), 2)
    );
    assert!(s.alerts.get_alert("bob", &a_new.id).await.unwrap().is_none(), "scoped by user");
    let fresh = alert("alice", "r3", Severity::Medium, 0);
    assert!(s.alerts.put_alert_if_absent(&fresh).await.unwrap());
    let since = s.alerts.attempts_since("alice", Utc::now() - Duration::hours(24)).await.unwrap();
    assert_eq!(since.len(), 2);
    assert!(s.alerts.attempts_since("bob", Utc::now() - Duration::hours(24)).await.unwrap().is_empty());
}
