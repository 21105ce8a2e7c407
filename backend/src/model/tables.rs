//! The lake's tables and their columns, following the Athena DDLs in the AWS documentation
//! (lower-case names, as Glue stores them), each partitioned by `dt = 'YYYY-MM-DD'`.

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The partition column every table has, as a `YYYY-MM-DD` string.
pub const PARTITION_COLUMN: &str = "dt";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    CloudTrail,
    VpcFlow,
    S3Access,
    Lambda,
    Custom,
}

impl Table {
    pub const ALL: [Table; 5] =
        [Table::CloudTrail, Table::VpcFlow, Table::S3Access, Table::Lambda, Table::Custom];

    pub fn name(self) -> &'static str {
        match self {
            Table::CloudTrail => "cloudtrail_logs",
            Table::VpcFlow => "vpc_flow_logs",
            Table::S3Access => "s3_access_logs",
            Table::Lambda => "lambda_logs",
            Table::Custom => "custom_logs",
        }
    }

    /// The short source name used on the command line (`mantissa ingest cloudtrail ...`).
    pub fn source_name(self) -> &'static str {
        match self {
            Table::CloudTrail => "cloudtrail",
            Table::VpcFlow => "vpcflow",
            Table::S3Access => "s3access",
            Table::Lambda => "lambda",
            Table::Custom => "custom",
        }
    }

    /// Columns of the Parquet files (without the `dt` partition column).
    pub fn file_schema(self) -> SchemaRef {
        Arc::new(Schema::new(match self {
            Table::CloudTrail => cloudtrail_fields(),
            Table::VpcFlow => vpc_flow_fields(),
            Table::S3Access => s3_access_fields(),
            Table::Lambda => lambda_fields(),
            Table::Custom => custom_fields(),
        }))
    }

    /// The column that holds the event time, used for `dt` and for alert windows.
    pub fn time_column(self) -> &'static str {
        match self {
            Table::CloudTrail => "eventtime",
            Table::VpcFlow => "start",
            Table::S3Access => "requestdatetime",
            Table::Lambda | Table::Custom => "timestamp",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Table {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        Table::ALL.into_iter().find(|t| t.name() == lower || t.source_name() == lower).ok_or_else(|| {
            let names: Vec<_> = Table::ALL.iter().map(|t| t.source_name()).collect();
            format!("unknown source `{s}`: use one of {}", names.join(", "))
        })
    }
}

