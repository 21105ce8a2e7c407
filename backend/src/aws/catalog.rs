//! The Glue catalog of the S3 lake, generated from `model::tables` (the one schema source):
//! database `mantissa_log`, one Parquet table per log table, partitioned by `dt` with
//! partition projection (so no crawler and no `MSCK REPAIR`), the same tables as Athena DDL,
//! and Glue's schemas read back as Arrow for the console and `rules validate` on AWS.

use super::s3::S3Url;
use super::sdk_err;
use crate::error::{Error, Result};
use crate::model::Table;
use crate::model::tables::PARTITION_COLUMN;
use crate::ports::TableSchema;
use aws_sdk_glue::types::{Column, DatabaseInput, SerDeInfo, StorageDescriptor, TableInput};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use std::collections::HashMap;
use std::sync::Arc;

/// The database name of the deploy template (`MANTISSA_ATHENA_DATABASE` overrides it).
pub const DATABASE: &str = "mantissa_log";
const INPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
const OUTPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
const SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";

/// The Hive/Athena type of an Arrow type as the lake writes it.
pub fn hive_type(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float64 => "double".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), hive_type(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        DataType::List(item) => format!("array<{}>", hive_type(item.data_type())),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("map<{},{}>", hive_type(kv[0].data_type()), hive_type(kv[1].data_type()))
            }
            _ => "string".into(),
        },
        // model::tables uses only the types above; a new one must get its Hive name here (the
        // round-trip test below fails until it does).
        _ => "string".into(),
    }
}

/// A Hive type back to Arrow (what Glue returns); unknown names stay text.
pub fn arrow_type(hive: &str) -> DataType {
    let mut p = TypeParser { s: hive.trim().as_bytes(), i: 0 };
    p.parse()
}

struct TypeParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl TypeParser<'_> {
    fn word(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len() && !matches!(self.s[self.i], b'<' | b'>' | b',' | b':') {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).trim().to_ascii_lowercase()
    }

    fn eat(&mut self, c: u8) -> bool {
        let ok = self.s.get(self.i) == Some(&c);
        self.i += usize::from(ok);
        ok
    }

    fn parse(&mut self) -> DataType {
        let name = self.word();
        let base = name.split('(').next().unwrap_or("").trim().to_string();
        match base.as_str() {
            "struct" if self.eat(b'<') => {
                let mut fields = vec![];
                loop {
                    let n = self.word();
                    if !self.eat(b':') {
                        break;
                    }
                    fields.push(Field::new(n, self.parse(), true));
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.eat(b'>');
                DataType::Struct(Fields::from(fields))
            }
            "array" if self.eat(b'<') => {
                let item = self.parse();
                self.eat(b'>');
                DataType::List(Arc::new(Field::new("item", item, true)))
            }
            "map" if self.eat(b'<') => {
                let k = self.parse();
                self.eat(b',');
                let v = self.parse();
                self.eat(b'>');
                let entries = Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k, false),
                        Field::new("value", v, true),
                    ])),
                    false,
                );
                DataType::Map(Arc::new(entries), false)
            }
            "boolean" => DataType::Boolean,
            "tinyint" | "smallint" | "int" | "integer" => DataType::Int32,
            "bigint" => DataType::Int64,
            "double" | "float" | "decimal" => DataType::Float64,
            "timestamp" => DataType::Timestamp(TimeUnit::Millisecond, None),
            "date" => DataType::Date32,
            _ => DataType::Utf8,
        }
    }
}

/// `(name, hive type)` of a table's file columns, in order.
pub fn columns(table: Table) -> Vec<(String, String)> {
    table.file_schema().fields().iter().map(|f| (f.name().clone(), hive_type(f.data_type()))).collect()
}

/// The table's prefix in the lake, with the trailing slash Athena wants.
pub fn location(lake: &S3Url, table: Table) -> String {
    lake.url(&format!("{}/", table.name()))
}

