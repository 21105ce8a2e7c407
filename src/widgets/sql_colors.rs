//! SQL token colours for the query and rule editors: sqlparser's tokenizer (the lexer
//! DataFusion parses with, so strings, comments and quoted names split exactly as the engine
//! sees them) sorts the text into token classes, painted over the drawn editor in the theme's
//! styles. In a rule file the `query:` block is SQL; keys and comments get their classes too.

use crate::config::theme::{SqlClass, Theme};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use unicode_width::UnicodeWidthChar;

/// Words drawn as keywords. sqlparser knows several hundred keywords, most of them fine column
/// names (`user`, `source`, `start`); these are the ones that shape a query.
const KEYWORDS: &[&str] = &[
    "all",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "cast",
    "cross",
    "desc",
    "distinct",
    "else",
    "end",
    "except",
    "exists",
    "explain",
    "false",
    "filter",
    "first",
    "following",
    "from",
    "full",
    "group",
    "having",
    "ilike",
    "in",
    "inner",
    "intersect",
    "interval",
    "is",
    "join",
    "last",
    "left",
    "like",
    "limit",
    "not",
    "null",
    "nulls",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "over",
    "partition",
    "preceding",
    "range",
    "right",
    "rows",
    "select",
    "similar",
    "then",
    "true",
    "try_cast",
    "unbounded",
    "union",
    "using",
    "values",
    "when",
    "where",
    "window",
    "with",
];

/// One coloured stretch of a line: `chars` counts characters from the line's start.
#[derive(Debug, Clone, PartialEq)]
pub struct Stretch {
    pub line: usize,
    pub chars: std::ops::Range<usize>,
    pub class: SqlClass,
}

fn class_of(tokens: &[TokenWithSpan], i: usize) -> Option<SqlClass> {
    Some(match &tokens[i].token {
        Token::Word(w) if w.quote_style.is_some() => SqlClass::Identifier,
        Token::Word(w) if KEYWORDS.iter().any(|k| w.value.eq_ignore_ascii_case(k)) => SqlClass::Keyword,
        Token::Word(_) => {
            let next = tokens[i + 1..].iter().find(|t| !matches!(t.token, Token::Whitespace(_)));
            if next.is_some_and(|t| t.token == Token::LParen) {
                SqlClass::Function
            } else {
                return None;
            }
        }
        Token::Number(..) => SqlClass::Number,
        Token::Whitespace(Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)) => {
            SqlClass::Comment
        }
        Token::Whitespace(_) | Token::Comma | Token::Period | Token::SemiColon | Token::EOF => return None,
        Token::LParen | Token::RParen | Token::LBracket | Token::RBracket => return None,
        Token::Placeholder(_) => SqlClass::Identifier,
        Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_) => SqlClass::String,
        _ => SqlClass::Operator,
    })
}

/// Splits a token spanning `(line, col)` to `(line, col)` (1-based, end exclusive, as
/// sqlparser counts) into one stretch per line.
fn push_span(
    out: &mut Vec<Stretch>,
    lines: &[&str],
    start: (usize, usize),
    end: (usize, usize),
    class: SqlClass,
) {
    for line in start.0..=end.0.min(lines.len()) {
        let from = if line == start.0 { start.1 - 1 } else { 0 };
        let to = if line == end.0 { end.1 - 1 } else { lines[line - 1].chars().count() };
        if to > from {
            out.push(Stretch { line: line - 1, chars: from..to, class });
        }
    }
}

/// The coloured stretches of `lines`, in order. Text the tokenizer cannot finish (an open
/// string or comment while typing) is coloured to the end as what it started as.
pub fn stretches(lines: &[String]) -> Vec<Stretch> {
    let text = lines.join("\n");
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut tokens = vec![];
    let result = Tokenizer::new(&GenericDialect {}, &text)
        .with_unescape(false)
        .tokenize_with_location_into_buf(&mut tokens);
    let mut out = vec![];
    for i in 0..tokens.len() {
        let span = tokens[i].span;
        if let Some(class) = class_of(&tokens, i) {
            let (s, e) = (span.start, span.end);
            push_span(
                &mut out,
                &refs,
                (s.line as usize, s.column as usize),
                (e.line as usize, e.column as usize),
                class,
            );
        }
    }
    if let Err(e) = result {
        let message = e.message.to_ascii_lowercase();
        let class = if message.contains("comment") {
            Some(SqlClass::Comment)
        } else if message.contains("string") || message.contains("quote") || message.contains("delimited") {
            Some(SqlClass::String)
        } else {
            None
        };
        let from = tokens.last().map(|t| t.span.end).unwrap_or(e.location);
        let last = (refs.len(), refs.last().map_or(0, |l| l.chars().count()) + 1);
        if let Some(class) = class.filter(|_| from.line > 0) {
            push_span(&mut out, &refs, (from.line as usize, from.column as usize), last, class);
        }
    }
    out
}

