//! A rule's file as YAML in an editor, checked as you type (the same checks as `mantissa rules
//! validate`), tested with its inline tests (`mantissa rules test`), dry-run in the query pane,
//! and saved to the rules folder.

use crate::component::{Job, Msg, Request, Ui};
use crate::config::keymap::Action;
use crate::config::theme::Theme;
use crate::widgets::popup::wrap_line;
use crate::widgets::{sql_colors, text_edit};
use crossterm::event::KeyEvent;
use mantissa_backend::rules::{Diagnostic, Level, runner::TestOutcome};
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_textarea::TextArea;
use std::path::PathBuf;

/// A rule file open for editing. Checks run on a job per edit; `generation` drops stale replies.
pub struct RuleEditor {
    /// The rule's id in the store, or `None` for a new rule.
    pub rule_id: Option<String>,
    /// The file it came from; a new rule is written to `<rules-dir>/<id>.yml` on save.
    pub path: Option<PathBuf>,
    pub text: TextArea<'static>,
    /// The text as last opened or saved: anything else is unsaved.
    pub saved: String,
    pub generation: u64,
    /// Diagnostics for `checked_generation`.
    pub diagnostics: Vec<Diagnostic>,
    pub checked_generation: Option<u64>,
    pub tests: Option<Vec<TestOutcome>>,
    pub testing: bool,
}

/// The text a new rule starts from: every required key, and a test to fill in.
pub const NEW_RULE: &str = "\
id: my-new-rule
name: My new rule
description: What this detects and why it matters.
severity: medium
schedule: rate(15 minutes)
threshold: {type: count, value: 0}
tags: []
query: |
  SELECT eventtime, eventname, sourceipaddress
  FROM cloudtrail_logs
  WHERE dt >= date_format(current_date - interval '1' day, '%Y-%m-%d')
    AND eventname = 'ConsoleLogin'
tests: []
";

impl RuleEditor {
    pub fn new(rule_id: Option<String>, path: Option<PathBuf>, text: &str) -> Self {
        let lines: Vec<String> = text.lines().map(String::from).collect();
        let mut area = TextArea::new(if lines.is_empty() { vec![String::new()] } else { lines });
        area.set_line_number_style(ratatui::style::Style::new());
        RuleEditor {
            rule_id,
            path,
            text: area,
            saved: text.to_string(),
            generation: 0,
            diagnostics: vec![],
            checked_generation: None,
            tests: None,
            testing: false,
        }
    }

    pub fn contents(&self) -> String {
        let mut text = self.text.lines().join("\n");
        text.push('\n');
        text
    }

    pub fn dirty(&self) -> bool {
        self.contents().trim_end() != self.saved.trim_end()
    }

    fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Where the file is or will be, for titles and messages.
    pub fn label(&self) -> String {
        match (&self.path, &self.rule_id) {
            (Some(p), _) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            (None, Some(id)) => format!("{id}.yml (new file)"),
            (None, None) => "new rule".into(),
        }
    }

    fn check_job(&self) -> Job {
        Job::CheckRule { generation: self.generation, path: self.check_path(), text: self.contents() }
    }

    /// The file the checks name: none yet for a rule not written, which is saved as `<id>.yml`
    /// (so the file-name check has nothing to compare).
    fn check_path(&self) -> PathBuf {
        self.path.clone().unwrap_or_default()
    }

    /// The jobs that check (and with `test`, test) the text just opened.
    pub fn opened(&mut self, test: bool) -> Vec<Job> {
        let mut jobs = vec![self.check_job()];
        if test {
            jobs.push(Job::TestRule { path: self.check_path(), text: self.contents() });
        }
        self.testing = test;
        jobs
    }

    /// Save, test and dry-run (closing is the pane's: it may ask first).
    pub fn act(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        match action {
            Action::Save => {
                let errors = self.errors();
                if ui.read_only {
                    ui.error("read-only session: saving is refused");
                } else if self.checked_generation != Some(self.generation) {
                    ui.error("still checking the rule; save again in a moment");
                } else if errors > 0 {
                    ui.error(format!("{errors} error(s) in the rule: fix them before saving"));
                } else {
                    return vec![Job::SaveRuleFile {
                        path: self.path.clone(),
                        text: self.contents(),
                        force: false,
                    }];
                }
            }
            Action::TestRule => {
                self.testing = true;
                self.tests = None;
                return vec![Job::TestRule { path: self.check_path(), text: self.contents() }];
            }
            Action::Backtest => return self.backtest(7),
            Action::DryRunRule => {
                match mantissa_backend::rules::parse_rule_file(&self.check_path(), &self.contents()) {
                    Ok((loaded, _)) => ui
                        .requests
                        .push(Request::Query { sql: loaded.rule.dry_run_sql(chrono::Utc::now()), run: true }),
                    Err(_) => {
                        ui.error("the rule does not parse yet: fix the errors below to dry-run its query")
                    }
                }
            }
            _ => {
                if text_edit::act(&mut self.text, action) == Some(true) {
                    return self.edited();
                }
            }
        }
        vec![]
    }

    /// The text against the stored rule over the last `days` (`rules backtest`).
    pub fn backtest(&self, days: u32) -> Vec<Job> {
        vec![Job::Backtest { path: self.check_path(), text: self.contents(), days }]
    }

