//! CloudTrail events in the JSON AWS delivers: everyday API traffic, and the stories. The
//! intruder in carol's account (brute force then a no-MFA login, admin granted, keys, a backdoor
//! admin user, dave's MFA off, KMS keys disabled, trail, Config, GuardDuty and flow logs off, GPU
//! instances in a new region, bucket made public, bob's key tried across services); root use;
//! bob opening SSH to the world; the insider frank (inline admin policy, secrets read in bulk);
//! erin weakening the password policy; and routine look-alikes that must not alert.

use super::{per_day, time_in};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

pub(super) const ACCOUNT: &str = "123456789012";
pub(super) const ATTACKER_IP: &str = "185.220.101.47";
pub(super) const SCANNER_IP: &str = "45.155.205.233";
pub(super) const PUBLIC_BUCKET: &str = "acme-payroll-exports";
/// The key the intruder makes for bob, then tries from its own machine.
const INTRUDER_KEY: &str = "AKIAQX3INTRUDER4BOB7";
/// The user the intruder makes for itself.
const BACKDOOR_USER: &str = "aws-support-sync";
/// Production secrets the insider reads in bulk.
const SECRETS: [&str; 24] = [
    "db/orders",
    "db/payroll",
    "db/customers",
    "db/analytics",
    "db/auth",
    "redis/sessions",
    "payments/gateway-api-key",
    "payments/db",
    "stripe/live-key",
    "stripe/webhook-signing",
    "github/deploy-key",
    "github/actions-token",
    "datadog/api-key",
    "sendgrid/api-key",
    "okta/scim-token",
    "slack/bot-token",
    "pagerduty/routing-key",
    "jira/api-token",
    "ldap/bind-password",
    "vpn/shared-secret",
    "backup/encryption-key",
    "twilio/auth-token",
    "snowflake/etl-user",
    "salesforce/integration",
];
const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
const OFFICE_IPS: [&str; 6] =
    ["203.0.113.10", "203.0.113.11", "203.0.113.25", "198.51.100.20", "198.51.100.21", "203.0.113.40"];
const AGENTS: [&str; 5] = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0 lang/python#3.11.8",
    "console.amazonaws.com",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
];
const REGIONS: [&str; 3] = ["us-east-1", "us-east-1", "eu-west-1"];

#[derive(Clone)]
enum Who {
    User(String),
    Root,
    Role(&'static str, String),
    Service(&'static str),
}

struct Event {
    at: DateTime<Utc>,
    who: Who,
    source: &'static str,
    name: &'static str,
    ip: String,
    agent: String,
    region: &'static str,
    request: Value,
    response: Value,
    error: Option<(&'static str, &'static str)>,
    read_only: bool,
    mfa: bool,
    /// The access key signing the call, when not the user's everyday one.
    key: Option<&'static str>,
}

impl Event {
    fn new(at: DateTime<Utc>, who: Who, source: &'static str, name: &'static str, ip: &str) -> Self {
        Event {
            at,
            who,
            source,
            name,
            ip: ip.to_string(),
            agent: AGENTS[0].to_string(),
            region: "us-east-1",
            request: Value::Null,
            response: Value::Null,
            error: None,
            read_only: name.starts_with("Describe") || name.starts_with("List") || name.starts_with("Get"),
            mfa: true,
            key: None,
        }
    }

    fn identity(&self) -> Value {
        let mfa = if self.mfa { "true" } else { "false" };
        let created = (self.at - Duration::minutes(20)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        match &self.who {
            Who::User(name) => json!({
                "type": "IAMUser",
                "principalId": format!("AIDA{}", name.to_uppercase()),
                "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
                "accountId": ACCOUNT,
                "accessKeyId": self.key.map_or_else(|| format!("AKIA{:0>16}", name.to_uppercase()), str::to_string),
                "userName": name,
                "sessionContext": {"attributes": {"creationDate": created, "mfaAuthenticated": mfa}}
            }),
            Who::Root => json!({
                "type": "Root",
                "principalId": ACCOUNT,
                "arn": format!("arn:aws:iam::{ACCOUNT}:root"),
                "accountId": ACCOUNT,
                "accessKeyId": "ASIAROOTSESSION00001",
                "sessionContext": {"attributes": {"creationDate": created, "mfaAuthenticated": mfa}}
            }),
            Who::Role(role, session) => json!({
                "type": "AssumedRole",
                "principalId": format!("AROA{}:{session}", role.to_uppercase().replace('-', "")),
                "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"),
                "accountId": ACCOUNT,
                "accessKeyId": "ASIAROLESESSION00042",
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": format!("AROA{}", role.to_uppercase().replace('-', "")),
                        "arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
                        "accountId": ACCOUNT,
                        "userName": role
                    },
                    "attributes": {"creationDate": created, "mfaAuthenticated": "false"}
                }
            }),
            Who::Service(svc) => json!({"type": "AWSService", "invokedBy": svc}),
        }
    }

