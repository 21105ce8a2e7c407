//! Entity timelines: an address, ARN, access key, account, bucket, instance or user name
//! followed across every log table in one query (a `UNION ALL` merged by time), for the analyst
//! to read, edit and run. Which tables and columns are searched depends on the kind of entity.

use chrono::{DateTime, Utc};

/// What an entity is, from its value and the column it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    Ip,
    Arn,
    AccessKey,
    Account,
    Bucket,
    Instance,
    User,
}

impl EntityKind {
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Ip => "address",
            EntityKind::Arn => "ARN",
            EntityKind::AccessKey => "access key",
            EntityKind::Account => "account",
            EntityKind::Bucket => "bucket",
            EntityKind::Instance => "instance",
            EntityKind::User => "user",
        }
    }
}

/// The kind of `value`, with the column name as a hint (`bucket_name`, `username`); none for
/// values that are no entity (an event name, a count).
pub fn classify(column: &str, value: &str) -> Option<EntityKind> {
    let v = value.trim();
    let column = column.to_ascii_lowercase();
    if v.is_empty() || v.len() > 2048 {
        return None;
    }
    if v.parse::<std::net::IpAddr>().is_ok() {
        return Some(EntityKind::Ip);
    }
    if v.starts_with("arn:") {
        return Some(EntityKind::Arn);
    }
    let upper_alnum = |s: &str| s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if v.len() == 20 && (v.starts_with("AKIA") || v.starts_with("ASIA")) && upper_alnum(v) {
        return Some(EntityKind::AccessKey);
    }
    if v.len() == 12 && v.chars().all(|c| c.is_ascii_digit()) {
        return Some(EntityKind::Account);
    }
    if let Some(hex) = v.strip_prefix("i-")
        && matches!(hex.len(), 8 | 17)
        && hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Some(EntityKind::Instance);
    }
    if column.contains("bucket") {
        return Some(EntityKind::Bucket);
    }
    if column.ends_with("username") || column == "user" || column == "principal" {
        return Some(EntityKind::User);
    }
    None
}

/// The entity an alert is about, as `(column, value)`: the first of its dedup field values
/// that is an entity, else the first entity in its first sample row (an address, ARN or key
/// before an account id, which every CloudTrail row carries).
pub fn entity_of_alert(a: &crate::model::Alert) -> Option<(String, String)> {
    let pairs = a.dedup_key.split(',').filter_map(|p| p.split_once('='));
    if let Some((f, v)) = pairs.into_iter().find(|(f, v)| classify(f, v).is_some()) {
        return Some((f.to_string(), v.to_string()));
    }
    let mut leaves = vec![];
    flatten("", a.sample_rows.first()?, &mut leaves);
    let kinded: Vec<(EntityKind, String, String)> =
        leaves.into_iter().filter_map(|(k, v)| classify(&k, &v).map(|kind| (kind, k, v))).collect();
    kinded
        .iter()
        .find(|(kind, ..)| *kind != EntityKind::Account)
        .or_else(|| kinded.first())
        .map(|(_, k, v)| (k.clone(), v.clone()))
}

/// Every entity an alert's dedup values and sample rows name, once each, in the order found;
/// accounts left out (every CloudTrail row of an account carries it, so it groups nothing).
pub fn entities_of_alert(a: &crate::model::Alert) -> Vec<(EntityKind, String)> {
    let mut leaves: Vec<(String, String)> = a
        .dedup_key
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect();
    for row in &a.sample_rows {
        flatten("", row, &mut leaves);
    }
    let mut out: Vec<(EntityKind, String)> = vec![];
    for (column, value) in leaves {
        if let Some(kind) = classify(&column, &value).filter(|k| *k != EntityKind::Account)
            && !out.iter().any(|(_, v)| *v == value)
        {
            out.push((kind, value));
        }
    }
    out
}

/// A row's string leaves as `(dotted.key, value)`, in the row's order.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        _ => {}
    }
}

