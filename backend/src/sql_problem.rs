//! What a failed statement means to whoever wrote it: a syntax error's line and column in
//! words (not the parser's debug text), an unknown table or column with the closest real name,
//! nested struct fields included. The console, the CLI and rule validation all say it so.

use crate::model::Table;
use crate::model::tables::PARTITION_COLUMN;
use crate::rules::closest;
use datafusion::arrow::datatypes::{DataType, Fields};
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

static PARSER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)ParserError\("(.*?)(?: at Line: (\d+), Column: (\d+))?"\)"#).expect("valid regex")
});
static PARSER_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"at Line: (\d+), Column: (\d+)").expect("valid regex"));
static NO_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"No field named ([A-Za-z0-9_.]+)").expect("valid regex"));
static NO_STRUCT_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Field ([A-Za-z0-9_]+) not found in struct").expect("valid regex"));
static VALID_FIELDS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Valid fields are (.*)\.\s*$").expect("valid regex"));
static NO_TABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"table '(?:[a-z_]+\.)*([^'.]+)' not found").expect("valid regex"));
static NO_FUNCTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Invalid function '([^']+)'").expect("valid regex"));

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlProblem {
    /// One line for people, e.g. ``unknown column `sourceip`; did you mean `sourceipaddress`?``
    pub message: String,
    /// The 1-based line and column in the statement, where the parser says.
    pub at: Option<(usize, usize)>,
    /// The unknown name (table, column, function), to find in the statement's text.
    pub name: Option<String>,
}

impl std::fmt::Display for SqlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads DataFusion's message for a failed statement; one it does not know is kept as it is,
/// less its `Error during planning:` style prefixes.
pub fn explain(raw: &str) -> SqlProblem {
    let raw = raw.trim();
    let plain = |message: &str| SqlProblem { message: message.to_string(), at: None, name: None };
    if let Some(c) = PARSER.captures(raw) {
        let what = c[1].replace("\\\"", "\"");
        let at = c.get(2).zip(c.get(3)).map(|(l, col)| (number(l.as_str()), number(col.as_str())));
        let message = match at {
            Some((l, col)) => format!("syntax error at line {l}, column {col}: {}", lower_first(&what)),
            None => format!("syntax error: {}", lower_first(&what)),
        };
        return SqlProblem { message, at, name: None };
    }
    if let Some(c) = NO_TABLE.captures(raw) {
        let wanted = c[1].to_string();
        let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
        let message = match closest(&wanted, names.iter().copied()) {
            Some(hint) => format!("unknown table `{wanted}`; did you mean `{hint}`?"),
            None => format!("unknown table `{wanted}`; the tables are {}", names.join(", ")),
        };
        return SqlProblem { message, at: None, name: Some(wanted) };
    }
    if let Some(c) = NO_FIELD.captures(raw) {
        let full = c[1].trim_end_matches('.').to_string();
        let wanted = full.rsplit('.').next().unwrap_or(&full).to_string();
        let columns = candidates(raw);
        let message = match closest(&wanted, columns.iter().map(String::as_str)) {
            Some(hint) => format!("unknown column `{wanted}`; did you mean `{hint}`?"),
            None => format!("unknown column `{wanted}` (columns are lower-case, as Athena stores them)"),
        };
        return SqlProblem { message, at: None, name: Some(wanted) };
    }
    if let Some(c) = NO_STRUCT_FIELD.captures(raw) {
        let wanted = c[1].to_string();
        let fields: BTreeSet<String> = lake_columns()
            .into_iter()
            .filter_map(|path| path.rsplit_once('.').map(|(_, leaf)| leaf.to_string()))
            .collect();
        let message = match closest(&wanted, fields.iter().map(String::as_str)) {
            Some(hint) => format!("unknown struct field `{wanted}`; did you mean `{hint}`?"),
            None => format!("unknown struct field `{wanted}`"),
        };
        return SqlProblem { message, at: None, name: Some(wanted) };
    }
    if let Some(c) = NO_FUNCTION.captures(raw) {
        let mut p = plain(strip_prefixes(raw));
        p.name = Some(c[1].to_string());
        return p;
    }
    let mut p = plain(strip_prefixes(raw));
    p.at = PARSER_AT.captures(raw).map(|c| (number(&c[1]), number(&c[2])));
    p
}

