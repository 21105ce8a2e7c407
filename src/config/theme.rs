//! Themes: semantic styles (severity, health, grid header, selection, ...) over a palette, from
//! TOML files. Shipped themes are embedded from `themes/`; user files in `<config>/themes/` are
//! merged over a shipped theme of the same name, and any theme may `inherits = "other"`.

use super::layers::Kind;
use anyhow::{Result, anyhow, bail};
use mantissa_backend::model::{HealthState, Severity};
use mantissa_backend::rules::closest;
use ratatui::style::{Color, Modifier, Style};
use std::path::Path;
use std::str::FromStr;
use toml::{Table, Value};

/// The shipped themes, embedded so a fresh install has them all.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("monochrome", include_str!("../../themes/monochrome.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("solarized-dark", include_str!("../../themes/solarized-dark.toml")),
    ("colorblind", include_str!("../../themes/colorblind.toml")),
    ("env-prod", include_str!("../../themes/env-prod.toml")),
];

macro_rules! slots {
    ($($slot:ident = $key:literal),* $(,)?) => {
        #[derive(Clone, Copy)]
        enum Slot { $($slot),* }
        /// Every style key a theme may set, in `Slot` order.
        pub const KEYS: &[&str] = &[$($key),*];
    };
}

slots! {
    Critical = "severity.critical", High = "severity.high", Medium = "severity.medium",
    Low = "severity.low", Info = "severity.info",
    Healthy = "health.healthy", Degraded = "health.degraded", Unhealthy = "health.unhealthy",
    Unknown = "health.unknown",
    Header = "ui.header", Selected = "ui.selected", Focus = "ui.focus", Muted = "ui.muted",
    Error = "ui.error", Warning = "ui.warning", Ok = "ui.ok", Tab = "ui.tab", Status = "ui.status",
    SqlKeyword = "sql.keyword", SqlFunction = "sql.function", SqlString = "sql.string",
    SqlNumber = "sql.number", SqlComment = "sql.comment", SqlOperator = "sql.operator",
    SqlIdentifier = "sql.identifier",
}

/// The token classes the query editor colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlClass {
    Keyword,
    Function,
    String,
    Number,
    Comment,
    Operator,
    /// Quoted names and placeholders.
    Identifier,
}

/// Resolved styles, one per key. `Copy` so panes take it by value while drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Theme {
    styles: [Style; KEYS.len()],
}

impl Default for Theme {
    fn default() -> Self {
        load("default", None).expect("the shipped default theme is valid")
    }
}

impl Theme {
    fn get(&self, slot: Slot) -> Style {
        self.styles[slot as usize]
    }

    /// `NO_COLOR`: colours go, emphasis (bold, reversed, ...) stays.
    pub fn without_color(mut self) -> Self {
        for s in &mut self.styles {
            s.fg = None;
            s.bg = None;
        }
        self
    }

    pub fn severity(&self, s: Severity) -> Style {
        self.get(match s {
            Severity::Critical => Slot::Critical,
            Severity::High => Slot::High,
            Severity::Medium => Slot::Medium,
            Severity::Low => Slot::Low,
            Severity::Info => Slot::Info,
        })
    }

    pub fn health(&self, h: HealthState) -> Style {
        self.get(match h {
            HealthState::Healthy => Slot::Healthy,
            HealthState::Degraded => Slot::Degraded,
            HealthState::Unhealthy => Slot::Unhealthy,
            HealthState::Unknown => Slot::Unknown,
        })
    }

    pub fn sql(&self, class: SqlClass) -> Style {
        self.get(match class {
            SqlClass::Keyword => Slot::SqlKeyword,
            SqlClass::Function => Slot::SqlFunction,
            SqlClass::String => Slot::SqlString,
            SqlClass::Number => Slot::SqlNumber,
            SqlClass::Comment => Slot::SqlComment,
            SqlClass::Operator => Slot::SqlOperator,
            SqlClass::Identifier => Slot::SqlIdentifier,
        })
    }

    pub fn header(&self) -> Style {
        self.get(Slot::Header)
    }
    pub fn selected(&self) -> Style {
        self.get(Slot::Selected)
    }
    pub fn focus(&self) -> Style {
        self.get(Slot::Focus)
    }
    pub fn muted(&self) -> Style {
        self.get(Slot::Muted)
    }
    pub fn error(&self) -> Style {
        self.get(Slot::Error)
    }
    pub fn warning(&self) -> Style {
        self.get(Slot::Warning)
    }
    pub fn ok(&self) -> Style {
        self.get(Slot::Ok)
    }
    pub fn tab(&self) -> Style {
        self.get(Slot::Tab)
    }
    pub fn status(&self) -> Style {
        self.get(Slot::Status)
    }
}