/// One query over every table that can mention the entity between `from` and `to`: columns
/// `time` (UTC, `yyyy-MM-dd HH:mm:ss`), `source`, `what`, `who`, `address`, `detail`, newest
/// first. Athena's SQL, as the engine also runs it.
pub fn timeline_sql(kind: EntityKind, value: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    timeline_sql_of(&[(kind, value.to_string())], from, to)
}

/// Where each table mentions the entity: CloudTrail, VPC Flow, S3 access, Lambda (none where
/// the table cannot).
fn mentions_of(kind: EntityKind, value: &str) -> [Option<String>; 4] {
    let v = format!("'{}'", value.trim().replace('\'', "''"));
    let mentions = |column: &str| format!("strpos({column}, {v}) > 0");
    let cloudtrail = match kind {
        EntityKind::Ip => Some(format!("sourceipaddress = {v}")),
        EntityKind::Arn => {
            Some(format!("(useridentity.arn = {v} OR useridentity.sessioncontext.sessionissuer.arn = {v})"))
        }
        EntityKind::AccessKey => Some(format!("useridentity.accesskeyid = {v}")),
        EntityKind::Account => Some(format!("(useridentity.accountid = {v} OR recipientaccountid = {v})")),
        EntityKind::Bucket => Some(format!("json_extract_scalar(requestparameters, '$.bucketName') = {v}")),
        EntityKind::Instance => {
            Some(format!("({} OR {})", mentions("requestparameters"), mentions("responseelements")))
        }
        EntityKind::User => Some(format!(
            "(useridentity.username = {v} OR useridentity.sessioncontext.sessionissuer.username = {v})"
        )),
    };
    let vpc = match kind {
        EntityKind::Ip => Some(format!("(srcaddr = {v} OR dstaddr = {v})")),
        EntityKind::Account => Some(format!("account_id = {v}")),
        EntityKind::Instance => Some(format!("instance_id = {v}")),
        _ => None,
    };
    let s3 = match kind {
        EntityKind::Ip => Some(format!("remoteip = {v}")),
        EntityKind::Arn => Some(format!("requester = {v}")),
        EntityKind::Bucket => Some(format!("bucket_name = {v}")),
        EntityKind::User => Some(format!("strpos(requester, '/' || {v}) > 0")),
        _ => None,
    };
    let lambda = match kind {
        EntityKind::Ip
        | EntityKind::Arn
        | EntityKind::AccessKey
        | EntityKind::Instance
        | EntityKind::Bucket => Some(mentions("message")),
        _ => None,
    };
    [cloudtrail, vpc, s3, lambda]
}

