//! Console speed, against the targets of the console issue and harlequin (the Python SQL TUI)
//! where it is installed in `.venv-peers` (see the README's "Console benchmark" section):
//! 1. start to first frame on the embedded default with the demo data (the real release binary
//!    in a pseudo-terminal), and the same for harlequin;
//! 2. frame time while scrolling a 1,000,000-row result (render into ratatui's TestBackend:
//!    formatting and layout, not the terminal's own drawing);
//! 3. memory for that result against its Arrow size;
//! 4. key-to-redraw latency while a long query runs (pty: key written -> screen changed).
//!
//! `cargo bench --bench console` (add `-- --quick` for fewer runs).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use mantissa::app::{App, Msg};
use portable_pty::CommandBuilder;
use pty::Pty;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/support/pty.rs"]
mod pty;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("bench-data/console");
    prepare_demo(&data);

    println!("## 1. start to first frame (80x24 pty, demo data, target < 150 ms)");
    let runs = if quick { 5 } else { 15 };
    let ours = first_frame_ms(&console_cmd(&data), &["1 Query", "SQL ("], runs);
    report("mantissa", &ours);
    let harlequin = root.join(".venv-peers/bin/harlequin");
    if harlequin.exists() {
        let mut cmd = CommandBuilder::new(&harlequin);
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(&data);
        let theirs = first_frame_ms(&cmd, &["Data Catalog"], runs.min(8));
        report("harlequin", &theirs);
        println!("  ratio harlequin/mantissa (median): {:.1}x", median(&theirs) / median(&ours));
    } else {
        println!(
            "  harlequin: not installed (python3 -m venv .venv-peers && .venv-peers/bin/pip install harlequin)"
        );
    }

    println!("\n## 2./3. a 1,000,000-row result: frame time (target < 5 ms) and memory (target < 2x Arrow)");
    let before = rss_bytes();
    let batches = million_rows();
    let arrow: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
    let mut app = App::new("bench".into(), false);
    app.update(Msg::QueryResults(batches));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let keys = [
            KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL),
            KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT),
            KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char('g'), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char('h'), KeyModifiers::NONE),
        ];
        let frames = if quick { 700 } else { 3500 };
        let mut times = Vec::with_capacity(frames);
        for i in 0..frames {
            let start = Instant::now();
            app.handle_key(keys[i % keys.len()]);
            term.draw(|f| mantissa::app::frame::render(&app, f)).unwrap();
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        report(&format!("frame {w}x{h}"), &times);
    }
    let after = rss_bytes();
    let grown = after.saturating_sub(before);
    println!(
        "  memory: Arrow {:.1} MB, process grew {:.1} MB while building and scrolling it: {:.2}x the Arrow size",
        mb(arrow),
        mb(grown),
        grown as f64 / arrow as f64
    );
    let sort = mantissa::widgets::grid::ViewRequest {
        generation: 0,
        batches: app.query.grid.batches.clone(),
        sort: Some((1, false)),
        filter: String::new(),
    };
    let t = Instant::now();
    let order = mantissa::widgets::grid::compute_view(&sort).unwrap().unwrap();
    println!("  sort 1M rows by eventname (off the UI thread): {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    let filter = mantissa::widgets::grid::ViewRequest { sort: None, filter: "consolelogin".into(), ..sort };
    let t = Instant::now();
    let kept = mantissa::widgets::grid::compute_view(&filter).unwrap().unwrap();
    println!(
        "  filter 1M rows by text (off the UI thread): {:.0} ms, {} rows kept of {}",
        t.elapsed().as_secs_f64() * 1000.0,
        kept.len(),
        order.len()
    );

    println!("\n## 4. key-to-redraw latency while a long query runs (target < 16 ms)");
    let latencies = key_latency_while_querying(&data, if quick { 20 } else { 60 });
    report("key -> redraw", &latencies);
}