/// `NO_COLOR` set to anything non-empty (no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The theme for a session: `--theme`, else `env-<env>` when such a theme exists, else
/// `default`. A broken user file falls back to the shipped theme, with the reason to show.
pub fn for_session(flag: Option<&str>, env: &str, user_dir: Option<&Path>) -> (Theme, Option<String>) {
    let env_theme = format!("env-{env}");
    let name = flag
        .map(String::from)
        .unwrap_or_else(|| if names(user_dir).contains(&env_theme) { env_theme } else { "default".into() });
    let (theme, problem) = match load(&name, user_dir) {
        Ok(t) => (t, None),
        Err(e) => (load(&name, None).unwrap_or_default(), Some(format!("{e:#}; using the shipped theme"))),
    };
    (if no_color() { theme.without_color() } else { theme }, problem)
}

/// The names a user can pick: shipped ones and the user's own files.
pub fn names(user_dir: Option<&Path>) -> Vec<String> {
    KIND.names(user_dir)
}

const KIND: Kind = Kind { folder: "themes", shipped: SHIPPED };

/// The theme `name`: the shipped file, then the user's file of that name merged over it, over
/// the theme it inherits (`default` unless it says otherwise).
pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme> {
    let (palette, styles) = layers(name, user_dir)?;
    let mut theme = Theme { styles: [Style::new(); KEYS.len()] };
    for (i, key) in KEYS.iter().enumerate() {
        let Some((origin, value)) = styles.get(*key) else {
            bail!("theme `{name}`: no style for `{key}` (the default theme sets every key)");
        };
        theme.styles[i] = style(value, &palette).map_err(|e| anyhow!("{origin}: styles.\"{key}\": {e}"))?;
    }
    Ok(theme)
}

type Palette = std::collections::BTreeMap<String, String>;
/// Style values by key, each with the file it came from (for errors).
type Styles = std::collections::BTreeMap<String, (String, Value)>;

fn layers(name: &str, user_dir: Option<&Path>) -> Result<(Palette, Styles)> {
    let (mut palette, mut styles) = (Palette::new(), Styles::new());
    for (origin, table) in KIND.chain(name, user_dir)? {
        check(&origin, &table)?;
        if let Some(Value::Table(p)) = table.get("palette") {
            for (k, v) in p {
                let colour = v.as_str().ok_or_else(|| {
                    anyhow!("{origin}: palette.{k}: a colour is a string such as \"#268bd2\" or \"lightred\"")
                })?;
                palette.insert(k.clone(), colour.to_string());
            }
        }
        if let Some(Value::Table(s)) = table.get("styles") {
            for (k, v) in s {
                styles.insert(k.clone(), (origin.clone(), v.clone()));
            }
        }
    }
    Ok((palette, styles))
}

/// One file's keys, each problem named with the file and key.
fn check(origin: &str, table: &Table) -> Result<()> {
    for (k, v) in table {
        match (k.as_str(), v) {
            ("inherits", Value::String(_)) | ("palette", Value::Table(_)) | ("styles", Value::Table(_)) => {}
            ("inherits" | "palette" | "styles", _) => bail!(
                "{origin}: `{k}` has the wrong type (inherits is a name; palette and styles are tables)"
            ),
            _ => {
                let hint = closest(k, ["inherits", "palette", "styles"])
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                bail!("{origin}: unknown key `{k}`{hint}");
            }
        }
    }
    if let Some(Value::Table(styles)) = table.get("styles") {
        for k in styles.keys() {
            if !KEYS.contains(&k.as_str()) {
                let hint = closest(k, KEYS.iter().copied())
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                bail!("{origin}: [styles] unknown key `{k}`: {hint}the keys are {}", KEYS.join(", "));
            }
        }
    }
    Ok(())
}

fn style(value: &Value, palette: &Palette) -> std::result::Result<Style, String> {
    let table = match value {
        Value::String(fg) => return Ok(Style::new().fg(colour(fg, palette)?)),
        Value::Table(t) => t,
        _ => return Err("a style is a colour name or a table { fg, bg, modifiers }".into()),
    };
    let mut s = Style::new();
    for (k, v) in table {
        match (k.as_str(), v) {
            ("fg", Value::String(c)) => s = s.fg(colour(c, palette)?),
            ("bg", Value::String(c)) => s = s.bg(colour(c, palette)?),
            ("modifiers", Value::Array(list)) => {
                for m in list {
                    s = s.add_modifier(modifier(m.as_str().unwrap_or_default())?);
                }
            }
            _ => return Err(format!("unknown or mistyped field `{k}` (fields: fg, bg, modifiers = [..])")),
        }
    }
    Ok(s)
}

