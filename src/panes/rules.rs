//! The rules pane: the rule list and, on `Enter`, the rule's file as YAML in an editor that is
//! checked as you type (the same checks as `mantissa rules validate`), tested with the rule's
//! inline tests (`mantissa rules test`), dry-run in the query pane, and saved to the folder.

use crate::app::{App, Focus, Job, Pending};
use crate::config::keymap::Action;
use crate::panes::{Pane, lists};
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
    fn label(&self) -> String {
        match (&self.path, &self.rule_id) {
            (Some(p), _) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            (None, Some(id)) => format!("{id}.yml (new file)"),
            (None, None) => "new rule".into(),
        }
    }

    fn check_job(&self) -> Job {
        Job::CheckRule { generation: self.generation, path: self.check_path(), text: self.contents() }
    }

    fn check_path(&self) -> PathBuf {
        self.path.clone().unwrap_or_else(|| PathBuf::from(self.label()))
    }
}

/// The job that checks a freshly opened editor.
pub fn opened(app: &mut App, mut editor: RuleEditor, test: bool) -> Vec<Job> {
    let mut jobs = vec![editor.check_job()];
    if test {
        jobs.push(Job::TestRule { path: editor.check_path(), text: editor.contents() });
    }
    editor.testing = test;
    app.rule_editor = Some(editor);
    jobs
}

/// The rules list's actions, or the open editor's.
pub fn act(app: &mut App, action: Action) -> Vec<Job> {
    if app.rule_editor.is_some() {
        return editor_act(app, action);
    }
    let selected = lists::selected(app, Pane::Rules).and_then(|i| app.rules.get(i)).cloned();
    match (action, selected) {
        (Action::Open, Some(r)) => vec![Job::OpenRule { rule: r, test: false }],
        (Action::Test, Some(r)) => vec![Job::OpenRule { rule: r, test: true }],
        (Action::New, _) => opened(app, RuleEditor::new(None, None, NEW_RULE), false),
        (Action::DryRun, Some(r)) => dry_run(app, &r.query),
        (Action::Toggle, Some(mut r)) => {
            r.enabled = !r.enabled;
            if r.enabled {
                return vec![Job::SaveRule(r)];
            }
            app.ask(format!("disable rule {}?", r.id), Job::SaveRule(r))
        }
        (Action::RunNow, Some(r)) => vec![Job::RunRule(r)],
        _ => lists::act(app, action),
    }
}

fn editor_act(app: &mut App, action: Action) -> Vec<Job> {
    let Some(ed) = app.rule_editor.as_mut() else { return vec![] };
    match action {
        Action::Close if ed.dirty() => {
            let what = ed.label();
            app.confirm = Some((format!("discard your changes to {what}?"), Pending::CloseRuleEditor));
            vec![]
        }
        Action::Close => {
            app.rule_editor = None;
            vec![]
        }
        Action::Save => {
            if app.read_only {
                app.error("read-only session: saving is refused");
                return vec![];
            }
            let errors = ed.errors();
            if ed.checked_generation != Some(ed.generation) {
                app.error("still checking the rule; save again in a moment");
                return vec![];
            }
            if errors > 0 {
                app.error(format!("{errors} error(s) in the rule: fix them before saving"));
                return vec![];
            }
            vec![Job::SaveRuleFile { path: ed.path.clone(), text: ed.contents() }]
        }
        Action::TestRule => {
            ed.testing = true;
            ed.tests = None;
            vec![Job::TestRule { path: ed.check_path(), text: ed.contents() }]
        }
        Action::DryRunRule => {
            let query = mantissa_backend::rules::parse_rule_file(&ed.check_path(), &ed.contents())
                .map(|(l, _)| l.rule.query);
            match query {
                Ok(q) => dry_run(app, &q),
                Err(_) => {
                    app.error("the rule does not parse yet: fix the errors below to dry-run its query");
                    vec![]
                }
            }
        }
        _ => vec![],
    }
}

/// A key the keymap leaves to the editor: text. Each edit is checked again.
pub fn editor_input(app: &mut App, key: KeyEvent) -> Vec<Job> {
    let Some(ed) = app.rule_editor.as_mut() else { return vec![] };
    if ed.text.input(key) {
        ed.generation += 1;
        // Results of the old text would mislead: run them again with the test key.
        ed.tests = None;
        return vec![ed.check_job()];
    }
    vec![]
}

/// Puts the query in the query pane and runs it there, where its stats and results show.
fn dry_run(app: &mut App, query: &str) -> Vec<Job> {
    app.editor = TextArea::from(query.trim_end().lines().map(String::from).collect::<Vec<_>>());
    app.pane = Pane::Query;
    app.focus = Focus::Editor;
    app.run_query()
}

pub fn render(app: &mut App, f: &mut Frame, area: Rect) {
    let theme = app.theme;
    let Some(ed) = app.rule_editor.as_mut() else {
        return lists::render(app, f, area);
    };
    let report = report_lines(ed, &theme);
    let report_h = (report.len() as u16 + 2).clamp(3, (area.height / 3).max(3));
    let [top, bottom] = Layout::vertical([Constraint::Min(3), Constraint::Length(report_h)]).areas(area);
    let title = format!(" {}{} ", ed.label(), if ed.dirty() { " [+]" } else { "" });
    ed.text.set_block(Block::bordered().title(title).border_style(theme.focus()));
    f.render_widget(&ed.text, top);
    let errors = ed.errors();
    let title = if ed.checked_generation != Some(ed.generation) {
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

fn report_lines(ed: &RuleEditor, theme: &crate::config::theme::Theme) -> Vec<Line<'static>> {
    let mut out: Vec<Line> = ed
        .diagnostics
        .iter()
        .map(|d| {
            let (label, style) = match d.level {
                Level::Error => ("error", theme.error()),
                Level::Warning => ("warning", theme.warning()),
            };
            Line::from(vec![
                Span::styled(format!("{}:{} {label}: ", d.line, d.col), style),
                Span::raw(neutralize(&d.message).into_owned()),
            ])
        })
        .collect();
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
    if out.is_empty() && ed.checked_generation == Some(ed.generation) {
        out.push(Line::from(Span::styled("no problems found", theme.muted())));
    }
    out
}
