//! Text from logs and the network is untrusted: before it reaches a terminal, control
//! characters, escape sequences, bidirectional overrides and invisible characters are replaced
//! by visible escapes.

use std::borrow::Cow;

/// Characters that move the cursor, change colours, set the clipboard (OSC 52), reorder text
/// (bidi overrides, Trojan Source) or take no room at all (zero-width spaces and joiners, word
/// joiners, BOM, soft hyphen: `admin\u{200b}` would read as `admin`) when printed raw.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// `s` with every unsafe character shown as `\x1b` or `\u{202e}`; borrowed when clean.
pub fn neutralize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push(' '),
            c if is_unsafe(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(neutralize("plain text"), Cow::Borrowed("plain text"));
        assert_eq!(neutralize("a\x1b[2Jb"), "a\\x1b[2Jb");
        // OSC 52 clipboard write, terminated by BEL.
        assert_eq!(neutralize("\x1b]52;c;ZXZpbA==\x07"), "\\x1b]52;c;ZXZpbA==\\x07");
        assert_eq!(neutralize("line\nbreak\r"), "line\\x0abreak\\x0d");
        assert_eq!(neutralize("c1\u{9b}31m"), "c1\\x9b31m");
        assert_eq!(neutralize("tab\there"), "tab here");
    }

    #[test]
    fn escapes_bidi_overrides() {
        let ua = "Mozilla/5.0 \u{202e}exe.txt";
        assert_eq!(neutralize(ua), "Mozilla/5.0 \\u{202e}exe.txt");
        assert_eq!(neutralize("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }

    #[test]
    fn shows_characters_that_take_no_room() {
        assert_eq!(neutralize("admin\u{200b}"), "admin\\u{200b}");
        assert_eq!(neutralize("\u{feff}root"), "\\u{feff}root");
        assert_eq!(neutralize("pass\u{ad}word\u{2060}"), "pass\\xadword\\u{2060}");
    }
}
