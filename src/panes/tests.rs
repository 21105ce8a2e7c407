//! Pane tests through the app as an analyst drives it: keys in, jobs and screens out (insta
//! snapshots at 80x24 and 160x48, styled in two themes).

use super::*;
use crate::app::frame::render;
use crate::app::{App, Msg};
use chrono::{Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use datafusion::arrow::array::{Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use mantissa_backend::model::{
    Alert, AlertStatus, DeliveryAttempt, DeliveryStatus, QueryId, QueryState, QueryStats, QueryStatus,
    Severity,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;

mod alerts;
mod assistant;
mod cases;
mod narrow;
mod query_costs;

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn app() -> App {
    let mut app = App::new("local · /data · user analyst · env dev".into(), false);
    app.ui.theme = app.ui.theme.without_color();
    app
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn results(app: &mut App) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("eventname", DataType::Utf8, true),
        Field::new("n", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["CreateLogStream", "Decrypt", "evil\u{1b}[2Jname\u{202e}"])),
            Arc::new(Int64Array::from(vec![24691, 9827, 1])),
        ],
    )
    .unwrap();
    app.update(succeeded(3));
    app.update(Msg::QueryResults(vec![batch]));
}

/// A finished query's status with `rows` counted.
fn succeeded(rows: u64) -> Msg {
    Msg::QueryStatus(QueryStatus {
        id: QueryId("q".into()),
        state: QueryState::Succeeded,
        stats: QueryStats {
            elapsed_ms: 12,
            queue_ms: 0,
            bytes_scanned: 65_000,
            rows,
            files_scanned: Some(9),
        },
    })
}

fn alert(id: &str, sev: Severity, mins: i64, status: DeliveryStatus) -> Alert {
    let t = Utc::now() - Duration::minutes(mins);
    Alert {
        id: id.into(),
        user_id: "analyst".into(),
        rule_id: "r".into(),
        rule_name: "Root account used".into(),
        severity: sev,
        summary: "4 matches for Root account used".into(),
        description: String::new(),
        result_count: 4,
        query: "SELECT 1".into(),
        window_start: t,
        window_end: t,
        sample_rows: vec![serde_json::json!({"sourceipaddress": "45.155.205.233"})],
        created_at: t,
        status: AlertStatus::Open,
        assignee: None,
        classification: None,
        classification_reason: None,
        suppressed: None,
        notes: vec![],
        attempts: vec![DeliveryAttempt {
            integration_id: "soc-webhook".into(),
            attempt: 2,
            at: t,
            status,
            latency_ms: Some(3),
            http_status: None,
            error: None,
            retry_in_secs: None,
        }],
        dedup_key: String::new(),
        event_count: 4,
        detected_until: None,
        notified_count: 0,
        history: vec![],
    }
}

#[test]
fn query_pane_80x24() {
    let mut a = app();
    results(&mut a);
    insta::assert_snapshot!(draw(&a, 80, 24));
}

#[test]
fn query_pane_160x48() {
    let mut a = app();
    results(&mut a);
    insta::assert_snapshot!(draw(&a, 160, 48));
}

#[test]
fn log_text_is_neutralised_in_the_grid() {
    let mut a = app();
    results(&mut a);
    let screen = draw(&a, 120, 24);
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{202e}'));
    assert!(screen.contains("evil\\x1b[2Jname\\u{202e}"), "{screen}");
}

#[test]
fn alerts_pane_80x24() {
    let mut a = app();
    a.update(Msg::Alerts(vec![
        alert("a1", Severity::Critical, 5, DeliveryStatus::Retrying),
        alert("a2", Severity::Medium, 30, DeliveryStatus::DeadLettered),
    ]));
    a.pane = Pane::Alerts;
    insta::assert_snapshot!(draw(&a, 80, 24));
}

