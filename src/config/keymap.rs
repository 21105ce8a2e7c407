//! Keymaps: actions -> keys per context, from TOML files in `keymaps/` (shipped: `default`,
//! vim-like, and `emacs`), with the user's file of the same name merged over the shipped one.
//! The help overlay and the footer hints are built from the active keymap.

pub use super::key::Key;
use super::layers::Kind;
use mantissa_backend::rules::closest;
use std::path::Path;
use toml::{Table, Value};

pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("emacs", include_str!("../../keymaps/emacs.toml")),
];

const KIND: Kind = Kind { folder: "keymaps", shipped: SHIPPED };

/// Where a key is read. A screen reads several contexts at once (see [`Screen::stack`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ctx {
    Global,
    Query,
    Editor,
    Text,
    List,
    Grid,
    Rules,
    Alerts,
    Cases,
    Integrations,
    Dlq,
    RuleEditor,
    Form,
}

impl Ctx {
    pub const ALL: [Ctx; 13] = [
        Ctx::Global,
        Ctx::Query,
        Ctx::Editor,
        Ctx::Text,
        Ctx::List,
        Ctx::Grid,
        Ctx::Rules,
        Ctx::Alerts,
        Ctx::Cases,
        Ctx::Integrations,
        Ctx::Dlq,
        Ctx::RuleEditor,
        Ctx::Form,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Ctx::Global => "global",
            Ctx::Query => "query",
            Ctx::Editor => "editor",
            Ctx::Text => "text",
            Ctx::List => "list",
            Ctx::Grid => "grid",
            Ctx::Rules => "rules",
            Ctx::Alerts => "alerts",
            Ctx::Cases => "cases",
            Ctx::Integrations => "integrations",
            Ctx::Dlq => "dlq",
            Ctx::RuleEditor => "rule_editor",
            Ctx::Form => "form",
        }
    }
}

/// What has the keys: each screen reads a stack of contexts, first match wins, and no key may
/// mean two actions within one stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    QueryEditor,
    QueryGrid,
    Rules,
    Alerts,
    Cases,
    Integrations,
    Dlq,
    RuleEditor,
    /// An integration setup form.
    Form,
}

impl Screen {
    pub const ALL: [Screen; 9] = [
        Screen::QueryEditor,
        Screen::QueryGrid,
        Screen::Rules,
        Screen::Alerts,
        Screen::Cases,
        Screen::Integrations,
        Screen::Dlq,
        Screen::RuleEditor,
        Screen::Form,
    ];

    /// The editors take plain keys as text, so only their own contexts apply there.
    pub fn stack(self) -> &'static [Ctx] {
        match self {
            Screen::QueryEditor => &[Ctx::Query, Ctx::Editor, Ctx::Text],
            Screen::QueryGrid => &[Ctx::Query, Ctx::Grid, Ctx::List, Ctx::Global],
            Screen::Rules => &[Ctx::Rules, Ctx::List, Ctx::Global],
            Screen::Alerts => &[Ctx::Alerts, Ctx::List, Ctx::Global],
            Screen::Cases => &[Ctx::Cases, Ctx::List, Ctx::Global],
            Screen::Integrations => &[Ctx::Integrations, Ctx::List, Ctx::Global],
            Screen::Dlq => &[Ctx::Dlq, Ctx::List, Ctx::Global],
            Screen::RuleEditor => &[Ctx::RuleEditor, Ctx::Text],
            Screen::Form => &[Ctx::Form],
        }
    }
}

macro_rules! actions {
    ($($ctx:ident $action:ident = $name:literal, $help:literal;)*) => {
        /// Everything a key can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action { $($action),* }
        /// `(action, context, name in keymap files, what it does)`, in help order.
        pub const ACTIONS: &[(Action, Ctx, &str, &str)] = &[$((Action::$action, Ctx::$ctx, $name, $help)),*];
    };
}

