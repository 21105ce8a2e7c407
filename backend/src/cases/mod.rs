//! Cases as analysts work them: opened from alerts, alerts added and removed, fields changed,
//! closed with a judgement that resolves its alerts, each change logged on the case and on the
//! alerts it touches; and a case read whole (its alerts, entities and merged timeline).

pub mod suggest;

use crate::error::{Error, Result};
use crate::model::{
    Activity, ActivityKind, Alert, AlertStatus, Case, CaseStatus, Classification, MAX_CASE_ALERTS,
    MAX_TITLE_CHARS, Severity, case_changes,
};
use crate::services::Services;
use crate::timeline::{EntityKind, entities_of_alert, timeline_sql_of};
use chrono::{DateTime, Duration, Utc};

/// Tries of a change that lost the race to another writer before it gives up.
const WRITE_TRIES: usize = 8;

/// What an analyst changes on a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Title(String),
    /// None: from its alerts again.
    Severity(Option<Severity>),
    Owner(Option<String>),
    Status(CaseStatus),
    Note(String),
    Add(Vec<String>),
    Remove(Vec<String>),
    /// Closed with a judgement; its open alerts are resolved with it.
    Close {
        classification: Classification,
        reason: Option<String>,
    },
}

impl Change {
    /// A field set by name, as `mantissa cases set` and `:case` take it: `title TEXT`, `owner
    /// NAME` (empty clears), `severity critical..info|auto` (auto: its alerts' highest),
    /// `status open|in_progress` (closing takes a judgement: [`Change::Close`]).
    pub fn parse(field: &str, value: &str) -> Result<Change> {
        let value = value.trim();
        let bad = |reason: String| Error::invalid(format!("case {field}"), reason);
        Ok(match field {
            "title" => Change::Title(value.to_string()),
            "owner" => Change::Owner((!value.is_empty()).then(|| value.to_string())),
            "severity" if value == "auto" || value.is_empty() => Change::Severity(None),
            "severity" => Change::Severity(Some(
                value
                    .parse::<Severity>()
                    .map_err(|e| bad(format!("{e}, or auto for its alerts' highest")))?,
            )),
            "status" => Change::Status(match value.replace([' ', '-'], "_").as_str() {
                "open" => CaseStatus::Open,
                "in_progress" | "working" => CaseStatus::InProgress,
                "closed" => return Err(bad("close it with a judgement: tp|bp|fp|un and why".into())),
                other => return Err(bad(format!("`{other}`: open or in_progress"))),
            }),
            other => {
                return Err(Error::invalid(
                    "case field",
                    format!("`{other}` is no case field: title, owner, severity or status"),
                ));
            }
        })
    }
}

