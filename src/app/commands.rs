//! The `:` command line: what each command does, and Tab completion of command names and
//! their arguments (theme and keymap names, export formats).

use super::{App, Job};
use crate::config::{keymap, theme};
use crate::panes::Pane;

/// Every command with its arguments, for completion and the unknown-command hint.
const COMMANDS: &[&str] = &[
    "q",
    "quit",
    "run",
    "help",
    "messages",
    "theme",
    "keymap",
    "export",
    "history",
    "tables",
    "redrive-all",
    "route",
    "case",
    "cases",
    "query",
    "ask",
    "draft",
    "explain",
    "settings",
    "coverage",
    "hunt",
    "backtest",
    "suppressions",
    "unsuppress",
    "maintenance",
    "set",
    "rules",
    "alerts",
    "integrations",
    "dlq",
];
const FORMATS: &[&str] = &["csv", "json", "parquet"];
const ROUTE_WORDS: &[&str] = &["slack", "jira", "pagerduty", "email", "webhook", "file"];

/// The line with its last word completed as far as the candidates agree; the candidates are
/// shown when more than one remains.
pub fn complete(line: &str, app: &mut App) -> String {
    let (head, word) = match line.rsplit_once(' ') {
        Some((h, w)) => (format!("{h} "), w),
        None => (String::new(), line),
    };
    let owned: Vec<String> = match head.trim() {
        "" => COMMANDS.iter().map(|c| c.to_string()).collect(),
        "theme" => theme::names(app.theme_dir.as_deref()),
        "keymap" => keymap::names(app.keymap_dir.as_deref()),
        "export" => FORMATS.iter().map(|c| c.to_string()).collect(),
        "set" => mantissa_backend::model::settings::KEYS.iter().map(|k| k.name.to_string()).collect(),
        "route" => app
            .integrations
            .list
            .items
            .iter()
            .map(|(i, _)| i.id.clone())
            .chain(ROUTE_WORDS.iter().map(|w| w.to_string()))
            .collect(),
        _ => vec![],
    };
    let fits: Vec<&String> = owned.iter().filter(|c| c.starts_with(word)).collect();
    match fits.as_slice() {
        [] => line.to_string(),
        [one] => format!("{head}{one} "),
        many => {
            app.ui.info(many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("  "));
            let mut common = many[0].clone();
            for c in &many[1..] {
                while !c.starts_with(common.as_str()) {
                    common.pop();
                }
            }
            format!("{head}{common}")
        }
    }
}

impl App {
    pub fn run_command(&mut self, line: &str) -> Vec<Job> {
        let (cmd, arg) = line.split_once(' ').map_or((line, ""), |(c, a)| (c, a.trim()));
        match (cmd, arg) {
            ("q" | "quit" | "q!", _) => self.quit = true,
            ("run", _) => return self.run_query(),
            ("help", _) => return self.act(keymap::Action::Help),
            ("messages" | "mes", _) => self.show_messages(),
            ("history" | "tables", _) => {
                self.pane = Pane::Query;
                let action = if cmd == "history" { keymap::Action::History } else { keymap::Action::Tables };
                return self.act(action);
            }
            ("theme", "") => {
                let names = theme::names(self.theme_dir.as_deref());
                self.ui.info(format!("themes: {}", names.join(", ")));
            }
            ("theme", name) => match theme::load(name, self.theme_dir.as_deref()) {
                Ok(t) => {
                    self.ui.theme = if theme::no_color() { t.without_color() } else { t };
                    self.ui.info(format!("theme {name}"));
                }
                Err(e) => self.ui.error(format!("{e:#}")),
            },
            ("keymap", "") => {
                let names = keymap::names(self.keymap_dir.as_deref());
                self.ui.info(format!("keymap {} · keymaps: {}", self.ui.keymap.name, names.join(", ")));
            }
            ("keymap", name) => {
                let (map, problems) = keymap::load(name, self.keymap_dir.as_deref());
                self.ui.keymap = map;
                match problems.first() {
                    Some(p) => self.ui.error(format!("{p} ({} problem(s))", problems.len())),
                    None => self.ui.info(format!("keymap {name}")),
                }
            }
            ("export", arg) => return self.export(arg),
            ("settings", _) => return vec![Job::LoadSettings { view: true }],
            ("suppressions", _) => return vec![Job::LoadSuppressions],
            ("unsuppress", "") => self.ui.error("usage: :unsuppress ID (:suppressions lists them)"),
            ("unsuppress", id) => return vec![Job::LiftSuppression(id.to_string())],
            ("maintenance", arg) => return self.maintenance_command(arg),
            ("coverage", _) => {
                self.pane = Pane::Rules;
                return self.act(keymap::Action::Coverage);
            }
            ("set", arg) => return self.set_command(arg),
            ("hunt", arg) => return self.hunt_command(arg),
            ("backtest", arg) => return self.backtest_command(arg),
            ("ask", "") => return self.act(keymap::Action::Ask),
            ("ask", question) => return self.asked(&super::Purpose::Ask, question.to_string()),
            ("draft", "") => return self.act(keymap::Action::DraftRule),
            ("draft", question) => return self.asked(&super::Purpose::DraftRule, question.to_string()),
            ("explain", _) => return self.act(keymap::Action::Explain),
            ("redrive-all", _) => return self.dlq.redrive_all(&mut self.ui),
            ("route", words) => return self.route(words),
            ("1" | "query", _) => self.pane = Pane::Query,
            ("2" | "rules", _) => self.pane = Pane::Rules,
            ("3" | "alerts", _) => self.pane = Pane::Alerts,
            ("4" | "integrations", _) => self.pane = Pane::Integrations,
            ("5" | "dlq", _) => self.pane = Pane::Dlq,
            ("6" | "cases", _) => self.pane = Pane::Cases,
            ("case", arg) => return self.case_command(arg),
            ("", _) => {}
            (other, _) => {
                let hint = mantissa_backend::rules::closest(other, COMMANDS.iter().copied())
                    .map(|c| format!("did you mean :{c}? "))
                    .unwrap_or_default();
                self.ui.error(format!(
                    "unknown command `:{other}`: {hint}Tab completes; the commands are {}",
                    COMMANDS.join(" ")
                ))
            }
        }
        vec![]
    }