/// Partition projection: `dt` is a date from `start` (yyyy-MM-dd) to today.
pub fn table_parameters(lake: &S3Url, table: Table, start: &str) -> HashMap<String, String> {
    let loc = location(lake, table);
    HashMap::from([
        ("EXTERNAL".into(), "TRUE".into()),
        ("classification".into(), "parquet".into()),
        ("parquet.compression".into(), "SNAPPY".into()),
        ("projection.enabled".into(), "true".into()),
        (format!("projection.{PARTITION_COLUMN}.type"), "date".into()),
        (format!("projection.{PARTITION_COLUMN}.format"), "yyyy-MM-dd".into()),
        (format!("projection.{PARTITION_COLUMN}.range"), format!("{start},NOW")),
        (format!("projection.{PARTITION_COLUMN}.interval"), "1".into()),
        (format!("projection.{PARTITION_COLUMN}.interval.unit"), "DAYS".into()),
        ("storage.location.template".into(), format!("{loc}{PARTITION_COLUMN}=${{{PARTITION_COLUMN}}}/")),
    ])
}

/// The Athena DDL of a table (what the Glue table below is, as SQL).
pub fn ddl(lake: &S3Url, table: Table, start: &str) -> String {
    let cols: Vec<String> = columns(table).into_iter().map(|(n, t)| format!("  `{n}` {t}")).collect();
    let mut props: Vec<(String, String)> = table_parameters(lake, table, start).into_iter().collect();
    props.retain(|(k, _)| k != "EXTERNAL");
    props.sort();
    let props: Vec<String> = props.into_iter().map(|(k, v)| format!("  '{k}'='{v}'")).collect();
    format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS `{}` (\n{}\n)\nPARTITIONED BY (`{PARTITION_COLUMN}` string)\nSTORED AS PARQUET\nLOCATION '{}'\nTBLPROPERTIES (\n{}\n)",
        table.name(),
        cols.join(",\n"),
        location(lake, table),
        props.join(",\n")
    )
}

fn column(name: &str, ty: &str) -> Result<Column> {
    Column::builder().name(name).r#type(ty).build().map_err(|e| Error::backend("glue column", e))
}

/// The Glue TableInput of a table.
pub fn table_input(lake: &S3Url, table: Table, start: &str) -> Result<TableInput> {
    let mut sd = StorageDescriptor::builder()
        .location(location(lake, table))
        .input_format(INPUT_FORMAT)
        .output_format(OUTPUT_FORMAT)
        .compressed(false)
        .serde_info(SerDeInfo::builder().serialization_library(SERDE).build());
    for (n, t) in columns(table) {
        sd = sd.columns(column(&n, &t)?);
    }
    TableInput::builder()
        .name(table.name())
        .table_type("EXTERNAL_TABLE")
        .storage_descriptor(sd.build())
        .partition_keys(column(PARTITION_COLUMN, "string")?)
        .set_parameters(Some(table_parameters(lake, table, start)))
        .build()
        .map_err(|e| Error::backend("glue table input", e))
}

