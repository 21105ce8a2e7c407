//! The console end to end: the real binary in a pseudo-terminal at 80x24, read back through a
//! VT100 parser as an analyst's terminal would show it. The issue's walk: first start makes the
//! demo workspace; a query is typed, run, read in the grid, copied and exported; a rule is
//! opened and dry-run; an alert acknowledged; integration health read; a dead letter redriven;
//! `:q` restores the terminal.

#[path = "support/pty.rs"]
mod pty;

use portable_pty::CommandBuilder;
use pty::Pty;
use std::time::{Duration, Instant};
use tempfile::TempDir;

struct Console(Pty);

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

    fn send(&mut self, keys: &str) {
        self.0.send(keys);
        // Let the console read one key at a time, as typed.
        std::thread::sleep(Duration::from_millis(30));
    }
}

const F5: &str = "\x1b[15~";

#[test]
fn an_analyst_queries_exports_dry_runs_a_rule_triages_redrives_and_quits() {
    let (data, config) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let mut c = Console::start(data.path(), config.path());
    let first = c.wait_for("First start: made the demo workspace", 120);
    assert!(first.contains("1 Query") && first.contains("5 DLQ"), "{first}");

    // The editor has the focus with a sample query; type onto it and run.
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
    let raw = String::from_utf8_lossy(&c.0.raw.lock().unwrap()).into_owned();
    assert!(raw.contains("\x1b]52;c;"), "no OSC 52 sequence in the output");

    // e asks where to export the result as the grid shows it.
    c.send("e");
    c.wait_for("export as csv|json|parquet PATH: csv", 5);
    let csv = data.path().join("result.csv");
    c.send(&format!("{}\r", csv.display()));
    c.wait_for("exported 3 rows", 30);
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert!(exported.starts_with("eventname,n\n") && exported.lines().count() == 4, "{exported}");

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

    // The in-process scheduler has raised alerts: the newest is acknowledged.
    c.send("3");
    c.wait_for("severity", 10);
    c.wait_until("an open alert", 120, |t| t.contains(" open "));
    c.send("a");
    c.wait_for("is Acknowledged", 10);
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
