//! The frame around the panes: tabs, the pane on screen, the footer (key hints from the key
//! table, a message, a question or a prompt), the status line and the overlays.

use super::{App, keys};
use crate::config::keymap::Action;
use crate::panes::Pane;
use crate::widgets::list::clean;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

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
                if p.purpose.masks() {
                    format!("{}▏{}", "•".repeat(before.chars().count()), "•".repeat(after.chars().count()))
                } else {
                    format!("{}▏{}", clean(&before), clean(&after))
                }
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
