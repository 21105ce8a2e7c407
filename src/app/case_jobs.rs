//! The cases' backend work for the console: a case read whole, opened, changed (then the list
//! again, so the pane shows it at once), and the suggestions.

use super::{Context, Msg};
use mantissa_backend::cases::{self, Change, suggest};

/// How far apart the alerts of one suggested case may be.
const SUGGEST_WINDOW_HOURS: i64 = 24;

pub async fn load(ctx: &Context, case_id: &str, timeline: bool) -> Msg {
    let view = cases::show(&ctx.s, &ctx.user, case_id).await.map(Box::new).map_err(|e| e.to_string());
    Msg::CaseView { timeline, view }
}

pub async fn list(ctx: &Context) -> Msg {
    match ctx.s.cases.list_cases(&ctx.user).await {
        Ok(cases) => Msg::Cases(cases),
        Err(e) => Msg::Error(format!("cannot list the cases: {e}")),
    }
}

pub async fn open(ctx: &Context, title: &str, alert_ids: &[String]) -> Vec<Msg> {
    let said = match cases::open(&ctx.s, &ctx.user, &ctx.user, title, alert_ids).await {
        Ok(c) => Msg::Info(format!(
            "{} opened: {} ({} alert(s)); the cases pane (6) shows it",
            c.id,
            c.title,
            c.alert_ids.len()
        )),
        Err(e) => Msg::Error(format!("the case was not opened: {e}")),
    };
    vec![said, list(ctx).await]
}

pub async fn change(ctx: &Context, case_id: &str, change: &Change) -> Vec<Msg> {
    let said = match cases::change(&ctx.s, &ctx.user, &ctx.user, case_id, change).await {
        Ok(c) => Msg::Info(format!("{} {}", c.id, done(change, c.alert_ids.len()))),
        Err(e) => Msg::Error(format!("{case_id} not changed: {e}")),
    };
    vec![said, list(ctx).await]
}

fn done(change: &Change, alerts: usize) -> String {
    match change {
        Change::Title(t) => format!("renamed {t}"),
        Change::Severity(Some(s)) => format!("severity {s}"),
        Change::Severity(None) => "severity from its alerts".into(),
        Change::Owner(Some(o)) => format!("owned by {o}"),
        Change::Owner(None) => "has no owner".into(),
        Change::Status(s) => s.name().to_string(),
        Change::Note(_) => "noted".into(),
        Change::Add(ids) => format!("takes {} more alert(s): {alerts} in all", ids.len()),
        Change::Remove(ids) => format!("gave up {} alert(s): {alerts} left", ids.len()),
        Change::Close { classification, .. } => {
            format!("closed as {}; its open alerts resolved with it", classification.name())
        }
    }
}

pub async fn suggestions(ctx: &Context) -> Msg {
    let window = chrono::Duration::hours(SUGGEST_WINDOW_HOURS);
    Msg::Suggestions(suggest::suggestions(&ctx.s, &ctx.user, window).await.map_err(|e| e.to_string()))
}