    /// A key the keymap leaves to the editor: text. Each edit is checked again.
    pub fn input(&mut self, key: KeyEvent) -> Vec<Job> {
        let changed = match text_edit::newline(&mut self.text, key, true) {
            Some(changed) => changed,
            None => self.text.input(key),
        };
        if changed { self.edited() } else { vec![] }
    }

    fn edited(&mut self) -> Vec<Job> {
        self.generation += 1;
        // Results of the old text would mislead: run them again with the test key.
        self.tests = None;
        vec![self.check_job()]
    }

    /// A check, test or save of this editor's text came back; stale checks are dropped.
    pub fn update(&mut self, msg: Msg, ui: &mut Ui) -> bool {
        match msg {
            Msg::RuleChecked { generation, diagnostics } => {
                if generation != self.generation {
                    return false;
                }
                self.checked_generation = Some(generation);
                self.diagnostics = diagnostics;
            }
            Msg::RuleTested(outcomes) => {
                self.testing = false;
                let failed = outcomes.iter().filter(|o| !o.passed()).count();
                let text = format!(
                    "{} test(s): {} passed, {failed} failed",
                    outcomes.len(),
                    outcomes.len() - failed
                );
                self.tests = Some(outcomes);
                if failed > 0 { ui.error(text) } else { ui.info(text) }
            }
            Msg::RuleSaved { path, report } => {
                self.saved = self.contents();
                self.path = Some(path);
                ui.info(report);
            }
            Msg::SaveStopped { path, text, outcomes } => {
                let failed = outcomes.iter().filter(|o| !o.passed()).count();
                let total = outcomes.len();
                self.testing = false;
                self.tests = Some(outcomes);
                ui.confirm(
                    format!(
                        "{failed} of {total} test(s) of this rule fail (below): save and push it anyway?"
                    ),
                    Job::SaveRuleFile { path, text, force: true },
                );
            }
            _ => return false,
        }
        true
    }

    /// The YAML above, the checks and test results below.
    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        // Long diagnostics and test failures wrap under their place rather than being cut.
        let width = area.width.saturating_sub(2) as usize;
        let report: Vec<Line> = report_lines(self, theme).iter().flat_map(|l| wrap_line(l, width)).collect();
        let report_h = (report.len() as u16 + 2).clamp(3, (area.height / 3).max(3));
        let [top, bottom] = Layout::vertical([Constraint::Min(3), Constraint::Length(report_h)]).areas(area);
        let title = format!(" {}{} ", self.label(), if self.dirty() { " [+]" } else { "" });
        let block = Block::bordered().title(title).border_style(theme.focus());
        let inner = block.inner(top);
        f.render_widget(block, top);
        f.render_widget(&self.text, inner);
        let view = sql_colors::View::of(&self.text);
        sql_colors::paint(f.buffer_mut(), inner, &view, sql_colors::rule_stretches(view.lines), theme);
        let errors = self.errors();
        let title = if self.checked_generation != Some(self.generation) {
            " checking… ".to_string()
        } else if errors > 0 {
            format!(" {errors} error(s) ")
        } else {
            " valid ".to_string()
        };
        let border = if errors > 0 { theme.error() } else { theme.muted() };
        f.render_widget(
            Paragraph::new(report).block(Block::bordered().title(title).border_style(border)),
            bottom,
        );
    }
}

/// Errors first, then the tests' outcomes, then warnings: what blocks a save is at the top of
/// a box that may not show everything.
fn report_lines(ed: &RuleEditor, theme: &Theme) -> Vec<Line<'static>> {
    let diagnostic = |d: &Diagnostic| {
        let (label, style) = match d.level {
            Level::Error => ("error", theme.error()),
            Level::Warning => ("warning", theme.warning()),
        };
        Line::from(vec![
            Span::styled(format!("{}:{} {label}: ", d.line, d.col), style),
            Span::raw(neutralize(&d.message).into_owned()),
        ])
    };
    let (errors, warnings): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
        ed.diagnostics.iter().partition(|d| d.is_error());
    let mut out: Vec<Line> = errors.into_iter().map(diagnostic).collect();
    if ed.testing {
        out.push(Line::from(Span::styled("running the rule's tests…", theme.muted())));
    }
    if let Some(tests) = &ed.tests {
        if tests.is_empty() {
            out.push(Line::from(Span::styled(
                "the rule has no tests (add some under `tests:`)",
                theme.warning(),
            )));
        }
        for t in tests {
            out.push(match &t.result {
                Ok(rows) => Line::from(vec![
                    Span::styled("PASS ", theme.ok()),
                    Span::raw(format!("{} ({rows} rows)", neutralize(&t.test))),
                ]),
                Err(why) => Line::from(vec![
                    Span::styled("FAIL ", theme.error()),
                    Span::raw(format!("{} (line {}): {}", neutralize(&t.test), t.line, neutralize(why))),
                ]),
            });
        }
    }
    out.extend(warnings.into_iter().map(diagnostic));
    if out.is_empty() && ed.checked_generation == Some(ed.generation) {
        out.push(Line::from(Span::styled("no problems found", theme.muted())));
    }
    out
}
