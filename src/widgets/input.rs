//! A one-line text input for footer prompts, form fields and the pickers' search, with a cursor
//! that moves (arrows, Home/End, Ctrl-a/Ctrl-e) as shells and readline do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default)]
pub struct LineInput {
    pub text: String,
    /// The cursor as a char index; `None` is the end, so text set from outside keeps it there.
    cursor: Option<usize>,
}

impl LineInput {
    pub fn new(text: impl Into<String>) -> Self {
        LineInput { text: text.into(), cursor: None }
    }

    /// Where the cursor is, in chars (clamped: the text may have been set since).
    pub fn cursor(&self) -> usize {
        let len = self.text.chars().count();
        self.cursor.map_or(len, |c| c.min(len))
    }

    /// The text before and after the cursor, to draw the caret between.
    pub fn split(&self) -> (String, String) {
        let at = self.cursor();
        (self.text.chars().take(at).collect(), self.text.chars().skip(at).collect())
    }

    /// Edits the text; `Some(true)` on Enter, `Some(false)` on Esc, `None` while typing.
    pub fn key(&mut self, key: KeyEvent) -> Option<bool> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let at = self.cursor();
        let len = self.text.chars().count();
        let byte = |text: &str, chars: usize| text.char_indices().nth(chars).map_or(text.len(), |(i, _)| i);
        match key.code {
            KeyCode::Enter => return Some(true),
            KeyCode::Esc => return Some(false),
            KeyCode::Left => self.cursor = Some(at.saturating_sub(1)),
            KeyCode::Right => self.cursor = Some((at + 1).min(len)),
            KeyCode::Home => self.cursor = Some(0),
            KeyCode::Char('a') if ctrl => self.cursor = Some(0),
            KeyCode::End => self.cursor = None,
            KeyCode::Char('e') if ctrl => self.cursor = None,
            KeyCode::Backspace if at > 0 => {
                self.text.remove(byte(&self.text, at - 1));
                self.cursor = Some(at - 1);
            }
            KeyCode::Delete if at < len => {
                self.text.remove(byte(&self.text, at));
            }
            // Ctrl-u clears before the cursor and Ctrl-w drops the word before it, as shells do.
            KeyCode::Char('u') if ctrl => {
                self.text.replace_range(..byte(&self.text, at), "");
                self.cursor = Some(0);
            }
            KeyCode::Char('w') if ctrl => {
                let head: String = self.text.chars().take(at).collect();
                let kept = head.trim_end().rfind(' ').map_or(0, |i| i + 1);
                let kept_chars = head[..kept].chars().count();
                self.text.replace_range(kept..byte(&self.text, at), "");
                self.cursor = Some(kept_chars);
            }
            KeyCode::Char(c) if !ctrl => {
                self.text.insert(byte(&self.text, at), c);
                self.cursor = Some(at + 1);
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(input: &mut LineInput, code: KeyCode, mods: KeyModifiers) {
        input.key(KeyEvent::new(code, mods));
    }

    #[test]
    fn the_cursor_moves_and_edits_where_it_is() {
        let mut input = LineInput::new("csv /tmp/out.csv");
        let none = KeyModifiers::NONE;
        press(&mut input, KeyCode::Home, none);
        press(&mut input, KeyCode::Delete, none);
        press(&mut input, KeyCode::Delete, none);
        press(&mut input, KeyCode::Delete, none);
        for c in "json".chars() {
            press(&mut input, KeyCode::Char(c), none);
        }
        assert_eq!(input.text, "json /tmp/out.csv");
        assert_eq!(input.split(), ("json".to_string(), " /tmp/out.csv".to_string()));
        press(&mut input, KeyCode::Left, none);
        press(&mut input, KeyCode::Backspace, none);
        assert_eq!(input.text, "jsn /tmp/out.csv");
        press(&mut input, KeyCode::Char('e'), KeyModifiers::CONTROL);
        press(&mut input, KeyCode::Char('w'), KeyModifiers::CONTROL);
        assert_eq!(input.text, "jsn ");
        // Multi-byte text is edited by characters.
        let mut input = LineInput::new("née");
        press(&mut input, KeyCode::Left, none);
        press(&mut input, KeyCode::Backspace, none);
        assert_eq!((input.text.as_str(), input.cursor()), ("ne", 1));
        press(&mut input, KeyCode::Char('u'), KeyModifiers::CONTROL);
        assert_eq!(input.text, "e");
    }
}
