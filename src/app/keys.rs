//! The key bindings, one table: the footer hints and the `?` help are both built from it, so
//! they never drift apart (gitui's habit).

/// `(context, keys, what it does)`.
pub const BINDINGS: &[(&str, &str, &str)] = &[
    ("global", "1-5", "switch pane: query, rules, alerts, integrations, DLQ"),
    ("global", ": ?", "command line (:q :run :theme :help), this help"),
    ("global", "q", "quit (outside the editor)"),
    ("global", "Tab", "move focus between editor and results"),
    ("query", "F5 / Ctrl-J / Ctrl-Enter", "run the query"),
    ("query", "Ctrl-C", "cancel the running query (never quits)"),
    ("query", "Esc", "leave the editor for the results"),
    ("grid", "j/k h/l", "move down/up, scroll columns"),
    ("grid", "g/G Ctrl-d/Ctrl-u", "top/bottom, half page down/up"),
    ("grid", "i", "back to the editor"),
    ("list", "j/k g/G", "move, top/bottom"),
    ("list", "/", "filter rows (!text hides; Esc clears)"),
    ("alerts", "a r f", "acknowledge, resolve, false positive"),
    ("alerts", "p", "pivot: query the alert's window and entity"),
    ("rules", "Enter t", "edit the rule's file, run its tests"),
    ("rules", "D n", "dry-run its query in the query pane, new rule"),
    ("rules", "e x", "enable/disable (asks), run now"),
    ("editor", "Ctrl-S Ctrl-T", "save and push the folder, run the rule's tests"),
    ("editor", "F5 Esc", "dry-run the query, close (asks if unsaved)"),
    ("dlq", "R d", "redrive selected (asks), delete selected (asks)"),
];

/// Short hints for the footer of a pane.
pub fn hints(context: &str) -> String {
    BINDINGS
        .iter()
        .filter(|(c, _, _)| *c == context)
        .map(|(_, k, what)| format!("{k} {}", what.split([',', ':', '(']).next().unwrap_or(what).trim()))
        .collect::<Vec<_>>()
        .join(" · ")
}