    /// `:messages`: the session's messages in full, newest last (the footer cuts long ones).
    fn show_messages(&mut self) {
        let theme = &self.ui.theme;
        let lines: Vec<_> = self
            .ui
            .log
            .iter()
            .map(|m| {
                let style = if m.is_error { theme.error() } else { ratatui::style::Style::default() };
                ratatui::text::Line::from(vec![
                    ratatui::text::Span::styled(format!("{}  ", m.at.format("%H:%M:%S")), theme.muted()),
                    ratatui::text::Span::styled(
                        mantissa_backend::text::neutralize(&m.text).into_owned(),
                        style,
                    ),
                ])
            })
            .collect();
        let title = format!("messages ({})", lines.len());
        let lines = if lines.is_empty() { vec![ratatui::text::Line::from("no messages yet")] } else { lines };
        self.ui.popup = Some(crate::widgets::popup::TextView::new(title, lines).at_end());
    }

    /// `:hunt [FROM] [all]`: the selected rule (or every enabled one) from `FROM` (default a
    /// day back) to now, in its schedule's windows.
    fn hunt_command(&mut self, arg: &str) -> Vec<Job> {
        let words: Vec<&str> = arg.split_whitespace().collect();
        let all = words.contains(&"all");
        let from = words.iter().find(|w| **w != "all").copied().unwrap_or("1d");
        if let Err(e) = mantissa_backend::rules::hunt::parse_past(from, chrono::Utc::now()) {
            self.ui.error(format!("{e}; usage: :hunt [7d|2026-11-20] [all]"));
            return vec![];
        }
        let rule_ids: Vec<String> = if all {
            self.rules.list.items.iter().filter(|r| r.enabled).map(|r| r.id.clone()).collect()
        } else if self.pane == Pane::Rules
            && let Some(rule) = self.rules.selected_rule()
        {
            vec![rule.id.clone()]
        } else {
            self.ui.error(":hunt hunts the selected rule: pick one on the rules pane (2), or :hunt 7d all");
            return vec![];
        };
        if rule_ids.is_empty() {
            self.ui.error("no enabled rule to hunt with");
            return vec![];
        }
        vec![Job::Hunt { rule_ids, from: from.to_string() }]
    }

    /// `:backtest [DAYS]`: the rule editor's text against the stored rule (default 7 days).
    fn backtest_command(&mut self, arg: &str) -> Vec<Job> {
        let days = if arg.is_empty() { Ok(7) } else { arg.parse::<u32>() };
        let Some(editor) = self.rules.editor.as_ref() else {
            self.ui.error(":backtest compares the rule being edited: open one with Enter on the rules pane");
            return vec![];
        };
        match days {
            Ok(days @ 1..=366) => editor.backtest(days),
            _ => {
                self.ui
                    .error(format!("`{arg}` is not a number of days from 1 to 366; usage: :backtest [DAYS]"));
                vec![]
            }
        }
    }

