//! The console end to end: the real binary in a pseudo-terminal at 80x24, read back through a
//! VT100 parser as an analyst's terminal would show it. The walk: first start makes the demo
//! workspace and says each step; `2` from the first screen opens the rules pane; a query is
//! typed, run, read in the grid, copied and exported (twice: the second asks before
//! overwriting); an unknown column gets the closest real one, readable in full in `:messages`;
//! a long join is cancelled; a rule is opened and dry-run; a new rule whose test fails is not
//! saved without a yes; the assistant set up with `:set` against a loopback OpenAI-compatible
//! server turns a question into SQL (corrected once) that runs; an address cell's timeline
//! across the tables; an alert acknowledged, then resolved as a false positive with a reason;
//! two alerts marked into a case, read and closed as a true positive; integration health read;
//! a dead letter redriven; `:q` restores the terminal.

#[path = "support/pty.rs"]
mod pty;

use portable_pty::CommandBuilder;
use pty::Pty;
use std::time::{Duration, Instant};
use tempfile::TempDir;

struct Console(Pty);

/// An OpenAI-compatible server on loopback: the first answer names a column the lake lacks,
/// the second the right one. Returns its base URL and the request bodies it got.
fn fake_openai() -> (String, std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
    use axum::{Json, Router, routing::post};
    let asked = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let seen = asked.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let app = Router::new().route(
                "/v1/chat/completions",
                post(move |Json(body): Json<serde_json::Value>| {
                    let seen = seen.clone();
                    async move {
                        let n = {
                            let mut s = seen.lock().unwrap();
                            s.push(body);
                            s.len()
                        };
                        let column = if n == 1 { "sourceip" } else { "sourceipaddress" };
                        let sql = format!(
                            "```sql\nSELECT {column}, count(*) AS attempts FROM cloudtrail_logs \
                             WHERE dt >= '2000-01-01' AND eventname = 'ConsoleLogin' GROUP BY 1 ORDER BY 2 DESC\n```"
                        );
                        Json(serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion",
                            "choices": [{"index": 0, "message": {"role": "assistant", "content": sql},
                            "finish_reason": "stop"}]}))
                    }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (base, asked)
}

impl Console {
    fn start(data: &std::path::Path, config: &std::path::Path) -> Console {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_mantissa"));
        cmd.args(["--data-dir", data.to_str().unwrap()]);
        cmd.env("TERM", "xterm-256color");
        // No user themes or keymaps from the machine running the test.
        cmd.env("XDG_CONFIG_HOME", config);
        cmd.env("HOME", config);
        cmd.env_remove("NO_COLOR");
        cmd.env_remove("MANTISSA_KEYMAP");
        cmd.env_remove("MANTISSA_THEME");
        Console(Pty::spawn(&cmd))
    }

    /// Waits for `what` on screen; the screen is in the failure message.
    fn wait_for(&self, what: &str, secs: u64) -> String {
        if self.0.wait(&[what], Duration::from_secs(secs)).is_none() {
            panic!("no `{what}` on screen after {secs} s:\n{}", self.0.text());
        }
        self.0.text()
    }

    /// Waits until the screen passes `check`; the screen is in the failure message.
    fn wait_until(&self, what: &str, secs: u64, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let text = self.0.text();
            if check(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "no {what} on screen after {secs} s:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything written so far, escape sequences included.
    fn raw(&self) -> String {
        String::from_utf8_lossy(&self.0.raw.lock().unwrap()).into_owned()
    }

    fn send(&mut self, keys: &str) {
        self.0.send(keys);
        // Let the console read one key at a time, as typed.
        std::thread::sleep(Duration::from_millis(30));
    }
}

const F5: &str = "\x1b[15~";
const F4: &str = "\x1bOS";
const ESC: &str = "\x1b";
const CTRL_C: &str = "\x03";
const CTRL_L: &str = "\x0c";
const CTRL_S: &str = "\x13";

#[test]
fn an_analyst_queries_exports_dry_runs_a_rule_triages_redrives_and_quits() {
    let (data, config) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let mut c = Console::start(data.path(), config.path());
    let first = c.wait_for("First start: made the demo workspace", 120);
    assert!(first.contains("1 Query") && first.contains("5 DLQ"), "{first}");
    // Each step was said on the terminal before the console took it.
    let raw = c.raw();
    let said = |what: &str| raw.find(what).unwrap_or_else(|| panic!("`{what}` was never printed"));
    assert!(said("First start: making the demo workspace") < said("wrote cloudtrail_logs"));
    assert!(said("wrote cloudtrail_logs") < said("\x1b[?1049h"), "the steps come before the console");

    // The first screen reads keys as commands: `2` opens the rules pane, `1` comes back.
    assert!(first.contains("No query run yet"), "{first}");
    c.send("2");
    c.wait_for("Burst of access denied", 10);
    c.send("1");
    c.wait_for("No query run yet", 5);

    // i enters the editor with a sample query; type onto it and run.
    c.send("i");
    c.wait_for("Alt-1…Alt-6 panes", 5);
    c.send(" LIMIT 3");
    c.send(F5);
    let ran = c.wait_for("SUCCEEDED", 60);
    let ran = if ran.contains("results 1/3") { ran } else { c.wait_for("results 1/3", 10) };
    assert!(ran.contains("3 rows") && ran.contains("eventname") && ran.contains("CreateLogStream"), "{ran}");
    // The grid has the focus after a run: j moves, Enter opens the record, a key closes it.
    c.send("j");
    c.wait_for("results 2/3", 5);
    c.send("\r");
    c.wait_for("record 2/3", 5);
    c.send("x");
    // y copies the cell with OSC 52, which a terminal over SSH turns into the clipboard.
    c.send("y");
    c.wait_for("copied 1 line(s)", 5);
    assert!(c.raw().contains("\x1b]52;c;"), "no OSC 52 sequence in the output");

    // e asks where to export the result as the grid shows it.
    c.send("e");
    c.wait_for("export as csv|json|parquet PATH: csv", 5);
    let csv = data.path().join("result.csv");
    c.send(&format!("{}\r", csv.display()));
    c.wait_for("exported 3 rows", 30);
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert!(exported.starts_with("eventname,n\n") && exported.lines().count() == 4, "{exported}");

    // The same path again: the file is there, so it asks first.
    c.send("e");
    c.wait_for("export as csv|json|parquet PATH: csv", 5);
    c.send(&format!("{}\r", csv.display()));
    c.wait_for("exists: overwrite it? [y/N]", 5);
    c.send("y");
    c.wait_for("exported 3 rows", 30);

    // An unknown column: the closest real one is suggested, and `:messages` has it in full.
    c.send("i");
    c.send(CTRL_L);
    c.send("SELECT sourceip FROM cloudtrail_logs");
    c.send(F5);
    let failed = c.wait_for("FAILED", 30);
    assert!(!failed.contains("CreateLogStream"), "the last result is cleared:\n{failed}");
    c.wait_for("did you mean `sourceipaddress`?", 5);
    c.send(ESC);
    c.send(":messages\r");
    let log = c.wait_for("messages (", 5);
    // Wrapped at words to the view, every word of it is there.
    let words: Vec<&str> =
        log.split(|c: char| c.is_whitespace() || c == '│').filter(|w| !w.is_empty()).collect();
    assert!(words.join(" ").contains("unknown column `sourceip`; did you mean `sourceipaddress`?"), "{log}");
    c.send("x");

    // The assistant: off until a provider is set, then a question becomes SQL that runs.
    c.send(F4);
    c.wait_for("the assistant is off", 5);
    let (base, asked) = fake_openai();
    c.send(":set llm_provider openai\r");
    c.wait_for("llm_provider = openai", 10);
    c.send(&format!(":set llm_base_url {base}\r"));
    c.wait_for("llm_base_url = http://127.0.0.1", 10);
    // F4 again until the console has read the settings back (a job after the save).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c.0.text().contains("ask for SQL") {
        assert!(Instant::now() < deadline, "no ask prompt:\n{}", c.0.text());
        c.send(ESC);
        c.send(F4);
        std::thread::sleep(Duration::from_millis(200));
    }
    c.send("failed console logins by IP\r");
    let drafted = c.wait_for("assistant's SQL (corrected once)", 30);
    assert!(drafted.contains("SELECT sourceipaddress, count(*) AS attempts"), "{drafted}");
    assert!(drafted.contains("cloudtrail_logs (days chosen by dt"), "{drafted}");
    c.send(F5);
    c.wait_until("the assistant's query run", 60, |t| t.contains("SUCCEEDED") && t.contains("attempts"));
    let requests = asked.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "one question, one correction round");
    assert_eq!(requests[0]["messages"][1]["content"], "failed console logins by IP");
    assert!(requests[1]["messages"][3]["content"].as_str().unwrap().contains("sourceipaddress"));

    // T on an address cell: its timeline across the tables, in the editor, run with F5.
    c.send("T");
    c.wait_for("timeline of address", 10);
    c.wait_for("the timeline reads", 30);
    c.send(F5);
    c.wait_until("the timeline's rows", 60, |t| t.contains("SUCCEEDED") && t.contains("cloudtrail"));
    c.send(ESC);

    // A long join: its elapsed time moves while it runs, and Ctrl-c cancels it within a bound.
    c.send("i");
    c.send(CTRL_L);
    c.send(
        "SELECT count(*) FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.eventname = b.eventname \
         JOIN cloudtrail_logs c ON b.eventname = c.eventname",
    );
    c.send(F5);
    c.wait_until("a running join whose elapsed time moves", 60, |t| {
        t.lines().any(|l| l.starts_with("RUNNING · ") && !l.starts_with("RUNNING · 0 ms"))
    });
    let asked = Instant::now();
    c.send(CTRL_C);
    c.wait_for("CANCELLED", 10);
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(3), "the cancel took {took:?}");
    eprintln!("Ctrl-c to CANCELLED on screen: {} ms", took.as_millis());
    c.send(ESC);

    // The first rule (by id) opens in the editor, checked; F5 dry-runs its query in the query pane.
    c.send("2");
    c.wait_for("Burst of access denied", 10);
    c.send("\r");
    c.wait_for("aws-access-denied-burst.yml", 10);
    c.wait_for("F5 dry-run", 10);
    c.wait_for(" valid ", 30);
    c.send(F5);
    c.wait_until("the dry run's result", 60, |t| {
        t.contains("SELECT useridentity.arn AS principal")
            && t.contains("SUCCEEDED")
            && !t.contains("results 2/3")
    });

    // A new rule whose own test fails is not saved without a yes.
    c.send("2");
    c.wait_for("aws-access-denied-burst.yml", 5);
    c.send(ESC);
    c.wait_for("n new", 5);
    c.send("n");
    c.wait_for("new rule", 5);
    c.wait_for("warning", 30);
    // The last line, `tests: []`, becomes a test that cannot pass.
    c.send("\x1b>");
    c.send("\x05");
    c.send("\x7f\x7f");
    c.send("[{name: fires, table: cloudtrail_logs, expect: {alert: true}, records: []}]");
    let question = "test(s) of this rule fail (below): save and push it anyway? [y/N]";
    let mut asked = false;
    for _ in 0..20 {
        // Saving waits for the check of the last edit.
        c.send(CTRL_S);
        let t =
            c.wait_until("the save's answer", 30, |t| t.contains("still checking") || t.contains(question));
        if t.contains(question) {
            asked = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(asked, "no question before saving a rule whose test fails:\n{}", c.0.text());
    c.wait_for("FAIL ", 5);
    c.send("n");
    assert!(!data.path().join("rules/my-new-rule.yml").exists(), "saved without a yes");
    c.send(ESC);
    c.wait_for("discard your changes", 5);
    c.send("y");
    c.wait_for("n new", 5);

    // The in-process scheduler has raised alerts: the newest is acknowledged.
    c.send("3");
    c.wait_for("severity", 10);
    c.wait_until("an open alert", 120, |t| t.contains(" open "));
    c.send("a");
    c.wait_for(") acknowledged", 10);
    // Resolved as a false positive with a reason: the detail shows the judgement.
    c.send("f");
    c.wait_for("as tp|bp|fp|un, then why", 5);
    c.send("the vendor's weekly scan\r");
    // The report may wrap with the rule's name; the list says it in a word.
    c.wait_for("res fp", 10);
    c.send("\r");
    c.wait_until("the judgement in the detail", 10, |t| {
        t.contains("judged") && t.contains("false positive: the vendor's weekly")
    });
    c.send("x");
    // Two alerts marked make a case; the cases pane shows it, its detail its alerts and who
    // opened it; closed as a true positive with a reason.
    c.send("g");
    c.send(" ");
    c.send(" ");
    c.wait_for("2 marked", 5);
    c.send("c");
    c.wait_for("2 alert(s) to: new TITLE", 5);
    c.send("intruder in carol's account\r");
    c.wait_for("opened: intruder in carol's account", 10);
    c.send("6");
    c.wait_for("cases · 1 open", 10);
    c.send("\r");
    c.wait_until("the case's detail", 10, |t| t.contains("alerts (2)") && t.contains("by analyst"));
    c.send("x");
    c.send("r");
    c.wait_for("close as tp|bp|fp|un", 5);
    c.send("tp carol's password was sprayed\r");
    c.wait_for("closed tp", 10);
    c.send("?");
    c.wait_for("keys · keymap default", 5);
    c.send("x");

    // Integration health, then the demo webhook's failures in the DLQ, one redriven.
    c.send("4");
    c.wait_until("integration health", 120, |t| t.contains("alerts-file") && t.contains("healthy"));
    c.send("5");
    c.wait_for("dead letters", 5);
    c.wait_until("a dead letter", 240, |t| t.contains("soc-webhook"));
    c.send("R");
    c.wait_for("? [y/N]", 5);
    c.send("y");
    c.wait_for("redrove 1 message(s)", 30);
    c.send(":q\r");

    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = c.0.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the console did not quit on :q");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    // Restored: back on the main screen with the cursor shown and raw mode's echo back.
    std::thread::sleep(Duration::from_millis(200));
    let parser = c.0.screen.lock().unwrap();
    assert!(!parser.screen().alternate_screen(), "still on the alternate screen");
    assert!(!parser.screen().hide_cursor(), "the cursor is still hidden");
}
