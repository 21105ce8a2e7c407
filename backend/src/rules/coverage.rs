//! ATT&CK coverage: which cloud tactics and techniques the enabled rules detect, by their
//! Sigma-style `attack.*` tags (`attack.t1078.004`; a sub-technique covers its parent too), and
//! which have no rule. The matrix is ATT&CK's IaaS matrix (v15,
//! https://attack.mitre.org/matrices/enterprise/cloud/iaas/) plus the network techniques VPC
//! Flow Logs show (reconnaissance, command and control).

use crate::model::Rule;

/// `(technique id, name)`.
pub type Cell = (&'static str, &'static str);

/// `(tactic tag, tactic name, its techniques)`, in the matrix's order.
pub const MATRIX: &[(&str, &str, &[Cell])] = &[
    (
        "reconnaissance",
        "Reconnaissance",
        &[("T1595", "Active Scanning"), ("T1595.001", "Scanning IP Blocks")],
    ),
    (
        "resource_development",
        "Resource Development",
        &[("T1583", "Acquire Infrastructure"), ("T1584.001", "Domains")],
    ),
    (
        "initial_access",
        "Initial Access",
        &[
            ("T1078", "Valid Accounts"),
            ("T1078.001", "Default Accounts"),
            ("T1078.004", "Cloud Accounts"),
            ("T1133", "External Remote Services"),
            ("T1190", "Exploit Public-Facing Application"),
            ("T1199", "Trusted Relationship"),
        ],
    ),
    (
        "execution",
        "Execution",
        &[
            ("T1651", "Cloud Administration Command"),
            ("T1610", "Deploy Container"),
            ("T1059.006", "Python"),
            ("T1648", "Serverless Execution"),
            ("T1059.009", "Cloud API"),
            ("T1204.003", "Malicious Image"),
        ],
    ),
    (
        "persistence",
        "Persistence",
        &[
            ("T1098", "Account Manipulation"),
            ("T1098.001", "Additional Cloud Credentials"),
            ("T1098.003", "Additional Cloud Roles"),
            ("T1098.004", "SSH Authorized Keys"),
            ("T1098.006", "Additional Container Cluster Roles"),
            ("T1136.003", "Create Cloud Account"),
            ("T1525", "Implant Internal Image"),
            ("T1556", "Modify Authentication Process"),
            ("T1556.006", "Multi-Factor Authentication"),
            ("T1037", "Boot or Logon Initialization Scripts"),
        ],
    ),
    (
        "privilege_escalation",
        "Privilege Escalation",
        &[
            ("T1548.005", "Temporary Elevated Cloud Access"),
            ("T1484.002", "Trust Modification"),
            ("T1611", "Escape to Host"),
            ("T1098.003", "Additional Cloud Roles"),
        ],
    ),
    (
        "defense_evasion",
        "Defense Evasion",
        &[
            ("T1562.001", "Disable or Modify Tools"),
            ("T1562", "Impair Defenses"),
            ("T1140", "Deobfuscate/Decode Files or Information"),
            ("T1562.007", "Disable or Modify Cloud Firewall"),
            ("T1562.008", "Disable or Modify Cloud Logs"),
            ("T1578", "Modify Cloud Compute Infrastructure"),
            ("T1578.001", "Create Snapshot"),
            ("T1578.002", "Create Cloud Instance"),
            ("T1578.005", "Modify Cloud Compute Configurations"),
            ("T1535", "Unused/Unsupported Cloud Regions"),
            ("T1070", "Indicator Removal"),
            ("T1666", "Modify Cloud Resource Hierarchy"),
        ],
    ),
    (
        "credential_access",
        "Credential Access",
        &[
            ("T1110", "Brute Force"),
            ("T1110.003", "Password Spraying"),
            ("T1552.005", "Cloud Instance Metadata API"),
            ("T1555.006", "Cloud Secrets Management Stores"),
            ("T1552", "Unsecured Credentials"),
            ("T1552.001", "Credentials In Files"),
            ("T1528", "Steal Application Access Token"),
            ("T1621", "Multi-Factor Authentication Request Generation"),
        ],
    ),
    (
        "discovery",
        "Discovery",
        &[
            ("T1580", "Cloud Infrastructure Discovery"),
            ("T1526", "Cloud Service Discovery"),
            ("T1619", "Cloud Storage Object Discovery"),
            ("T1087.004", "Cloud Account"),
            ("T1069.003", "Cloud Groups"),
            ("T1046", "Network Service Discovery"),
            ("T1654", "Log Enumeration"),
        ],
    ),
    (
        "lateral_movement",
        "Lateral Movement",
        &[
            ("T1021.007", "Cloud Services"),
            ("T1021.008", "Direct Cloud VM Connections"),
            ("T1021.004", "SSH"),
            ("T1550.001", "Application Access Token"),
        ],
    ),
    (
        "collection",
        "Collection",
        &[
            ("T1530", "Data from Cloud Storage"),
            ("T1074.002", "Remote Data Staging"),
            ("T1119", "Automated Collection"),
        ],
    ),
    ("command_and_control", "Command and Control", &[("T1571", "Non-Standard Port"), ("T1090", "Proxy")]),
    (
        "exfiltration",
        "Exfiltration",
        &[
            ("T1537", "Transfer Data to Cloud Account"),
            ("T1041", "Exfiltration Over C2 Channel"),
            ("T1048", "Exfiltration Over Alternative Protocol"),
        ],
    ),
    (
        "impact",
        "Impact",
        &[
            ("T1485", "Data Destruction"),
            ("T1486", "Data Encrypted for Impact"),
            ("T1490", "Inhibit System Recovery"),
            ("T1496", "Resource Hijacking"),
            ("T1496.004", "Cloud Service Hijacking"),
            ("T1499", "Endpoint Denial of Service"),
            ("T1499.003", "Application Exhaustion Flood"),
            ("T1531", "Account Access Removal"),
        ],
    ),
];