/// Opens a case of these alerts (none is fine: alerts come later) as `who`.
pub async fn open(s: &Services, user_id: &str, who: &str, title: &str, alert_ids: &[String]) -> Result<Case> {
    let title = checked_title(title)?;
    let alerts = read_alerts(s, user_id, alert_ids).await?;
    let now = s.clock.now();
    loop {
        let id = format!("case-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let mut case = Case::new(&id, user_id, &title, who, now);
        case.alert_ids = alerts.iter().map(|a| a.id.clone()).collect();
        case.take_severity_of(&alerts);
        case.version = 1;
        // Eight hex digits collide about once in 65 000 cases: then another id.
        if s.cases.put_case(&case).await? {
            let mut log = case_changes(None, &case, who, now);
            log.extend(alert_entries(&case, &case.alert_ids, "in", who, now));
            s.activity.append_activity(user_id, &log).await?;
            return Ok(case);
        }
    }
}

/// Applies `change` to the stored case as `who`; when another writer changed it meanwhile,
/// reads it again and applies the change to that, so neither change is lost.
pub async fn change(s: &Services, user_id: &str, who: &str, case_id: &str, change: &Change) -> Result<Case> {
    for _ in 0..WRITE_TRIES {
        let stored = get(s, user_id, case_id).await?;
        let mut case = stored.clone();
        let now = s.clock.now();
        apply(s, user_id, &mut case, change, who, now).await?;
        let mut log = case_changes(Some(&stored), &case, who, now);
        if log.is_empty() {
            return Ok(stored);
        }
        case.version = stored.version + 1;
        case.updated_at = now;
        if !s.cases.put_case(&case).await? {
            continue;
        }
        let added: Vec<String> =
            case.alert_ids.iter().filter(|id| !stored.alert_ids.contains(id)).cloned().collect();
        let removed: Vec<String> =
            stored.alert_ids.iter().filter(|id| !case.alert_ids.contains(id)).cloned().collect();
        log.extend(alert_entries(&case, &added, "in", who, now));
        log.extend(alert_entries(&case, &removed, "out of", who, now));
        s.activity.append_activity(user_id, &log).await?;
        if let Change::Close { classification, reason } = change {
            resolve_alerts(s, user_id, who, &case, *classification, reason.as_deref()).await?;
        }
        return Ok(case);
    }
    Err(Error::backend(
        "case",
        format!("{case_id} was changed by others {WRITE_TRIES} times while this change was made: try again"),
    ))
}

/// The stored case, or a not-found error naming it.
pub async fn get(s: &Services, user_id: &str, case_id: &str) -> Result<Case> {
    s.cases
        .get_case(user_id, case_id)
        .await?
        .ok_or_else(|| Error::NotFound { kind: "case", id: case_id.to_string() })
}

async fn apply(
    s: &Services,
    user_id: &str,
    case: &mut Case,
    change: &Change,
    who: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    match change {
        Change::Title(t) => case.title = checked_title(t)?,
        Change::Severity(sev) => case.severity = *sev,
        Change::Owner(o) => case.owner = o.as_ref().map(|o| o.trim().to_string()).filter(|o| !o.is_empty()),
        Change::Status(st) => {
            case.status = *st;
            if *st != CaseStatus::Closed {
                case.classification = None;
                case.classification_reason = None;
            }
        }
        Change::Note(text) => {
            let text = text.trim();
            if text.is_empty() {
                return Err(Error::invalid("case note", "the note is empty: say what was found or done"));
            }
            case.notes.push(format!("{} {who}: {text}", now.format("%Y-%m-%d %H:%M")));
        }
        Change::Add(ids) => {
            let alerts = read_alerts(s, user_id, ids).await?;
            for a in &alerts {
                if !case.alert_ids.contains(&a.id) {
                    case.alert_ids.push(a.id.clone());
                }
            }
            if case.alert_ids.len() > MAX_CASE_ALERTS {
                return Err(Error::invalid(
                    format!("case {}", case.id),
                    format!("a case holds at most {MAX_CASE_ALERTS} alerts: open another case for the rest"),
                ));
            }
            case.alert_severity =
                case.alert_severity.max(alerts.iter().map(|a| a.severity).max().unwrap_or_default());
        }
        Change::Remove(ids) => {
            case.alert_ids.retain(|id| !ids.contains(id));
            let (left, _gone) = stored_alerts(s, user_id, &case.alert_ids).await?;
            case.take_severity_of(&left);
        }
        Change::Close { classification, reason } => {
            case.status = CaseStatus::Closed;
            case.classification = Some(*classification);
            case.classification_reason = reason.clone().filter(|r| !r.trim().is_empty());
        }
    }
    Ok(())
}

/// The case's alerts still open, resolved with the case's judgement (through triage, so each
/// gets its own log entries).
async fn resolve_alerts(
    s: &Services,
    user_id: &str,
    who: &str,
    case: &Case,
    classification: Classification,
    reason: Option<&str>,
) -> Result<usize> {
    let (alerts, _gone) = stored_alerts(s, user_id, &case.alert_ids).await?;
    let why =
        reason.map_or_else(|| format!("case {} closed", case.id), |r| format!("{r} (case {})", case.id));
    let resolved: Vec<Alert> = alerts
        .into_iter()
        .filter(|a| a.status != AlertStatus::Resolved)
        .map(|mut a| {
            a.status = AlertStatus::Resolved;
            a.classification = Some(classification);
            a.classification_reason = Some(why.clone());
            a
        })
        .collect();
    crate::triage::save(s, user_id, who, &resolved).await?;
    Ok(resolved.len())
}

fn checked_title(title: &str) -> Result<String> {
    let title: String = title.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string();
    if title.is_empty() {
        return Err(Error::invalid("case title", "a case needs a title (e.g. `carol's account taken over`)"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(Error::invalid("case title", format!("at most {MAX_TITLE_CHARS} characters")));
    }
    Ok(title)
}

/// The alerts by id, in that order; an id that names no alert of the user is an error naming it.
async fn read_alerts(s: &Services, user_id: &str, ids: &[String]) -> Result<Vec<Alert>> {
    match stored_alerts(s, user_id, ids).await? {
        (found, gone) if gone.is_empty() => Ok(found),
        (_, gone) => Err(Error::NotFound { kind: "alert", id: gone[0].clone() }),
    }
}

/// The alerts by id that are still stored, and the ids that no longer name one (a case keeps
/// the ids of alerts deleted since).
async fn stored_alerts(s: &Services, user_id: &str, ids: &[String]) -> Result<(Vec<Alert>, Vec<String>)> {
    let (mut found, mut gone) = (Vec::with_capacity(ids.len()), vec![]);
    for id in ids {
        match s.alerts.get_alert(user_id, id).await? {
            Some(a) => found.push(a),
            None => gone.push(id.clone()),
        }
    }
    Ok((found, gone))
}

/// `in case case-1a2b3c4d: title` on each alert added; `out of case …` on each removed.
fn alert_entries(case: &Case, ids: &[String], how: &str, who: &str, at: DateTime<Utc>) -> Vec<Activity> {
    let detail = format!("{how} case {}: {}", case.id, case.title);
    ids.iter().map(|id| Activity::on(id, at, who, ActivityKind::Case, detail.clone())).collect()
}

/// One line of a case's merged timeline: what happened to the case or one of its alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `case`, or the alert's rule name.
    pub subject: String,
    pub who: String,
    pub what: String,
}

/// A case read whole.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: Case,
    pub alerts: Vec<Alert>,
    /// Alert ids of the case that no longer name a stored alert.
    pub missing: Vec<String>,
    /// The entities its alerts name, with how many alerts name each, the most shared first.
    pub entities: Vec<(EntityKind, String, usize)>,
    /// The case's log, its alerts' logs, their detections and new events, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

pub async fn show(s: &Services, user_id: &str, case_id: &str) -> Result<CaseView> {
    let case = get(s, user_id, case_id).await?;
    let (alerts, missing) = stored_alerts(s, user_id, &case.alert_ids).await?;
    let mut timeline: Vec<TimelineEntry> = s
        .activity
        .activity(user_id, &case.id)
        .await?
        .into_iter()
        .map(|e| TimelineEntry { at: e.at, subject: "case".into(), what: entry_text(&e), who: e.who })
        .collect();
    for a in &alerts {
        let subject = a.rule_name.clone();
        timeline.push(TimelineEntry {
            at: a.window_start,
            subject: subject.clone(),
            who: "detection".into(),
            what: format!("first event: {}", a.summary),
        });
        for h in &a.history {
            timeline.push(TimelineEntry {
                at: h.at,
                subject: subject.clone(),
                who: "detection".into(),
                what: h.what.clone(),
            });
        }
        for e in s.activity.activity(user_id, &a.id).await? {
            // The case's own entries say it already.
            if e.kind == ActivityKind::Case && e.detail.contains(&case.id) {
                continue;
            }
            timeline.push(TimelineEntry {
                at: e.at,
                subject: subject.clone(),
                who: e.who.clone(),
                what: entry_text(&e),
            });
        }
    }
    timeline.sort_by_key(|e| e.at);
    let timeline = fold_alike(timeline);
    let entities = shared_entities(&alerts);
    Ok(CaseView { case, alerts, missing, entities, timeline })
}

/// One line for what a single act did to many alerts at once (a close resolving 28 alerts logs
/// 56 entries; opening a case of 28 alerts logs 28 additions): entries of the same time, author
/// and text become `28 alerts · …`, and the case's `alert … added` lines `28 alerts added`.
fn fold_alike(sorted: Vec<TimelineEntry>) -> Vec<TimelineEntry> {
    // The text an entry shares with its like: a case's addition or removal without the alert.
    let generic = |e: &TimelineEntry| -> String {
        let is_case = e.subject == "case";
        match e.what.strip_prefix("alert ") {
            Some(rest) if is_case && rest.ends_with(" added") => "an alert added".into(),
            Some(rest) if is_case && rest.ends_with(" removed") => "an alert removed".into(),
            _ => e.what.clone(),
        }
    };
    let mut out: Vec<(TimelineEntry, usize)> = vec![];
    let mut seen: std::collections::HashMap<(DateTime<Utc>, String, String, bool), usize> =
        Default::default();
    for e in sorted {
        let key = (e.at, e.who.clone(), generic(&e), e.subject == "case");
        match seen.get(&key) {
            Some(&i) => out[i].1 += 1,
            None => {
                seen.insert(key, out.len());
                out.push((e, 1));
            }
        }
    }
    out.into_iter()
        .map(|(mut e, n)| {
            if n > 1 && e.subject == "case" {
                e.what = generic(&e).replace("an alert", &format!("{n} alerts"));
            } else if n > 1 {
                e.subject = format!("{n} alerts");
            }
            e
        })
        .collect()
}

fn entry_text(e: &Activity) -> String {
    match e.kind {
        ActivityKind::Note | ActivityKind::Case => e.detail.clone(),
        kind => format!("{}: {}", kind.name(), e.detail),
    }
}

/// The entities of `alerts`, each with how many of them name it, the most shared first (then
/// in the order found).
pub fn shared_entities(alerts: &[Alert]) -> Vec<(EntityKind, String, usize)> {
    let mut out: Vec<(EntityKind, String, usize)> = vec![];
    for a in alerts {
        for (kind, value) in entities_of_alert(a) {
            match out.iter_mut().find(|(_, v, _)| *v == value) {
                Some(e) => e.2 += 1,
                None => out.push((kind, value, 1)),
            }
        }
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.2));
    out
}

/// The merged timeline of the case's entities across every log table: the addresses and access
/// keys it names (an intruder's handles, the most shared first, at most four), else the
/// entities two or more of its alerts share, else its first two; over its alerts' span with an
/// hour either side. None when its alerts name no entity.
pub fn lake_timeline_sql(view: &CaseView) -> Option<String> {
    let pick = |keep: &dyn Fn(&(EntityKind, String, usize)) -> bool, n: usize| -> Vec<(EntityKind, String)> {
        view.entities.iter().filter(|e| keep(e)).take(n).map(|(k, v, _)| (*k, v.clone())).collect()
    };
    let mut chosen = pick(&|e| matches!(e.0, EntityKind::Ip | EntityKind::AccessKey), 4);
    if chosen.is_empty() {
        chosen = pick(&|e| e.2 >= 2, 4);
    }
    if chosen.is_empty() {
        chosen = pick(&|_| true, 2);
    }
    if chosen.is_empty() {
        return None;
    }
    // Checked: evidence times come from logs, and a forged extreme year must not panic.
    let from = view.alerts.iter().map(|a| a.window_start).min()?.checked_sub_signed(Duration::hours(1))?;
    let to = view.alerts.iter().map(|a| a.window_end).max()?.checked_add_signed(Duration::hours(1))?;
    Some(timeline_sql_of(&chosen, from, to))
}

/// `tp|bp|fp|un [REASON]` as a closing judgement.
pub fn parse_close(text: &str) -> Result<(Classification, Option<String>)> {
    let (word, reason) = text.trim().split_once(' ').map_or((text.trim(), ""), |(w, r)| (w, r.trim()));
    let Some(class) = Classification::parse(word) else {
        return Err(Error::invalid(
            "case close",
            format!("`{word}` is no classification: tp, bp, fp or un, then the reason"),
        ));
    };
    Ok((class, (!reason.is_empty()).then(|| reason.to_string())))
}
