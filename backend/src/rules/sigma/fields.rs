//! The target Athena tables (columns as AWS Glue stores them), the Sigma logsources that map to
//! each, and how a Sigma field name resolves to a SQL expression on a table.

use rsigma_parser::LogSource;

use super::Failure;
use super::sql::quote;

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    /// A JSON document stored as text: sub-fields are read with the JSON functions.
    Json,
    Struct(&'static [Col]),
    /// An array of structs: reaching into the elements needs lambdas, which the SIEM's engines lack.
    StructArray,
}

struct Col {
    name: &'static str,
    kind: Kind,
}

const fn col(name: &'static str, kind: Kind) -> Col {
    Col { name, kind }
}

use Kind::{Int, Json, Str, Struct, StructArray};

const SESSION_ISSUER: &[Col] = &[
    col("type", Str),
    col("principalid", Str),
    col("arn", Str),
    col("accountid", Str),
    col("username", Str),
];
const SESSION_ATTRIBUTES: &[Col] = &[col("mfaauthenticated", Str), col("creationdate", Str)];
const SESSION_CONTEXT: &[Col] = &[
    col("attributes", Struct(SESSION_ATTRIBUTES)),
    col("sessionissuer", Struct(SESSION_ISSUER)),
    col("ec2roledelivery", Str),
    col("sourceidentity", Str),
];
const ON_BEHALF_OF: &[Col] = &[col("userid", Str), col("identitystorearn", Str)];
const USER_IDENTITY: &[Col] = &[
    col("type", Str),
    col("principalid", Str),
    col("arn", Str),
    col("accountid", Str),
    col("invokedby", Str),
    col("accesskeyid", Str),
    col("username", Str),
    col("onbehalfof", Struct(ON_BEHALF_OF)),
    col("sessioncontext", Struct(SESSION_CONTEXT)),
];
const TLS_DETAILS: &[Col] =
    &[col("tlsversion", Str), col("ciphersuite", Str), col("clientprovidedhostheader", Str)];

const CLOUDTRAIL: &[Col] = &[
    col("eventversion", Str),
    col("useridentity", Struct(USER_IDENTITY)),
    col("eventtime", Str),
    col("eventsource", Str),
    col("eventname", Str),
    col("awsregion", Str),
    col("sourceipaddress", Str),
    col("useragent", Str),
    col("errorcode", Str),
    col("errormessage", Str),
    col("requestparameters", Json),
    col("responseelements", Json),
    col("additionaleventdata", Json),
    col("requestid", Str),
    col("eventid", Str),
    col("resources", StructArray),
    col("eventtype", Str),
    col("apiversion", Str),
    col("readonly", Str),
    col("recipientaccountid", Str),
    col("serviceeventdetails", Json),
    col("sharedeventid", Str),
    col("vpcendpointid", Str),
    col("eventcategory", Str),
    col("tlsdetails", Struct(TLS_DETAILS)),
    col("sessioncredentialfromconsole", Str),
    col("dt", Str),
];

const VPC_FLOW: &[Col] = &[
    col("version", Int),
    col("account_id", Str),
    col("interface_id", Str),
    col("srcaddr", Str),
    col("dstaddr", Str),
    col("srcport", Int),
    col("dstport", Int),
    col("protocol", Int),
    col("packets", Int),
    col("bytes", Int),
    col("start", Int),
    col("end", Int),
    col("action", Str),
    col("log_status", Str),
    col("vpc_id", Str),
    col("subnet_id", Str),
    col("instance_id", Str),
    col("tcp_flags", Int),
    col("type", Str),
    col("pkt_srcaddr", Str),
    col("pkt_dstaddr", Str),
    col("region", Str),
    col("az_id", Str),
    col("flow_direction", Str),
    col("traffic_path", Int),
    col("dt", Str),
];

const S3_ACCESS: &[Col] = &[
    col("bucketowner", Str),
    col("bucket_name", Str),
    col("requestdatetime", Str),
    col("remoteip", Str),
    col("requester", Str),
    col("requestid", Str),
    col("operation", Str),
    col("key", Str),
    col("request_uri", Str),
    col("httpstatus", Str),
    col("errorcode", Str),
    col("bytessent", Int),
    col("objectsize", Int),
    col("totaltime", Str),
    col("turnaroundtime", Str),
    col("referrer", Str),
    col("useragent", Str),
    col("versionid", Str),
    col("hostid", Str),
    col("sigv", Str),
    col("ciphersuite", Str),
    col("authtype", Str),
    col("endpoint", Str),
    col("tlsversion", Str),
    col("accesspointarn", Str),
    col("aclrequired", Str),
    col("dt", Str),
];