    fn to_json(&self, rng: &mut ChaCha8Rng) -> Value {
        let console = self.name == "ConsoleLogin";
        let mut v = json!({
            "eventVersion": "1.09",
            "userIdentity": self.identity(),
            "eventTime": self.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": self.region,
            "sourceIPAddress": self.ip,
            "userAgent": self.agent,
            "requestParameters": self.request,
            "responseElements": self.response,
            "requestID": uuid(rng),
            "eventID": uuid(rng),
            "readOnly": self.read_only,
            "eventType": if console { "AwsConsoleSignIn" } else { "AwsApiCall" },
            "managementEvent": true,
            "recipientAccountId": ACCOUNT,
            "eventCategory": "Management",
        });
        if let Some((code, message)) = self.error {
            v["errorCode"] = json!(code);
            v["errorMessage"] = json!(message);
        }
        if console {
            v["additionalEventData"] = json!({
                "LoginTo": "https://console.aws.amazon.com/console/home",
                "MobileVersion": "No",
                "MFAUsed": if self.mfa { "Yes" } else { "No" },
            });
            v["tlsDetails"] = json!({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "signin.aws.amazon.com"});
        }
        v
    }
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let b: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// Everyday traffic: reads, deploys, service calls, logins with MFA, a few denials.
pub fn background(rng: &mut ChaCha8Rng, window: (DateTime<Utc>, DateTime<Utc>), scale: f64) -> Vec<Value> {
    let days = ((window.1 - window.0).num_hours() as f64 / 24.0).max(1.0 / 24.0);
    let n = (per_day(14_000.0, scale) as f64 * days) as usize;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let at = time_in(rng, window);
        let user = USERS.choose(rng).expect("users").to_string();
        let ip = OFFICE_IPS.choose(rng).expect("ips");
        let roll: f64 = rng.random();
        let mut e = if roll < 0.40 {
            let (src, name) = *[
                ("ec2.amazonaws.com", "DescribeInstances"),
                ("ec2.amazonaws.com", "DescribeSecurityGroups"),
                ("s3.amazonaws.com", "ListBuckets"),
                ("s3.amazonaws.com", "GetBucketAcl"),
                ("iam.amazonaws.com", "ListUsers"),
                ("sts.amazonaws.com", "GetCallerIdentity"),
                ("cloudwatch.amazonaws.com", "GetMetricData"),
                ("lambda.amazonaws.com", "ListFunctions20150331"),
            ]
            .choose(rng)
            .expect("reads");
            let mut e = Event::new(at, Who::User(user.clone()), src, name, ip);
            e.agent = AGENTS.choose(rng).expect("agents").to_string();
            if name == "GetBucketAcl" {
                e.request = json!({"bucketName": format!("acme-{}", ["logs", "assets", "backups"].choose(rng).expect("b")), "acl": ""});
            }
            e
        } else if roll < 0.65 {
            let mut e = Event::new(
                at,
                Who::Service("lambda.amazonaws.com"),
                "logs.amazonaws.com",
                "CreateLogStream",
                "lambda.amazonaws.com",
            );
            e.agent = "lambda.amazonaws.com".into();
            e.request = json!({"logGroupName": "/aws/lambda/api-handler", "logStreamName": format!("2024/11/20/[$LATEST]{:x}", rng.random::<u64>())});
            e
        } else if roll < 0.80 {
            let session = format!("deploy-{}", rng.random_range(1000..9999));
            let (src, name) = *[
                ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
                ("s3.amazonaws.com", "PutObject"),
                ("ecr.amazonaws.com", "PutImage"),
                ("cloudformation.amazonaws.com", "DescribeStacks"),
                ("ssm.amazonaws.com", "GetParameter"),
            ]
            .choose(rng)
            .expect("deploys");
            let mut e = Event::new(at, Who::Role("deploy-bot", session), src, name, "52.94.133.131");
            e.agent = AGENTS[1].to_string();
            e
        } else if roll < 0.90 {
            let mut e = Event::new(
                at,
                Who::Service("kms.amazonaws.com"),
                "kms.amazonaws.com",
                "Decrypt",
                "s3.amazonaws.com",
            );
            e.agent = "s3.amazonaws.com".into();
            e.read_only = true;
            e.request = json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/5b1f0c0e-demo")});
            e
        } else if roll < 0.95 {
            let mut e = Event::new(
                at,
                Who::Role("AWSServiceRoleForConfig", "AWSConfig-Describe".into()),
                "config.amazonaws.com",
                "DescribeConfigRules",
                "config.amazonaws.com",
            );
            e.agent = "config.amazonaws.com".into();
            e
        } else if roll < 0.985 {
            let mut e = Event::new(at, Who::User(user.clone()), "signin.amazonaws.com", "ConsoleLogin", ip);
            e.agent = AGENTS[4].to_string();
            e.response = json!({"ConsoleLogin": "Success"});
            e
        } else {
            // Ordinary mistakes: an occasional denial or a mistyped password.
            if rng.random_bool(0.5) {
                let mut e = Event::new(
                    at,
                    Who::User(user.clone()),
                    "iam.amazonaws.com",
                    "GetAccountAuthorizationDetails",
                    ip,
                );
                e.error = Some((
                    "AccessDenied",
                    "User is not authorized to perform: iam:GetAccountAuthorizationDetails",
                ));
                e
            } else {
                let mut e =
                    Event::new(at, Who::User(user.clone()), "signin.amazonaws.com", "ConsoleLogin", ip);
                e.agent = AGENTS[4].to_string();
                e.mfa = false;
                e.error = Some(("Failed authentication", "Failed authentication"));
                e.response = json!({"ConsoleLogin": "Failure"});
                e
            }
        };
        e.region = REGIONS.choose(rng).expect("regions");
        out.push(e.to_json(rng));
    }
    out
}

