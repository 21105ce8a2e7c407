//! The editing actions both editors (SQL, rule YAML) share on a ratatui-textarea: undo, redo,
//! select all, clear, and a new line that keeps the indent (a YAML `key: |` block's too), and
//! the textarea's own keys as the `?` help lists them.

use crate::config::keymap::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

/// Carries out `action` if it is an editing one; `Some(changed)` when it was.
pub fn act(area: &mut TextArea<'static>, action: Action) -> Option<bool> {
    Some(match action {
        Action::Undo => area.undo(),
        Action::Redo => area.redo(),
        Action::SelectAll => {
            area.select_all();
            false
        }
        // Cut, not delete: Undo brings a cleared query back.
        Action::ClearText => {
            area.select_all();
            area.cut()
        }
        _ => return None,
    })
}

/// Enter keeps the line's indent, one step deeper after a line that opens a block (`query: |`,
/// `tests:`), so a YAML block goes on where it is and errors are reported on the right line.
/// `None` for any other key.
pub fn newline(area: &mut TextArea<'static>, key: KeyEvent, yaml: bool) -> Option<bool> {
    if key.code != KeyCode::Enter || key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
        return None;
    }
    let cursor = area.cursor();
    let line = area.lines().get(cursor.0).map(String::as_str).unwrap_or_default();
    let before: String = line.chars().take(cursor.1).collect();
    let mut indent: String = before.chars().take_while(|c| *c == ' ').collect();
    let opener = before.trim_end();
    if yaml
        && (opener.ends_with(": |")
            || opener.ends_with(": >")
            || opener.ends_with(':')
            || opener.ends_with("- |"))
    {
        indent.push_str("  ");
    }
    area.insert_newline();
    area.insert_str(indent);
    Some(true)
}

/// The textarea's own keys (not in the keymap), for the `?` help: `(keys, what they do)`.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("Shift-arrows", "select text"),
    ("Ctrl-x Ctrl-y", "cut, paste (Ctrl-c copies in rule editor)"),
    ("Ctrl-w Alt-d", "delete the word before, after"),
    ("Ctrl-k", "delete to the line's end"),
    ("Ctrl-a Ctrl-e", "line start, end"),
    ("Alt-b Alt-f", "word back, forward"),
    ("Alt-< Alt->", "first line, last line"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn enter() -> KeyEvent {
        KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)
    }

    #[test]
    fn enter_keeps_the_indent_and_opens_yaml_blocks() {
        let mut area = TextArea::from(["query: |".to_string()]);
        area.move_cursor(ratatui_textarea::CursorMove::End);
        newline(&mut area, enter(), true);
        area.insert_str("SELECT 1");
        newline(&mut area, enter(), true);
        area.insert_str("FROM t");
        assert_eq!(area.lines(), ["query: |", "  SELECT 1", "  FROM t"]);
        // SQL keeps the indent but opens nothing.
        let mut sql = TextArea::from(["  WHERE a:".to_string()]);
        sql.move_cursor(ratatui_textarea::CursorMove::End);
        newline(&mut sql, enter(), false);
        assert_eq!(sql.lines(), ["  WHERE a:", "  "]);
        assert_eq!(newline(&mut sql, KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE), false), None);
    }

    #[test]
    fn clear_is_undone() {
        let mut area = TextArea::from(["SELECT 1".to_string(), "FROM t".to_string()]);
        assert_eq!(act(&mut area, Action::ClearText), Some(true));
        assert_eq!(area.lines(), [""]);
        act(&mut area, Action::Undo);
        assert_eq!(area.lines(), ["SELECT 1", "FROM t"]);
        assert_eq!(act(&mut area, Action::Run), None);
    }
}