/// The columns a suggestion may name: those of the query's tables (DataFusion lists them) with
/// their struct fields as `column.field`, or every lake column when it lists none.
fn candidates(raw: &str) -> Vec<String> {
    let lake = lake_columns();
    let Some(listed) = VALID_FIELDS.captures(raw) else { return lake.into_iter().collect() };
    let tops: BTreeSet<String> = listed[1]
        .split(", ")
        .map(|f| f.trim_matches('"').rsplit('.').next().unwrap_or(f).trim_matches('"').to_string())
        .collect();
    let mut out: BTreeSet<String> = tops.clone();
    for path in lake {
        let top = path.split('.').next().unwrap_or(&path);
        if path.contains('.') && tops.contains(top) {
            out.insert(path.rsplit('.').next().unwrap_or(&path).to_string());
            out.insert(path);
        }
    }
    out.into_iter().collect()
}

/// Every lake column and nested struct field, as dotted paths.
fn lake_columns() -> BTreeSet<String> {
    let mut lake = BTreeSet::new();
    for t in Table::ALL {
        walk(t.file_schema().fields(), "", &mut lake);
    }
    lake.insert(PARTITION_COLUMN.to_string());
    lake
}

/// Every column and nested struct field as a dotted path.
fn walk(fields: &Fields, prefix: &str, out: &mut BTreeSet<String>) {
    for f in fields {
        let path = format!("{prefix}{}", f.name());
        let inner = match f.data_type() {
            DataType::Struct(inner) => Some(inner),
            DataType::List(item) => match item.data_type() {
                DataType::Struct(inner) => Some(inner),
                _ => None,
            },
            _ => None,
        };
        if let Some(inner) = inner {
            walk(inner, &format!("{path}."), out);
        }
        out.insert(path);
    }
}

fn strip_prefixes(raw: &str) -> &str {
    let mut text = raw;
    for prefix in
        ["Error during planning: ", "SQL error: ", "Schema error: ", "This feature is not implemented: "]
    {
        text = text.strip_prefix(prefix).unwrap_or(text);
    }
    text
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

fn number(text: &str) -> usize {
    text.parse().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn problem(sql: &str) -> SqlProblem {
        let ctx = crate::local::Lake::new(tempfile::TempDir::new().unwrap().path()).session().await.unwrap();
        explain(&ctx_error(&ctx, sql).await)
    }

    async fn ctx_error(ctx: &SessionContext, sql: &str) -> String {
        match ctx.sql(sql).await {
            Ok(_) => panic!("`{sql}` planned"),
            Err(e) => e.strip_backtrace(),
        }
    }

    #[tokio::test]
    async fn an_unknown_column_gets_the_closest_real_one() {
        let p = problem("SELECT sourceip FROM cloudtrail_logs").await;
        assert_eq!(p.message, "unknown column `sourceip`; did you mean `sourceipaddress`?");
        assert_eq!(p.name.as_deref(), Some("sourceip"));
        // Struct fields are candidates too.
        let p = problem("SELECT useridentity.ar FROM cloudtrail_logs").await;
        assert_eq!(p.message, "unknown struct field `ar`; did you mean `arn`?");
    }

    #[tokio::test]
    async fn a_syntax_error_is_words_with_line_and_column() {
        let p = problem("SELECT *\nFROM cloudtrail_logs WHERE errorcode = = 1").await;
        assert_eq!(p.at, Some((2, 40)), "{p:?}");
        assert!(p.message.starts_with("syntax error at line 2, column 40: expected: an expression"), "{p:?}");
        assert!(!p.message.contains("ParserError"), "{p:?}");
    }

    #[tokio::test]
    async fn an_unknown_table_gets_the_closest_real_one() {
        let p = problem("SELECT * FROM cloudtrail").await;
        assert_eq!(p.message, "unknown table `cloudtrail`; did you mean `cloudtrail_logs`?");
    }
}