    /// `:route WORDS`: the marked or selected alerts to the integrations the words name (a
    /// name, or a kind: `:route slack`, `:route page the on-call`), whatever their filters.
    fn route(&mut self, words: &str) -> Vec<Job> {
        if words.is_empty() {
            self.ui
                .error("usage: :route NAME|KIND (e.g. :route slack, :route secops-jira) on the alerts pane");
            return vec![];
        }
        if self.pane != Pane::Alerts {
            self.ui.error(":route sends the marked or selected alerts: go to the alerts pane (3) first");
            return vec![];
        }
        if self.ui.read_only {
            self.ui.error("read-only session: routing alerts is refused");
            return vec![];
        }
        // The marks stay: the same alerts may go to another integration next.
        let alert_ids = self.alerts.list.targets();
        if alert_ids.is_empty() {
            self.ui.error("no alert selected");
            return vec![];
        }
        self.ui.info(format!("routing {} alert(s) to `{words}`", alert_ids.len()));
        vec![Job::Route { alert_ids, words: words.to_string() }]
    }

    /// `:export csv|json|parquet PATH`: the result as the grid shows it (sorted, filtered).
    fn export(&mut self, arg: &str) -> Vec<Job> {
        let (format, path) = arg.split_once(' ').map_or((arg, ""), |(f, p)| (f, p.trim()));
        if !FORMATS.contains(&format) || path.is_empty() {
            self.ui.error("usage: :export csv|json|parquet PATH (e.g. :export csv /tmp/result.csv)");
            return vec![];
        }
        let path = match path.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(rest)),
            None => None,
        }
        .unwrap_or_else(|| std::path::PathBuf::from(path));
        self.query.export(format, path, &mut self.ui)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_completes_commands_and_their_arguments() {
        let mut app = App::new(String::new(), false);
        assert_eq!(complete("th", &mut app), "theme ");
        assert_eq!(complete("theme sol", &mut app), "theme solarized-dark ");
        assert_eq!(complete("export p", &mut app), "export parquet ");
        assert_eq!(complete("keymap e", &mut app), "keymap emacs ");
        // Integration ids (names may have spaces) and kinds for :route.
        let mut hook =
            mantissa_backend::demo::workspace::demo_integrations("analyst", std::path::Path::new("/tmp"));
        app.integrations.list.items = hook.drain(..).map(|i| (i, None)).collect();
        assert_eq!(complete("route soc", &mut app), "route soc-webhook ");
        assert_eq!(complete("route pag", &mut app), "route pagerduty ");
        // Several fit: the common part, and the candidates are shown.
        assert_eq!(complete("qu", &mut app), "qu");
        assert!(app.ui.message.as_ref().unwrap().1.contains("quit  query"));
        assert_eq!(complete("zz", &mut app), "zz");
    }

    #[test]
    fn unknown_commands_and_bad_exports_say_what_to_type() {
        let mut app = App::new(String::new(), false);
        app.run_command("thme dark");
        assert!(app.ui.message.as_ref().unwrap().1.contains("did you mean :theme?"));
        app.run_command("export xlsx /tmp/x");
        assert!(app.ui.message.as_ref().unwrap().1.contains("usage: :export csv|json|parquet PATH"));
        app.run_command("keymap emacs");
        assert_eq!(app.ui.keymap.name, "emacs");
    }

    #[test]
    fn route_sends_the_marked_or_selected_alerts_from_the_alerts_pane() {
        let mut app = App::new(String::new(), false);
        let now = chrono::Utc::now();
        app.alerts.list.items = ["a1", "a2"]
            .iter()
            .map(|id| mantissa_backend::model::Alert::by_hand(*id, "analyst", now))
            .collect();
        assert!(app.run_command("route slack").is_empty());
        assert!(app.ui.message.as_ref().unwrap().1.contains("go to the alerts pane"));
        app.pane = Pane::Alerts;
        assert!(app.run_command("route").is_empty());
        assert!(app.ui.message.as_ref().unwrap().1.starts_with("usage: :route"));
        let jobs = app.run_command("route page the on-call");
        assert!(
            matches!(jobs.as_slice(), [Job::Route { alert_ids, words }] if alert_ids == &["a1"] && words == "page the on-call"),
            "{jobs:?}"
        );
        app.alerts.list.marks = ["a1".to_string(), "a2".to_string()].into();
        let jobs = app.run_command("route secops-slack");
        assert!(
            matches!(jobs.as_slice(), [Job::Route { alert_ids, .. }] if alert_ids.len() == 2),
            "{jobs:?}"
        );
        // The marks stay for the next route.
        let jobs = app.run_command("route jira");
        assert!(matches!(jobs.as_slice(), [Job::Route { alert_ids, .. }] if alert_ids.len() == 2));
        app.ui.read_only = true;
        assert!(app.run_command("route slack").is_empty());
        assert!(app.ui.message.as_ref().unwrap().1.contains("read-only"));
    }
}
