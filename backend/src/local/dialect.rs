//! Where Athena's SQL means something DataFusion reads differently, the text is adjusted
//! before planning: Trino's identifiers are case-insensitive even when quoted (`"DataTransferred"`
//! finds the column `datatransferred`), DataFusion's quoted ones are exact.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use std::borrow::Cow;

/// `sql` with every double-quoted identifier in lower case, as Trino resolves them (the lake's
/// columns and tables are lower case, as Athena stores them). Strings and comments are left
/// alone; text the tokenizer cannot read is returned as it is, for the planner to report.
pub fn trino_identifiers(sql: &str) -> Cow<'_, str> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        return Cow::Borrowed(sql);
    };
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(sql.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let mut edits = vec![];
    for t in &tokens {
        let Token::Word(w) = &t.token else { continue };
        if w.quote_style != Some('"') || !w.value.chars().any(char::is_uppercase) || w.value.contains('"') {
            continue;
        }
        let Some(&line_start) = line_starts.get((t.span.start.line as usize).saturating_sub(1)) else {
            continue;
        };
        let Some((offset, _)) =
            sql[line_start..].char_indices().nth((t.span.start.column as usize).saturating_sub(1))
        else {
            continue;
        };
        let start = line_start + offset;
        let end = start + 1 + w.value.len();
        if sql.get(start..start + 1) == Some("\"") && sql.get(start + 1..end) == Some(w.value.as_str()) {
            edits.push((start + 1, end, w.value.to_lowercase()));
        }
    }
    if edits.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut out = sql.to_string();
    for (start, end, lower) in edits.into_iter().rev() {
        out.replace_range(start..end, &lower);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_identifiers_are_case_insensitive_as_in_trino() {
        assert_eq!(
            trino_identifiers("SELECT \"EventName\", \"userIdentity\".\"Arn\" AS \"Who\" FROM t"),
            "SELECT \"eventname\", \"useridentity\".\"arn\" AS \"who\" FROM t"
        );
        // Strings, comments and plain identifiers keep their case; lines count.
        let sql = "SELECT 'KeepMe' -- \"Comment\"\n  , \"SrcAddr\"\nFROM t WHERE x = \"Y\"";
        assert_eq!(
            trino_identifiers(sql),
            "SELECT 'KeepMe' -- \"Comment\"\n  , \"srcaddr\"\nFROM t WHERE x = \"y\""
        );
        assert!(matches!(trino_identifiers("SELECT a FROM t"), Cow::Borrowed(_)));
        assert_eq!(trino_identifiers("SELECT 'é', \"Ä\""), "SELECT 'é', \"ä\"");
    }
}
