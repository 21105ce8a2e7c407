//! The DLQ's contract beyond FIFO and redrive: every call is scoped to its user, matched
//! exactly on the message body's `user_id` (run on both backends through the suite).

use mantissa_backend::services::Services;

/// A queue body as the router writes it: JSON naming its user (the DLQ's owner check).
pub fn msg(user: &str, text: &str) -> String {
    serde_json::json!({"user_id": user, "text": text}).to_string()
}

pub fn text_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body).unwrap()["text"].as_str().unwrap().to_string()
}

/// DLQ isolation with an exact user match: users `a`, `a:b` (whose groups `a:b:hook` start
/// with `a:`) and `b` each have dead letters; each sees, redrives, deletes and purges only
/// its own, whatever ids it names.
pub async fn dead_letters_are_scoped_to_their_user_exactly(s: &Services) {
    let q = &s.queue;
    let users = ["a", "a:b", "b"];
    for user in users {
        for i in 0..3 {
            let group = format!("{user}:hook{i}");
            q.send(&group, &format!("{user}-{i}"), &msg(user, &format!("{user}-{i}"))).await.unwrap();
        }
    }
    // A body that names nobody (not the router's) is no user's letter.
    q.send("a:stray", "stray", "not json").await.unwrap();
    for _ in 0..8 {
        for m in q.receive(10, 30).await.unwrap() {
            q.retry_later(&m.receipt, 0, "down").await.unwrap();
        }
        if q.depth().await.unwrap().queued == 0 {
            break;
        }
    }
    let texts = |letters: &[mantissa_backend::ports::DeadLetter]| {
        let mut t: Vec<String> = letters.iter().map(|d| text_of(&d.body)).collect();
        t.sort();
        t
    };
    let mut ids = std::collections::HashMap::new();
    for user in users {
        let mine = q.dead_letters(user).await.unwrap();
        assert_eq!(
            texts(&mine),
            (0..3).map(|i| format!("{user}-{i}")).collect::<Vec<_>>(),
            "{user} sees its own"
        );
        ids.insert(user, mine.iter().map(|d| d.message_id.clone()).collect::<Vec<_>>());
    }
    // `a` names every id there is: only its own first one moves.
    let everyone: Vec<String> = ids.values().flatten().cloned().collect();
    let a_first = ids["a"][0].clone();
    let others: Vec<String> = everyone.iter().filter(|id| !ids["a"].contains(id)).cloned().collect();
    assert_eq!(q.redrive("a", &others).await.unwrap(), 0, "a cannot redrive a:b's or b's letters");
    assert_eq!(q.redrive("a", std::slice::from_ref(&a_first)).await.unwrap(), 1);
    // Deleting another user's letter is NotFound, and the letter stays.
    for id in &ids["a:b"] {
        assert!(q.delete_dead_letter("a", id).await.is_err(), "a deleted a:b's letter");
    }
    assert!(q.delete_dead_letter("a:b", &ids["b"][0]).await.is_err(), "a:b deleted b's letter");
    q.delete_dead_letter("a:b", &ids["a:b"][0]).await.unwrap();
    assert_eq!(q.dead_letters("a").await.unwrap().len(), 2);
    assert_eq!(q.dead_letters("a:b").await.unwrap().len(), 2);
    assert_eq!(q.dead_letters("b").await.unwrap().len(), 3);
    // Purge takes only the caller's.
    assert_eq!(q.purge_dead_letters("a").await.unwrap(), 2);
    assert!(q.dead_letters("a").await.unwrap().is_empty());
    assert_eq!(q.dead_letters("a:b").await.unwrap().len(), 2);
    assert_eq!(q.purge_dead_letters("b").await.unwrap(), 3);
    assert_eq!(texts(&q.dead_letters("a:b").await.unwrap()), ["a:b-1", "a:b-2"]);
    assert!(q.dead_letters("").await.unwrap().is_empty(), "the stray letter is no one's");
}