/// How a table's rows are limited to the rule's look-back window beyond the `dt` partition.
#[derive(Clone, Copy)]
pub(crate) enum EventTime {
    Iso8601(&'static str),
    UnixSeconds(&'static str),
    /// The row time is a string format Athena cannot compare cheaply, so only whole days prune.
    PartitionOnly,
}

pub(crate) struct Table {
    pub name: &'static str,
    columns: &'static [Col],
    /// Generic Sigma taxonomy names (lower-case) and the column paths they stand for.
    aliases: &'static [(&'static str, &'static str)],
    pub event_time: EventTime,
    /// Columns every alert row carries; empty means `SELECT *`.
    pub projection: &'static [(&'static str, Option<&'static str>)],
}

pub(crate) const CLOUDTRAIL_LOGS: Table = Table {
    name: "cloudtrail_logs",
    columns: CLOUDTRAIL,
    aliases: &[],
    event_time: EventTime::Iso8601("eventtime"),
    projection: &[
        ("eventtime", None),
        ("eventsource", None),
        ("eventname", None),
        ("useridentity.arn", Some("principal")),
        ("sourceipaddress", None),
        ("awsregion", None),
        ("errorcode", None),
    ],
};

pub(crate) const VPC_FLOW_LOGS: Table = Table {
    name: "vpc_flow_logs",
    columns: VPC_FLOW,
    aliases: &[
        ("src_ip", "srcaddr"),
        ("source_ip", "srcaddr"),
        ("source.ip", "srcaddr"),
        ("sourceip", "srcaddr"),
        ("dst_ip", "dstaddr"),
        ("dest_ip", "dstaddr"),
        ("destination_ip", "dstaddr"),
        ("destination.ip", "dstaddr"),
        ("destinationip", "dstaddr"),
        ("src_port", "srcport"),
        ("source_port", "srcport"),
        ("source.port", "srcport"),
        ("sourceport", "srcport"),
        ("dst_port", "dstport"),
        ("dest_port", "dstport"),
        ("destination_port", "dstport"),
        ("destination.port", "dstport"),
        ("destinationport", "dstport"),
        ("proto", "protocol"),
        ("network.transport", "protocol"),
        ("event.action", "action"),
        ("bytes_sent", "bytes"),
    ],
    event_time: EventTime::UnixSeconds("start"),
    projection: &[],
};

pub(crate) const S3_ACCESS_LOGS: Table = Table {
    name: "s3_access_logs",
    columns: S3_ACCESS,
    aliases: &[
        ("bucket", "bucket_name"),
        ("bucketname", "bucket_name"),
        ("src_ip", "remoteip"),
        ("source_ip", "remoteip"),
        ("remote_ip", "remoteip"),
        ("c-ip", "remoteip"),
        ("http_status", "httpstatus"),
        ("status", "httpstatus"),
        ("sc-status", "httpstatus"),
        ("user_agent", "useragent"),
        ("object_key", "key"),
        ("bytes_sent", "bytessent"),
        ("object_size", "objectsize"),
        ("error_code", "errorcode"),
    ],
    event_time: EventTime::PartitionOnly,
    projection: &[],
};

const VPC_SERVICES: &[&str] = &["vpcflowlogs", "vpcflow", "vpc_flow_logs", "vpc-flow-logs", "flowlogs"];
const S3_SERVICES: &[&str] =
    &["s3", "s3_access", "s3-access", "s3accesslogs", "s3_access_logs", "s3_server_access"];

/// Picks the table for a rule's logsource.
pub(crate) fn table_for(logsource: &LogSource) -> Result<&'static Table, Failure> {
    let lower = |v: &Option<String>| v.as_deref().map(str::to_ascii_lowercase);
    let (product, service, category) =
        (lower(&logsource.product), lower(&logsource.service), lower(&logsource.category));
    if matches!(product.as_deref(), Some("aws") | None) {
        match (service.as_deref(), category.as_deref()) {
            (Some("cloudtrail"), _) => return Ok(&CLOUDTRAIL_LOGS),
            (Some(s), _) if VPC_SERVICES.contains(&s) => return Ok(&VPC_FLOW_LOGS),
            (Some(s), _) if S3_SERVICES.contains(&s) => return Ok(&S3_ACCESS_LOGS),
            (None, Some("firewall")) if product.is_some() => return Ok(&VPC_FLOW_LOGS),
            _ => {}
        }
    }
    let described: Vec<String> =
        [("product", &logsource.product), ("service", &logsource.service), ("category", &logsource.category)]
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
            .collect();
    let described = if described.is_empty() { "(empty)".to_string() } else { described.join(", ") };
    Err(Failure::new(
        format!("logsource `{described}`"),
        "no Mantissa table holds these logs; use `product: aws` with `service: cloudtrail` (cloudtrail_logs), \
         `service: vpcflowlogs` or `category: firewall` (vpc_flow_logs), or `service: s3` for S3 server access \
         logs (s3_access_logs)",
    ))
}

/// A Sigma field resolved against a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    /// The field as the rule wrote it, for messages.
    pub sigma: String,
    access: Access,
    /// A column alias when the field is projected.
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Access {
    Column { sql: String, numeric: bool },
    Json { column: String, path: String },
}

impl Field {
    /// The field's value: a column, or a JSON scalar as text.
    pub fn value_sql(&self) -> String {
        match &self.access {
            Access::Column { sql, .. } => sql.clone(),
            Access::Json { column, path } => format!("json_extract_scalar({column}, {})", quote(path)),
        }
    }

