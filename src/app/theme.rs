//! Semantic styles for the panes. One built-in dark palette for now; `NO_COLOR` turns colour
//! off and keeps emphasis.

use mantissa_backend::model::{HealthState, Severity};
use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Self {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color { Style::new().fg(c) } else { Style::new() }
    }

    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::High => self.fg(Color::LightRed),
            Severity::Medium => self.fg(Color::Yellow),
            Severity::Low => self.fg(Color::Cyan),
            Severity::Info => self.fg(Color::Gray),
        }
    }

    pub fn health(&self, h: HealthState) -> Style {
        match h {
            HealthState::Healthy => self.fg(Color::Green),
            HealthState::Degraded => self.fg(Color::Yellow),
            HealthState::Unhealthy => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            HealthState::Unknown => self.fg(Color::Gray),
        }
    }

    pub fn header(&self) -> Style {
        self.fg(Color::LightBlue).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn focus(&self) -> Style {
        self.fg(Color::LightBlue)
    }

    pub fn muted(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red)
    }
}