/// Every list pane filled as the demo fills it, drawn at 80x24 and 160x48.
fn filled() -> App {
    let mut a = app();
    a.update(Msg::Alerts(vec![
        alert("a1", Severity::Critical, 5, DeliveryStatus::Retrying),
        alert("a2", Severity::Medium, 30, DeliveryStatus::DeadLettered),
    ]));
    a.update(Msg::Rules(mantissa_backend::demo::workspace::starter_rules().into_iter().take(12).collect()));
    let integrations = mantissa_backend::demo::workspace::demo_integrations("analyst", Path::new("/data"));
    let health = |id: &str, ok: bool| mantissa_backend::model::HealthStatus {
        integration_id: id.into(),
        attempts: 40,
        delivered: if ok { 40 } else { 0 },
        failed: if ok { 0 } else { 40 },
        success_rate: Some(if ok { 1.0 } else { 0.0 }),
        state: if ok {
            mantissa_backend::model::HealthState::Healthy
        } else {
            mantissa_backend::model::HealthState::Unhealthy
        },
        p50_latency_ms: Some(1),
        p95_latency_ms: Some(if ok { 2 } else { 3000 }),
        last_error: (!ok).then(|| "http://127.0.0.1/…: connection refused or unreachable".into()),
        computed_at: chrono::DateTime::UNIX_EPOCH,
    };
    a.update(Msg::Integrations(vec![
        (integrations[0].clone(), Some(health("alerts-file", true))),
        (integrations[1].clone(), Some(health("soc-webhook", false))),
    ]));
    let body = serde_json::json!({
        "user_id": "analyst", "integration_id": "soc-webhook",
        "alert": alert("a1", Severity::Critical, 5, DeliveryStatus::DeadLettered),
        "dedup_basis": "45.155.205.233", "dedup_window_secs": 3600
    });
    a.update(Msg::Dlq(vec![mantissa_backend::ports::DeadLetter {
        message_id: "m1".into(),
        group_id: "analyst:soc-webhook".into(),
        body: body.to_string(),
        receive_count: 3,
        last_error: Some("connection refused".into()),
        sent_at: Utc::now() - Duration::minutes(3),
    }]));
    let mut closed = cases::case("case-0f0e0d0c", "the vendor's scanner again", 600, &["a2"]);
    closed.status = mantissa_backend::model::CaseStatus::Closed;
    closed.classification = Some(mantissa_backend::model::Classification::BenignPositive);
    let mut open = cases::case("case-1a2b3c4d", "intruder in carol's account", 5, &["a1", "a2"]);
    open.owner = Some("bob".into());
    a.update(Msg::Cases(vec![closed, open]));
    a
}

#[test]
fn list_panes_at_both_sizes() {
    let mut a = filled();
    for pane in [Pane::Rules, Pane::Alerts, Pane::Integrations, Pane::Dlq, Pane::Cases] {
        a.pane = pane;
        for (w, h) in [(80, 24), (160, 48)] {
            insta::assert_snapshot!(format!("{pane:?}_{w}x{h}").to_lowercase(), draw(&a, w, h));
        }
    }
}

/// Themes reach the cells: each pane's styles differ between two themes, and a snapshot of
/// the styled buffer pins where each style lands (the query pane's SQL colours included).
#[test]
fn every_pane_in_two_themes() {
    for pane in Pane::ALL {
        let mut styled = vec![];
        for name in ["high-contrast", "colorblind"] {
            let mut a = filled();
            results(&mut a);
            a.query.focus = query::Focus::Editor;
            a.ui.theme = crate::config::theme::load(name, None).unwrap();
            a.pane = pane;
            let mut t = Terminal::new(TestBackend::new(80, 14)).unwrap();
            t.draw(|f| render(&a, f)).unwrap();
            let buffer = format!("{:?}", t.backend().buffer());
            insta::assert_snapshot!(format!("{pane:?}_theme_{name}").to_lowercase(), buffer);
            styled.push(buffer);
        }
        assert_ne!(styled[0], styled[1], "{pane:?} looks the same in both themes");
    }
}

#[test]
fn slash_filters_the_list_and_actions_follow_the_filtered_row() {
    let mut a = filled();
    a.pane = Pane::Alerts;
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    for c in "/medium".chars() {
        a.handle_key(key(c));
    }
    a.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("/medium · 1/2") && !screen.contains("critical"), "{screen}");
    // `a` acknowledges the row on screen (a2), not the first of the full list.
    let jobs = a.handle_key(key('a'));
    assert!(
        matches!(&jobs[..], [crate::app::Job::SaveAlerts { alerts, .. }] if alerts[0].id == "a2"),
        "{jobs:?}"
    );
    // `!` inverts; Esc clears.
    a.handle_key(key('/'));
    assert_eq!(a.ui.filter_input.as_deref(), Some("medium"), "the input starts from the filter");
    a.handle_key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE));
    for _ in 0..6 {
        a.handle_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    }
    for c in "!medium".chars() {
        a.handle_key(key(c));
    }
    a.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(a.alerts.list.visible(), vec![0]);
    a.handle_key(key('/'));
    a.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(a.alerts.list.visible(), vec![0, 1]);
}

