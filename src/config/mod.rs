//! Where things live: the data dir (lake, state) and the config dir (themes, keymaps).

pub mod key;
pub mod keymap;
mod layers;
pub mod theme;

use anyhow::{Context, Result};
use directories::ProjectDirs;
use std::path::PathBuf;

fn project_dirs() -> Result<ProjectDirs> {
    ProjectDirs::from("dev", "mantissa-log", "mantissa")
        .context("cannot find a home directory for the data dir: pass --data-dir")
}

/// `--data-dir`, or the platform's data dir (e.g. `~/.local/share/mantissa`).
pub fn data_dir(flag: Option<&PathBuf>) -> Result<PathBuf> {
    match flag {
        Some(p) => Ok(p.clone()),
        None => Ok(project_dirs()?.data_dir().to_path_buf()),
    }
}

/// `<config dir>/<kind>` (e.g. `~/.config/mantissa/themes`), where user files override the
/// shipped ones; `None` without a home directory.
pub fn user_dir(kind: &str) -> Option<PathBuf> {
    project_dirs().ok().map(|d| d.config_dir().join(kind))
}

/// The analyst's user id: `--user`, else the login name.
pub fn user_id(flag: Option<&String>) -> String {
    flag.cloned()
        .or_else(|| std::env::var("USER").ok())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "analyst".to_string())
}