    /// The value as text, for string matching.
    pub fn text_sql(&self) -> String {
        match &self.access {
            Access::Column { sql, numeric: true } => format!("CAST({sql} AS VARCHAR)"),
            _ => self.value_sql(),
        }
    }

    /// Text for substring search. json_extract_scalar gives NULL for JSON arrays and objects, so a
    /// `contains` on such a value would never match; their JSON text is searched instead.
    pub fn substring_sql(&self) -> String {
        match &self.access {
            Access::Json { column, path } => {
                let path = quote(path);
                format!(
                    "coalesce(json_extract_scalar({column}, {path}), json_format(json_extract({column}, {path})))"
                )
            }
            _ => self.text_sql(),
        }
    }

    /// An expression that is NULL exactly when the field is absent (a JSON object counts as present).
    pub fn presence_sql(&self) -> String {
        match &self.access {
            Access::Json { column, path } => format!("json_extract({column}, {})", quote(path)),
            _ => self.value_sql(),
        }
    }

    pub fn number_sql(&self) -> String {
        match &self.access {
            Access::Column { sql, numeric: true } => sql.clone(),
            _ => format!("TRY_CAST({} AS DOUBLE)", self.value_sql()),
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self.access, Access::Column { numeric: true, .. })
    }

    /// `expr` or `expr AS label` for a SELECT list.
    pub fn select_item(&self) -> String {
        let sql = self.value_sql();
        if sql == self.label { sql } else { format!("{sql} AS {}", self.label) }
    }
}

/// Trino reserved words among the tables' column names; they need double quotes.
const RESERVED: &[&str] = &["end"];

fn column_sql(name: &str) -> String {
    if RESERVED.contains(&name) { format!("\"{name}\"") } else { name.to_string() }
}

fn json_path(keys: &[&str]) -> String {
    let mut path = String::from("$");
    for key in keys {
        let simple = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if simple {
            path.push('.');
            path.push_str(key);
        } else {
            path.push_str(&format!("[\"{}\"]", key.replace('\\', "\\\\").replace('"', "\\\"")));
        }
    }
    path
}

fn label_for(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            p.to_ascii_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("_")
}

impl Table {
    /// Resolves a Sigma field name: column names match case-insensitively, dots walk into structs,
    /// and the rest of a dotted name under a JSON text column becomes a JSON path (case kept, as
    /// JSON keys are case-sensitive).
    pub fn resolve(&self, sigma: &str) -> Result<Field, Failure> {
        let lowered = sigma.to_ascii_lowercase();
        let mapped = self.aliases.iter().find(|(alias, _)| *alias == lowered).map(|(_, target)| *target);
        let path = mapped.unwrap_or(sigma);
        let parts: Vec<&str> = path.split('.').collect();
        let unknown = || {
            Failure::new(
                format!("field `{sigma}`"),
                match self.suggestions(sigma).as_slice() {
                    [] => format!(
                        "{} has no such column, nor one close to it in name or meaning; `mantissa query \
                         \"DESCRIBE {}\"` lists its columns",
                        self.name, self.name
                    ),
                    close => format!("{} has no such column; close names: {}", self.name, close.join(", ")),
                },
            )
        };
        let mut columns = self.columns;
        let mut sql_parts: Vec<String> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let lower = part.to_ascii_lowercase();
            let Some(column) = columns.iter().find(|c| c.name == lower) else {
                return Err(if i == 0 {
                    unknown()
                } else {
                    let known: Vec<&str> = columns.iter().map(|c| c.name).collect();
                    Failure::new(
                        format!("field `{sigma}`"),
                        format!(
                            "`{}` has no sub-field `{part}`; it has: {}",
                            sql_parts.join("."),
                            known.join(", ")
                        ),
                    )
                });
            };
            sql_parts.push(if i == 0 { column_sql(column.name) } else { column.name.to_string() });
            let rest = &parts[i + 1..];
            match column.kind {
                Struct(children) if !rest.is_empty() => columns = children,
                Struct(children) => {
                    let known: Vec<&str> = children.iter().map(|c| c.name).collect();
                    return Err(Failure::new(
                        format!("field `{sigma}`"),
                        format!(
                            "`{}` is a struct; match one of its fields: {}",
                            sql_parts.join("."),
                            known.join(", ")
                        ),
                    ));
                }
                StructArray => {
                    return Err(Failure::new(
                        format!("field `{sigma}`"),
                        format!(
                            "`{}` is an array of structs, which the query engines here cannot search without \
                             lambda functions; match another field (e.g. requestParameters.*) instead",
                            column.name
                        ),
                    ));
                }
                Json if !rest.is_empty() => {
                    let mut label_parts = vec![column.name];
                    label_parts.extend_from_slice(rest);
                    return Ok(Field {
                        sigma: sigma.to_string(),
                        access: Access::Json { column: sql_parts.join("."), path: json_path(rest) },
                        label: label_for(&label_parts),
                    });
                }
                Str | Int | Json if !rest.is_empty() => {
                    return Err(Failure::new(
                        format!("field `{sigma}`"),
                        format!("`{}` is a plain column with no sub-fields", sql_parts.join(".")),
                    ));
                }
                Str | Int | Json => {
                    let sql = sql_parts.join(".");
                    let label = if sql_parts.len() == 1 { sql.clone() } else { sql_parts.join("_") };
                    return Ok(Field {
                        sigma: sigma.to_string(),
                        access: Access::Column { sql, numeric: matches!(column.kind, Int) },
                        label,
                    });
                }
            }
        }
        Err(unknown())
    }

