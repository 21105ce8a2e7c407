//! Names of the AWS resources of one environment, as the seed's deploy gives them. The
//! EventBridge rule name is shortened deterministically when ids are long or unusual.

use sha2::{Digest, Sha256};

/// The DynamoDB tables of the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Rules,
    Integrations,
    AlertHistory,
    DedupCache,
    UserSettings,
    AlertActivity,
    Cases,
    Schedules,
}

impl Table {
    pub const ALL: [Table; 8] = [
        Table::Rules,
        Table::Integrations,
        Table::AlertHistory,
        Table::DedupCache,
        Table::UserSettings,
        Table::AlertActivity,
        Table::Cases,
        Table::Schedules,
    ];

    pub fn stem(self) -> &'static str {
        match self {
            Table::Rules => "detection-rules",
            Table::Integrations => "integrations",
            Table::AlertHistory => "alert-history",
            Table::DedupCache => "dedup-cache",
            Table::UserSettings => "user-settings",
            Table::AlertActivity => "alert-activity",
            Table::Cases => "cases",
            Table::Schedules => "schedules",
        }
    }

    /// `mantissa-log-<table>-<env>`.
    pub fn name(self, env: &str) -> String {
        format!("mantissa-log-{}-{env}", self.stem())
    }
}

pub fn alert_queue(env: &str) -> String {
    format!("mantissa-log-alerts-{env}.fifo")
}

pub fn dead_letter_queue(env: &str) -> String {
    format!("mantissa-log-alerts-dlq-{env}.fifo")
}

/// The ingest Lambda's queue (standard: S3 notifications cannot target FIFO queues) and DLQ.
pub fn ingest_queue(env: &str) -> String {
    format!("mantissa-log-ingest-{env}")
}

pub fn ingest_dead_letter_queue(env: &str) -> String {
    format!("mantissa-log-ingest-dlq-{env}")
}

/// Default bucket names, unique per account, region and environment (S3 names are global).
pub fn lake_bucket(account: &str, region: &str, env: &str) -> String {
    format!("mantissa-log-lake-{account}-{region}-{env}")
}

pub fn raw_bucket(account: &str, region: &str, env: &str) -> String {
    format!("mantissa-log-raw-{account}-{region}-{env}")
}

pub fn results_bucket(account: &str, region: &str, env: &str) -> String {
    format!("mantissa-log-athena-{account}-{region}-{env}")
}

/// Integration secrets are named by the domain (both backends use the same names).
pub use crate::deliver::setup::secret_name as integration_secret;

/// EventBridge rule names: at most 64 characters of `[.\-_A-Za-z0-9]`.
pub const RULE_NAME_MAX: usize = 64;
pub const RULE_NAME_PREFIX: &str = "detection-";

fn is_rule_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// `detection-{user}-{rule}-{env}`; when that is too long or has characters EventBridge
/// refuses, the middle becomes a readable prefix of the ids plus 12 hex digits of SHA-256 over
/// the exact (user, rule) pair, so two different pairs never share a name in practice and the
/// same pair always gets the same one.
pub fn detection_rule(user_id: &str, rule_id: &str, env: &str) -> String {
    let plain = format!("{RULE_NAME_PREFIX}{user_id}-{rule_id}-{env}");
    if plain.len() <= RULE_NAME_MAX && plain.chars().all(is_rule_name_char) {
        return plain;
    }
    let mut h = Sha256::new();
    h.update(user_id.as_bytes());
    h.update([0]);
    h.update(rule_id.as_bytes());
    let hash = &hex::encode(h.finalize())[..12];
    let env: String = env.chars().map(|c| if is_rule_name_char(c) { c } else { '_' }).take(16).collect();
    let readable: String =
        format!("{user_id}-{rule_id}").chars().map(|c| if is_rule_name_char(c) { c } else { '_' }).collect();
    let room = RULE_NAME_MAX - RULE_NAME_PREFIX.len() - hash.len() - env.len() - 2;
    let readable: String = readable.chars().take(room).collect();
    format!("{RULE_NAME_PREFIX}{readable}-{hash}-{env}")
}

/// The EventBridge rule of one schedule expression (every user's rules on it run at its tick):
/// `detection-schedule-{readable expression}-{8 hex of SHA-256 over it}-{env}`, within the limit.
pub fn schedule_rule(expression: &str, env: &str) -> String {
    let hash = &hex::encode(Sha256::digest(expression.as_bytes()))[..8];
    let env: String = env.chars().map(|c| if is_rule_name_char(c) { c } else { '_' }).take(16).collect();
    let mut readable = String::new();
    for c in expression.chars() {
        let c = if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' };
        if !(c == '-' && (readable.is_empty() || readable.ends_with('-'))) {
            readable.push(c);
        }
    }
    let prefix = format!("{RULE_NAME_PREFIX}schedule-");
    let room = RULE_NAME_MAX - prefix.len() - hash.len() - env.len() - 2;
    let readable: String = readable.trim_end_matches('-').chars().take(room).collect();
    let readable = readable.trim_end_matches('-');
    format!("{prefix}{readable}-{hash}-{env}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        name.len() <= RULE_NAME_MAX && name.chars().all(is_rule_name_char)
    }

    #[test]
    fn schedule_rules_are_named_by_their_expression() {
        let five = schedule_rule("rate(5 minutes)", "dev");
        assert!(five.starts_with("detection-schedule-rate-5-minutes-") && five.ends_with("-dev"), "{five}");
        let a = schedule_rule("cron(0 9 * * ? *)", "prod");
        let b = schedule_rule("cron(0 9 ? * * *)", "prod");
        assert_ne!(a, b, "the hash tells apart what the readable part cannot");
        let long = schedule_rule("cron(0/5 8-17 ? * MON-FRI,SAT *)", "staging-environment-x");
        assert!(valid(&a) && valid(&long), "{a} {long}");
    }

    #[test]
    fn short_plain_ids_keep_the_seed_name() {
        assert_eq!(detection_rule("alice", "root-use", "dev"), "detection-alice-root-use-dev");
        assert_eq!(Table::Rules.name("prod"), "mantissa-log-detection-rules-prod");
        assert_eq!(alert_queue("dev"), "mantissa-log-alerts-dev.fifo");
        assert_eq!(dead_letter_queue("dev"), "mantissa-log-alerts-dlq-dev.fifo");
        assert_eq!(integration_secret("u1", "slack-1"), "mantissa-log/users/u1/integrations/slack-1");
    }

    #[test]
    fn long_or_odd_ids_are_shortened_deterministically() {
        let user = "analyst@example.com";
        let rule = "aws-cloudtrail-console-login-without-mfa-from-a-new-country-after-failures";
        let a = detection_rule(user, rule, "prod");
        assert!(valid(&a), "{a} ({} chars)", a.len());
        assert_eq!(a, detection_rule(user, rule, "prod"), "same input, same name");
        assert!(a.starts_with("detection-analyst_example.com-aws-"), "{a}");
        assert!(a.ends_with("-prod"), "{a}");
        // Ids that differ only past the cut, or only in a replaced character, differ by hash.
        let b = detection_rule(user, &format!("{rule}-2"), "prod");
        assert_ne!(a, b);
        assert_ne!(detection_rule("a@b", "r", "dev"), detection_rule("a_b", "r", "dev"));
        assert!(valid(&detection_rule(&"u".repeat(200), &"r".repeat(200), &"e".repeat(100))));
    }
}
