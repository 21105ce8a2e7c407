//! A one-line text input for footer prompts and the pickers' search.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default)]
pub struct LineInput {
    pub text: String,
}

impl LineInput {
    pub fn new(text: impl Into<String>) -> Self {
        LineInput { text: text.into() }
    }

    /// Edits the text; `Some(true)` on Enter, `Some(false)` on Esc, `None` while typing.
    pub fn key(&mut self, key: KeyEvent) -> Option<bool> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter => return Some(true),
            KeyCode::Esc => return Some(false),
            KeyCode::Backspace => {
                self.text.pop();
            }
            // Ctrl-u clears and Ctrl-w drops a word, as shells do.
            KeyCode::Char('u') if ctrl => self.text.clear(),
            KeyCode::Char('w') if ctrl => {
                let kept = self.text.trim_end().rfind(' ').map_or(0, |i| i + 1);
                self.text.truncate(kept);
            }
            KeyCode::Char(c) if !ctrl => self.text.push(c),
            _ => {}
        }
        None
    }
}