    /// Column paths close to `name` in spelling (containing it, or a few edits away) or in
    /// meaning (`ClientIP` → `sourceipaddress`), at most five; none when nothing is close, so a
    /// suggestion is never a random column.
    fn suggestions(&self, name: &str) -> Vec<String> {
        let mut paths = Vec::new();
        collect_paths(self.columns, "", &mut paths);
        paths.extend(self.aliases.iter().map(|(alias, _)| alias.to_string()));
        let target = name.to_ascii_lowercase();
        let mut scored: Vec<(usize, String)> = paths
            .iter()
            .map(|p| {
                let related = p.contains(&target) || (p.len() > 3 && target.contains(p.as_str()));
                (if related { 0 } else { edit_distance(p, &target) }, p.clone())
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        let close = target.chars().count().div_ceil(3).max(2);
        let mut chosen: Vec<String> =
            scored.into_iter().filter(|(d, _)| *d <= close).map(|(_, p)| p).collect();
        let words = words_of(name);
        for (meaning, columns) in MEANINGS {
            if !words.iter().any(|w| meaning.contains(&w.as_str())) {
                continue;
            }
            for column in *columns {
                if paths.iter().any(|p| p == column) && !chosen.iter().any(|c| c == column) {
                    chosen.push(column.to_string());
                }
            }
        }
        chosen.into_iter().take(5).collect()
    }
}

/// Words that name what a field holds, and the columns (of any table) that hold it.
const MEANINGS: &[(&[&str], &[&str])] = &[
    (
        &["ip", "addr", "address", "client", "src", "remote", "host", "caller"],
        &["sourceipaddress", "srcaddr", "remoteip", "pkt_srcaddr", "dstaddr"],
    ),
    (
        &["user", "username", "account", "principal", "identity", "actor", "subject", "requester"],
        &["useridentity.username", "useridentity.arn", "useridentity.principalid", "requester", "account_id"],
    ),
    (&["time", "date", "timestamp", "when"], &["eventtime", "start", "requestdatetime", "timestamp"]),
    (&["action", "operation", "api", "method", "call", "event"], &["eventname", "operation", "action"]),
    (&["agent", "browser", "ua"], &["useragent"]),
    (
        &["error", "status", "code", "result", "outcome", "failure"],
        &["errorcode", "errormessage", "httpstatus", "action", "log_status"],
    ),
    (&["port"], &["srcport", "dstport"]),
    (&["bytes", "size", "length", "volume"], &["bytes", "bytessent", "objectsize"]),
    (&["region", "location", "zone"], &["awsregion", "region", "az_id"]),
    (&["bucket", "object", "key", "file"], &["bucket_name", "key"]),
    (&["service", "provider"], &["eventsource"]),
    (&["protocol", "proto"], &["protocol"]),
];

/// The lower-case words of a field name: `ClientIP` → client, ip; `src_ip` → src, ip.
fn words_of(name: &str) -> Vec<String> {
    let mut words = vec![];
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut word));
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
}

fn collect_paths(columns: &[Col], prefix: &str, out: &mut Vec<String>) {
    for column in columns {
        let path = format!("{prefix}{}", column.name);
        if let Struct(children) = column.kind {
            collect_paths(children, &format!("{path}."), out);
        } else {
            out.push(path);
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
