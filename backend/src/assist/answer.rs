//! What is taken out of a model's answer: the SQL, the YAML of a rule, or a JSON object,
//! whether it comes in a fenced block or bare.

/// The answer without control characters other than newlines and tabs: what a model says is
/// untrusted text bound for a terminal and an editor.
pub fn without_controls(answer: &str) -> String {
    answer.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect()
}

/// The body of the first fenced block whose language is one of `langs` (or has none), else
/// the whole answer trimmed.
pub fn fenced(answer: &str, langs: &[&str]) -> String {
    let answer = &without_controls(answer);
    let mut rest = answer.as_str();
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let (lang, body) = after.split_once('\n').unwrap_or((after, ""));
        let Some(end) = body.find("```") else { break };
        let lang = lang.trim().to_ascii_lowercase();
        if lang.is_empty() || langs.contains(&lang.as_str()) {
            return body[..end].trim().to_string();
        }
        rest = &body[end + 3..];
    }
    answer.trim().to_string()
}

/// The SQL of an answer, or why the answer holds none.
pub fn sql(answer: &str) -> Result<String, String> {
    let sql = fenced(answer, &["sql", "trino", "presto"]);
    let sql = sql.trim().trim_end_matches(';').trim().to_string();
    let first = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    if matches!(first.as_str(), "SELECT" | "WITH" | "(") {
        Ok(sql)
    } else {
        Err("the answer holds no SELECT query; ask again in other words".into())
    }
}

/// A rule file's YAML from an answer.
pub fn yaml(answer: &str) -> Result<String, String> {
    let text = fenced(answer, &["yaml", "yml"]);
    if text.lines().any(|l| l.starts_with("id:")) && text.contains("query:") {
        Ok(format!("{}\n", text.trim_end()))
    } else {
        Err("the answer holds no rule file (YAML with `id:` and `query:`); ask again".into())
    }
}

/// A JSON object from an answer.
pub fn json_object(answer: &str) -> Result<serde_json::Value, String> {
    let text = fenced(answer, &["json"]);
    let text = match (text.find('{'), text.rfind('}')) {
        (Some(a), Some(b)) if a < b => &text[a..=b],
        _ => return Err("the answer holds no JSON object; try again".into()),
    };
    serde_json::from_str(text).map_err(|e| format!("the answer's JSON does not parse ({e}); try again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_comes_out_of_fences_or_bare_text() {
        assert_eq!(sql("Here:\n```sql\nSELECT 1;\n```\nDone").unwrap(), "SELECT 1");
        assert_eq!(
            sql("```python\nx\n```\n```\nWITH a AS (SELECT 1) SELECT * FROM a\n```").unwrap(),
            "WITH a AS (SELECT 1) SELECT * FROM a"
        );
        assert_eq!(sql("  select 2  ").unwrap(), "select 2");
        assert!(sql("I cannot help with that.").is_err());
        assert!(sql("```sql\nDROP TABLE x\n```").is_err());
        assert_eq!(sql("SELECT '\x1b[2J' AS x\r").unwrap(), "SELECT '[2J' AS x");
    }

    #[test]
    fn yaml_and_json_are_found() {
        assert!(yaml("```yaml\nid: x\nquery: SELECT 1\n```").unwrap().starts_with("id: x"));
        assert!(yaml("no rule").is_err());
        assert_eq!(json_object("Sure: {\"a\": 1} ok").unwrap()["a"], 1);
        assert!(json_object("{not json}").is_err());
        assert!(json_object("nothing").is_err());
    }
}
