//! The case contract, on both backends: cases scoped by user, writes that never lose a
//! concurrent change, severity from the alerts, every change logged on the case and its alerts,
//! closing that resolves the alerts, and suggestions by shared entity.

use super::suite::alert;
use chrono::Duration;
use mantissa_backend::cases::{self, Change};
use mantissa_backend::model::{ActivityKind, AlertStatus, CaseStatus, Classification, Severity};
use mantissa_backend::services::Services;

pub async fn cases_are_scoped_versioned_logged_and_close_their_alerts(s: &Services) {
    let mut a1 = alert("alice", "spray", Severity::Medium, 50);
    a1.sample_rows = vec![serde_json::json!({"sourceipaddress": "185.220.101.47"})];
    let mut a2 = alert("alice", "admin", Severity::Critical, 40);
    a2.sample_rows =
        vec![serde_json::json!({"sourceipaddress": "185.220.101.47", "accesskeyid": "AKIA00000000000CAROL"})];
    let mut a3 = alert("alice", "keys", Severity::Low, 30);
    a3.sample_rows.clear();
    let theirs = alert("bob", "spray", Severity::High, 30);
    for a in [&mut a1, &mut a2, &mut a3] {
        a.dedup_key.clear();
    }
    for a in [&a1, &a2, &a3, &theirs] {
        s.alerts.put_alert(a).await.unwrap();
    }

    // Suggested before any case: the two alerts naming the intruder's address.
    let suggested = cases::suggest::suggestions(s, "alice", Duration::hours(2)).await.unwrap();
    assert_eq!(suggested.len(), 1, "{suggested:#?}");
    let mut ids = suggested[0].alert_ids.clone();
    ids.sort();
    let mut want = vec![a1.id.clone(), a2.id.clone()];
    want.sort();
    assert_eq!(ids, want);

    let case =
        cases::open(s, "alice", "alice", "carol's account taken over", &[a1.id.clone(), a2.id.clone()])
            .await
            .unwrap();
    assert_eq!((case.version, case.severity_shown()), (1, Severity::Critical));
    assert!(cases::suggest::suggestions(s, "alice", Duration::hours(2)).await.unwrap().is_empty());
    assert!(s.cases.get_case("bob", &case.id).await.unwrap().is_none(), "scoped by user");
    assert!(s.cases.list_cases("bob").await.unwrap().is_empty());
    assert!(!s.cases.put_case(&case).await.unwrap(), "a write of a version already stored is refused");
    let e = cases::open(s, "alice", "alice", "x", std::slice::from_ref(&theirs.id)).await.unwrap_err();
    assert!(e.to_string().contains(&theirs.id), "another user's alert is not found: {e}");
    assert!(cases::open(s, "alice", "alice", "  ", &[]).await.is_err(), "a title is needed");

    // Six analysts note at once: every note lands, none overwrites another.
    let writers: Vec<_> = (0..6)
        .map(|i| {
            let (s, id) = (s.clone(), case.id.clone());
            tokio::spawn(async move {
                cases::change(&s, "alice", &format!("analyst{i}"), &id, &Change::Note(format!("finding {i}")))
                    .await
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    let stored = cases::get(s, "alice", &case.id).await.unwrap();
    assert_eq!((stored.notes.len(), stored.version), (6, 7), "{:?}", stored.notes);

    let added =
        cases::change(s, "alice", "alice", &case.id, &Change::Add(vec![a3.id.clone()])).await.unwrap();
    assert_eq!(added.severity_shown(), Severity::Critical);
    let removed =
        cases::change(s, "alice", "bob", &case.id, &Change::Remove(vec![a2.id.clone()])).await.unwrap();
    assert_eq!(removed.severity_shown(), Severity::Medium, "the highest of those left");
    let owned =
        cases::change(s, "alice", "alice", &case.id, &Change::Owner(Some("bob".into()))).await.unwrap();
    assert_eq!(owned.owner.as_deref(), Some("bob"));

    let closed = cases::change(
        s,
        "alice",
        "bob",
        &case.id,
        &Change::Close { classification: Classification::TruePositive, reason: Some("intruder".into()) },
    )
    .await
    .unwrap();
    assert_eq!(closed.status, CaseStatus::Closed);
    for (id, status) in
        [(&a1.id, AlertStatus::Resolved), (&a3.id, AlertStatus::Resolved), (&a2.id, AlertStatus::Open)]
    {
        let a = s.alerts.get_alert("alice", id).await.unwrap().unwrap();
        assert_eq!(a.status, status, "{id}");
        if status == AlertStatus::Resolved {
            assert_eq!(a.classification, Some(Classification::TruePositive));
            assert!(a.classification_reason.as_deref().unwrap().contains(&case.id));
        }
    }

    let log = s.activity.activity("alice", &case.id).await.unwrap();
    let kinds: Vec<ActivityKind> = log.iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == ActivityKind::Note).count(), 6);
    assert_eq!(log.first().map(|e| e.detail.as_str()), Some("opened: carol's account taken over"));
    assert!(log.iter().any(|e| e.who == "bob" && e.detail == format!("alert {} removed", a2.id)));
    assert!(
        log.iter().any(|e| e.kind == ActivityKind::Classification && e.detail == "true positive: intruder")
    );
    let on_alert = s.activity.activity("alice", &a2.id).await.unwrap();
    let said: Vec<&str> = on_alert.iter().map(|e| e.detail.as_str()).collect();
    assert!(said.iter().any(|d| d.starts_with(&format!("in case {}", case.id))), "{said:?}");
    assert!(said.iter().any(|d| d.starts_with(&format!("out of case {}", case.id))), "{said:?}");

    let view = cases::show(s, "alice", &case.id).await.unwrap();
    assert_eq!(view.alerts.len(), 2);
    assert!(view.timeline.windows(2).all(|w| w[0].at <= w[1].at), "merged by time");
    // The close resolved two alerts at once: one line says it of both.
    assert!(
        view.timeline
            .iter()
            .any(|e| e.subject == "2 alerts" && e.who == "bob" && e.what == "status: open → resolved"),
        "{:#?}",
        view.timeline
    );
    assert!(view.timeline.iter().any(|e| e.subject == "Rule spray" && e.who == "detection"));
    assert!(
        view.timeline.iter().any(|e| e.subject == "case" && e.what == "2 alerts added"),
        "opened with two"
    );
    let removal = format!("alert {} removed", a2.id);
    assert!(view.timeline.iter().any(|e| e.subject == "case" && e.what == removal), "one stays itself");
    assert_eq!(view.entities.first().map(|e| e.1.as_str()), Some("185.220.101.47"));
    let sql = cases::lake_timeline_sql(&view).unwrap();
    assert!(sql.contains("185.220.101.47"), "{sql}");
    assert_eq!(s.cases.list_cases("alice").await.unwrap().len(), 1);
}