/// The attack stories, placed in the last day before `end`.
pub(super) fn stories(rng: &mut ChaCha8Rng, end: DateTime<Utc>) -> Vec<Value> {
    let mut ev: Vec<Event> = vec![];
    let carol = || Who::User("carol".to_string());

    // Password spraying against carol, then a login without MFA from the same new IP.
    let t0 = end - Duration::hours(5);
    for i in 0..12 {
        let mut e = Event::new(
            t0 + Duration::seconds(i * 45),
            carol(),
            "signin.amazonaws.com",
            "ConsoleLogin",
            ATTACKER_IP,
        );
        e.agent = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0".into();
        e.mfa = false;
        e.error = Some(("Failed authentication", "Failed authentication"));
        e.response = json!({"ConsoleLogin": "Failure"});
        ev.push(e);
    }
    let login = t0 + Duration::minutes(10);
    let mut e = Event::new(login, carol(), "signin.amazonaws.com", "ConsoleLogin", ATTACKER_IP);
    e.agent = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0".into();
    e.mfa = false;
    e.response = json!({"ConsoleLogin": "Success"});
    ev.push(e);

    // What the intruder does as carol.
    let carol_step = |mins: i64, source: &'static str, name: &'static str, request: Value| {
        let mut e = Event::new(login + Duration::minutes(mins), carol(), source, name, ATTACKER_IP);
        e.agent = AGENTS[4].to_string();
        e.mfa = false;
        e.request = request;
        e.read_only = false;
        e
    };
    ev.push(carol_step(3, "iam.amazonaws.com", "ListUsers", json!({})));
    ev.push(carol_step(
        6,
        "iam.amazonaws.com",
        "AttachUserPolicy",
        json!({"userName": "carol", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    ));
    let mut key_for_bob = carol_step(9, "iam.amazonaws.com", "CreateAccessKey", json!({"userName": "bob"}));
    key_for_bob.response =
        json!({"accessKey": {"userName": "bob", "accessKeyId": INTRUDER_KEY, "status": "Active"}});
    ev.push(key_for_bob);
    // A backdoor user of its own, made an admin, with a key and a console password.
    ev.push(carol_step(12, "iam.amazonaws.com", "CreateUser", json!({"userName": BACKDOOR_USER})));
    ev.push(carol_step(
        13,
        "iam.amazonaws.com",
        "AddUserToGroup",
        json!({"groupName": "Admins", "userName": BACKDOOR_USER}),
    ));
    ev.push(carol_step(14, "iam.amazonaws.com", "CreateAccessKey", json!({"userName": BACKDOOR_USER})));
    ev.push(carol_step(
        15,
        "iam.amazonaws.com",
        "CreateLoginProfile",
        json!({"userName": BACKDOOR_USER, "passwordResetRequired": false}),
    ));
    ev.push(carol_step(
        40,
        "kms.amazonaws.com",
        "ScheduleKeyDeletion",
        json!({"keyId": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/5b1f0c0e-demo"), "pendingWindowInDays": 7}),
    ));
    ev.push(carol_step(
        45,
        "kms.amazonaws.com",
        "DisableKey",
        json!({"keyId": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/9d2e7a41-backups")}),
    ));
    // Takes over dave's console: his MFA off, a password it chose.
    ev.push(carol_step(
        60,
        "iam.amazonaws.com",
        "DeactivateMFADevice",
        json!({"userName": "dave", "serialNumber": format!("arn:aws:iam::{ACCOUNT}:mfa/dave")}),
    ));
    ev.push(carol_step(
        62,
        "iam.amazonaws.com",
        "UpdateLoginProfile",
        json!({"userName": "dave", "passwordResetRequired": false}),
    ));
    ev.push(carol_step(
        90,
        "config.amazonaws.com",
        "StopConfigurationRecorder",
        json!({"configurationRecorderName": "default"}),
    ));
    ev.push(carol_step(
        95,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/management-events")}),
    ));
    ev.push(carol_step(
        97,
        "cloudtrail.amazonaws.com",
        "UpdateTrail",
        json!({"name": "security-audit", "isMultiRegionTrail": false, "includeGlobalServiceEvents": false}),
    ));
    ev.push(carol_step(
        100,
        "guardduty.amazonaws.com",
        "DeleteDetector",
        json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}),
    ));
    let mut e = carol_step(
        102,
        "guardduty.amazonaws.com",
        "UpdateDetector",
        json!({"detectorId": "7ec2b1d0a9f84c3e8d5b6a4f3e2d1c0b", "enable": false}),
    );
    e.region = "eu-west-1";
    ev.push(e);
    ev.push(carol_step(105, "cloudtrail.amazonaws.com", "DeleteTrail", json!({"name": "management-events"})));
    // Crypto mining on GPUs, in a region the account never uses.
    let mut e = carol_step(
        120,
        "ec2.amazonaws.com",
        "RunInstances",
        json!({
            "instancesSet": {"items": [{"imageId": "ami-0c55b159cbfafe1f0", "minCount": 4, "maxCount": 4}]},
            "instanceType": "p3.16xlarge",
            "blockDeviceMapping": {},
            "monitoring": {"enabled": false},
            "disableApiTermination": false,
        }),
    );
    e.region = "ap-southeast-1";
    ev.push(e);
    ev.push(carol_step(
        150,
        "s3.amazonaws.com",
        "PutBucketPolicy",
        json!({
            "bucketName": PUBLIC_BUCKET,
            "bucketPolicy": {"Version": "2012-10-17", "Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{PUBLIC_BUCKET}/*")}]},
            "policy": ""
        }),
    ));
    ev.push(carol_step(
        155,
        "s3.amazonaws.com",
        "PutBucketPublicAccessBlock",
        json!({"bucketName": PUBLIC_BUCKET, "PublicAccessBlockConfiguration": {"BlockPublicAcls": false, "IgnorePublicAcls": false, "BlockPublicPolicy": false, "RestrictPublicBuckets": false}}),
    ));
    ev.push(carol_step(
        157,
        "s3.amazonaws.com",
        "PutBucketAcl",
        json!({
            "bucketName": PUBLIC_BUCKET,
            "acl": "",
            "AccessControlPolicy": {
                "AccessControlList": {"Grant": [
                    {"Grantee": {"xsi:type": "CanonicalUser", "ID": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, "Permission": "FULL_CONTROL"},
                    {"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}
                ]},
                "Owner": {"ID": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}
            }
        }),
    ));

    // Last, it covers its tracks in the network logs once the exfiltration is done.
    ev.push(carol_step(
        195,
        "ec2.amazonaws.com",
        "DeleteFlowLogs",
        json!({"DeleteFlowLogsRequest": {"FlowLogId": {"tag": 1, "content": "fl-0a1b2c3d4e5f6a7b8"}}}),
    ));
    ev.push(carol_step(
        197,
        "logs.amazonaws.com",
        "DeleteLogGroup",
        json!({"logGroupName": "/aws/vpc/flow-logs"}),
    ));

    // The intruder tries the key it made for bob from its own machine: a sweep of list and
    // read calls across services, most of them denied.
    let probe_at = login + Duration::minutes(20);
    for (i, (source, name, error)) in [
        ("sts.amazonaws.com", "GetCallerIdentity", None),
        ("iam.amazonaws.com", "ListRoles", Some("AccessDenied")),
        ("iam.amazonaws.com", "ListPolicies", Some("AccessDenied")),
        ("iam.amazonaws.com", "GetAccountAuthorizationDetails", Some("AccessDenied")),
        ("iam.amazonaws.com", "ListAccessKeys", Some("AccessDenied")),
        ("iam.amazonaws.com", "ListAttachedUserPolicies", Some("AccessDenied")),
        ("s3.amazonaws.com", "ListBuckets", None),
        ("s3.amazonaws.com", "GetBucketPolicy", Some("AccessDenied")),
        ("s3.amazonaws.com", "GetBucketAcl", Some("AccessDenied")),
        ("ec2.amazonaws.com", "DescribeInstances", Some("Client.UnauthorizedOperation")),
        ("ec2.amazonaws.com", "DescribeSnapshots", Some("Client.UnauthorizedOperation")),
        ("ec2.amazonaws.com", "DescribeVpcs", Some("Client.UnauthorizedOperation")),
        ("secretsmanager.amazonaws.com", "ListSecrets", Some("AccessDenied")),
        ("kms.amazonaws.com", "ListKeys", Some("AccessDenied")),
        ("lambda.amazonaws.com", "ListFunctions20150331", Some("AccessDenied")),
        ("rds.amazonaws.com", "DescribeDBInstances", Some("AccessDenied")),
        ("organizations.amazonaws.com", "DescribeOrganization", Some("AccessDenied")),
        ("guardduty.amazonaws.com", "ListDetectors", Some("AccessDenied")),
        ("cloudtrail.amazonaws.com", "DescribeTrails", Some("AccessDenied")),
        ("ssm.amazonaws.com", "DescribeParameters", Some("AccessDenied")),
        ("dynamodb.amazonaws.com", "ListTables", Some("AccessDenied")),
        ("sns.amazonaws.com", "ListTopics", Some("AccessDenied")),
        ("sqs.amazonaws.com", "ListQueues", Some("AccessDenied")),
        ("ecr.amazonaws.com", "DescribeRepositories", Some("AccessDenied")),
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = Event::new(
            probe_at + Duration::seconds(i as i64 * 17),
            Who::User("bob".into()),
            source,
            name,
            ATTACKER_IP,
        );
        e.agent = "aws-cli/2.15.30 Python/3.11.8 Linux/6.8.0 exe/x86_64.kali.2024".into();
        e.mfa = false;
        e.key = Some(INTRUDER_KEY);
        if let Some(code) = error {
            let service = source.split('.').next().unwrap_or_default();
            e.error = Some((code, "User is not authorized to perform this operation"));
            e.request = json!({"action": format!("{service}:{name}")});
        }
        ev.push(e);
    }

    // An insider, frank, gives himself admin through an inline policy one evening, then reads
    // every production secret he can list.
    let frank_at = end - Duration::hours(10);
    let frank_ip = "198.51.100.21";
    let mut e =
        Event::new(frank_at, Who::User("frank".into()), "iam.amazonaws.com", "PutUserPolicy", frank_ip);
    e.agent = AGENTS[0].to_string();
    e.request = json!({
        "userName": "frank",
        "policyName": "temp-debug-access",
        "policyDocument": "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"
    });
    ev.push(e);
    for (i, secret) in SECRETS.iter().enumerate() {
        let at = frank_at + Duration::minutes(5) + Duration::seconds(i as i64 * 23);
        let mut e = Event::new(
            at,
            Who::User("frank".into()),
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            frank_ip,
        );
        e.agent = AGENTS[0].to_string();
        e.request = json!({"secretId": format!("prod/{secret}")});
        ev.push(e);
    }

    // erin, an admin, weakens the password policy after complaints about long passwords.
    let mut e = Event::new(
        end - Duration::hours(14),
        Who::User("erin".into()),
        "iam.amazonaws.com",
        "UpdateAccountPasswordPolicy",
        "203.0.113.25",
    );
    e.agent = AGENTS[4].to_string();
    e.request = json!({
        "minimumPasswordLength": 8, "requireSymbols": false, "requireNumbers": true,
        "requireUppercaseCharacters": false, "requireLowercaseCharacters": true,
        "allowUsersToChangePassword": true, "maxPasswordAge": 0, "passwordReusePrevention": 0
    });
    ev.push(e);

    // Routine changes that look like the stories but are not: alice rotates her own key,
    // deploy-bot launches a small instance where it always does, bob allows the office to SSH,
    // the logs bucket gets a TLS-only policy, and the payments service reads its two secrets.
    let mut e = Event::new(
        end - Duration::hours(16),
        Who::User("alice".into()),
        "iam.amazonaws.com",
        "CreateAccessKey",
        "203.0.113.10",
    );
    e.request = json!({"userName": "alice"});
    ev.push(e);
    let mut e = Event::new(
        end - Duration::hours(7),
        Who::Role("deploy-bot", "deploy-4711".into()),
        "ec2.amazonaws.com",
        "RunInstances",
        "52.94.133.131",
    );
    e.agent = AGENTS[1].to_string();
    e.request = json!({
        "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]},
        "instanceType": "t3.medium",
        "monitoring": {"enabled": true}
    });
    ev.push(e);
    let mut e = Event::new(
        end - Duration::hours(9),
        Who::User("bob".into()),
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        "203.0.113.11",
    );
    e.request = json!({"groupId": "sg-0f1e2d3c4b5a69788", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "203.0.113.0/24", "description": "office"}]}}]}});
    e.response = json!({"_return": true});
    ev.push(e);
    let mut e = Event::new(
        end - Duration::hours(12),
        Who::User("alice".into()),
        "s3.amazonaws.com",
        "PutBucketPolicy",
        "203.0.113.10",
    );
    e.request = json!({
        "bucketName": "acme-logs",
        "bucketPolicy": {"Version": "2012-10-17", "Statement": [
            {"Sid": "LogDelivery", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::acme-logs/*"},
            {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::acme-logs", "arn:aws:s3:::acme-logs/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        ]},
        "policy": ""
    });
    ev.push(e);
    for i in 0..120 {
        let mut e = Event::new(
            end - Duration::hours(20) + Duration::minutes(i * 10),
            Who::Role("payments-processor-role", "payments-processor".into()),
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            "3.80.16.42",
        );
        e.agent = AGENTS[1].to_string();
        let secret = if i % 2 == 0 { "prod/payments/gateway-api-key" } else { "prod/payments/db" };
        e.request = json!({"secretId": secret});
        ev.push(e);
    }

    // bob opens SSH to the world on a production security group.
    let mut e = Event::new(
        end - Duration::hours(4),
        Who::User("bob".into()),
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        "203.0.113.11",
    );
    e.request = json!({"groupId": "sg-0a1b2c3d4e5f60718", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}});
    e.response = json!({"_return": true});
    ev.push(e);

    // Root signs in without MFA from an unfamiliar address and looks around.
    let root_at = end - Duration::hours(20);
    for (i, (source, name)) in [
        ("signin.amazonaws.com", "ConsoleLogin"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("iam.amazonaws.com", "ListAccessKeys"),
        ("billing.amazonaws.com", "GetBillingData"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut e =
            Event::new(root_at + Duration::minutes(i as i64 * 4), Who::Root, source, name, SCANNER_IP);
        e.agent = AGENTS[4].to_string();
        e.mfa = false;
        if name == "ConsoleLogin" {
            e.response = json!({"ConsoleLogin": "Success"});
        }
        ev.push(e);
    }
    ev.into_iter().map(|e| e.to_json(rng)).collect()
}
