//! The five panes and the frame around them: tabs, footer hints (from the key table), status
//! line, command line, confirmations and the overlays. Each pane is a [`Component`]: it takes
//! the actions the keymap names, applies job replies, and draws itself without changing.

pub mod alerts;
mod detail;
pub mod dlq;
pub mod integrations;
pub mod query;
pub mod rule_editor;
pub mod rules;
pub mod setup;

use crate::app::{App, Job, Msg, Ui, keys};
use crate::config::keymap::{Action, Screen};
use crate::widgets::list::clean;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Query = 0,
    Rules = 1,
    Alerts = 2,
    Integrations = 3,
    Dlq = 4,
}

impl Pane {
    pub const ALL: [Pane; 5] = [Pane::Query, Pane::Rules, Pane::Alerts, Pane::Integrations, Pane::Dlq];

    fn title(self) -> &'static str {
        match self {
            Pane::Query => "1 Query",
            Pane::Rules => "2 Rules",
            Pane::Alerts => "3 Alerts",
            Pane::Integrations => "4 Integrations",
            Pane::Dlq => "5 DLQ",
        }
    }
}

/// A pane. The app gives it the actions its screen's key table names, the keys no action
/// claims (text, where it edits text), the `/` filter as typed, and the replies of jobs; the
/// pane answers with the jobs to start. Overlays and requests of other panes go through `Ui`.
pub trait Component {
    /// Whose key table applies now: the pane's, or that of an editor or form open in it.
    fn screen(&self) -> Screen;
    fn handle_key(&mut self, action: Action, ui: &mut Ui) -> Vec<Job>;
    fn handle_text(&mut self, _key: KeyEvent) -> Vec<Job> {
        vec![]
    }
    /// A job's reply; returns whether the pane changed (a refresh that brought nothing new
    /// does not redraw).
    fn update(&mut self, msg: Msg, ui: &mut Ui) -> bool;
    /// The `/` filter as typed so far; `done` once Enter or Esc ends it.
    fn filter(&mut self, text: &str, done: bool) -> Vec<Job>;
    /// Draws from the pane's state alone.
    fn render(&self, f: &mut Frame, area: Rect, ui: &Ui);
}

/// The whole screen: tabs, the pane, the footer, the status line and any overlay.
pub fn render(app: &App, f: &mut Frame) {
    let ui = &app.ui;
    let (footer_line, hints) = footer_line(app);
    // A message or question longer than the screen takes a second row rather than losing its
    // end; the key hints are cut (`?` lists them all).
    let width = f.area().width.max(1) as usize;
    let footer_rows = if !hints && footer_line.width() > width { 2 } else { 1 };
    let [tabs, body, footer, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(footer_rows),
        Constraint::Length(1),
    ])
    .areas(f.area());
    let titles: Vec<&str> = Pane::ALL.iter().map(|p| p.title()).collect();
    f.render_widget(
        Tabs::new(titles)
            .select(app.pane as usize)
            .style(ui.theme.status())
            .highlight_style(ui.theme.tab())
            .divider("│"),
        tabs,
    );
    app.active().render(f, body, ui);
    let footer_line = match !hints && footer_line.width() > width * 2 {
        // Past two rows, the end says where the whole of it is.
        true => clip(footer_line, width * 2 - 12, "… :messages"),
        false => footer_line,
    };
    f.render_widget(Paragraph::new(footer_line).wrap(ratatui::widgets::Wrap { trim: false }), footer);
    f.render_widget(Paragraph::new(Span::raw(app.status())).style(ui.theme.status()), status);
    if let Some(picker) = &ui.picker {
        picker.render(f, body, ui.theme.focus(), ui.theme.selected());
    }
    if let Some(view) = &ui.popup {
        let scroll = format!("{}/{}", ui.keymap.first_key(Action::Down), ui.keymap.first_key(Action::Up));
        view.render(f, ui.theme.focus(), &scroll);
    }
}

/// The footer: an overlay's own line, a question, the last message, or the screen's key hints
/// (then `true`).
fn footer_line(app: &App) -> (Line<'static>, bool) {
    let ui = &app.ui;
    let line = if ui.popup.is_some() {
        // The popup reaches over the footer row and names its own keys; nothing peeks out.
        Line::from("")
    } else if let Some(cmd) = &app.command {
        // Tab's candidates, when several fit, show where the hint was.
        let hint = ui.message.as_ref().map_or("(Tab completes)".into(), |(_, t)| clean(t));
        Line::from(format!(":{cmd}▏  {hint}"))
    } else if let Some(p) = &ui.prompt {
        Line::from(vec![
            Span::styled(format!("{}: ", p.label), ui.theme.header()),
            Span::raw({
                let (before, after) = p.input.split();
                format!("{}▏{}", clean(&before), clean(&after))
            }),
            Span::styled("  (Enter ok · Esc cancel)", ui.theme.muted()),
        ])
    } else if let Some(typed) = &ui.filter_input {
        Line::from(format!("/{typed}  (Enter keep · Esc clear · !text hides matches)"))
    } else if let Some((prompt, _)) = &ui.confirm {
        Line::from(Span::styled(format!("{prompt} [y/N]"), ui.theme.error()))
    } else if let Some((is_err, text)) = &ui.message {
        let style = if *is_err { ui.theme.error() } else { Style::default() };
        Line::from(Span::styled(clean(text), style))
    } else {
        return (Line::from(Span::styled(keys::hints(&ui.keymap, app.screen()), ui.theme.muted())), true);
    };
    (line, false)
}

/// `line` cut to `width` columns, ending with `tail`.
fn clip(line: Line<'static>, width: usize, tail: &str) -> Line<'static> {
    let style = line.spans.first().map(|s| s.style).unwrap_or_default();
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let kept: String = text.chars().take(width).collect();
    Line::from(Span::styled(format!("{kept}{tail}"), style))
}

#[cfg(test)]
mod tests;
