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
