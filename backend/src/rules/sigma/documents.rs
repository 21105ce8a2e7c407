//! Splits a YAML text into documents and parses each on its own, so one broken document cannot
//! hide the rest and every result can name its document. Also cuts Sigma's old pipe aggregation
//! (`condition: sel | count() > 5`) off conditions before the parser, which rejects it, sees them.

use std::sync::LazyLock;

use regex::Regex;
use rsigma_parser::{CorrelationRule, FilterRule, SigmaCollection, SigmaRule, parse_sigma_yaml};

use super::Failure;

pub(crate) struct Doc {
    /// 1-based position among the text's non-empty documents.
    pub number: usize,
    /// Read from the raw text, so documents the parser rejects can still be named.
    pub title: Option<String>,
    /// The text after the condition's `|`, if any.
    pub aggregation: Option<String>,
    /// `generate: false` written in the document.
    pub generate_false: bool,
    pub parsed: Parsed,
}

pub(crate) enum Parsed {
    Rule(Box<SigmaRule>),
    Correlation(Box<CorrelationRule>),
    Filter(Box<FilterRule>),
    /// `action: global|reset` documents only shape the documents after them.
    Action,
    Failed(Failure),
}

impl Doc {
    pub fn name(&self) -> String {
        self.title.clone().unwrap_or_else(|| format!("<document {}>", self.number))
    }
}

static TITLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^title:[ \t]*(.+?)[ \t]*$").expect("valid regex"));
static ACTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?m)^action:[ \t]*['"]?([A-Za-z]+)"#).expect("valid regex"));
/// `generate: false` at the top of a document, or (for correlations) inside `correlation:`.
static GENERATE_FALSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?mi)^generate:[ \t]*['"]?(false|no|off)['"]?[ \t]*(#.*)?$"#).expect("valid regex")
});
static NESTED_GENERATE_FALSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?mi)^[ \t]+generate:[ \t]*['"]?(false|no|off)['"]?[ \t]*(#.*)?$"#).expect("valid regex")
});
static CONDITION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([ \t]+)condition:[ \t]*(.*)$").expect("valid regex"));
static LIST_ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([ \t]*)-[ \t]+(.*)$").expect("valid regex"));

pub(crate) fn load(text: &str) -> Vec<Doc> {
    let mut docs = Vec::new();
    // The parser merges `action: global` documents into later ones and `action: repeat` onto the
    // previous one, so those documents are parsed again in front of each document they shape.
    let mut global: Option<(String, Option<String>)> = None;
    let mut chain: Vec<String> = Vec::new();
    let mut previous_aggregation: Option<String> = None;
    for (i, raw) in split(text).into_iter().enumerate() {
        let (cut, tails) = cut_aggregation(&raw);
        let action = ACTION.captures(&raw).map(|c| c[1].to_ascii_lowercase());
        let mut doc = Doc {
            number: i + 1,
            title: TITLE.captures(&raw).map(|c| unquote(&c[1]).unwrap_or_else(|| c[1].to_string())),
            aggregation: None,
            generate_false: GENERATE_FALSE.is_match(&raw),
            parsed: Parsed::Action,
        };
        match action.as_deref() {
            Some("global") => {
                global = Some((cut, tails.into_iter().next()));
                docs.push(doc);
                continue;
            }
            Some("reset") => {
                global = None;
                docs.push(doc);
                continue;
            }
            _ => {}
        }
        let repeat = action.as_deref() == Some("repeat");
        let mut context: Vec<&str> = global.iter().map(|(t, _)| t.as_str()).collect();
        if repeat {
            context.extend(chain.iter().map(String::as_str));
        }
        doc.parsed = parse_in_context(&context, &cut);
        if matches!(doc.parsed, Parsed::Correlation(_)) && NESTED_GENERATE_FALSE.is_match(&raw) {
            doc.generate_false = true;
        }
        if tails.len() > 1 {
            doc.parsed = Parsed::Failed(Failure::new(
                "aggregation",
                "several conditions carry a `| count()` aggregation; keep one condition per rule",
            ));
        }
        doc.aggregation = tails
            .into_iter()
            .next()
            .or_else(|| if repeat { previous_aggregation.clone() } else { None })
            .or_else(|| global.as_ref().and_then(|(_, tail)| tail.clone()));
        previous_aggregation = doc.aggregation.clone();
        if repeat {
            chain.push(cut);
        } else {
            chain = vec![cut];
        }
        docs.push(doc);
    }
    docs
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker).is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

fn split(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if is_marker(line, "---") {
            docs.push(std::mem::take(&mut current));
        }
        current.push_str(line);
        current.push('\n');
        if is_marker(line, "...") {
            docs.push(std::mem::take(&mut current));
        }
    }
    docs.push(current);
    docs.retain(|doc| {
        doc.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !is_marker(l, "---") && !is_marker(l, "...")
        })
    });
    docs
}