fn colour(name: &str, palette: &Palette) -> std::result::Result<Color, String> {
    let resolved = palette.get(name).map(String::as_str).unwrap_or(name);
    Color::from_str(resolved).map_err(|_| {
        let names: Vec<&str> = palette.keys().map(String::as_str).collect();
        format!(
            "unknown colour `{name}`: use a palette name ({}), an ANSI name such as lightred, or #rrggbb",
            names.join(", ")
        )
    })
}

fn modifier(name: &str) -> std::result::Result<Modifier, String> {
    Ok(match name {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        "crossed_out" => Modifier::CROSSED_OUT,
        other => {
            return Err(format!(
                "unknown modifier `{other}` (bold, dim, italic, underlined, reversed, crossed_out)"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CI loads every shipped theme (helix's habit).
    #[test]
    fn every_shipped_theme_loads_and_differs_from_default() {
        let default = load("default", None).unwrap();
        for (name, _) in SHIPPED {
            let theme = load(name, None).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            if *name != "default" {
                assert_ne!(theme, default, "{name} looks like default");
            }
        }
        assert_eq!(
            default.severity(Severity::Critical),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        );
        let solarized = load("solarized-dark", None).unwrap();
        assert_eq!(solarized.severity(Severity::High).fg, Some(Color::Rgb(0xdc, 0x32, 0x2f)));
        // Inherited from default where solarized says nothing.
        assert_eq!(solarized.selected().bg, Some(Color::Rgb(0x07, 0x36, 0x42)));
    }

    #[test]
    fn user_files_merge_over_shipped_ones_and_may_inherit() {
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::write(dir.path().join("default.toml"), "[styles]\n\"ui.header\" = \"#010203\"\n").unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "inherits = \"solarized-dark\"\n[palette]\nred = \"#ff0000\"\n",
        )
        .unwrap();
        let patched = load("default", Some(dir.path())).unwrap();
        assert_eq!(patched.header().fg, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(
            patched.severity(Severity::Critical).fg,
            Some(Color::Red),
            "the rest is the shipped default"
        );
        let mine = load("mine", Some(dir.path())).unwrap();
        assert_eq!(
            mine.severity(Severity::High).fg,
            Some(Color::Rgb(255, 0, 0)),
            "palette overrides reach inherited styles"
        );
        assert!(names(Some(dir.path())).contains(&"mine".to_string()));
    }

    #[test]
    fn bad_files_name_the_file_and_key() {
        let dir = tempfile::TempDir::new().unwrap();
        let err = |name: &str, text: &str| {
            std::fs::write(dir.path().join(format!("{name}.toml")), text).unwrap();
            format!("{:#}", load(name, Some(dir.path())).unwrap_err())
        };
        let e = err("a", "[styles]\n\"ui.hedaer\" = \"red\"\n");
        assert!(e.contains("a.toml: [styles] unknown key `ui.hedaer`: did you mean `ui.header`?"), "{e}");
        let e = err("b", "[styles]\n\"ui.header\" = \"blu\"\n");
        assert!(e.contains("b.toml: styles.\"ui.header\": unknown colour `blu`"), "{e}");
        let e = err("c", "[styles]\n\"ui.header\" = { fg = \"red\", modifiers = [\"blink-fast\"] }\n");
        assert!(e.contains("unknown modifier `blink-fast`"), "{e}");
        let e = err("d", "[styles\n");
        assert!(e.contains("d.toml:") && e.contains("line 1"), "{e}");
        let e = err("e", "inherit = \"light\"\n");
        assert!(e.contains("e.toml: unknown key `inherit`; did you mean `inherits`?"), "{e}");
        let e = err("f", "inherits = \"g\"\n");
        assert!(e.contains("unknown theme `g`"), "{e}");
        std::fs::write(dir.path().join("g.toml"), "inherits = \"f\"\n").unwrap();
        let e = format!("{:#}", load("f", Some(dir.path())).unwrap_err());
        assert!(e.contains("circle"), "{e}");
        let e = format!("{:#}", load("solarised-dark", None).unwrap_err());
        assert!(e.contains("did you mean `solarized-dark`?"), "{e}");
    }

    #[test]
    fn no_color_keeps_emphasis() {
        let t = load("default", None).unwrap().without_color();
        assert_eq!(t.severity(Severity::Critical), Style::new().add_modifier(Modifier::BOLD));
        assert_eq!(t.selected(), Style::new().add_modifier(Modifier::REVERSED));
    }
}