actions! {
    Global Quit = "quit", "quit";
    Global CommandLine = "command_line", "command line (Tab completes)";
    Global Help = "help", "this help";
    Global PaneQuery = "pane_query", "query pane (Alt- keys: in editors too)";
    Global PaneRules = "pane_rules", "rules pane";
    Global PaneAlerts = "pane_alerts", "alerts pane";
    Global PaneIntegrations = "pane_integrations", "integrations pane";
    Global PaneDlq = "pane_dlq", "dead-letter queue pane";
    Global PaneCases = "pane_cases", "cases pane";
    Query Run = "run", "run the query";
    Query Cancel = "cancel", "cancel the running query (never quits)";
    Query History = "history", "query history: search, Enter to edit";
    Query Tables = "tables", "tables and columns: Enter inserts";
    Query Ask = "ask", "ask the assistant for SQL (sends schemas)";
    Editor ToResults = "to_results", "leave the editor for the results";
    Text Undo = "undo", "undo (both editors)";
    Text Redo = "redo", "redo";
    Text SelectAll = "select_all", "select all (then Ctrl-x cuts)";
    Text ClearText = "clear", "clear the editor (undo brings it back)";
    List Down = "down", "down";
    List Up = "up", "up";
    List Top = "top", "first row";
    List Bottom = "bottom", "last row";
    List PageDown = "page_down", "half a page down";
    List PageUp = "page_up", "half a page up";
    List Filter = "filter", "filter rows (!text hides; Esc clears)";
    List Mark = "mark", "mark/unmark for a bulk action, move down";
    List Open = "open", "open: record, rule, detail, payload";
    Grid Left = "left", "column left";
    Grid Right = "right", "column right";
    Grid EditQuery = "edit_query", "back to the editor";
    Grid Sort = "sort", "sort by the column: asc, desc, off";
    Grid Cell = "cell", "the cell in full (JSON pretty-printed)";
    Grid SelectCells = "select_cells", "select cells in the row (v) from here";
    Grid SelectRows = "select_rows", "select rows (V) from here";
    Grid Copy = "copy", "copy cell or selection as shown (OSC 52)";
    Grid CopyRaw = "copy_raw", "copy it raw, as the log has it";
    Grid CopyJson = "copy_json", "copy row(s) as JSON (OSC 52)";
    Grid Timeline = "timeline", "the cell's entity across all logs";
    Grid Export = "export", "export the result: csv, json or parquet";
    Rules Test = "test", "run the rule's tests";
    Rules DryRun = "dry_run", "dry-run its query in the query pane";
    Rules New = "new_rule", "new rule";
    Rules Toggle = "toggle", "enable/disable (asks)";
    Rules RunNow = "run_now", "run now";
    Rules DraftRule = "draft_rule", "draft a rule with the assistant";
    Rules Coverage = "coverage", "ATT&CK coverage of the enabled rules";
    Rules Snooze = "snooze", "snooze the rule until a time, and why";
    Rules Ledger = "ledger", "rule ledger: runs, noise, cost";
    Rules SortLedger = "sort_ledger", "ledger order: noise, cost, time, name";
    Rules Hunt = "hunt", "retro-hunt it over a day (:hunt 7d [all])";
    Alerts Acknowledge = "acknowledge", "acknowledge";
    Alerts InProgress = "in_progress", "mark in progress";
    Alerts Resolve = "resolve", "resolve: tp|bp|fp|un and why";
    Alerts FalsePositive = "false_positive", "resolve as false positive, and why";
    Alerts Reopen = "reopen", "reopen";
    Alerts Assign = "assign", "assign (empty clears)";
    Alerts Note = "note", "add a note";
    Alerts Pivot = "pivot", "pivot: query the alert's entity";
    Alerts SortAlerts = "sort_alerts", "order: newest, severity, rule, status";
    Alerts AlertTimeline = "timeline", "the alert's entity across all logs";
    Alerts Suppress = "suppress", "suppress the alert's entity (asks why)";
    Alerts Explain = "explain", "explain the alert (sends samples; asks)";
    Alerts AddToCase = "case", "marked alerts to a new or open case";
    Cases CaseOwner = "assign", "set the case's owner (empty clears)";
    Cases CaseNote = "note", "add a note to the case";
    Cases CaseWorking = "in_progress", "mark the case in progress";
    Cases CaseReopen = "reopen", "reopen the case";
    Cases CaseClose = "close_case", "close: tp|bp|fp|un and why";
    Cases CaseTimeline = "timeline", "its entities across all logs";
    Cases CaseSuggested = "suggested", "suggested cases / the cases";
    Integrations NewIntegration = "new_integration", "set up an integration";
    Integrations EditIntegration = "edit_integration", "change the setup";
    Integrations TestSend = "test_send", "send a test alert";
    Integrations DeleteIntegration = "delete_integration", "delete the integration (asks)";
    Dlq Redrive = "redrive", "redrive marked or selected (asks)";
    Dlq RedriveAll = "redrive_all", "redrive every message (asks)";
    Dlq Delete = "delete", "delete marked or selected (asks)";
    RuleEditor Save = "save", "save and push the rules folder";
    RuleEditor TestRule = "test_rule", "run the rule's tests";
    RuleEditor DryRunRule = "dry_run_rule", "dry-run the query";
    RuleEditor Backtest = "backtest", "backtest vs stored, 7 days (:backtest N)";
    RuleEditor Close = "close", "close (asks if unsaved)";
    Form NextField = "next_field", "next field (Enter too)";
    Form PrevField = "prev_field", "previous field";
    Form SaveForm = "save", "check and save; secret to secret store";
    Form TestForm = "test_send", "send a test alert with these settings";
    Form Lookup = "lookup", "Jira: list the projects to pick one";
    Form CloseForm = "close", "close without saving";
}