#[test]
fn destructive_actions_ask_and_read_only_refuses() {
    let mut a = app();
    a.update(Msg::Dlq(vec![mantissa_backend::ports::DeadLetter {
        message_id: "m1".into(),
        group_id: "analyst:hook".into(),
        body: "{}".into(),
        receive_count: 3,
        last_error: Some("HTTP 500".into()),
        sent_at: Utc::now(),
    }]));
    a.pane = Pane::Dlq;
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    assert!(a.handle_key(key('d')).is_empty());
    assert!(a.ui.confirm.is_some());
    assert!(draw(&a, 80, 24).contains("delete message m1 for good? [y/N]"));
    assert!(matches!(&a.handle_key(key('y'))[..], [crate::app::Job::DeleteDead(id)] if id == "m1"));
    let mut ro = App::new(String::new(), true);
    ro.update(Msg::Dlq(a.dlq.list.items.clone()));
    ro.pane = Pane::Dlq;
    assert!(ro.handle_key(key('d')).is_empty());
    assert!(ro.ui.confirm.is_none());
    assert!(ro.ui.message.as_ref().unwrap().1.contains("read-only"));
}

/// The help comes from the active keymap and scrolls at 80x24 to its last line.
#[test]
fn help_lists_every_binding_of_the_active_keymap() {
    let mut a = app();
    a.pane = Pane::Alerts;
    a.handle_key(key('?'));
    let mut seen = String::new();
    for _ in 0..20 {
        seen.push_str(&draw(&a, 80, 24));
        a.handle_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
    }
    for (_, keys, what) in a.ui.keymap.help() {
        assert!(seen.contains(&format!("{keys:<22}{what}")), "help misses {keys} {what}");
    }
    assert!(a.ui.popup.is_some(), "scrolling keeps it open");
    a.handle_key(key('x'));
    assert!(a.ui.popup.is_none());
    a.run_command("keymap emacs");
    a.handle_key(key('?'));
    assert!(draw(&a, 80, 24).contains("Ctrl-n Down"));
}

fn rule_editor(a: &mut App) -> Vec<crate::app::Job> {
    a.pane = Pane::Rules;
    let text = "id: r\nname: Root used\nsevrity: high\nschedule: rate(5 minutes)\nquery: |\n  SELECT 1\n";
    a.update(Msg::RuleOpened {
        rule_id: Some("r".into()),
        path: Some("/rules/r.yml".into()),
        text: text.into(),
        test: false,
    });
    std::mem::take(&mut a.ui.queued)
}

#[test]
fn rule_editor_shows_the_checks_of_the_current_text() {
    let mut a = app();
    let jobs = rule_editor(&mut a);
    assert!(matches!(&jobs[..], [crate::app::Job::CheckRule { generation: 0, .. }]), "{jobs:?}");
    let diag = |msg: &str| mantissa_backend::rules::Diagnostic::error(Path::new("r.yml"), 3, 1, msg.into());
    a.update(Msg::RuleChecked {
        generation: 0,
        diagnostics: vec![diag("unknown key `sevrity`; did you mean `severity`?")],
    });
    insta::assert_snapshot!(draw(&a, 80, 24));

    // Typing makes a new generation: its check is asked for, and an older reply is dropped.
    let jobs = a.handle_key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
    assert!(matches!(&jobs[..], [crate::app::Job::CheckRule { generation: 1, .. }]), "{jobs:?}");
    assert!(!a.update(Msg::RuleChecked { generation: 0, diagnostics: vec![] }));
    assert!(draw(&a, 80, 24).contains("checking"));
    // Saving with errors is refused with the count; without them it writes the file.
    a.update(Msg::RuleChecked { generation: 1, diagnostics: vec![diag("bad")] });
    let save = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(a.handle_key(save).is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("1 error(s)"));
    a.update(Msg::RuleChecked { generation: 1, diagnostics: vec![] });
    let jobs = a.handle_key(save);
    assert!(
        matches!(&jobs[..], [crate::app::Job::SaveRuleFile { path: Some(_), text, force: false }] if text.contains("x"))
    );
}

