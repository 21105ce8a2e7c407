//! A form over the pane: labelled one-line fields (text, number, list, `Name: value` pairs,
//! a secret drawn masked, a choice cycled with Left/Right), the focused field's hint and a
//! status line for checks and test results.

use super::input::LineInput;
use super::popup::wrap_line;
use crate::config::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use mantissa_backend::text::neutralize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    /// Comma-separated values.
    List,
    /// `Name: value; Other: value`.
    Pairs,
    /// Typed but never drawn: the screen shows one dot per character, at most 12.
    Secret,
    /// One of these, cycled with Left/Right/Space.
    Choice(&'static [&'static str]),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: String,
    pub kind: FieldKind,
    pub required: bool,
    pub input: LineInput,
}

impl Field {
    pub fn new(key: &'static str, label: &'static str, kind: FieldKind) -> Self {
        let input = match kind {
            FieldKind::Choice(options) => LineInput::new(options[0]),
            _ => LineInput::default(),
        };
        Field { key, label, hint: String::new(), kind, required: false, input }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.input.text = value.into();
        self
    }
}

#[derive(Debug, Clone)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// `(is_error, text)`: a check that failed, a test that passed.
    pub status: Option<(bool, String)>,
    /// Drawn for a secret field left empty (e.g. "stored: keep it").
    pub secret_kept: Option<String>,
    /// The values it opened with: anything else is typed, and closing asks first.
    opened_with: Vec<String>,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<Field>) -> Self {
        let opened_with = fields.iter().map(|f| f.input.text.clone()).collect();
        Form { title: title.into(), fields, focus: 0, status: None, secret_kept: None, opened_with }
    }

    /// Something was typed or chosen since it opened.
    pub fn changed(&self) -> bool {
        self.fields.iter().map(|f| &f.input.text).ne(self.opened_with.iter())
    }

    pub fn get(&self, key: &str) -> &str {
        self.fields.iter().find(|f| f.key == key).map_or("", |f| f.input.text.trim())
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.key == key) {
            f.input.text = value.into();
        }
    }

    pub fn focused(&self) -> &Field {
        &self.fields[self.focus]
    }

    pub fn step(&mut self, delta: isize) {
        let n = self.fields.len() as isize;
        self.focus = (self.focus as isize + delta).rem_euclid(n) as usize;
    }

    /// The first required field left empty, by label.
    pub fn missing(&self) -> Option<&'static str> {
        self.fields.iter().find(|f| f.required && f.input.text.trim().is_empty()).map(|f| f.label)
    }

    /// A key no action took: text for the focused field, or a choice's next/previous option.
    /// Enter moves on to the next field.
    pub fn input(&mut self, key: KeyEvent) {
        let field = &mut self.fields[self.focus];
        if let FieldKind::Choice(options) = field.kind {
            let at = options.iter().position(|o| *o == field.input.text).unwrap_or(0) as isize;
            let delta = match key.code {
                KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('l') => 1,
                KeyCode::Left | KeyCode::Char('h') => -1,
                KeyCode::Enter => return self.step(1),
                _ => return,
            };
            field.input.text = options[(at + delta).rem_euclid(options.len() as isize) as usize].to_string();
            return;
        }
        if key.code == KeyCode::Enter {
            return self.step(1);
        }
        if key.code != KeyCode::Esc {
            field.input.key(key);
        }
    }

    fn shown(&self, field: &Field) -> String {
        let text = &field.input.text;
        match field.kind {
            FieldKind::Secret if text.is_empty() => self.secret_kept.clone().unwrap_or_default(),
            FieldKind::Secret => "•".repeat(text.chars().count().min(12)),
            FieldKind::Choice(options) => options
                .iter()
                .map(|o| if o == text { format!("[{o}]") } else { o.to_string() })
                .collect::<Vec<_>>()
                .join(" "),
            _ => neutralize(text).into_owned(),
        }
    }

    /// Drawn centred over `area` (the footer below has the key hints).
    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let w = area.width.saturating_sub(2).min(78);
        // A long status (a test send's error) wraps onto up to three lines rather than being cut.
        let status: Vec<Line> = match &self.status {
            Some((is_error, text)) => {
                let style = if *is_error { theme.error() } else { theme.ok() };
                let line = Line::from(Span::styled(neutralize(text).into_owned(), style));
                wrap_line(&line, w.saturating_sub(2).max(1) as usize).into_iter().take(3).collect()
            }
            None => vec![Line::from("")],
        };
        let h = (self.fields.len() as u16 + 4 + status.len() as u16).min(area.height);
        let rect =
            Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
        let label_w = self.fields.iter().map(|f| f.label.chars().count()).max().unwrap_or(0) + 2;
        let value_w = (w as usize).saturating_sub(label_w + 4);
        let mut lines = vec![];
        for (i, field) in self.fields.iter().enumerate() {
            let focused = i == self.focus;
            let mark = if field.required { "*" } else { " " };
            let label = format!("{mark}{:<width$}", field.label, width = label_w - 1);
            let empty_kept = field.kind == FieldKind::Secret && field.input.text.is_empty();
            let caret = focused && !matches!(field.kind, FieldKind::Secret | FieldKind::Choice(_));
            // A text field draws its caret where the cursor is; a long value shows the part
            // around it.
            let (mut before, after) = match caret {
                true => {
                    let (b, a) = field.input.split();
                    (neutralize(&b).into_owned(), neutralize(&a).into_owned())
                }
                false => (self.shown(field), String::new()),
            };
            let room = value_w.saturating_sub(1);
            let count = before.chars().count();
            if count > room {
                before = format!("…{}", before.chars().skip(count + 1 - room).collect::<String>());
            }
            let after: String = after.chars().take(room.saturating_sub(before.chars().count())).collect();
            let value_style = if empty_kept { theme.muted() } else { Style::default() };
            let mut spans = vec![
                Span::styled(label, if focused { theme.selected() } else { theme.header() }),
                Span::raw(" "),
                Span::styled(before, value_style),
            ];
            if focused && !matches!(field.kind, FieldKind::Choice(_)) {
                spans.push(Span::raw("▏"));
            }
            spans.push(Span::styled(after, value_style));
            lines.push(Line::from(spans));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(neutralize(&self.focused().hint).into_owned(), theme.muted())));
        lines.extend(status);
        let block = Block::bordered().border_style(theme.focus()).title(format!(" {} ", self.title));
        f.render_widget(Clear, rect);
        f.render_widget(Paragraph::new(lines).block(block), rect);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn fields_take_text_choices_cycle_and_enter_moves_on() {
        const SEV: &[&str] = &["low", "high"];
        let mut form = Form::new(
            "t",
            vec![
                Field::new("name", "name", FieldKind::Text).required(),
                Field::new("sev", "severity", FieldKind::Choice(SEV)),
            ],
        );
        assert_eq!(form.missing(), Some("name"));
        for c in "ops".chars() {
            form.input(key(KeyCode::Char(c)));
        }
        form.input(key(KeyCode::Enter));
        assert_eq!((form.get("name"), form.focus), ("ops", 1));
        form.input(key(KeyCode::Right));
        assert_eq!(form.get("sev"), "high");
        form.input(key(KeyCode::Right));
        assert_eq!(form.get("sev"), "low", "wraps around");
        form.input(key(KeyCode::Char('x')));
        assert_eq!(form.get("sev"), "low", "a choice takes no text");
        assert_eq!(form.missing(), None);
        form.step(1);
        assert_eq!(form.focus, 0, "Tab from the last field wraps to the first");
    }

    #[test]
    fn secrets_are_never_drawn() {
        let mut form = Form::new("t", vec![Field::new("secret", "token", FieldKind::Secret)]);
        form.secret_kept = Some("stored: keep it".into());
        let draw = |form: &Form| {
            let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(60, 8)).unwrap();
            t.draw(|f| form.render(f, f.area(), &Theme::default())).unwrap();
            let buf = t.backend().buffer().clone();
            buf.content.iter().map(|c| c.symbol()).collect::<String>()
        };
        assert!(draw(&form).contains("stored: keep it"));
        form.set("secret", "hunter2-very-long-token-value");
        let shown = draw(&form);
        assert!(!shown.contains("hunter2") && shown.contains("••••••••••••"), "{shown}");
        assert!(!shown.contains("•••••••••••••"), "at most 12 dots: the length is not shown");

        // A long status wraps instead of losing its end.
        form.status = Some((true, format!("test send to `hook`: {} refused END", "word ".repeat(24))));
        assert!(draw(&form).contains("refused END"));
    }
}
