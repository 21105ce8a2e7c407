//! What the model is told: the lake's tables and columns in Trino's type names, the `dt`
//! partition rule, the functions the engine has, and what shape the answer must take. Never
//! log rows.

use crate::model::tables::PARTITION_COLUMN;
use crate::ports::TableSchema;
use datafusion::arrow::datatypes::DataType;
use std::fmt::Write;

/// A rule of the starter pack, as the example of the rule file format.
const EXAMPLE_RULE: &str = include_str!("../../rules/aws-console-login-without-mfa.yml");

/// The tables as `name(column type, ...)`, nested types spelled as Trino does.
pub fn schemas(tables: &[TableSchema]) -> String {
    let mut out = String::new();
    for t in tables {
        let columns: Vec<String> =
            t.schema.fields().iter().map(|f| format!("{} {}", f.name(), trino_type(f.data_type()))).collect();
        let _ = writeln!(out, "- {}({})", t.name, columns.join(", "));
    }
    out
}

fn trino_type(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            "integer".into()
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".into(),
        DataType::Float32 => "real".into(),
        DataType::Float64 => "double".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) => {
            format!("array({})", trino_type(f.data_type()))
        }
        DataType::Struct(fields) => {
            let inner: Vec<String> =
                fields.iter().map(|f| format!("{} {}", f.name(), trino_type(f.data_type()))).collect();
            format!("row({})", inner.join(", "))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("map({}, {})", trino_type(kv[0].data_type()), trino_type(kv[1].data_type()))
            }
            _ => "map".into(),
        },
        other => other.to_string().to_ascii_lowercase(),
    }
}

/// What every prompt says about the lake and its dialect.
fn lake_rules(tables: &[TableSchema]) -> String {
    format!(
        "The lake is queried with Amazon Athena's SQL (Trino). Its tables:\n{}\n\
         Every table is partitioned by `{PARTITION_COLUMN}`, the event day as a 'YYYY-MM-DD' string: always filter on \
         `{PARTITION_COLUMN}` so only the days needed are read (Athena bills by bytes scanned). Struct fields are read \
         with dots (useridentity.arn). Time columns in CloudTrail (eventtime) are ISO-8601 strings; compare them with \
         ISO strings or from_iso8601_timestamp(). Besides standard SQL these Trino functions exist: {}.\n\
         Never write to the lake: only SELECT (or WITH ... SELECT).",
        schemas(tables),
        crate::local::udf::trino_function_names().join(", ")
    )
}

/// The system prompt for a question to turn into a query.
pub fn for_query(tables: &[TableSchema], today: chrono::NaiveDate, look_back_days: i64) -> String {
    let since = today - chrono::Duration::days(look_back_days);
    format!(
        "You write one SQL query for a security analyst's question about AWS logs.\n{}\n\
         Today is {today}. When the question names no time, look back {look_back_days} day(s): \
         `{PARTITION_COLUMN} >= '{since}'`. Answer with the query alone in a ```sql block, no explanation. \
         Name output columns plainly and order the rows usefully; add LIMIT 1000 unless the query aggregates.",
        lake_rules(tables)
    )
}

/// The system prompt for a question to turn into a rule file.
pub fn for_rule(tables: &[TableSchema]) -> String {
    format!(
        "You write one detection rule file (YAML) for a security analyst.\n{}\n\
         A rule's query runs on a schedule over a window: write `{PARTITION_COLUMN} BETWEEN {{window_start_dt}} AND \
         {{window_end_dt}}` and `eventtime >= {{window_start_iso}} AND eventtime < {{window_end_iso}}` (the engine fills \
         them in). Keep every key of the example: id (lowercase-hyphenated), name, description, severity \
         (critical|high|medium|low|info), schedule (rate(N minutes) or cron), dedup, tags (attack.* ATT&CK tags), \
         runbook, false_positives, query, and tests: at least one test that fires (`expect: {{alert: true}}`) and one \
         that does not (`expect: {{alert: false, count: 0}}`), each with raw CloudTrail records as the log writes them \
         (eventTime inside the test's day, camelCase keys). Answer with the YAML alone in a ```yaml block.\n\
         The example:\n```yaml\n{EXAMPLE_RULE}```",
        lake_rules(tables)
    )
}

/// The system prompt for explaining an alert from its rule and sample rows.
pub fn for_explanation(tables: &[TableSchema]) -> String {
    format!(
        "You help a security analyst triage an alert from AWS logs.\n{}\n\
         Answer with one JSON object and nothing else: {{\"summary\": \"what happened and why it matters, in at most \
         5 sentences\", \"queries\": [{{\"title\": \"what the query shows\", \"sql\": \"SELECT ...\"}}]}} with 1 to 4 \
         follow-up queries an analyst would run next (who else, what else this principal did, from where), each \
         filtered on `{PARTITION_COLUMN}` around the alert's time.",
        lake_rules(tables)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_spell_nested_types_as_trino_does() {
        let tables: Vec<TableSchema> = crate::model::Table::ALL
            .iter()
            .map(|t| TableSchema { name: t.name().into(), schema: t.file_schema() })
            .collect();
        let text = schemas(&tables);
        assert!(text.contains("- cloudtrail_logs(eventversion varchar"), "{text}");
        assert!(text.contains("useridentity row(type varchar"), "{text}");
        let prompt = for_query(&tables, chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), 7);
        assert!(prompt.contains("dt >= '2026-11-24'"), "{prompt}");
        assert!(prompt.contains("regexp_extract"));
    }
}