/// The rule's query block is coloured as SQL, after the line numbers, and its keys as keywords.
#[test]
fn the_rule_editor_colours_its_query_as_sql() {
    let mut a = app();
    a.ui.theme = crate::config::theme::load("default", None).unwrap();
    rule_editor(&mut a);
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| render(&a, f)).unwrap();
    let buf = t.backend().buffer();
    let keyword = a.ui.theme.sql(crate::config::theme::SqlClass::Keyword).fg.unwrap();
    // Row 2 is the file's first line; a border column and three of line numbers come first.
    let line = |y: u16| (0..80).map(|x| buf[(x, y)].symbol()).collect::<String>();
    assert!(line(6).starts_with("│ 5 query: |") && line(7).starts_with("│ 6   SELECT 1"), "{}", line(7));
    assert_eq!((buf[(4, 6)].symbol(), buf[(4, 6)].fg), ("q", keyword));
    assert_eq!((buf[(6, 7)].symbol(), buf[(6, 7)].fg), ("S", keyword));
    assert_ne!(buf[(13, 7)].fg, keyword, "the number is not a keyword");
}

#[test]
fn rule_editor_keys_test_dry_run_and_close() {
    let mut a = app();
    rule_editor(&mut a);
    // Keys that are commands elsewhere are text here.
    for c in ['q', '1', ':'] {
        a.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    assert!(!a.quit && a.pane == Pane::Rules && a.command.is_none());
    let jobs = a.handle_key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL));
    assert!(matches!(&jobs[..], [crate::app::Job::TestRule { .. }]));
    // Unsaved changes: Esc asks first.
    a.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(a.ui.confirm.is_some() && a.rules.editor.is_some());
    a.handle_key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE));
    assert!(a.rules.editor.is_some());
    a.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    a.handle_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(a.rules.editor.is_none());
    // The list's D runs the rule's query in the query pane.
    let mut rule = mantissa_backend::demo::workspace::demo_rules().remove(0);
    rule.query = "SELECT 42".into();
    a.update(Msg::Rules(vec![rule]));
    let jobs = a.handle_key(KeyEvent::new(KeyCode::Char('D'), KeyModifiers::NONE));
    assert!(matches!(&jobs[..], [crate::app::Job::RunQuery(q)] if q == "SELECT 42"));
    assert_eq!(a.pane, Pane::Query);
}

#[test]
fn ctrl_c_cancels_and_never_quits() {
    let mut a = app();
    a.update(Msg::QueryStarted(QueryId("q1".into())));
    let jobs = a.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(matches!(&jobs[..], [crate::app::Job::CancelQuery(id)] if id.0 == "q1"));
    assert!(!a.quit);
    let jobs = a.handle_key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE));
    assert!(jobs.is_empty(), "one query at a time");
}

fn press(a: &mut App, keys: &str) -> Vec<crate::app::Job> {
    keys.chars().flat_map(|c| a.handle_key(key(c))).collect()
}

fn type_and_enter(a: &mut App, text: &str) -> Vec<crate::app::Job> {
    let mut jobs: Vec<_> = text.chars().flat_map(|c| a.handle_key(key(c))).collect();
    jobs.extend(special(a, KeyCode::Enter));
    jobs
}

