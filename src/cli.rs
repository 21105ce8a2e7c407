//! Command-line grammar: global flags and the subcommands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "mantissa",
    version,
    about = "Mantissa Log: a terminal console for SOC analysts",
    long_about = "Mantissa Log: a terminal console for SOC analysts.\n\n\
        With no subcommand, `mantissa` opens the console on a terminal (it makes a demo workspace \
        on first start) and prints a short status of the workspace when it is not on a terminal.",
    after_help = "Run with no subcommand to open the console. Examples:\n  \
        mantissa                                   the console (demo data on first start)\n  \
        mantissa query \"SELECT count(*) FROM cloudtrail_logs\"\n  \
        mantissa rules validate && mantissa rules push\n  \
        mantissa --backend aws                     the console on Athena, DynamoDB and SQS"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// DataFusion lake + SQLite in the data dir; no AWS account needed.
    Local,
    /// Athena, DynamoDB, SQS, Secrets Manager, EventBridge via the AWS credential chain.
    Aws,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    #[arg(long, global = true, value_enum, default_value = "local", env = "MANTISSA_BACKEND")]
    pub backend: Backend,
    /// Where the lake and local state live (default: the platform data dir).
    #[arg(long, global = true, env = "MANTISSA_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Whose rules, alerts and integrations to use.
    #[arg(long, global = true, env = "MANTISSA_USER")]
    pub user: Option<String>,
    /// Deployment environment (names AWS resources, picks a theme per environment).
    #[arg(long, global = true, default_value = "dev", env = "MANTISSA_ENV")]
    pub env: String,
    /// AWS profile (with --backend aws).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Refuse destructive actions in the console (DLQ delete/redrive, disabling rules).
    #[arg(long, help_heading = "Console")]
    pub read_only: bool,
    /// Console theme (default, light, monochrome, high-contrast, solarized-dark, colorblind, or
    /// a file in the config dir's themes/); default: `env-<env>` if it exists, else `default`.
    #[arg(long, env = "MANTISSA_THEME", help_heading = "Console")]
    pub theme: Option<String>,
    /// Console keymap: `default` (vim-like), `emacs`, or a file in the config dir's keymaps/.
    /// A user file named like a shipped keymap is merged over it.
    #[arg(long, default_value = "default", env = "MANTISSA_KEYMAP", help_heading = "Console")]
    pub keymap: String,
    /// AWS region (with --backend aws).
    #[arg(long, global = true, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint instead (an emulator such as moto, a VPC endpoint).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Query an S3 lake (`s3://bucket/prefix`) with the embedded engine instead of Athena or
    /// the data dir's lake: DataFusion reads the Parquet straight from S3. With `ingest
    /// --backend aws`, the lake written to.
    #[arg(long, global = true, env = "MANTISSA_LAKE_URL")]
    pub lake: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL over the logs; results on stdout, statistics on stderr.
    #[command(after_help = "Examples:\n  \
        mantissa query \"SELECT eventname, count(*) AS n FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC\"\n  \
        mantissa query -f csv \"SELECT * FROM vpc_flow_logs WHERE action = 'REJECT'\" > rejects.csv\n  \
        mantissa query --file hunt.sql -f json | jq '.[0]'\n  \
        echo \"SELECT 1\" | mantissa query -\n\n\
        The tables: cloudtrail_logs, vpc_flow_logs, s3_access_logs, lambda_logs, custom_logs; each has a \
        `dt` partition column (YYYY-MM-DD): filter on it to read less.")]
    Query {
        /// The SQL (Athena/Trino dialect), or `-` to read it from stdin.
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        sql: Option<String>,
        /// Read the SQL from this file.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// table (for people; at most 10,000 rows), csv or json (for pipelines; every row).
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Load log files (plain or .gz; folders are walked) into the lake; with --backend aws,
    /// into the S3 lake, from local paths or `s3://bucket/prefix`.
    Ingest {
        /// cloudtrail, vpcflow, s3access, lambda or custom.
        source: String,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A file that decodes to more is refused (gzip bombs): 2GiB, 512MiB, 100MB or bytes.
        #[arg(long, env = "MANTISSA_INGEST_MAX_DECODED", default_value = "2GiB",
              value_parser = mantissa_backend::ingest::parse_size)]
        max_decoded_size: u64,
    },
    /// Scheduler, delivery worker and health monitor until Ctrl-C or SIGTERM.
    Serve,
    /// The delivery worker alone (for scaling out, and the crash test).
    Worker {
        /// Seconds a received message stays hidden before it may be handed out again.
        #[arg(long, default_value_t = 60)]
        visibility_secs: u64,
    },
    /// Alert history.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Cases (incidents): alerts grouped, owned, noted and closed together.
    #[command(after_help = "Examples:\n  \
        mantissa cases suggest                     alerts that share an entity, not in a case yet\n  \
        mantissa cases new \"carol's account taken over\" 1a2b3c4d… 5e6f7a8b…\n  \
        mantissa cases add case-1a2b3c4d 9c0d1e2f…\n  \
        mantissa cases set case-1a2b3c4d owner alice\n  \
        mantissa cases note case-1a2b3c4d keys revoked, carol's password reset\n  \
        mantissa cases close case-1a2b3c4d tp intruder from 185.220.101.47\n\n\
        Closing resolves the case's open alerts with its judgement; every change is logged with who and when.")]
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// The dead-letter queue: deliveries that failed three times.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Where alerts go, and how well delivery works.
    Integrations {
        #[command(subcommand)]
        command: IntegrationsCommand,
    },
    /// Detection-as-code: rule files in a folder, validated, tested and synced with the store.
    Rules {
        /// The rules folder (a git checkout, say); default `<data-dir>/rules`.
        #[arg(long, global = true, env = "MANTISSA_RULES_DIR")]
        rules_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Your settings: the query assistant's provider, model and key, and console preferences.
    #[command(after_help = "Examples:\n  \
        mantissa settings list\n  \
        mantissa settings set llm_provider anthropic\n  \
        mantissa settings set llm_api_key          (reads the key from stdin, so it stays out of shell history)\n  \
        mantissa settings set llm_provider openai && mantissa settings set llm_base_url http://127.0.0.1:8080/v1\n  \
        mantissa settings set default_time_range 7d\n\n\
        The API key goes to the secret store; the settings keep only its id.")]
    Settings {
        #[command(subcommand)]
        command: SettingsCommand,
    },
    /// Ask the query assistant for SQL: printed on stdout, planned against the lake but never
    /// run; what it reads and would cost on Athena on stderr. Only table schemas are sent.
    #[command(after_help = "Examples:\n  \
        mantissa ask failed console logins by IP in the last day, more than 5\n  \
        mantissa ask who deleted S3 buckets this week | mantissa query -")]
    Ask {
        /// The question, in words.
        #[arg(required = true, num_args = 1..)]
        question: Vec<String>,
    },
    /// The AWS backend's resources.
    Aws {
        #[command(subcommand)]
        command: AwsCommand,
    },
    /// Make the demo workspace: a week of realistic logs with attack stories.
    Demo {
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Multiplies the volume (1.0 is about 200k events over 7 days).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The newest hour of data, RFC 3339 (default: the current hour), for reproducible data.
        #[arg(long)]
        end: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AwsCommand {
    /// Create the environment's tables, queues and Athena workgroup as the deploy template
    /// would (for an emulator or a sandbox account); existing ones are left as they are.
    Bootstrap,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// The folder's rules with severity, schedule, tests and sync state.
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Check rule files (default: the rules folder): shape, schedule, severity, and the
    /// query planned against the lake's tables. `file:line:col: message`; exit 1 on errors.
    Validate { paths: Vec<PathBuf> },
    /// Run the rules' inline tests offline; exit 1 on any failure.
    Test {
        paths: Vec<PathBuf>,
        /// Fail rules with fewer tests, or without one positive and one negative test.
        #[arg(long, default_value_t = 0)]
        minimum_tests: usize,
        /// Also run every rule over a benign corpus folder (labelled benign cases): a rule
        /// that fires on a case that does not accept it is a false positive and fails.
        #[arg(long, value_name = "DIR")]
        benign: Option<PathBuf>,
    },
    /// Convert Sigma rules (files or folders) into rule files.
    ImportSigma {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Where to write them (default: the rules folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Send the folder's changes to the backend's rule store (schedules too).
    Push {
        /// On a conflict, the folder wins.
        #[arg(long)]
        force: bool,
    },
    /// Write the store's changes into the folder.
    Pull {
        /// On a conflict, the store wins.
        #[arg(long)]
        force: bool,
    },
    /// What a push or pull would do, rule by rule, with the fields that differ.
    Diff,
    /// ATT&CK coverage of the stored, enabled rules: each cloud tactic's techniques with the
    /// rules that detect them (none: a gap); tags outside the matrix on stderr.
    Coverage {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// The rule ledger: runs, last status, mean duration, alerts a day, the share judged
    /// false or benign positive, bytes scanned a day and the Athena bill, costliest first.
    Ledger {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Ask the assistant for a rule file: YAML on stdout once it passes `rules validate` and
    /// its own tests (one correction round); what still fails on stderr, exit 1.
    Draft {
        #[arg(required = true, num_args = 1..)]
        question: Vec<String>,
        /// Write the draft into the rules folder as `<id>.yml` when it passes (never over a file).
        #[arg(long)]
        save: bool,
    },
    /// Run stored rules now, as the scheduler would: each over the window after its last run,
    /// alerts stored and routed, the window moved on. Exit 1 if any run failed.
    Run {
        /// Rule ids (default: every enabled rule).
        ids: Vec<String>,
    },
    /// Retro-hunt: run stored rules over past data in the windows their schedules would have
    /// used and list what would have fired. Nothing is stored or delivered unless `--raise`.
    Hunt {
        /// Rule ids (default: every enabled rule).
        ids: Vec<String>,
        /// Start: `7d` (ago), `12h`, an RFC 3339 time or a date.
        #[arg(long, default_value = "1d")]
        from: String,
        /// End: `now`, a duration ago, a time or a date.
        #[arg(long, default_value = "now")]
        to: String,
        /// Also raise what it finds: store the alerts and route them to the integrations
        /// (incident response on old logs). The rules' live windows do not move.
        #[arg(long)]
        raise: bool,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Backtest an edited rule file against the stored rule of its id: both over the last
    /// days in the file's schedule windows, and the incidents added (+) and removed (-).
    Backtest {
        file: PathBuf,
        /// How many days back (1 to 366).
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Every key with its value (the API key masked; defaults in brackets) and what it accepts.
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// One key's value.
    Get { key: String },
    /// Set a key; an empty value clears it. Without VALUE (or with `-`) it is read from stdin.
    Set { key: String, value: Option<String> },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Newest first, with delivery status per integration.
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only this severity and above: critical, high, medium, low, info.
        #[arg(long)]
        severity: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// The cases, the latest changed first (closed ones too with --all).
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
        #[arg(long)]
        all: bool,
    },
    /// One case whole: its fields, alerts, entities, notes and merged timeline.
    Show {
        id: String,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Open a case of these alerts (ids as `alerts list` prints them).
    New { title: String, alerts: Vec<String> },
    /// Add alerts to a case.
    Add {
        id: String,
        #[arg(required = true)]
        alerts: Vec<String>,
    },
    /// Take alerts out of a case.
    Remove {
        id: String,
        #[arg(required = true)]
        alerts: Vec<String>,
    },
    /// Change a field: title, owner (empty clears), severity (critical..info, or `auto` for
    /// its alerts' highest), status (open, in_progress).
    Set {
        id: String,
        field: String,
        #[arg(num_args = 0..)]
        value: Vec<String>,
    },
    /// Add a note, signed and dated.
    Note {
        id: String,
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Close with a judgement (tp, bp, fp or un) and why; its open alerts are resolved with it.
    Close {
        id: String,
        #[arg(required = true, num_args = 1..)]
        judgement: Vec<String>,
    },
    /// Open alerts not yet in an open case that name the same entity within a window.
    Suggest {
        /// How far apart alerts of one incident may be: 30m, 6h, 2d.
        #[arg(long, default_value = "24h")]
        window: String,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Dead letters with alert, integration, receives, last error and age (not consumed).
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Send messages back to the queue for delivery.
    Redrive {
        ids: Vec<String>,
        #[arg(long)]
        all: bool,
    },
    /// Delete one dead letter.
    Delete { id: String },
    /// Delete every dead letter (asks for --yes).
    Purge {
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum IntegrationsCommand {
    /// Integrations with 24-hour delivery health.
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Send a test alert through one integration.
    Test { id: String },
}
