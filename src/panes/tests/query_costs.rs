//! The query pane's figures: what a session of queries would cost on Athena.

use super::*;

#[test]
fn the_session_cost_bills_each_query_with_athenas_minimum() {
    let mut a = app();
    let finished = |state: QueryState, bytes: u64| {
        Msg::QueryStatus(QueryStatus {
            id: QueryId("q".into()),
            state,
            stats: QueryStats { bytes_scanned: bytes, ..Default::default() },
        })
    };
    a.update(finished(QueryState::Succeeded, 1 << 20));
    a.update(finished(QueryState::Cancelled, 2 << 20));
    a.update(finished(QueryState::Failed("no such column".into()), 5 << 20));
    let minimum = mantissa_backend::model::athena_cost_usd(0);
    assert_eq!(a.query.session_bytes, 8 << 20);
    assert!((a.query.session_cost_usd - 2.0 * minimum).abs() < 1e-12, "{}", a.query.session_cost_usd);
}