fn special(a: &mut App, code: KeyCode) -> Vec<crate::app::Job> {
    a.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn grid_sorts_filters_opens_records_and_copies() {
    let mut a = app();
    results(&mut a);
    // Sort asks for a view job; its reply reorders the rows.
    let jobs = press(&mut a, "ls");
    let [crate::app::Job::GridView(req)] = &jobs[..] else { panic!("{jobs:?}") };
    assert_eq!(req.sort, Some((1, false)));
    let order = crate::widgets::grid::compute_view(req).unwrap();
    a.update(Msg::GridView { generation: req.generation, order: Ok(order) });
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("sorted by n asc") && screen.contains("↑n"), "{screen}");
    // Enter: the record; K: the cell; any other key closes.
    special(&mut a, KeyCode::Enter);
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("record 1/3") && screen.contains("eventname  evil\\x1b[2Jname"), "{screen}");
    press(&mut a, "x");
    press(&mut a, "K");
    assert!(draw(&a, 80, 24).contains("n · row 1"));
    press(&mut a, "x");
    // V then j selects two rows; y copies them as TSV with a header, for OSC 52.
    press(&mut a, "hVjy");
    assert_eq!(a.ui.clipboard.take().unwrap(), "eventname\tn\nevil\\x1b[2Jname\\u{202e}\t1\nDecrypt\t9827");
    // Alt-y copies the log's own bytes, when asked.
    press(&mut a, "kVj");
    a.handle_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::ALT));
    assert_eq!(a.ui.clipboard.take().unwrap(), "eventname\tn\nevil\u{1b}[2Jname\u{202e}\t1\nDecrypt\t9827");
    assert!(a.query.grid.selection.is_none(), "copying ends the selection");
    press(&mut a, "Y");
    assert!(a.ui.clipboard.take().unwrap().contains("\"n\": 9827"));
    // `/` filters through a view job as well.
    let jobs: Vec<_> = "/dec".chars().flat_map(|c| a.handle_key(key(c))).collect();
    assert!(matches!(jobs.last(), Some(crate::app::Job::GridView(r)) if r.filter == "dec"), "{jobs:?}");
    // e asks where to export; the answer becomes an export job of the shown rows.
    press(&mut a, "e");
    special(&mut a, KeyCode::Esc);
    special(&mut a, KeyCode::Esc);
    press(&mut a, "e");
    assert!(draw(&a, 80, 24).contains("export as csv|json|parquet PATH: csv"));
    let jobs = type_and_enter(&mut a, "/tmp/r.csv");
    assert!(
        matches!(&jobs[..], [crate::app::Job::Export { format, path, .. }] if format == "csv" && path.ends_with("r.csv")),
        "{jobs:?}"
    );
    // A file that is there already is overwritten only after a yes.
    let existing = tempfile::NamedTempFile::new().unwrap();
    press(&mut a, "e");
    let jobs = type_and_enter(&mut a, &existing.path().display().to_string());
    assert!(jobs.is_empty(), "{jobs:?}");
    assert!(draw(&a, 200, 24).contains("exists: overwrite it? [y/N]"));
    assert!(matches!(&press(&mut a, "y")[..], [crate::app::Job::Export { .. }]));
}

/// A result past what the grid holds says so in its title, and its export runs the query
/// again into the file instead of writing the held rows only.
#[test]
fn a_result_past_the_held_rows_says_so_and_exports_every_row() {
    let mut a = app();
    a.query.ran_sql = Some("SELECT * FROM cloudtrail_logs".into());
    results(&mut a);
    assert!(!draw(&a, 80, 24).contains("first 3 of"), "everything held: no note");
    a.update(succeeded(1_234_567));
    let batch = a.query.grid.batches.clone();
    a.update(Msg::QueryResults(batch));
    assert!(draw(&a, 80, 24).contains("· first 3 of 1,234,567"), "{}", draw(&a, 80, 24));
    let path = std::env::temp_dir().join(format!("mantissa-held-{}.csv", std::process::id()));
    let jobs = a.run_command(&format!("export csv {}", path.display()));
    assert!(
        matches!(&jobs[..], [crate::app::Job::ExportQuery { sql, .. }] if sql == "SELECT * FROM cloudtrail_logs"),
        "{jobs:?}"
    );
    assert!(
        a.ui.message.as_ref().is_some_and(|(_, m)| m.contains("all 1,234,567 rows")),
        "{:?}",
        a.ui.message
    );
}

#[test]
fn a_filled_setup_form_asks_before_esc_throws_it_away() {
    let mut a = app();
    a.pane = Pane::Integrations;
    press(&mut a, "n");
    type_and_enter(&mut a, "web");
    assert!(draw(&a, 80, 24).contains("new webhook integration"), "`web` picks the webhook");
    special(&mut a, KeyCode::Esc);
    assert!(a.integrations.setup.is_none(), "an untouched form closes at once");
    press(&mut a, "n");
    type_and_enter(&mut a, "web");
    press(&mut a, "ops-hook");
    special(&mut a, KeyCode::Esc);
    assert!(draw(&a, 80, 24).contains("discard what you typed in this setup? [y/N]"));
    press(&mut a, "n");
    assert!(a.integrations.setup.is_some(), "no keeps it");
    special(&mut a, KeyCode::Esc);
    press(&mut a, "y");
    assert!(a.integrations.setup.is_none());
}

