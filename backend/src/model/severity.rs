//! Alert and rule severity, ordered critical > high > medium > low > info.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Ordered so that `Severity::Critical > Severity::High`; filters use `>=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        // Sigma and some tools say "informational"; accept it as info.
        match lower.as_str() {
            "info" | "informational" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!("unknown severity `{s}`: use one of critical, high, medium, low, info")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_critical_highest() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::High > Severity::Medium);
        assert!(Severity::Medium > Severity::Low);
        assert!(Severity::Low > Severity::Info);
        let mut v = vec![Severity::Low, Severity::Critical, Severity::Info];
        v.sort();
        assert_eq!(v, vec![Severity::Info, Severity::Low, Severity::Critical]);
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert_eq!("informational".parse::<Severity>(), Ok(Severity::Info));
        let err = "severe".parse::<Severity>().unwrap_err();
        assert!(err.contains("critical, high, medium, low, info"), "{err}");
    }

    #[test]
    fn serde_is_lowercase() {
        assert_eq!(serde_json::to_string(&Severity::Critical).unwrap(), "\"critical\"");
        let s: Severity = serde_json::from_str("\"medium\"").unwrap();
        assert_eq!(s, Severity::Medium);
    }
}
