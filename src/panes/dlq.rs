//! The DLQ pane: dead letters with their integration, alert, receive count, last error and age;
//! the payload view; redrive one, the marked or all; delete after a confirmation.

use super::{Component, detail};
use crate::component::{Job, Msg, Ui};
use crate::config::keymap::{Action, Screen};
use crate::widgets::list::{Columns, List, Record, age, clean};
use crate::widgets::popup::TextView;
use mantissa_backend::detect::DeliveryMessage;
use mantissa_backend::ports::DeadLetter;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;

#[derive(Default)]
pub struct DlqPane {
    pub list: List<DeadLetter>,
}

impl Record for DeadLetter {
    fn id(&self) -> String {
        self.message_id.clone()
    }
    fn haystack(&self) -> String {
        format!("{} {} {}", self.group_id, self.body, self.last_error.as_deref().unwrap_or(""))
    }
}

impl DlqPane {
    /// Every dead letter of this user back to the queue, after a confirmation.
    pub fn redrive_all(&self, ui: &mut Ui) -> Vec<Job> {
        let ids: Vec<String> = self.list.items.iter().map(Record::id).collect();
        if ids.is_empty() {
            ui.info("the DLQ is empty");
            return vec![];
        }
        ui.ask(format!("redrive all {} dead letters?", ids.len()), Job::Redrive(ids))
    }
}

impl Component for DlqPane {
    fn screen(&self) -> Screen {
        Screen::Dlq
    }

    fn handle_key(&mut self, action: Action, ui: &mut Ui) -> Vec<Job> {
        if let Some(done) = self.list.act(action) {
            ui.listed(done);
            return vec![];
        }
        match action {
            Action::Open => {
                if let Some(d) = self.list.selected() {
                    ui.popup = Some(TextView::new(
                        format!("message {}", d.message_id),
                        detail::dead_letter(d, &ui.theme),
                    ));
                }
                vec![]
            }
            Action::Redrive => match self.list.take_targets().as_slice() {
                [] => vec![],
                [one] => ui.ask(format!("redrive message {one}?"), Job::Redrive(vec![one.clone()])),
                many => ui.ask(format!("redrive {} messages?", many.len()), Job::Redrive(many.to_vec())),
            },
            Action::RedriveAll => self.redrive_all(ui),
            Action::Delete => match self.list.take_targets().as_slice() {
                [] => vec![],
                [one] => ui.ask(format!("delete message {one} for good?"), Job::DeleteDead(one.clone())),
                many => {
                    // One confirmation for the batch; each deletion is its own job.
                    let jobs = many.iter().map(|id| Job::DeleteDead(id.clone())).collect();
                    ui.ask(format!("delete {} messages for good?", many.len()), Job::Batch(jobs))
                }
            },
            _ => vec![],
        }
    }

    fn update(&mut self, msg: Msg, _ui: &mut Ui) -> bool {
        match msg {
            Msg::Dlq(letters) => self.list.set(letters),
            _ => false,
        }
    }

    fn filter(&mut self, text: &str, _done: bool) -> Vec<Job> {
        self.list.set_filter(text);
        vec![]
    }

    fn render(&self, f: &mut Frame, area: Rect, ui: &Ui) {
        let t = &ui.theme;
        let columns = Columns {
            title: " dead letters ",
            header: vec!["age", "integration", "alert", "tries", "last error"],
            widths: vec![
                Constraint::Length(4),
                Constraint::Length(14),
                Constraint::Min(20),
                Constraint::Length(5),
                Constraint::Min(20),
            ],
        };
        let cells = |d: &DeadLetter| {
            let msg: Option<DeliveryMessage> = serde_json::from_str(&d.body).ok();
            vec![
                Cell::from(age(d.sent_at)),
                Cell::from(clean(msg.as_ref().map_or("?", |m| m.integration_id.as_str()))),
                Cell::from(clean(msg.as_ref().map_or("unreadable message", |m| m.alert.summary.as_str()))),
                Cell::from(d.receive_count.to_string()),
                Cell::from(clean(d.last_error.as_deref().unwrap_or(""))).style(t.error()),
            ]
        };
        self.list.render(f, area, columns, cells, t, ui.filter_input.is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::Pending;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn letter(id: &str) -> DeadLetter {
        DeadLetter {
            message_id: id.into(),
            group_id: "analyst:hook".into(),
            body: "{}".into(),
            receive_count: 3,
            last_error: Some("HTTP 500".into()),
            sent_at: chrono::Utc::now(),
        }
    }

    /// The pane on its own, without the app: replies fill it, actions ask through `Ui`, and
    /// drawing reads its state only.
    #[test]
    fn the_dlq_pane_as_a_component() {
        let mut ui = Ui::new(false);
        let mut pane = DlqPane::default();
        let letters = vec![letter("m1"), letter("m2")];
        assert!(pane.update(Msg::Dlq(letters.clone()), &mut ui));
        assert!(!pane.update(Msg::Dlq(letters), &mut ui), "nothing new: no redraw");
        assert!(!pane.update(Msg::Alerts(vec![]), &mut ui), "not this pane's reply");

        pane.handle_key(Action::Mark, &mut ui);
        pane.handle_key(Action::Mark, &mut ui);
        assert!(pane.handle_key(Action::Redrive, &mut ui).is_empty(), "nothing runs before `y`");
        let Some((prompt, Pending::Run(job))) = ui.confirm.take() else { panic!("a confirmation") };
        assert_eq!(prompt, "redrive 2 messages?");
        assert!(matches!(*job, Job::Redrive(ids) if ids == ["m1", "m2"]));
        assert!(pane.list.marks.is_empty(), "the redrive used the marks up");

        let draw = |pane: &DlqPane| {
            let mut t = Terminal::new(TestBackend::new(80, 6)).unwrap();
            t.draw(|f| pane.render(f, f.area(), &ui)).unwrap();
            t.backend().buffer().clone()
        };
        let first = draw(&pane);
        assert_eq!(first, draw(&pane), "drawing changes nothing");
        let text: String = first.content.iter().map(|c| c.symbol()).collect();
        assert!(text.contains("HTTP 500") && text.contains("dead letters"), "{text}");

        let mut read_only = Ui::new(true);
        assert!(pane.handle_key(Action::RedriveAll, &mut read_only).is_empty());
        assert!(read_only.confirm.is_none());
        assert!(read_only.message.unwrap().1.contains("read-only"));
    }
}
