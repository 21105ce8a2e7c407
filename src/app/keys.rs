//! The footer's key hints for each screen, from the active keymap (the `?` help lists all of
//! it), so hints, help and behaviour never drift apart (gitui's habit).

use crate::config::keymap::{Action, Keymap, Screen};

/// The actions worth a hint on each screen with a short label, most used first (the footer is
/// cut at the width; `?` lists everything).
fn hinted(screen: Screen) -> &'static [(Action, &'static str)] {
    use Action::*;
    match screen {
        Screen::QueryEditor => &[
            (Run, "run"),
            (ToResults, "results"),
            (History, "history"),
            (Tables, "tables"),
            (ClearText, "clear"),
        ],
        Screen::QueryGrid => &[
            (Run, "run"),
            (Open, "record"),
            (Cell, "cell"),
            (Sort, "sort"),
            (Filter, "filter"),
            (Export, "export"),
            (Copy, "copy"),
            (EditQuery, "edit"),
        ],
        Screen::Rules => &[
            (Open, "edit"),
            (Test, "test"),
            (DryRun, "dry-run"),
            (New, "new"),
            (Toggle, "on/off"),
            (RunNow, "run"),
            (Hunt, "hunt"),
        ],
        Screen::Alerts => &[
            (Open, "detail"),
            (Acknowledge, "ack"),
            (Resolve, "resolve"),
            (FalsePositive, "false+"),
            (Mark, "mark ↓"),
            (AddToCase, "case"),
            (Assign, "assign"),
            (Note, "note"),
            (Pivot, "pivot"),
            (SortAlerts, "sort"),
        ],
        Screen::Cases => &[
            (Open, "case"),
            (CaseSuggested, "suggested"),
            (CaseTimeline, "timeline"),
            (CaseOwner, "owner"),
            (CaseNote, "note"),
            (CaseClose, "close"),
        ],
        Screen::Dlq => &[
            (Open, "payload"),
            (Mark, "mark ↓"),
            (Redrive, "redrive"),
            (RedriveAll, "all"),
            (Delete, "delete"),
        ],
        Screen::Form => &[
            (NextField, "next"),
            (SaveForm, "save"),
            (TestForm, "test"),
            (Lookup, "projects"),
            (CloseForm, "close"),
        ],
        Screen::Integrations => &[
            (Open, "detail"),
            (NewIntegration, "new"),
            (EditIntegration, "edit"),
            (TestSend, "test"),
            (DeleteIntegration, "delete"),
        ],
        Screen::RuleEditor => {
            &[(Save, "save"), (TestRule, "test"), (DryRunRule, "dry-run"), (Close, "close")]
        }
    }
}

/// `? help · Enter detail · a ack ...` for the footer: each action's first key.
pub fn hints(keymap: &Keymap, screen: Screen) -> String {
    let first = |a: Action| keymap.first_key(a);
    // The editors read plain keys as text, so `?` is no help there.
    let mut parts = vec![];
    let global = screen.stack().contains(&crate::config::keymap::Ctx::Global);
    if global {
        parts.push(format!("{} help", first(Action::Help)));
    }
    parts.extend(hinted(screen).iter().map(|(a, label)| format!("{} {label}", first(*a))));
    // In an editor the tab bar's plain digits are text: say which keys switch panes there.
    if let (false, Some(from), Some(to)) =
        (global, keymap.chord_key(Action::PaneQuery), keymap.chord_key(Action::PaneCases))
    {
        parts.insert(parts.len().min(2), format!("{from}…{to} panes"));
    }
    parts.join(" · ")
}
