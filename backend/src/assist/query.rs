//! A question becomes a query: the answer's SQL is planned against the lake's schemas before
//! it is offered; a query that does not plan (an unknown column, a missing function) goes
//! back once with the engine's error, and a second failure is shown with the SQL. The draft
//! says what it would scan and what that costs on Athena. It never runs by itself.

use super::{Assistant, Task, answer, llm::Turn, prompt};
use crate::error::{Error, Result};
use crate::local::Lake;
use crate::model::{athena_cost_usd, human_bytes};
use crate::ports::TableSchema;
use crate::rules::validate::{plan_query, scanned_tables};
use crate::services::Services;
use datafusion::prelude::SessionContext;
use std::collections::HashMap;

/// The longest question sent.
pub const MAX_QUESTION_CHARS: usize = 2_000;

/// A table the draft reads: whether `dt` prunes it, and its size in the lake when known.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub table: String,
    pub dt_filtered: bool,
    pub bytes: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct QueryDraft {
    pub sql: String,
    /// Why the SQL still does not plan after the correction round (shown with it).
    pub problem: Option<String>,
    /// The first answer did not plan and was corrected.
    pub corrected: bool,
    pub scan: Vec<Scan>,
}

impl QueryDraft {
    /// "reads cloudtrail_logs (dt-filtered, of 12 MB); at most $0.00005 on Athena".
    pub fn estimate(&self) -> String {
        if self.scan.is_empty() {
            return "reads no lake table".into();
        }
        let tables: Vec<String> = self
            .scan
            .iter()
            .map(|s| {
                let size = s.bytes.map(|b| format!(" of {}", human_bytes(b))).unwrap_or_default();
                let how = if s.dt_filtered { "days chosen by dt" } else { "whole table, no dt filter" };
                format!("{} ({how}{size})", s.table)
            })
            .collect();
        let bound: Option<u64> = self.scan.iter().map(|s| s.bytes).sum();
        let cost = match bound {
            Some(b) => format!("; at most ${:.5} on Athena (10 MB minimum per query)", athena_cost_usd(b)),
            None => String::new(),
        };
        format!("reads {}{cost}", tables.join(", "))
    }
}

/// Strips control characters and caps the length of what the user typed.
pub fn clean_question(question: &str) -> Result<String> {
    let q: String =
        question.chars().filter(|c| !c.is_control() || *c == '\n').take(MAX_QUESTION_CHARS).collect();
    let q = q.trim().to_string();
    if q.is_empty() {
        return Err(Error::invalid(
            "question",
            "empty: type what you want to find, e.g. `failed console logins by IP today`",
        ));
    }
    Ok(q)
}

/// What is known of the lake for the draft: its schemas, a planning session over them, and
/// each table's size where the backend knows it.
pub struct LakeView<'a> {
    pub tables: &'a [TableSchema],
    pub session: &'a SessionContext,
    pub sizes: &'a HashMap<String, u64>,
}

/// The facts a [`LakeView`] borrows, read once per request: the engine's tables (on AWS the
/// Glue catalog) and, for a lake in the data dir, the bytes of each table's files.
pub struct LakeFacts {
    pub tables: Vec<TableSchema>,
    pub session: SessionContext,
    pub sizes: HashMap<String, u64>,
}

impl LakeFacts {
    pub async fn read(s: &Services, lake: &Lake) -> Result<Self> {
        let tables = s.engine.tables().await?;
        let session = crate::query::planning_session(&tables)?;
        // An empty data-dir lake (the AWS backend's) says nothing of the tables' sizes.
        let sizes = lake
            .inventory()
            .into_iter()
            .filter(|(_, _, b)| *b > 0)
            .map(|(t, _, b)| (t.name().to_string(), b))
            .collect();
        Ok(LakeFacts { tables, session, sizes })
    }

    pub fn view(&self) -> LakeView<'_> {
        LakeView { tables: &self.tables, session: &self.session, sizes: &self.sizes }
    }
}

impl LakeView<'_> {
    /// The scan of `sql`, or why it does not plan.
    pub async fn check(&self, sql: &str) -> std::result::Result<Vec<Scan>, String> {
        let plan = plan_query(self.session, sql).await?;
        Ok(scanned_tables(&plan)
            .into_iter()
            .map(|(table, dt_filtered)| Scan { bytes: self.sizes.get(&table).copied(), table, dt_filtered })
            .collect())
    }
}

pub async fn ask(
    assistant: &Assistant,
    question: &str,
    lake: &LakeView<'_>,
    today: chrono::NaiveDate,
    look_back_days: i64,
) -> Result<QueryDraft> {
    let question = clean_question(question)?;
    let system = prompt::for_query(lake.tables, today, look_back_days);
    let mut turns = vec![Turn::user(question)];
    let mut corrected = false;
    loop {
        let reply = assistant.complete(Task::Query, &system, &turns).await?;
        let checked = match answer::sql(&reply) {
            Ok(sql) => lake.check(&sql).await.map(|scan| (sql.clone(), scan)).map_err(|e| (Some(sql), e)),
            Err(e) => Err((None, e)),
        };
        match checked {
            Ok((sql, scan)) => return Ok(QueryDraft { sql, problem: None, corrected, scan }),
            Err((sql, problem)) if corrected => {
                let Some(sql) = sql else {
                    return Err(Error::backend("assistant", format!("{}: {problem}", assistant.provider())));
                };
                return Ok(QueryDraft { sql, problem: Some(problem), corrected, scan: vec![] });
            }
            Err((_, problem)) => {
                corrected = true;
                turns.push(Turn::assistant(reply));
                turns.push(Turn::user(format!(
                    "That does not run on the lake: {problem}\nAnswer with the corrected query only, in a ```sql block."
                )));
            }
        }
    }
}