fn mb(b: usize) -> f64 {
    b as f64 / 1048576.0
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

fn report(what: &str, v: &[f64]) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pct = |p: f64| s[((s.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "  {what:<18} n={:<5} p50 {:>8.3} ms   p95 {:>8.3} ms   max {:>8.3} ms",
        s.len(),
        pct(0.5),
        pct(0.95),
        s[s.len() - 1]
    );
}

/// The process's resident set from /proc (Linux).
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn release_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mantissa"))
}

/// The demo workspace, made once by the binary itself (the same data `cargo run` makes).
fn prepare_demo(data: &Path) {
    if data.join("lake").exists() {
        return;
    }
    let out = std::process::Command::new(release_binary())
        .args(["--data-dir", data.to_str().unwrap(), "demo"])
        .output()
        .expect("mantissa demo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn console_cmd(data: &Path) -> CommandBuilder {
    let mut cmd = CommandBuilder::new(release_binary());
    cmd.args(["--data-dir", data.to_str().unwrap()]);
    cmd.env("TERM", "xterm-256color");
    cmd
}

fn first_frame_ms(cmd: &CommandBuilder, marks: &[&str], runs: usize) -> Vec<f64> {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let p = Pty::spawn(cmd);
            p.wait(marks, Duration::from_secs(60)).expect("a first frame within 60 s");
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

/// Starts a query that runs for seconds (a self-join over the demo CloudTrail), then switches
/// panes back and forth: each sample is key written -> the other pane's title on screen.
fn key_latency_while_querying(data: &Path, samples: usize) -> Vec<f64> {
    let mut p = Pty::spawn(&console_cmd(data));
    p.wait(&["1 Query", "SQL ("], Duration::from_secs(60)).expect("the console starts");
    // Replace the sample SQL (Ctrl-a/Ctrl-k are not universal in the editor: select all by
    // deleting lines) with a long join, run it, and leave the editor for the grid.
    for _ in 0..4 {
        p.send("\x1b[A");
    }
    p.send("\x01"); // Ctrl-a: start of line
    for _ in 0..6 {
        p.send("\x0b"); // Ctrl-k: delete to the end of line
        p.send("\x1b[3~"); // Delete: join the next line
    }
    p.send(
        "SELECT count(*) FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.sourceipaddress < b.sourceipaddress",
    );
    p.send("\x1b[15~");
    p.wait(&["RUNNING"], Duration::from_secs(30)).expect("the query runs");
    p.send("\x1b");
    std::thread::sleep(Duration::from_millis(200));
    let (mut out, mut sent) = (vec![], vec![]);
    for i in 0..samples {
        let (key, mark) = if i % 2 == 0 { ("2", "┌ rules") } else { ("3", "┌ alerts") };
        let before = p.raw.lock().unwrap().len();
        let start = Instant::now();
        p.send(key);
        p.wait(&[mark], Duration::from_secs(5)).expect("the pane switched");
        out.push(start.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(40));
        sent.push(p.raw.lock().unwrap().len() - before);
    }
    // What a pane switch costs on an SSH link (ratatui writes only the changed cells).
    println!("  bytes written per pane switch (mean): {}", sent.iter().sum::<usize>() / sent.len().max(1));
    let still = p.wait(&["RUNNING"], Duration::ZERO).is_some() || {
        p.send("1");
        p.wait(&["RUNNING"], Duration::from_secs(2)).is_some()
    };
    println!("  (the query was {} when the samples ended)", if still { "still running" } else { "done" });
    out
}

/// 1,000,000 rows shaped like CloudTrail results, in 8,192-row batches as DataFusion returns.
fn million_rows() -> Vec<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("eventtime", DataType::Timestamp(TimeUnit::Millisecond, None), false),
        Field::new("eventname", DataType::Utf8, false),
        Field::new("sourceipaddress", DataType::Utf8, false),
        Field::new("bytes", DataType::Int64, true),
        Field::new("requestparameters", DataType::Utf8, true),
    ]));
    let names = ["ConsoleLogin", "GetObject", "AssumeRole", "DescribeInstances", "PutObject", "Decrypt"];
    let total = 1_000_000usize;
    (0..total)
        .step_by(8192)
        .map(|start| {
            let n = 8192.min(total - start);
            let rows = start..start + n;
            let cols: Vec<ArrayRef> = vec![
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    rows.clone().map(|i| 1_763_900_000_000 + i as i64 * 37),
                )),
                Arc::new(StringArray::from_iter_values(
                    rows.clone().map(|i| names[(i * 7919) % names.len()]),
                )),
                Arc::new(StringArray::from_iter_values(
                    rows.clone().map(|i| format!("10.{}.{}.{}", i % 256, (i / 256) % 256, i % 251)),
                )),
                Arc::new(Int64Array::from_iter(rows.clone().map(|i| (i % 13 != 0).then_some(i as i64 * 3)))),
                Arc::new(StringArray::from_iter(rows.map(|i| {
                    (i % 5 != 0)
                        .then(|| format!("{{\"bucketName\":\"logs-{}\",\"key\":\"k/{i}.json\"}}", i % 97))
                }))),
            ];
            RecordBatch::try_new(schema.clone(), cols).unwrap()
        })
        .collect()
}