/// One technique of a tactic and the enabled rules that detect it.
#[derive(Debug, Clone, PartialEq)]
pub struct Technique {
    pub id: &'static str,
    pub name: &'static str,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tactic {
    pub tag: &'static str,
    pub name: &'static str,
    pub techniques: Vec<Technique>,
}

impl Tactic {
    pub fn covered(&self) -> usize {
        self.techniques.iter().filter(|t| !t.rules.is_empty()).count()
    }
}

/// The technique ids a rule's tags name, upper-cased (`attack.t1078.004` -> `T1078.004`).
pub fn techniques_of(rule: &Rule) -> Vec<String> {
    rule.tags
        .iter()
        .filter_map(|t| t.strip_prefix("attack."))
        .filter(|t| t.len() > 1 && t.starts_with(['t', 'T']) && t[1..2].chars().all(|c| c.is_ascii_digit()))
        .map(|t| t.to_ascii_uppercase())
        .collect()
}

/// The matrix with the enabled rules under each technique (a rule tagged with a
/// sub-technique also covers its parent); and the technique tags no cell of the matrix holds,
/// for typos and techniques outside it, as `(rule id, tag)`.
pub fn coverage(rules: &[Rule]) -> (Vec<Tactic>, Vec<(String, String)>) {
    let enabled: Vec<(&Rule, Vec<String>)> =
        rules.iter().filter(|r| r.enabled).map(|r| (r, techniques_of(r))).collect();
    let covers = |id: &str, tags: &[String]| {
        tags.iter().any(|t| t == id || t.strip_prefix(id).is_some_and(|rest| rest.starts_with('.')))
    };
    let tactics = MATRIX
        .iter()
        .map(|(tag, name, techniques)| Tactic {
            tag,
            name,
            techniques: techniques
                .iter()
                .map(|(id, tname)| Technique {
                    id,
                    name: tname,
                    rules: enabled
                        .iter()
                        .filter(|(_, tags)| covers(id, tags))
                        .map(|(r, _)| r.id.clone())
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let known: Vec<&str> = MATRIX.iter().flat_map(|(_, _, t)| t.iter().map(|(id, _)| *id)).collect();
    let unknown = enabled
        .iter()
        .flat_map(|(r, tags)| {
            tags.iter().filter(|t| !known.contains(&t.as_str())).map(|t| (r.id.clone(), t.clone()))
        })
        .collect();
    (tactics, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_pack_covers_techniques_under_their_tactics() {
        let rules: Vec<Rule> = crate::rules::pack::files()
            .into_iter()
            .map(|(name, text)| {
                crate::rules::parse_rule_file(std::path::Path::new(name), text).unwrap().0.rule
            })
            .collect();
        assert!(rules.len() >= 30);
        let (tactics, unknown) = coverage(&rules);
        assert!(unknown.is_empty(), "pack tags outside the matrix: {unknown:?}");
        let cell = |tactic: &str, id: &str| {
            tactics
                .iter()
                .find(|t| t.tag == tactic)
                .unwrap()
                .techniques
                .iter()
                .find(|t| t.id == id)
                .unwrap()
                .rules
                .clone()
        };
        assert!(cell("initial_access", "T1078.004").contains(&"aws-console-login-without-mfa".to_string()));
        // A sub-technique's rule covers the parent.
        assert!(!cell("initial_access", "T1078").is_empty());
        assert!(tactics.iter().all(|t| t.covered() <= t.techniques.len()));
        // A disabled rule covers nothing.
        let disabled: Vec<Rule> = rules
            .iter()
            .cloned()
            .map(|mut r| {
                r.enabled = false;
                r
            })
            .collect();
        assert!(coverage(&disabled).0.iter().all(|t| t.covered() == 0));
    }
}
