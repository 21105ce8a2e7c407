//! The layering themes and keymaps share (yazi/helix style): a shipped file embedded in the
//! binary, the user's file of the same name in `<config>/<kind>/` over it, and `inherits`.

use anyhow::{Result, anyhow, bail};
use mantissa_backend::rules::closest;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// One kind of layered file: `themes` or `keymaps`, with its shipped files.
pub struct Kind {
    /// The folder name and the word used in errors ("themes" -> "theme").
    pub folder: &'static str,
    pub shipped: &'static [(&'static str, &'static str)],
}

impl Kind {
    fn noun(&self) -> &'static str {
        self.folder.trim_end_matches('s')
    }

    /// The names a user can pick: shipped ones and the user's own files.
    pub fn names(&self, user_dir: Option<&Path>) -> Vec<String> {
        let mut out: Vec<String> = self.shipped.iter().map(|(n, _)| n.to_string()).collect();
        if let Some(dir) = user_dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "toml")
                    && let Some(stem) = p.file_stem()
                {
                    out.push(stem.to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The files that make `name`, base first: what it inherits (`default` unless it says
    /// otherwise), then the shipped file, then the user's file. Each comes with its origin
    /// (`themes/light.toml` or the user's path) for error messages.
    pub fn chain(&self, name: &str, user_dir: Option<&Path>) -> Result<Vec<(String, Table)>> {
        let mut out = vec![];
        self.collect(name, user_dir, &mut vec![], &mut out)?;
        Ok(out)
    }

    fn collect(
        &self,
        name: &str,
        user_dir: Option<&Path>,
        seen: &mut Vec<String>,
        out: &mut Vec<(String, Table)>,
    ) -> Result<()> {
        if seen.iter().any(|s| s == name) {
            bail!("{} inherit in a circle: {} -> {name}", self.folder, seen.join(" -> "));
        }
        seen.push(name.to_string());
        let shipped = self
            .shipped
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| (format!("{}/{n}.toml", self.folder), text.to_string()));
        let user_path: Option<PathBuf> =
            user_dir.map(|d| d.join(format!("{name}.toml"))).filter(|p| p.is_file());
        let user = match &user_path {
            Some(p) => Some((
                p.display().to_string(),
                std::fs::read_to_string(p).map_err(|e| anyhow!("{}: cannot read: {e}", p.display()))?,
            )),
            None => None,
        };
        if shipped.is_none() && user.is_none() {
            let known = self.names(user_dir);
            let hint = closest(name, known.iter().map(String::as_str))
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            bail!("unknown {} `{name}`: {hint}the {} are {}", self.noun(), self.folder, known.join(", "));
        }
        let files: Vec<(String, Table)> = [shipped, user]
            .into_iter()
            .flatten()
            .map(|(origin, text)| {
                let table: Table =
                    toml::from_str(&text).map_err(|e| anyhow!("{origin}: {}", e.to_string().trim()))?;
                match table.get("inherits") {
                    None | Some(Value::String(_)) => Ok((origin, table)),
                    Some(_) => bail!("{origin}: `inherits` is the name of another {}", self.noun()),
                }
            })
            .collect::<Result<_>>()?;
        let inherits =
            files.iter().rev().find_map(|(_, t)| t.get("inherits").and_then(Value::as_str).map(String::from));
        match inherits {
            Some(parent) => self.collect(&parent, user_dir, seen, out)?,
            None if name != "default" => self.collect("default", user_dir, seen, out)?,
            None => {}
        }
        out.extend(files);
        Ok(())
    }
}