fn join(texts: &[&str]) -> String {
    let mut out = String::new();
    for text in texts {
        if !is_marker(text.lines().next().unwrap_or(""), "---") {
            out.push_str("---\n");
        }
        out.push_str(text);
    }
    out
}

fn counts(c: &SigmaCollection) -> [usize; 4] {
    [c.rules.len(), c.correlations.len(), c.filters.len(), c.errors.len()]
}

fn parse_in_context(context: &[&str], current: &str) -> Parsed {
    let before = if context.is_empty() {
        [0; 4]
    } else {
        parse_sigma_yaml(&join(context)).map(|c| counts(&c)).unwrap_or([usize::MAX; 4])
    };
    let mut texts = context.to_vec();
    texts.push(current);
    let mut collection = match parse_sigma_yaml(&join(&texts)) {
        Ok(collection) => collection,
        Err(e) => return rejected(&e.to_string()),
    };
    let now = counts(&collection);
    if now[0] > before[0] {
        collection.rules.pop().map_or(Parsed::Action, |r| Parsed::Rule(Box::new(r)))
    } else if now[1] > before[1] {
        collection.correlations.pop().map_or(Parsed::Action, |c| Parsed::Correlation(Box::new(c)))
    } else if now[2] > before[2] {
        collection.filters.pop().map_or(Parsed::Action, |f| Parsed::Filter(Box::new(f)))
    } else {
        let start = before[3].min(collection.errors.len());
        rejected(&collection.errors[start..].join("; "))
    }
}

fn rejected(reason: &str) -> Parsed {
    let reason = if reason.is_empty() { "unknown reason" } else { reason };
    Parsed::Failed(Failure::new(
        "Sigma document",
        format!(
            "the Sigma parser rejected it ({reason}); fix the document to follow the Sigma specification"
        ),
    ))
}

/// Rewrites conditions of the form `head | tail` to `head`, returning the tails.
fn cut_aggregation(doc: &str) -> (String, Vec<String>) {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut tails = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let Some(caps) = CONDITION.captures(line) else {
            out.push(line.to_string());
            continue;
        };
        let indent = caps[1].len();
        if !caps[2].trim().is_empty() {
            out.push(rewrite(line, &caps[1], "condition: ", &caps[2], &mut tails));
            continue;
        }
        out.push(line.to_string());
        while let Some(item) = lines.get(i).and_then(|l| LIST_ITEM.captures(l)) {
            if item[1].len() < indent {
                break;
            }
            out.push(rewrite(lines[i], &item[1], "- ", &item[2], &mut tails));
            i += 1;
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    (text, tails)
}

fn rewrite(line: &str, indent: &str, key: &str, value: &str, tails: &mut Vec<String>) -> String {
    let Some(scalar) = unquote(value) else { return line.to_string() };
    match scalar.split_once('|') {
        Some((head, tail)) => {
            tails.push(tail.trim().to_string());
            format!("{indent}{key}'{}'", head.trim().replace('\'', "''"))
        }
        None => line.to_string(),
    }
}

/// The string a one-line YAML scalar stands for; None for block scalars and flow collections.
fn unquote(value: &str) -> Option<String> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix('\'') {
        return Some(rest[..rest.rfind('\'')?].replace("''", "'"));
    }
    if let Some(rest) = value.strip_prefix('"') {
        return Some(rest[..rest.rfind('"')?].replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    if value.starts_with(['|', '>', '[', '{', '&', '*', '!']) {
        return None;
    }
    let without_comment = value.find(" #").map_or(value, |at| &value[..at]);
    Some(without_comment.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let docs = split("# header\n---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n");
        assert_eq!(docs, vec!["---\na: 1\n".to_string(), "---\nb: 2\n...\n".to_string()]);
    }

    #[test]
    fn cuts_pipe_aggregations_from_scalar_and_list_conditions() {
        let (text, tails) = cut_aggregation("detection:\n  condition: sel | count() by a > 5  # note\n");
        assert_eq!(text, "detection:\n  condition: 'sel'\n");
        assert_eq!(tails, vec!["count() by a > 5".to_string()]);
        let (text, tails) = cut_aggregation("detection:\n  condition:\n    - 'x and y | count(f) >= 2'\n");
        assert_eq!(text, "detection:\n  condition:\n    - 'x and y'\n");
        assert_eq!(tails, vec!["count(f) >= 2".to_string()]);
        let (text, tails) = cut_aggregation("detection:\n  condition: sel and not f\n");
        assert_eq!(text, "detection:\n  condition: sel and not f\n");
        assert!(tails.is_empty());
    }

    #[test]
    fn unquotes_yaml_scalars() {
        assert_eq!(unquote("'it''s'").as_deref(), Some("it's"));
        assert_eq!(unquote("\"a \\\"b\\\"\"").as_deref(), Some("a \"b\""));
        assert_eq!(unquote("plain # comment").as_deref(), Some("plain"));
        assert_eq!(unquote("|"), None);
    }
}