impl Action {
    /// The pane switches, which editors read too when bound with Ctrl or Alt.
    pub fn switches_pane(self) -> bool {
        use Action::*;
        matches!(self, PaneQuery | PaneRules | PaneAlerts | PaneIntegrations | PaneDlq | PaneCases)
    }

    fn row(self) -> &'static (Action, Ctx, &'static str, &'static str) {
        ACTIONS.iter().find(|(a, ..)| *a == self).expect("every action is in ACTIONS")
    }
    pub fn context(self) -> Ctx {
        self.row().1
    }
    pub fn name(self) -> &'static str {
        self.row().2
    }
}

/// One action's keys as the files wrote them, and the file that set them.
#[derive(Debug, Clone)]
pub struct Binding {
    pub action: Action,
    pub keys: Vec<(String, Key)>,
    origin: String,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    pub name: String,
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        let (map, problems) = load("default", None);
        debug_assert!(problems.is_empty(), "{problems:?}");
        map
    }
}

impl Keymap {
    /// The action `key` means on `screen`, if any.
    pub fn action(&self, screen: Screen, key: impl Into<Key>) -> Option<Action> {
        let key = key.into();
        self.action_in(screen.stack(), key).or_else(|| self.pane_switch(screen, key))
    }

    /// The editors read plain keys as text, but a pane switch bound with Ctrl or Alt works
    /// there too: Alt-2 leaves a half-written query for the rules pane.
    fn pane_switch(&self, screen: Screen, key: Key) -> Option<Action> {
        if screen.stack().contains(&Ctx::Global) || !key.is_chord() {
            return None;
        }
        self.bindings
            .iter()
            .filter(|b| b.action.switches_pane())
            .find(|b| b.keys.iter().any(|(_, k)| *k == key))
            .map(|b| b.action)
    }

    /// The first key of `action` with Ctrl or Alt (what works in the editors too), if any.
    pub fn chord_key(&self, action: Action) -> Option<&str> {
        let b = self.bindings.iter().find(|b| b.action == action)?;
        b.keys.iter().find(|(_, k)| k.is_chord()).map(|(t, _)| t.as_str())
    }