fn s(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn typed(name: &str, t: DataType) -> Field {
    Field::new(name, t, true)
}

fn strukt(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

fn strings(names: &[&str]) -> Vec<Field> {
    names.iter().map(|n| s(n)).collect()
}

/// "Create a table for CloudTrail logs in Athena using manual partitioning".
fn cloudtrail_fields() -> Vec<Field> {
    let session_context = strukt(
        "sessioncontext",
        vec![
            strukt("attributes", strings(&["mfaauthenticated", "creationdate"])),
            strukt("sessionissuer", strings(&["type", "principalid", "arn", "accountid", "username"])),
            s("ec2roledelivery"),
            strukt(
                "webidfederationdata",
                vec![
                    s("federatedprovider"),
                    Field::new_map(
                        "attributes",
                        "entries",
                        Field::new("key", DataType::Utf8, false),
                        s("value"),
                        false,
                        true,
                    ),
                ],
            ),
        ],
    );
    let mut useridentity =
        strings(&["type", "principalid", "arn", "accountid", "invokedby", "accesskeyid", "username"]);
    useridentity.push(strukt("onbehalfof", strings(&["userid", "identitystorearn"])));
    useridentity.push(session_context);
    let resource = DataType::Struct(Fields::from(strings(&["arn", "accountid", "type"])));
    let mut fields = vec![s("eventversion"), strukt("useridentity", useridentity)];
    fields.extend(strings(&[
        "eventtime",
        "eventsource",
        "eventname",
        "awsregion",
        "sourceipaddress",
        "useragent",
        "errorcode",
        "errormessage",
        "requestparameters",
        "responseelements",
        "additionaleventdata",
        "requestid",
        "eventid",
    ]));
    fields.push(typed("resources", DataType::List(Arc::new(Field::new("item", resource, true)))));
    fields.extend(strings(&[
        "eventtype",
        "apiversion",
        "readonly",
        "recipientaccountid",
        "serviceeventdetails",
        "sharedeventid",
        "vpcendpointid",
        "vpcendpointaccountid",
        "eventcategory",
    ]));
    fields.push(strukt(
        "addendum",
        strings(&["reason", "updatedfields", "originalrequestid", "originaleventid"]),
    ));
    fields.extend(strings(&["sessioncredentialfromconsole", "edgedevicedetails"]));
    fields.push(strukt("tlsdetails", strings(&["tlsversion", "ciphersuite", "clientprovidedhostheader"])));
    fields
}

/// "Create a table for VPC flow logs in Athena" (all v2-v5 fields).
fn vpc_flow_fields() -> Vec<Field> {
    use DataType::{Int32, Int64};
    vec![
        typed("version", Int32),
        s("account_id"),
        s("interface_id"),
        s("srcaddr"),
        s("dstaddr"),
        typed("srcport", Int32),
        typed("dstport", Int32),
        typed("protocol", Int64),
        typed("packets", Int64),
        typed("bytes", Int64),
        typed("start", Int64),
        typed("end", Int64),
        s("action"),
        s("log_status"),
        s("vpc_id"),
        s("subnet_id"),
        s("instance_id"),
        typed("tcp_flags", Int32),
        s("type"),
        s("pkt_srcaddr"),
        s("pkt_dstaddr"),
        s("region"),
        s("az_id"),
        s("sublocation_type"),
        s("sublocation_id"),
        s("pkt_src_aws_service"),
        s("pkt_dst_aws_service"),
        s("flow_direction"),
        typed("traffic_path", Int32),
    ]
}

/// "Query Amazon S3 server access logs using Athena" (the RegexSerDe table).
fn s3_access_fields() -> Vec<Field> {
    let mut f = strings(&[
        "bucketowner",
        "bucket_name",
        "requestdatetime",
        "remoteip",
        "requester",
        "requestid",
        "operation",
        "key",
        "request_uri",
        "httpstatus",
        "errorcode",
    ]);
    f.push(typed("bytessent", DataType::Int64));
    f.push(typed("objectsize", DataType::Int64));
    f.extend(strings(&[
        "totaltime",
        "turnaroundtime",
        "referrer",
        "useragent",
        "versionid",
        "hostid",
        "sigv",
        "ciphersuite",
        "authtype",
        "endpoint",
        "tlsversion",
        "accesspointarn",
        "aclrequired",
    ]));
    f
}

/// Lambda's CloudWatch log lines: platform lines (START/END/REPORT) and application lines.
fn lambda_fields() -> Vec<Field> {
    vec![
        typed("timestamp", DataType::Timestamp(TimeUnit::Millisecond, None)),
        s("function_name"),
        s("log_group"),
        s("log_stream"),
        s("request_id"),
        s("type"),
        s("level"),
        s("message"),
        typed("duration_ms", DataType::Float64),
        typed("billed_duration_ms", DataType::Int64),
        typed("memory_size_mb", DataType::Int64),
        typed("max_memory_used_mb", DataType::Int64),
        typed("init_duration_ms", DataType::Float64),
    ]
}

/// Any JSON-lines source with a `timestamp`; the whole record is kept in `data`.
fn custom_fields() -> Vec<Field> {
    vec![
        typed("timestamp", DataType::Timestamp(TimeUnit::Millisecond, None)),
        s("source"),
        s("event_type"),
        s("severity"),
        s("message"),
        s("data"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_and_unique() {
        for t in Table::ALL {
            let schema = t.file_schema();
            let mut seen = std::collections::HashSet::new();
            for f in schema.fields() {
                assert_eq!(f.name(), &f.name().to_ascii_lowercase(), "{t}");
                assert!(seen.insert(f.name().clone()), "{t}: duplicate {}", f.name());
                assert_ne!(f.name(), PARTITION_COLUMN);
            }
            assert!(schema.field_with_name(t.time_column()).is_ok(), "{t}");
        }
    }

    #[test]
    fn sources_parse() {
        assert_eq!("cloudtrail".parse::<Table>(), Ok(Table::CloudTrail));
        assert_eq!("vpc_flow_logs".parse::<Table>(), Ok(Table::VpcFlow));
        assert!("syslog".parse::<Table>().unwrap_err().contains("cloudtrail"));
    }
}
