//! One key as the keymap matches it: parsed from a keymap file's text (`j`, `G`, `Ctrl-d`,
//! `Alt-<`, `F5`) and read from crossterm's events, shift kept for letters only.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key as matched: crossterm reports `G` as Shift+'G' and `?` as maybe-Shift+'?', so shift is
/// kept for letters and dropped for other characters, and only Ctrl/Alt/Shift count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    code: KeyCode,
    mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) if c.is_ascii_alphabetic() => {
                if c.is_ascii_uppercase() || mods.contains(KeyModifiers::SHIFT) {
                    mods |= KeyModifiers::SHIFT;
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::Char(c) => {
                mods -= KeyModifiers::SHIFT;
                KeyCode::Char(c)
            }
            KeyCode::BackTab => {
                mods |= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// `j`, `G`, `?`, `Ctrl-d`, `Alt-<`, `F5`, `Enter`, `Esc`, `Space`, `PageDown`, ... Names
    /// and modifiers are crokey's; a lone capital letter is that letter with Shift.
    pub fn parse(text: &str) -> Result<Key, String> {
        let bad = || {
            format!(
                "`{text}` is not a key: write a character (j, G, ?), a name (Enter, Esc, Tab, Space, \
                 Up, PageDown, F5) or a modifier and a key (Ctrl-d, Alt-v)"
            )
        };
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && !c.is_whitespace()
        {
            return Ok(Key::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        // Letters with Ctrl or Alt are one key whatever their case (terminals send them so).
        let combo = crokey::parse(text).map_err(|_| bad())?;
        let crokey::OneToThree::One(code) = combo.codes else { return Err(bad()) };
        Ok(Key::new(code, combo.modifiers))
    }
}

impl Key {
    /// With Ctrl or Alt: never text, so an editor can let it through.
    pub fn is_chord(&self) -> bool {
        self.mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }
}

impl From<KeyEvent> for Key {
    fn from(e: KeyEvent) -> Key {
        Key::new(e.code, e.modifiers)
    }
}