    /// The action `key` means in the first of `stack`'s contexts that binds it (overlays read
    /// only `[list]`'s motions).
    pub fn action_in(&self, stack: &[Ctx], key: impl Into<Key>) -> Option<Action> {
        let key = key.into();
        stack.iter().find_map(|ctx| {
            self.bindings
                .iter()
                .filter(|b| b.action.context() == *ctx)
                .find(|b| b.keys.iter().any(|(_, k)| *k == key))
                .map(|b| b.action)
        })
    }

    /// The keys of `action` as written, space-separated (`j Down`), or `unbound`.
    pub fn keys(&self, action: Action) -> String {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .filter(|b| !b.keys.is_empty())
            .map(|b| b.keys.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "unbound".into())
    }

    /// The first key of `action`, for short hints.
    pub fn first_key(&self, action: Action) -> &str {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map_or("unbound", |(t, _)| t.as_str())
    }

    /// Help lines in `ACTIONS` order: `(context, keys, what it does)`.
    pub fn help(&self) -> Vec<(&'static str, String, &'static str)> {
        ACTIONS.iter().map(|(a, ctx, _, help)| (ctx.name(), self.keys(*a), *help)).collect()
    }

    fn binding_mut(&mut self, action: Action) -> &mut Binding {
        let i = match self.bindings.iter().position(|b| b.action == action) {
            Some(i) => i,
            None => {
                self.bindings.push(Binding { action, keys: vec![], origin: String::new() });
                self.bindings.len() - 1
            }
        };
        &mut self.bindings[i]
    }
}

/// The names a user can pick.
pub fn names(user_dir: Option<&Path>) -> Vec<String> {
    KIND.names(user_dir)
}

/// The keymap `name`: shipped file, user file over it, over what it inherits. Each bad entry is
/// reported (file, context and key) and skipped; the rest is kept, and a file that cannot be
/// read or parsed at all leaves the shipped default in place.
pub fn load(name: &str, user_dir: Option<&Path>) -> (Keymap, Vec<String>) {
    let mut problems = vec![];
    let chain = match KIND.chain(name, user_dir) {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("{e:#}; using the shipped default keymap"));
            KIND.chain("default", None).expect("the shipped default keymap parses")
        }
    };
    let mut map = Keymap { name: name.to_string(), bindings: vec![] };
    for (origin, table) in chain {
        merge(&mut map, &origin, &table, &mut problems);
    }
    conflicts(&map, &mut problems);
    (map, problems)
}