/// The console's DLQ list on AWS comes from alert history, not from receiving the DLQ: each
/// (alert, integration) whose latest attempt is dead-lettered, by history key; a redrive or a
/// discard by that key finds the queue's message, and notes in history what became of it.
pub async fn dead_letters_from_history_list_redrive_and_discard(s: &Services) {
    use super::suite::{alert, attempt};
    use mantissa_backend::deliver::dead_letters::{discard, from_history, history_key, redrive};
    use mantissa_backend::detect::DeliveryMessage;
    use mantissa_backend::model::{DeliveryStatus, Severity};
    let first = alert("alice", "r1", Severity::High, 10);
    let second = alert("alice", "r2", Severity::Low, 5);
    for a in [&first, &second] {
        s.alerts.put_alert(a).await.unwrap();
    }
    let mut dead = attempt("hook", 3, DeliveryStatus::DeadLettered);
    dead.error = Some("HTTP 500".into());
    s.alerts.record_attempt("alice", &first.id, &attempt("hook", 1, DeliveryStatus::Retrying)).await.unwrap();
    s.alerts.record_attempt("alice", &first.id, &dead).await.unwrap();
    s.alerts
        .record_attempt("alice", &first.id, &attempt("slack", 1, DeliveryStatus::Delivered))
        .await
        .unwrap();
    s.alerts
        .record_attempt("alice", &second.id, &attempt("pager", 3, DeliveryStatus::DeadLettered))
        .await
        .unwrap();
    // The queue holds the same two messages, dead.
    for (a, integration) in [(&first, "hook"), (&second, "pager")] {
        let body = DeliveryMessage {
            user_id: "alice".into(),
            integration_id: integration.into(),
            alert: a.clone(),
            dedup_basis: a.dedup_key.clone(),
            dedup_window_secs: 0,
        };
        let group = format!("alice:{integration}");
        s.queue.send(&group, &a.id, &serde_json::to_string(&body).unwrap()).await.unwrap();
    }
    for _ in 0..8 {
        for m in s.queue.receive(10, 30).await.unwrap() {
            s.queue.retry_later(&m.receipt, 0, "down").await.unwrap();
        }
        if s.queue.depth().await.unwrap().queued == 0 {
            break;
        }
    }
    assert_eq!(s.queue.dead_letters("alice").await.unwrap().len(), 2);

    let listed = from_history(s, "alice").await.unwrap();
    let keys: Vec<&str> = listed.iter().map(|d| d.message_id.as_str()).collect();
    let (k1, k2) = (history_key(&first.id, "hook"), history_key(&second.id, "pager"));
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&k1.as_str()) && keys.contains(&k2.as_str()), "slack was delivered: {keys:?}");
    let hook = listed.iter().find(|d| d.message_id == k1).unwrap();
    assert_eq!((hook.receive_count, hook.last_error.as_deref()), (3, Some("HTTP 500")));
    let body: DeliveryMessage = serde_json::from_str(&hook.body).unwrap();
    assert_eq!((body.alert.summary.as_str(), body.integration_id.as_str()), (first.summary.as_str(), "hook"));
    assert!(from_history(s, "bob").await.unwrap().is_empty(), "scoped by user");
    assert!(discard(s, "bob", &k2).await.is_err(), "bob cannot discard alice's letter");

    assert_eq!(redrive(s, "alice", std::slice::from_ref(&k1)).await.unwrap(), 1);
    assert_eq!(s.queue.depth().await.unwrap().queued, 1, "back on the queue");
    let left: Vec<String> =
        from_history(s, "alice").await.unwrap().into_iter().map(|d| d.message_id).collect();
    assert_eq!(left, std::slice::from_ref(&k2), "the redriven one is no longer listed");
    discard(s, "alice", &k2).await.unwrap();
    assert!(from_history(s, "alice").await.unwrap().is_empty());
    assert!(s.queue.dead_letters("alice").await.unwrap().is_empty(), "gone from the queue too");
    let noted = s.alerts.get_alert("alice", &second.id).await.unwrap().unwrap();
    let last = noted.attempts.last().unwrap();
    assert_eq!(last.status, DeliveryStatus::Suppressed, "noted, and counted in no health figure");
}
