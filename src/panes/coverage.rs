//! The ATT&CK coverage view: each cloud tactic with its techniques and the enabled rules that
//! detect them, the uncovered ones marked, from the rules pane's list (no backend call).

use crate::config::theme::Theme;
use crate::widgets::popup::TextView;
use mantissa_backend::model::Rule;
use mantissa_backend::rules::coverage::coverage;
use ratatui::text::{Line, Span};

pub fn view(rules: &[Rule], t: &Theme) -> TextView {
    let (tactics, unknown) = coverage(rules);
    let (covered, total): (usize, usize) =
        tactics.iter().fold((0, 0), |(c, n), tac| (c + tac.covered(), n + tac.techniques.len()));
    let mut lines = vec![];
    for tactic in &tactics {
        lines.push(Line::from(vec![
            Span::styled(tactic.name.to_string(), t.header()),
            Span::styled(format!("  {}/{}", tactic.covered(), tactic.techniques.len()), t.muted()),
        ]));
        for tech in &tactic.techniques {
            // Narrow enough that the rules wrap under themselves at 80 columns.
            let name: String = if tech.name.chars().count() > 24 {
                tech.name.chars().take(23).chain(['…']).collect()
            } else {
                tech.name.to_string()
            };
            let label = format!("  {:<10}{name:<25} ", tech.id);
            let rules = match tech.rules.as_slice() {
                [] => Span::styled("no rule", t.error()),
                some => Span::raw(some.join(", ")),
            };
            lines.push(Line::from(vec![Span::raw(label), rules]));
        }
    }
    if !unknown.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "tags outside the matrix (a typo, or a technique it lacks)",
            t.header(),
        )));
        for (rule, tag) in unknown {
            lines.push(Line::from(format!("  {rule}: {tag}")));
        }
    }
    let enabled = rules.iter().filter(|r| r.enabled).count();
    TextView::new(format!("ATT&CK coverage · {covered}/{total} techniques · {enabled} enabled rules"), lines)
}
