//! A question becomes a rule file: the YAML must parse, its query plan against the lake, and
//! its own tests (at least one that fires and one that does not) pass, as `rules validate` and
//! `rules test` check them; what fails goes back for one correction round, and what still
//! fails is shown with the draft.

use super::query::{LakeView, clean_question};
use super::{Assistant, Task, answer, llm::Turn, prompt};
use crate::error::Result;
use crate::local::Lake;
use crate::rules::{self, runner};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct RuleDraft {
    pub yaml: String,
    /// What `rules validate` and `rules test` still say against it (empty: it passes).
    pub problems: Vec<String>,
    /// Tests that passed, of how many.
    pub tests_passed: (usize, usize),
    pub corrected: bool,
}

impl RuleDraft {
    pub fn passes(&self) -> bool {
        self.problems.is_empty()
    }
}

pub async fn draft(
    assistant: &Assistant,
    question: &str,
    view: &LakeView<'_>,
    lake: &Lake,
) -> Result<RuleDraft> {
    let question = clean_question(question)?;
    let system = prompt::for_rule(view.tables);
    let mut turns = vec![Turn::user(question)];
    let mut corrected = false;
    loop {
        let reply = assistant.complete(Task::Detection, &system, &turns).await?;
        let (yaml, problems, tests_passed) = match answer::yaml(&reply) {
            Ok(yaml) => {
                let (problems, passed) = check(view, lake, &yaml).await;
                (yaml, problems, passed)
            }
            Err(e) => (String::new(), vec![e], (0, 0)),
        };
        if problems.is_empty() || corrected {
            return Ok(RuleDraft { yaml, problems, tests_passed, corrected });
        }
        corrected = true;
        turns.push(Turn::assistant(reply));
        turns.push(Turn::user(format!(
            "The rule file does not pass its checks:\n- {}\nAnswer with the whole corrected file in a ```yaml block.",
            problems.join("\n- ")
        )));
    }
}

/// Everything `rules validate` and `rules test` would say is wrong, and tests passed of run.
pub async fn check(view: &LakeView<'_>, lake: &Lake, yaml: &str) -> (Vec<String>, (usize, usize)) {
    let path = Path::new("draft.yml");
    let (loaded, diagnostics) = rules::validate::check_text(view.session, lake, path, yaml).await;
    let mut problems: Vec<String> =
        diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
    let Some(loaded) = loaded else { return (problems, (0, 0)) };
    let loaded = [loaded];
    problems.extend(runner::coverage_problems(&loaded, 2).iter().map(|d| d.to_string()));
    if !problems.is_empty() {
        return (problems, (0, 0));
    }
    let outcomes = runner::run_tests(&loaded).await;
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    for o in outcomes.iter().filter(|o| !o.passed()) {
        let why = o.result.as_ref().err().cloned().unwrap_or_default();
        problems.push(format!("draft.yml:{}: test `{}` fails: {why}", o.line, o.test));
    }
    (problems, (passed, outcomes.len()))
}