/// A rule file's stretches: the `query: |` block as SQL, `#` comments, and keys (`severity:`,
/// `- name:`) as keywords. The rest of the YAML stays plain: the checks below the editor say
/// what is wrong with it.
pub fn rule_stretches(lines: &[String]) -> Vec<Stretch> {
    let mut out = vec![];
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if body.starts_with('#') {
            out.push(Stretch { line: i, chars: indent..line.chars().count(), class: SqlClass::Comment });
        } else if let Some((at, key, rest)) = yaml_key(body) {
            let start = indent + at;
            out.push(Stretch { line: i, chars: start..start + key.len(), class: SqlClass::Keyword });
            if rest.starts_with('|') || rest.starts_with('>') {
                // A block of text runs while lines are blank or indented deeper than its key;
                // the query's is SQL, any other (a description) stays plain.
                let end = (i + 1..lines.len())
                    .find(|&j| {
                        let l = &lines[j];
                        !l.trim().is_empty() && l.len() - l.trim_start_matches(' ').len() <= start
                    })
                    .unwrap_or(lines.len());
                if key == "query" {
                    let block = stretches(&lines[i + 1..end]);
                    out.extend(block.into_iter().map(|s| Stretch { line: s.line + i + 1, ..s }));
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// `key: rest` or `- key: rest` at the start of `body`: where the key starts, the key, and
/// what follows the colon.
fn yaml_key(body: &str) -> Option<(usize, &str, &str)> {
    let at = if body.starts_with("- ") { 2 } else { 0 };
    let text = &body[at..];
    let len = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))?;
    let rest = text[len..].strip_prefix(':')?;
    (len > 0 && (rest.is_empty() || rest.starts_with(' '))).then(|| (at, &text[..len], rest.trim_start()))
}

/// Where an editor's text sits on screen: its lines, scroll (rows, display columns), tab width,
/// and the line-number columns that come before the text and scroll sideways with it.
pub struct View<'a> {
    pub lines: &'a [String],
    pub scroll: (u16, u16),
    pub tab: u8,
    pub gutter: u16,
}

impl<'a> View<'a> {
    pub fn of(editor: &'a ratatui_textarea::TextArea<'_>) -> Self {
        View {
            lines: editor.lines(),
            scroll: editor.scroll_offset(),
            tab: editor.tab_length(),
            gutter: editor.line_number_width(),
        }
    }
}

/// Paints `stretches` over an editor already drawn in `inner` (the area inside its border).
/// Only the colour changes, so the cursor and selection drawn by the editor stay.
pub fn paint(buf: &mut Buffer, inner: Rect, view: &View, stretches: Vec<Stretch>, theme: &Theme) {
    let (top, left) = (view.scroll.0 as usize, view.scroll.1 as usize);
    let (tab, gutter) = (view.tab.max(1) as usize, view.gutter as usize);
    let visible = top..top + inner.height as usize;
    for s in stretches.into_iter().filter(|s| visible.contains(&s.line)) {
        let y = inner.y + (s.line - top) as u16;
        let style = theme.sql(s.class);
        let mut col = 0usize;
        for (i, ch) in view.lines[s.line].chars().enumerate() {
            let width = if ch == '\t' { tab - col % tab } else { ch.width().unwrap_or(0) };
            if s.chars.contains(&i) {
                for dx in gutter + col..gutter + col + width {
                    if dx >= left && dx - left < inner.width as usize {
                        buf[(inner.x + (dx - left) as u16, y)].set_style(style);
                    }
                }
            }
            col += width;
            if i >= s.chars.end {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(sql: &str) -> Vec<(String, SqlClass)> {
        let lines: Vec<String> = sql.lines().map(String::from).collect();
        stretches(&lines)
            .into_iter()
            .map(|s| (lines[s.line].chars().skip(s.chars.start).take(s.chars.len()).collect(), s.class))
            .collect()
    }

    #[test]
    fn tokens_get_their_classes_and_column_names_stay_plain() {
        let got = classes(
            "SELECT count(*) AS n, user, \"source\" FROM cloudtrail -- recent\nWHERE x >= 10 AND y = 'a''b'",
        );
        use SqlClass::*;
        let want: Vec<(std::string::String, SqlClass)> = vec![
            ("SELECT".into(), Keyword),
            ("count".into(), Function),
            ("*".into(), Operator),
            ("AS".into(), Keyword),
            ("\"source\"".into(), Identifier),
            ("FROM".into(), Keyword),
            ("-- recent".into(), Comment),
            ("WHERE".into(), Keyword),
            (">=".into(), Operator),
            ("10".into(), Number),
            ("AND".into(), Keyword),
            ("=".into(), Operator),
            ("'a''b'".into(), String),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn comments_over_lines_and_unfinished_strings_are_coloured_to_their_end() {
        use SqlClass::*;
        assert_eq!(
            classes("/* two\nlines */ 1"),
            vec![("/* two".into(), Comment), ("lines */".into(), Comment), ("1".into(), Number)]
        );
        assert_eq!(
            classes("SELECT 'still typ"),
            vec![("SELECT".into(), Keyword), ("'still typ".into(), String)]
        );
        assert_eq!(
            classes("SELECT 1 /* open\nstill"),
            vec![
                ("SELECT".into(), Keyword),
                ("1".into(), Number),
                ("/* open".into(), Comment),
                ("still".into(), Comment),
            ]
        );
    }

    #[test]
    fn painting_follows_scroll_tabs_and_wide_characters() {
        let theme = Theme::default();
        let lines = vec!["x".to_string(), "\t'日本' FROM".to_string()];
        let area = Rect::new(0, 0, 20, 2);
        let mut buf = Buffer::empty(area);
        // Scrolled one row down: line 1 is drawn on row 0; the tab fills 4 columns.
        let view = View { lines: &lines, scroll: (1, 0), tab: 4, gutter: 0 };
        paint(&mut buf, area, &view, stretches(&lines), &theme);
        let string = theme.sql(SqlClass::String);
        let keyword = theme.sql(SqlClass::Keyword);
        assert_eq!(buf[(3, 0)].style(), Buffer::empty(area)[(3, 0)].style(), "tab stays plain");
        for x in 4..10 {
            assert_eq!(buf[(x, 0)].fg, string.fg.unwrap_or_default(), "column {x} is in the string");
        }
        assert_eq!(buf[(11, 0)].fg, keyword.fg.unwrap_or_default());
        assert_eq!(buf[(11, 1)].style(), Buffer::empty(area)[(11, 1)].style(), "row 1 is past the text");

        // Line numbers (3 columns) scroll sideways with the text: scrolled 2 columns right, the
        // keyword at text column 0 is drawn at screen column 1.
        let lines = vec!["FROM t".to_string()];
        let mut buf = Buffer::empty(area);
        let view = View { lines: &lines, scroll: (0, 2), tab: 4, gutter: 3 };
        paint(&mut buf, area, &view, stretches(&lines), &theme);
        assert_eq!(buf[(0, 0)].style(), Buffer::empty(area)[(0, 0)].style(), "the gutter's last column");
        for x in 1..5 {
            assert_eq!(buf[(x, 0)].fg, keyword.fg.unwrap_or_default(), "column {x} is in FROM");
        }
    }

    #[test]
    fn a_rule_file_has_its_query_block_coloured_as_sql() {
        let text = "# why\nid: r\ndescription: >\n  Note: not a key\nquery: |\n  SELECT 1 -- one\n\n  FROM t\ntests:\n  - name: fires\n    rows: 'x'";
        let lines: Vec<std::string::String> = text.lines().map(std::string::String::from).collect();
        let got: Vec<(usize, std::string::String, SqlClass)> = rule_stretches(&lines)
            .into_iter()
            .map(|s| {
                (s.line, lines[s.line].chars().skip(s.chars.start).take(s.chars.len()).collect(), s.class)
            })
            .collect();
        use SqlClass::*;
        let want: Vec<(usize, std::string::String, SqlClass)> = vec![
            (0, "# why".into(), Comment),
            (1, "id".into(), Keyword),
            (2, "description".into(), Keyword),
            (4, "query".into(), Keyword),
            (5, "SELECT".into(), Keyword),
            (5, "1".into(), Number),
            (5, "-- one".into(), Comment),
            (7, "FROM".into(), Keyword),
            (8, "tests".into(), Keyword),
            (9, "name".into(), Keyword),
            (10, "rows".into(), Keyword),
        ];
        assert_eq!(got, want);

        // A block under a list item ends where its key's indent comes back.
        let lines: Vec<std::string::String> =
            ["  - query: |", "      SELECT 1", "    rows: 'x'"].map(std::string::String::from).to_vec();
        let classes: Vec<(usize, SqlClass)> =
            rule_stretches(&lines).iter().map(|s| (s.line, s.class)).collect();
        assert_eq!(classes, vec![(0, Keyword), (1, Keyword), (1, Number), (2, Keyword)]);
    }
}