#[test]
fn dlq_payload_and_bulk_redrive_and_delete() {
    let mut a = filled();
    a.pane = Pane::Dlq;
    special(&mut a, KeyCode::Enter);
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("payload") && screen.contains("\"integration_id\": \"soc-webhook\""), "{screen}");
    press(&mut a, "q");
    assert!(!a.quit, "q closes the payload, not the app");
    special(&mut a, KeyCode::Char(' '));
    press(&mut a, "R");
    assert!(draw(&a, 80, 24).contains("redrive message m1? [y/N]"));
    assert!(matches!(&press(&mut a, "y")[..], [crate::app::Job::Redrive(ids)] if ids == &["m1"]));
    a.handle_key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert!(matches!(&press(&mut a, "y")[..], [crate::app::Job::Redrive(ids)] if ids.len() == 1));
}

#[test]
fn history_and_tables_pickers_fill_the_editor() {
    let mut a = app();
    a.query.history.push("SELECT srcaddr FROM vpc_flow_logs", Utc::now());
    a.query.history.push("SELECT 1", Utc::now());
    special(&mut a, KeyCode::F(2));
    for c in "vpc".chars() {
        a.handle_key(key(c));
    }
    assert!(draw(&a, 80, 24).contains("query history · 1/2"));
    special(&mut a, KeyCode::Enter);
    assert_eq!(a.query.sql(), "SELECT srcaddr FROM vpc_flow_logs");
    special(&mut a, KeyCode::F(3));
    for c in "flow dstport".chars() {
        a.handle_key(key(c));
    }
    special(&mut a, KeyCode::Enter);
    assert!(a.query.sql().ends_with("vpc_flow_logsdstport"), "{}", a.query.sql());
    // Running records the query for the history file.
    a.query.history.path = Some("/tmp/h.jsonl".into());
    let jobs = a.handle_key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE));
    assert!(
        matches!(&jobs[..], [crate::app::Job::SaveHistory(..), crate::app::Job::RunQuery(_)]),
        "{jobs:?}"
    );
}

#[test]
fn a_long_message_takes_two_rows_and_points_to_messages_past_them() {
    let mut a = app();
    a.ui.error(format!(
        "test send to `ops-hook`: {} (127.0.0.1:9)",
        "connection refused or unreachable ".repeat(2)
    ));
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("(127.0.0.1:9)"), "the end of the message is on screen:\n{screen}");
    a.ui.error("word ".repeat(60));
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("… :messages"), "{screen}");
    // The key hints stay on one row.
    a.ui.message = None;
    let rows = draw(&a, 80, 24).lines().filter(|l| l.contains("help")).count();
    assert_eq!(rows, 1);
}

#[test]
fn attack_coverage_view_at_both_sizes() {
    let mut a = filled();
    a.pane = Pane::Rules;
    assert!(press(&mut a, "C").is_empty());
    let title = a.ui.popup.as_ref().unwrap().title.clone();
    assert!(title.starts_with("ATT&CK coverage · ") && title.ends_with("· 12 enabled rules"), "{title}");
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("coverage_{w}x{h}"), draw(&a, w, h));
    }
    // Gaps are named: a tactic no rule of these twelve covers.
    let text: String = a.ui.popup.as_ref().unwrap().lines.iter().map(|l| l.to_string() + "\n").collect();
    assert!(text.contains("Execution  0/6") && text.contains("T1651     Cloud Administration Co…"), "{text}");
    assert!(text.contains("no rule"));
}