/// [`timeline_sql`] for several entities at once (a case's key and address): an event that
/// mentions any of them, each table searched for the entities it can hold.
pub fn timeline_sql_of(entities: &[(EntityKind, String)], from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let dt = format!("dt BETWEEN '{}' AND '{}'", from.format("%Y-%m-%d"), to.format("%Y-%m-%d"));
    let (t0, t1) = (from.format("%Y-%m-%d %H:%M:%S"), to.format("%Y-%m-%d %H:%M:%S"));
    let window = |time: &str| format!("{time} >= timestamp '{t0}' AND {time} < timestamp '{t1}'");
    let per_table: Vec<[Option<String>; 4]> = entities.iter().map(|(k, v)| mentions_of(*k, v)).collect();
    let any_of = |table: usize| -> Option<String> {
        let parts: Vec<&String> = per_table.iter().filter_map(|p| p[table].as_ref()).collect();
        match parts.as_slice() {
            [] => None,
            [one] => Some(one.to_string()),
            many => {
                Some(format!("({})", many.iter().map(|p| p.as_str()).collect::<Vec<_>>().join("\n    OR ")))
            }
        }
    };
    let (cloudtrail, vpc, s3, lambda) = (any_of(0), any_of(1), any_of(2), any_of(3));
    let ct_time = "from_iso8601_timestamp(eventtime)";
    let vpc_time = "from_unixtime(\"start\")";
    let s3_time = "date_parse(requestdatetime, '%d/%b/%Y:%H:%i:%s +0000')";
    let lambda_time = "\"timestamp\"";
    let shown = |time: &str| format!("format_datetime({time}, 'yyyy-MM-dd HH:mm:ss')");
    let mut parts = vec![];
    if let Some(p) = cloudtrail {
        parts.push(format!(
            "SELECT {} AS time, 'cloudtrail' AS source, eventname AS what,\n  \
             coalesce(useridentity.arn, useridentity.username) AS who, sourceipaddress AS address,\n  \
             coalesce(errorcode, eventsource) AS detail\nFROM cloudtrail_logs\nWHERE {dt} AND {}\n  AND {p}",
            shown(ct_time),
            window(ct_time)
        ));
    }
    if let Some(p) = vpc {
        parts.push(format!(
            "SELECT {} AS time, 'vpcflow' AS source, action AS what,\n  \
             coalesce(instance_id, interface_id) AS who, srcaddr AS address,\n  \
             concat(srcaddr, ':', cast(srcport AS varchar), ' -> ', dstaddr, ':', cast(dstport AS varchar), ' ', \
             cast(bytes AS varchar), ' B') AS detail\nFROM vpc_flow_logs\nWHERE {dt} AND {}\n  AND {p}",
            shown(vpc_time),
            window(vpc_time)
        ));
    }
    if let Some(p) = s3 {
        parts.push(format!(
            "SELECT {} AS time, 's3access' AS source, operation AS what,\n  \
             requester AS who, remoteip AS address,\n  \
             concat(bucket_name, '/', coalesce(\"key\", '-'), ' ', httpstatus) AS detail\nFROM s3_access_logs\n\
             WHERE {dt} AND {}\n  AND {p}",
            shown(s3_time),
            window(s3_time)
        ));
    }
    if let Some(p) = lambda {
        parts.push(format!(
            "SELECT {} AS time, 'lambda' AS source, coalesce(level, \"type\") AS what,\n  \
             function_name AS who, '' AS address, message AS detail\nFROM lambda_logs\nWHERE {dt} AND {}\n  AND {p}",
            shown(lambda_time),
            window(lambda_time)
        ));
    }
    let named: Vec<String> = entities
        .iter()
        .map(|(kind, value)| format!("{} {}", kind.name(), value.trim().replace(['\n', '\r'], " ")))
        .collect();
    format!(
        "-- timeline of {}, {t0} to {t1} UTC\nSELECT * FROM (\n{}\n) ORDER BY time DESC\nLIMIT 5000",
        named.join(" and "),
        parts.join("\nUNION ALL\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_are_known_by_their_shape_and_column() {
        assert_eq!(classify("sourceipaddress", "45.155.205.233"), Some(EntityKind::Ip));
        assert_eq!(classify("x", "2001:db8::1"), Some(EntityKind::Ip));
        assert_eq!(classify("who", "arn:aws:iam::123456789012:user/carol"), Some(EntityKind::Arn));
        assert_eq!(classify("k", "AKIAIOSFODNN7EXAMPLE"), Some(EntityKind::AccessKey));
        assert_eq!(classify("account", "123456789012"), Some(EntityKind::Account));
        assert_eq!(classify("instance_id", "i-0abcd1234ef567890"), Some(EntityKind::Instance));
        assert_eq!(classify("bucket_name", "acme-payroll-exports"), Some(EntityKind::Bucket));
        assert_eq!(classify("useridentity.username", "carol"), Some(EntityKind::User));
        assert_eq!(classify("eventname", "ConsoleLogin"), None);
        assert_eq!(classify("n", "42"), None);
        let mut a = crate::model::Alert::by_hand("a", "u", chrono::Utc::now());
        a.dedup_key = "awsregion=ap-southeast-1".into();
        a.sample_rows = vec![serde_json::json!({"awsregion": "ap-southeast-1", "account": "123456789012",
            "principal": "arn:aws:iam::123456789012:user/mallory"})];
        assert_eq!(
            entity_of_alert(&a),
            Some(("principal".into(), "arn:aws:iam::123456789012:user/mallory".into())),
            "a region is no entity; the ARN comes before the account"
        );
        a.dedup_key = "sourceipaddress=45.155.205.233".into();
        assert_eq!(entity_of_alert(&a).unwrap().1, "45.155.205.233");
    }
}
