//! `mantissa settings ...`, `mantissa ask ...` and `mantissa rules draft ...`: the user's
//! settings, and the query assistant from the command line (answers on stdout, the rest on
//! stderr, so they compose with `mantissa query -`).

use super::Workspace;
use super::output::records;
use crate::cli::SettingsCommand;
use anyhow::{Context, Result, bail};
use mantissa_backend::assist::{self, Assistant, query::LakeFacts};
use mantissa_backend::settings;
use serde_json::json;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

pub async fn settings(ws: &Workspace, command: SettingsCommand) -> Result<ExitCode> {
    let s = ws.services().await?;
    match command {
        SettingsCommand::List { format } => {
            let rows: Vec<_> = settings::list(&s, &ws.user)
                .await?
                .into_iter()
                .map(|r| json!({"key": r.key, "value": r.value, "accepts": r.accepts, "what": r.help}))
                .collect();
            records(&mut std::io::stdout().lock(), format, &["key", "value", "accepts", "what"], &rows)?;
        }
        SettingsCommand::Get { key } => {
            mantissa_backend::model::settings::key(&key).map_err(anyhow::Error::msg)?;
            let row = settings::list(&s, &ws.user).await?.into_iter().find(|r| r.key == key);
            println!("{}", row.map(|r| r.value).unwrap_or_default());
        }
        SettingsCommand::Set { key, value } => {
            let value = match value.as_deref() {
                None | Some("-") => {
                    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                        eprintln!("{key}: type the value and press Enter (Ctrl-D to end):");
                    }
                    let mut text = String::new();
                    std::io::stdin().read_to_string(&mut text).context("cannot read the value from stdin")?;
                    text.trim_end_matches(['\r', '\n']).to_string()
                }
                Some(v) => v.to_string(),
            };
            if key == "theme" && !value.trim().is_empty() {
                let dir = crate::config::user_dir("themes");
                crate::config::theme::load(value.trim(), dir.as_deref())
                    .map_err(|e| anyhow::anyhow!("theme: {e:#}"))?;
            }
            println!("{}", settings::set(&s, &ws.user, &key, &value).await?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn connect(ws: &Workspace) -> Result<(Assistant, LakeFacts, mantissa_backend::services::Services)> {
    let s = ws.services().await?;
    let assistant = Assistant::connect(&s, &ws.user, assist::DEFAULT_TIMEOUT).await?;
    let facts = LakeFacts::read(&s, &ws.lake).await?;
    Ok((assistant, facts, s))
}

pub async fn ask(ws: &Workspace, question: &str) -> Result<ExitCode> {
    let (assistant, facts, s) = connect(ws).await?;
    let look_back = settings::load(&s, &ws.user).await?.ui.default_time_range.days();
    eprintln!("asking {} ({}) ...", assistant.provider(), assistant.settings.query_model);
    let today = chrono::Utc::now().date_naive();
    let draft = assist::query::ask(&assistant, question, &facts.view(), today, look_back).await?;
    println!("{}", draft.sql);
    if draft.corrected {
        eprintln!("(corrected once: the first answer did not plan on the lake)");
    }
    match &draft.problem {
        Some(problem) => {
            eprintln!("does not run as written: {problem}");
            Ok(ExitCode::FAILURE)
        }
        None => {
            eprintln!("{}", draft.estimate());
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn draft(ws: &Workspace, dir: &Path, question: &str, save: bool) -> Result<ExitCode> {
    let (assistant, facts, _) = connect(ws).await?;
    eprintln!("asking {} ({}) for a rule ...", assistant.provider(), assistant.settings.detection_model);
    let draft = assist::rule::draft(&assistant, question, &facts.view(), &ws.lake).await?;
    print!("{}", draft.yaml);
    if !draft.passes() {
        for p in &draft.problems {
            eprintln!("{p}");
        }
        eprintln!("the draft does not pass its checks ({} problem(s)); not saved", draft.problems.len());
        return Ok(ExitCode::FAILURE);
    }
    let (passed, of) = draft.tests_passed;
    eprintln!("passes `rules validate` and its own tests ({passed}/{of})");
    if save {
        let Ok((loaded, _)) = mantissa_backend::rules::parse_rule_file(Path::new("draft.yml"), &draft.yaml)
        else {
            bail!("the draft no longer parses");
        };
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(format!("{}.yml", loaded.rule.id));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("not saved: {} exists (or cannot be written)", path.display()))?;
        std::io::Write::write_all(&mut file, draft.yaml.as_bytes())?;
        eprintln!("saved {}; `mantissa rules push` sends it to the store", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