#[test]
fn the_rule_ledger_orders_by_noise_and_cost_at_both_sizes() {
    use mantissa_backend::rules::ledger::LedgerRow;
    let mut a = filled();
    a.pane = Pane::Rules;
    assert!(matches!(&press(&mut a, "L")[..], [crate::app::Job::LoadLedger]));
    assert!(draw(&a, 80, 24).contains("reading runs and alerts"));
    let row = |id: &str, alerts: f64, cost: f64, noise: Option<f64>| LedgerRow {
        rule_id: id.into(),
        name: id.into(),
        enabled: true,
        executions: 288,
        last_status: Some(mantissa_backend::model::RunStatus::Success),
        avg_duration_ms: 42.0,
        alerts_per_day: alerts,
        noise_share: noise,
        bytes_per_day: 288.0 * 1_048_576.0,
        cost_per_day_usd: cost,
        runs_per_day: 288.0,
        bytes_per_run: 1_048_576.0,
        schedule: "rate(5 minutes)".into(),
        scan: mantissa_backend::rules::ledger::ScanShare::Shares("cloudtrail_logs".into()),
    };
    a.update(Msg::Ledger(Ok(vec![
        row("quiet-but-costly", 0.1, 0.14, None),
        row("noisy-and-cheap", 12.0, 0.01, Some(0.75)),
    ])));
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("ledger_{w}x{h}"), draw(&a, w, h));
    }
    assert_eq!(a.rules.ledger.as_ref().unwrap().list.items[0].rule_id, "noisy-and-cheap");
    press(&mut a, "s");
    assert_eq!(a.rules.ledger.as_ref().unwrap().list.items[0].rule_id, "quiet-but-costly");
    assert!(a.ui.message.as_ref().unwrap().1.contains("costliest first"));
    // L again: back to the rules.
    press(&mut a, "L");
    assert!(a.rules.ledger.is_none());

    // Keys on a ledger row act on that row's rule: the noisiest one read there is snoozed.
    let noisy = a.rules.list.items[3].id.clone();
    press(&mut a, "L");
    a.update(Msg::Ledger(Ok(vec![row(&noisy, 40.0, 0.01, Some(0.9)), row("quiet", 0.1, 0.01, None)])));
    press(&mut a, "z");
    let label = &a.ui.prompt.as_ref().unwrap().label;
    assert!(label.starts_with(&format!("snooze {noisy} ")), "{label}");
}

#[test]
fn hunts_from_the_rules_pane_and_backtests_from_the_editor() {
    use crate::app::Job;
    use mantissa_backend::model::RunWindow;
    use mantissa_backend::rules::hunt::{Backtest, Hit, Hunt};
    let mut a = filled();
    a.pane = Pane::Rules;
    let id = a.rules.list.selected().unwrap().id.clone();
    let jobs = press(&mut a, "H");
    assert!(
        matches!(&jobs[..], [Job::Hunt { rule_ids, from }] if *rule_ids == [id.clone()] && from == "1d"),
        "{jobs:?}"
    );
    let jobs = a.run_command("hunt 7d all");
    assert!(
        matches!(&jobs[..], [Job::Hunt { rule_ids, from }] if rule_ids.len() == 12 && from == "7d"),
        "{jobs:?}"
    );
    assert!(a.run_command("hunt yesterday").is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("usage: :hunt"));

    let at = chrono::DateTime::from_timestamp(1_732_096_800, 0).unwrap();
    let hit = |key: &str| Hit {
        rule_id: id.clone(),
        window: RunWindow { start: at, end: at + Duration::minutes(5) },
        key: key.into(),
        events: 3,
        first: at,
        last: at + Duration::minutes(2),
    };
    let found =
        Hunt { hits: vec![hit("carol\u{1b}[2J 185.220.101.47")], windows: 288, queries: 96, errors: vec![] };
    a.update(Msg::Hunted { title: format!("hunt {id} · 1d to now"), found: Ok(Box::new(found)) });
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("1 incident(s)") && !screen.contains('\u{1b}'), "{screen}");
    insta::assert_snapshot!("hunt_80x24", screen);
    a.ui.popup = None;

    // In the editor: F6 backtests the text over a week, :backtest N over N days.
    rule_editor(&mut a);
    let jobs = special(&mut a, KeyCode::F(6));
    assert!(matches!(&jobs[..], [Job::Backtest { days: 7, .. }]), "{jobs:?}");
    assert!(matches!(&a.run_command("backtest 30")[..], [Job::Backtest { days: 30, .. }]));
    assert!(a.run_command("backtest 0").is_empty());
    assert!(a.ui.message.as_ref().unwrap().1.contains("from 1 to 366"));
    let found = Backtest {
        added: vec![hit("new 198.51.100.7")],
        removed: vec![hit("gone 203.0.113.9")],
        unchanged: 4,
        windows: 2016,
        ..Default::default()
    };
    a.update(Msg::Backtested { title: "backtest r over 7 day(s)".into(), found: Ok(Box::new(found)) });
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("+1 -1 =4"), "{screen}");
    insta::assert_snapshot!("backtest_80x24", screen);
}
