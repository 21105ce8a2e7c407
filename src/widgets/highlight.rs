//! JSON and YAML in the text views coloured by syntect's grammars (scope parsing only, no
//! syntect themes), drawn in the theme's `sql.*` styles so user themes and `NO_COLOR` apply.
//! The grammars load on a thread of their own at start; text shown before they are in is plain.

use super::text::text_lines;
use crate::config::theme::{SqlClass, Theme};
use mantissa_backend::text::neutralize;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::sync::OnceLock;
use syntect::easy::ScopeRangeIterator;
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxSet};
use syntect::util::LinesWithEndings;

static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();

/// Starts loading the grammars (tens of milliseconds) off the UI thread.
pub fn load_in_background() {
    std::thread::spawn(|| {
        SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines);
    });
}

/// Loads the grammars on this thread (tests, benchmarks).
pub fn load_now() {
    SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Json,
    Yaml,
}

/// `text` as coloured lines, neutralised piece by piece; plain lines while the grammars are
/// not loaded yet or when a line does not parse.
pub fn lines(text: &str, language: Language, theme: &Theme) -> Vec<Line<'static>> {
    let Some(set) = SYNTAXES.get() else { return text_lines(text) };
    let extension = match language {
        Language::Json => "json",
        Language::Yaml => "yaml",
    };
    let Some(syntax) = set.find_syntax_by_extension(extension) else { return text_lines(text) };
    let classes = Classes::new();
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut out = vec![];
    for line in LinesWithEndings::from(text) {
        let Ok(ops) = state.parse_line(line, set) else { return text_lines(text) };
        let mut spans: Vec<Span<'static>> = vec![];
        for (range, op) in ScopeRangeIterator::new(&ops, line) {
            if stack.apply(op).is_err() {
                return text_lines(text);
            }
            let piece = line[range].trim_end_matches(['\n', '\r']);
            if !piece.is_empty() {
                spans.push(Span::styled(neutralize(piece).into_owned(), classes.style(&stack, theme)));
            }
        }
        out.push(Line::from(spans));
    }
    out
}

/// The scopes that get a style of their own, most specific first.
struct Classes {
    key: [Scope; 4],
    comment: Scope,
    string: Scope,
    number: Scope,
    constant: Scope,
    punctuation: Scope,
}

impl Classes {
    fn new() -> Self {
        let scope = |s: &str| Scope::new(s).expect("a valid scope name");
        Classes {
            key: [
                scope("meta.mapping.key"),
                scope("meta.structure.dictionary.key"),
                scope("entity.name.tag"),
                scope("support.type.property-name"),
            ],
            comment: scope("comment"),
            string: scope("string"),
            number: scope("constant.numeric"),
            constant: scope("constant.language"),
            punctuation: scope("punctuation"),
        }
    }

    fn style(&self, stack: &ScopeStack, theme: &Theme) -> Style {
        let scopes = stack.as_slice();
        let has = |s: &Scope| scopes.iter().any(|x| s.is_prefix_of(*x));
        let class = if has(&self.comment) {
            Some(SqlClass::Comment)
        } else if self.key.iter().any(has) {
            Some(SqlClass::Keyword)
        } else if has(&self.string) {
            Some(SqlClass::String)
        } else if has(&self.number) {
            Some(SqlClass::Number)
        } else if has(&self.constant) {
            Some(SqlClass::Function)
        } else if has(&self.punctuation) {
            Some(SqlClass::Operator)
        } else {
            None
        };
        class.map_or_else(Style::default, |c| theme.sql(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_strings_numbers_and_constants_get_the_themes_styles() {
        load_now();
        let theme = Theme::default();
        let text = "{\n  \"user\": \"alice\\u001b[2J\",\n  \"n\": 42,\n  \"mfa\": false\n}";
        let lines = lines(text, Language::Json, &theme);
        assert_eq!(lines.len(), 5);
        let style_of = |needle: &str| {
            lines.iter().flat_map(|l| l.spans.iter()).find(|s| s.content.contains(needle)).map(|s| s.style)
        };
        assert_eq!(style_of("user"), Some(theme.sql(SqlClass::Keyword)), "keys");
        assert_eq!(style_of("42"), Some(theme.sql(SqlClass::Number)));
        assert_eq!(style_of("false"), Some(theme.sql(SqlClass::Function)));
        assert_eq!(style_of("alice"), Some(theme.sql(SqlClass::String)));
        // The text reads as it was, every character kept.
        let shown: Vec<String> =
            lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        assert_eq!(shown.join("\n"), text);
    }

    #[test]
    fn yaml_keys_and_comments_are_coloured_too() {
        load_now();
        let theme = Theme::default();
        let lines = lines("# a rule\nseverity: high\n", Language::Yaml, &theme);
        assert_eq!(lines[0].spans[0].style, theme.sql(SqlClass::Comment));
        let key = lines[1].spans.iter().find(|s| s.content.contains("severity")).unwrap();
        assert_eq!(key.style, theme.sql(SqlClass::Keyword));
    }
}