/// One file over the map so far: an action it names gets exactly the keys it lists, and those
/// keys leave any other action of a screen that shares the context (the later file wins).
fn merge(map: &mut Keymap, origin: &str, table: &Table, problems: &mut Vec<String>) {
    let contexts: Vec<&str> = Ctx::ALL.iter().map(|c| c.name()).collect();
    for (section, value) in table {
        if section == "inherits" {
            continue;
        }
        let Some(ctx) = Ctx::ALL.into_iter().find(|c| c.name() == section) else {
            let hint = closest(section, contexts.iter().copied())
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            problems.push(format!(
                "{origin}: unknown context `[{section}]`: {hint}the contexts are {}",
                contexts.join(", ")
            ));
            continue;
        };
        let Value::Table(entries) = value else {
            problems.push(format!("{origin}: `{section}` is a table of action = keys"));
            continue;
        };
        let mut taken: Vec<(Key, Action, String)> = vec![];
        for (name, keys) in entries {
            let Some(&(action, ..)) = ACTIONS.iter().find(|(_, c, n, _)| *c == ctx && *n == name) else {
                let here = ACTIONS.iter().filter(|(_, c, ..)| *c == ctx).map(|(.., n, _)| *n);
                let hint =
                    closest(name, here.clone()).map(|c| format!("did you mean `{c}`? ")).unwrap_or_default();
                let elsewhere = ACTIONS
                    .iter()
                    .find(|(_, _, n, _)| n == name)
                    .map(|(_, c, ..)| format!("`{name}` belongs in [{}]; ", c.name()))
                    .unwrap_or_default();
                problems.push(format!(
                    "{origin}: [{section}] unknown action `{name}`: {elsewhere}{hint}the actions here are {}",
                    here.collect::<Vec<_>>().join(", ")
                ));
                continue;
            };
            let texts: Vec<String> = match keys {
                Value::String(s) => vec![s.clone()],
                Value::Array(list) if list.iter().all(Value::is_str) => {
                    list.iter().filter_map(|v| v.as_str().map(String::from)).collect()
                }
                _ => {
                    problems.push(format!(
                        "{origin}: [{section}] {name}: keys are a string or a list of strings, e.g. [\"j\", \"Down\"]"
                    ));
                    continue;
                }
            };
            let mut parsed = vec![];
            let mut bad = false;
            for t in texts {
                match Key::parse(&t) {
                    Ok(k) => parsed.push((t, k)),
                    Err(e) => {
                        problems.push(format!("{origin}: [{section}] {name}: {e}"));
                        bad = true;
                    }
                }
            }
            // A bad entry is skipped whole: the action keeps the keys it had.
            if bad {
                continue;
            }
            for (t, k) in &parsed {
                if let Some((_, other, _)) = taken.iter().find(|(key, a, _)| key == k && *a != action) {
                    problems.push(format!(
                        "{origin}: [{section}] `{t}` is bound to both `{}` and `{name}`: give one of them another key",
                        other.name()
                    ));
                }
                taken.push((*k, action, t.clone()));
            }
            // The file's keys leave the actions they belonged to in the layers below.
            let shares =
                |c: Ctx| Screen::ALL.iter().any(|s| s.stack().contains(&c) && s.stack().contains(&ctx));
            for b in map.bindings.iter_mut().filter(|b| b.action != action && shares(b.action.context())) {
                if b.origin != origin {
                    b.keys.retain(|(_, k)| !parsed.iter().any(|(_, p)| p == k));
                }
            }
            let b = map.binding_mut(action);
            b.keys = parsed;
            b.origin = origin.to_string();
        }
    }
}

/// A key that means two things on one screen (two contexts of the same file) is an error.
fn conflicts(map: &Keymap, problems: &mut Vec<String>) {
    for screen in Screen::ALL {
        let mut seen: Vec<(Key, &Binding, &str)> = vec![];
        for ctx in screen.stack() {
            for b in map.bindings.iter().filter(|b| b.action.context() == *ctx) {
                for (t, k) in &b.keys {
                    if let Some((_, first, _)) =
                        seen.iter().find(|(key, other, _)| key == k && other.action != b.action)
                    {
                        let msg = format!(
                            "{}: [{}] {} = \"{t}\": `{t}` already means [{}] {} (from {}) on the same screen: \
                             pick another key or unbind the other with {} = []",
                            b.origin,
                            ctx.name(),
                            b.action.name(),
                            first.action.context().name(),
                            first.action.name(),
                            first.origin,
                            first.action.name()
                        );
                        if !problems.contains(&msg) {
                            problems.push(msg);
                        }
                    }
                    seen.push((*k, b, t));
                }
            }
        }
        if screen.stack().contains(&Ctx::Global) {
            continue;
        }
        // An editor's own key shadows a pane switch's chord there.
        for b in map.bindings.iter().filter(|b| b.action.switches_pane()) {
            for (t, k) in b.keys.iter().filter(|(_, k)| k.is_chord()) {
                if let Some((_, first, _)) = seen.iter().find(|(key, ..)| key == k) {
                    problems.push(format!(
                        "{}: [global] {} = \"{t}\": `{t}` already means [{}] {} (from {}) in an editor, \
                         where Ctrl and Alt pane keys work too: pick another key",
                        b.origin,
                        b.action.name(),
                        first.action.context().name(),
                        first.action.name(),
                        first.origin
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
