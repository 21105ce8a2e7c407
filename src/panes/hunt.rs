//! What a retro-hunt or a backtest found, as a popup: each incident with its rule, times and
//! key (log text, so neutralized), a backtest's marked `+` added and `-` removed.

use crate::config::theme::Theme;
use crate::widgets::popup::TextView;
use mantissa_backend::model::RunWindow;
use mantissa_backend::rules::hunt::{Backtest, Hit, Hunt};
use mantissa_backend::text::neutralize;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub fn hunt_view(title: &str, found: &Hunt, t: &Theme) -> TextView {
    let mut lines = vec![Line::from(Span::styled(
        format!("{} windows in {} queries · nothing stored or sent", found.windows, found.queries),
        t.muted(),
    ))];
    lines.extend(found.hits.iter().map(|h| hit_line(h, None, t)));
    if found.hits.is_empty() {
        lines.push(Line::from("nothing would have fired"));
    }
    lines.extend(error_lines(&found.errors, t));
    TextView::new(format!("{title} · {} incident(s)", found.hits.len()), lines)
}

pub fn backtest_view(title: &str, found: &Backtest, t: &Theme) -> TextView {
    let mut lines: Vec<Line> = (found.added.iter().map(|h| hit_line(h, Some(("+", t.ok())), t)))
        .chain(found.removed.iter().map(|h| hit_line(h, Some(("-", t.error())), t)))
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(format!("no change: both raise the same {} incident(s)", found.unchanged)));
    }
    lines.extend(error_lines(&found.errors, t));
    let title = format!(
        "{title} · +{} -{} ={} · {} windows",
        found.added.len(),
        found.removed.len(),
        found.unchanged,
        found.windows
    );
    TextView::new(title, lines)
}

fn hit_line(h: &Hit, change: Option<(&'static str, Style)>, t: &Theme) -> Line<'static> {
    let mut spans = vec![];
    if let Some((mark, style)) = change {
        spans.push(Span::styled(format!("{mark} "), style));
    }
    spans.push(Span::styled(h.first.format("%m-%d %H:%M").to_string(), t.muted()));
    spans.push(Span::raw(format!(" {} ", h.rule_id)));
    spans.push(Span::styled(format!("{}×", h.events), t.muted()));
    spans.push(Span::raw(format!(" {}", neutralize(&h.key))));
    Line::from(spans)
}

fn error_lines(errors: &[(String, RunWindow, String)], t: &Theme) -> Vec<Line<'static>> {
    errors
        .iter()
        .map(|(rule, window, e)| {
            Line::from(Span::styled(format!("{rule}: {window}: {}", neutralize(e)), t.error()))
        })
        .collect()
}