/// Whether a table in Glue is what `table_input` would make (columns, partition key,
/// location, projection parameters).
fn up_to_date(have: &aws_sdk_glue::types::Table, want: &TableInput) -> bool {
    let cols = |sd: Option<&StorageDescriptor>| -> Vec<(String, String)> {
        sd.map(|s| {
            s.columns().iter().map(|c| (c.name().to_string(), c.r#type().unwrap_or("").to_string())).collect()
        })
        .unwrap_or_default()
    };
    let keys = |k: &[Column]| -> Vec<String> { k.iter().map(|c| c.name().to_string()).collect() };
    let params_ok = want
        .parameters()
        .is_some_and(|w| w.iter().all(|(k, v)| have.parameters().and_then(|h| h.get(k)) == Some(v)));
    cols(have.storage_descriptor()) == cols(want.storage_descriptor())
        && have.storage_descriptor().and_then(|s| s.location())
            == want.storage_descriptor().and_then(|s| s.location())
        && keys(have.partition_keys()) == keys(want.partition_keys())
        && params_ok
}

/// Creates the database and tables, or brings them up to date; one line per change, and
/// whether anything changed.
pub async fn ensure(
    glue: &aws_sdk_glue::Client,
    database: &str,
    lake: &S3Url,
    start: &str,
) -> Result<(Vec<String>, bool)> {
    let mut report = vec![];
    let mut changed = false;
    match glue.get_database().name(database).send().await {
        Ok(_) => report.push(format!("Glue database {database} exists")),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_entity_not_found_exception()) => {
            let input = DatabaseInput::builder()
                .name(database)
                .description("Mantissa Log lake (Parquet by dt, partition projection)")
                .build()
                .map_err(|e| Error::backend("glue database input", e))?;
            glue.create_database()
                .database_input(input)
                .send()
                .await
                .map_err(|e| sdk_err("glue CreateDatabase", e))?;
            report.push(format!("created Glue database {database}"));
            changed = true;
        }
        Err(e) => return Err(sdk_err("glue GetDatabase", e)),
    }
    for table in Table::ALL {
        let want = table_input(lake, table, start)?;
        match glue.get_table().database_name(database).name(table.name()).send().await {
            Ok(out) => {
                if out.table().is_some_and(|t| up_to_date(t, &want)) {
                    report.push(format!("Glue table {database}.{table} up to date"));
                } else {
                    glue.update_table()
                        .database_name(database)
                        .table_input(want)
                        .send()
                        .await
                        .map_err(|e| sdk_err("glue UpdateTable", e))?;
                    report.push(format!(
                        "updated Glue table {database}.{table} (columns, location or projection)"
                    ));
                    changed = true;
                }
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_entity_not_found_exception()) => {
                glue.create_table()
                    .database_name(database)
                    .table_input(want)
                    .send()
                    .await
                    .map_err(|e| sdk_err("glue CreateTable", e))?;
                report.push(format!("created Glue table {database}.{table} (Parquet, by dt, projected)"));
                changed = true;
            }
            Err(e) => return Err(sdk_err("glue GetTable", e)),
        }
    }
    Ok((report, changed))
}

/// The tables of a Glue database as Arrow schemas (columns, then the partition keys), as
/// Athena sees them.
pub async fn glue_tables(glue: &aws_sdk_glue::Client, database: &str) -> Result<Vec<TableSchema>> {
    let mut out = vec![];
    let mut token = None;
    loop {
        let page = glue
            .get_tables()
            .database_name(database)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_err("glue GetTables (the table list on AWS reads Glue)", e))?;
        for t in page.table_list() {
            let cols = t.storage_descriptor().map(|s| s.columns()).unwrap_or_default();
            let fields: Vec<Field> = cols
                .iter()
                .chain(t.partition_keys())
                .map(|c| Field::new(c.name(), arrow_type(c.r#type().unwrap_or("string")), true))
                .collect();
            out.push(TableSchema { name: t.name().to_string(), schema: Arc::new(Schema::new(fields)) });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_types_round_trip_through_arrow() {
        for table in Table::ALL {
            for f in table.file_schema().fields() {
                let hive = hive_type(f.data_type());
                assert_eq!(hive_type(&arrow_type(&hive)), hive, "{table}.{}", f.name());
            }
        }
        assert!(arrow_type("array<struct<arn:string,accountid:string>>").to_string().contains("arn"));
        assert_eq!(arrow_type("varchar(20)"), DataType::Utf8);
    }

    #[test]
    fn projection_covers_every_day_from_the_start() {
        let lake = S3Url::parse("s3://lake-bucket/mantissa").unwrap();
        let p = table_parameters(&lake, Table::CloudTrail, "2024-01-01");
        assert_eq!(p["projection.dt.range"], "2024-01-01,NOW");
        assert_eq!(p["storage.location.template"], "s3://lake-bucket/mantissa/cloudtrail_logs/dt=${dt}/");
    }
}
