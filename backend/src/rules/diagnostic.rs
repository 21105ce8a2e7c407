//! A problem found in a rule file, placed at `file:line:col` as compilers and linters do, so
//! editors and CI annotate the right spot.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub level: Level,
    pub message: String,
}

impl Diagnostic {
    pub fn error(path: &Path, line: usize, col: usize, message: String) -> Self {
        Diagnostic { path: path.to_path_buf(), line, col, level: Level::Error, message }
    }

    pub fn warning(path: &Path, line: usize, col: usize, message: String) -> Self {
        Diagnostic { path: path.to_path_buf(), line, col, level: Level::Warning, message }
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(f, "{}:{}:{}: {level}: {}", self.path.display(), self.line, self.col, self.message)
    }
}

/// The candidate closest to `wanted` by edit distance, when it is close enough to be a typo.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&wanted, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
