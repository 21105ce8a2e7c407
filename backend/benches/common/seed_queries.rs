//! The seed's two benchmark queries, shared by the benches that time them (embedded lake,
//! S3 lake): one day's failed console logins, and a range of days grouped by principal.

/// (simple, complex): the simple one over `last`, the complex one over `first..=last`.
pub fn seed_queries(first: &str, last: &str) -> (String, String) {
    let simple = format!(
        "SELECT eventtime, useridentity.arn, sourceipaddress, errorcode FROM cloudtrail_logs \
         WHERE dt = '{last}' AND eventname = 'ConsoleLogin' AND errorcode IS NOT NULL"
    );
    let complex = format!(
        "SELECT useridentity.arn AS principal, eventsource, count(*) AS calls, \
         count(DISTINCT sourceipaddress) AS ips, sum(CASE WHEN errorcode IS NOT NULL THEN 1 ELSE 0 END) AS errors \
         FROM cloudtrail_logs WHERE dt BETWEEN '{first}' AND '{last}' GROUP BY 1, 2 ORDER BY calls DESC LIMIT 50"
    );
    (simple, complex)
}
