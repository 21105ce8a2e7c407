//! The starter pack: rule files shipped in the repo (`backend/rules/`), embedded in the
//! binary, and written into a rules folder by `mantissa demo` and on first start.

use crate::error::{Error, Result};
use include_dir::{Dir, include_dir};
use std::path::Path;

static PACK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// The pack's files as `(file name, text)`, sorted by name.
pub fn files() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<_> = PACK
        .files()
        .filter_map(|f| Some((f.path().file_name()?.to_str()?, f.contents_utf8()?)))
        .filter(|(name, _)| name.ends_with(".yml"))
        .collect();
    out.sort();
    out
}

/// Writes the pack's files that `dir` lacks; an analyst's edited copy is never overwritten.
/// Returns how many files were written.
pub fn install(dir: &Path) -> Result<usize> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = 0;
    for (name, text) in files() {
        let path = dir.join(name);
        if !path.exists() {
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
            written += 1;
        }
    }
    Ok(written)
}
