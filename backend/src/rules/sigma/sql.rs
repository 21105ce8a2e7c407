//! Boolean predicate trees and their rendering as readable, indented SQL, plus literal quoting.

/// Lines longer than this are broken at AND/OR.
const WIDTH: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pred {
    Leaf(String),
    And(Vec<Pred>),
    Or(Vec<Pred>),
    /// Sigma's `not`. In Sigma a selection on a missing field is simply false, so its negation is
    /// true; SQL would make both NULL and drop the row. The operand is therefore coalesced to false.
    Not(Box<Pred>),
    /// At least `n` of the predicates hold (`N of selection*`).
    AtLeast(u64, Vec<Pred>),
}

impl Pred {
    pub fn leaf(sql: impl Into<String>) -> Pred {
        Pred::Leaf(sql.into())
    }

    pub fn and(parts: Vec<Pred>) -> Pred {
        Self::join(parts, true)
    }

    pub fn or(parts: Vec<Pred>) -> Pred {
        Self::join(parts, false)
    }

    pub fn not(inner: Pred) -> Pred {
        Pred::Not(Box::new(inner))
    }

    fn join(parts: Vec<Pred>, and: bool) -> Pred {
        let mut flat = Vec::new();
        for part in parts {
            match part {
                Pred::And(children) if and => flat.extend(children),
                Pred::Or(children) if !and => flat.extend(children),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Pred::leaf(if and { "TRUE" } else { "FALSE" }),
            1 => flat.pop().expect("one element"),
            _ if and => Pred::And(flat),
            _ => Pred::Or(flat),
        }
    }

    fn is_compound(&self) -> bool {
        matches!(self, Pred::And(_) | Pred::Or(_))
    }
}

/// A SQL string literal.
pub(crate) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// True when lower-casing changes the text, i.e. case-insensitive matching needs `lower()`.
pub(crate) fn has_case(text: &str) -> bool {
    text.to_lowercase() != text.to_uppercase()
}

/// The predicate on one line, with compound operands parenthesised.
pub(crate) fn inline(pred: &Pred) -> String {
    match pred {
        Pred::Leaf(sql) => sql.clone(),
        Pred::And(parts) => join_inline(parts, " AND "),
        Pred::Or(parts) => join_inline(parts, " OR "),
        Pred::Not(inner) => format!("NOT coalesce({}, false)", inline(inner)),
        Pred::AtLeast(n, parts) => {
            let terms: Vec<String> =
                parts.iter().map(|p| format!("CASE WHEN {} THEN 1 ELSE 0 END", inline(p))).collect();
            format!("({}) >= {n}", terms.join(" + "))
        }
    }
}

fn join_inline(parts: &[Pred], separator: &str) -> String {
    parts
        .iter()
        .map(|p| if p.is_compound() { format!("({})", inline(p)) } else { inline(p) })
        .collect::<Vec<_>>()
        .join(separator)
}

/// Renders a predicate whose first line starts at column `indent`; continuation lines carry their
/// own indentation, so the result can be placed after any prefix on that line.
pub(crate) fn render(pred: &Pred, indent: usize) -> String {
    let flat = inline(pred);
    if indent + flat.len() <= WIDTH {
        return flat;
    }
    let pad = " ".repeat(indent);
    let inner_pad = " ".repeat(indent + 2);
    match pred {
        Pred::Leaf(sql) => sql.clone(),
        Pred::And(parts) | Pred::Or(parts) => {
            let op = if matches!(pred, Pred::And(_)) { "AND" } else { "OR" };
            let mut out = String::new();
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(&format!("\n{pad}{op} "));
                }
                out.push_str(&operand(part, indent));
            }
            out
        }
        Pred::Not(inner) => {
            // coalesce's own parentheses group a compound operand.
            format!("NOT coalesce(\n{inner_pad}{},\n{inner_pad}false\n{pad})", render(inner, indent + 2))
        }
        Pred::AtLeast(n, parts) => {
            let terms: Vec<String> = parts
                .iter()
                .map(|p| format!("CASE WHEN {} THEN 1 ELSE 0 END", operand(p, indent + 12)))
                .collect();
            format!("(\n{inner_pad}{}\n{pad}) >= {n}", terms.join(&format!("\n{inner_pad}+ ")))
        }
    }
}

/// An operand of AND/OR/NOT: compound operands get parentheses and, when long, their own block.
pub(crate) fn operand(pred: &Pred, indent: usize) -> String {
    if !pred.is_compound() {
        return render(pred, indent);
    }
    let flat = inline(pred);
    if indent + flat.len() + 2 <= WIDTH {
        return format!("({flat})");
    }
    let pad = " ".repeat(indent);
    format!("(\n{pad}  {}\n{pad})", render(pred, indent + 2))
}

/// Negates a finished leaf for `neq`. Unlike Sigma's `not`, a missing field stays a non-match:
/// `neq` asks for a value that differs, and an absent field has none.
pub(crate) fn negate(pred: &Pred) -> Pred {
    match pred {
        Pred::Leaf(sql) if is_call(sql) => Pred::leaf(format!("NOT {sql}")),
        other => Pred::leaf(format!("NOT ({})", inline(other))),
    }
}

/// Whether `sql` is one function call, `name(...)`, so NOT needs no parentheses.
fn is_call(sql: &str) -> bool {
    let Some(open) = sql.find('(') else { return false };
    if open == 0 || !sql[..open].chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || !sql.ends_with(')')
    {
        return false;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    for (i, c) in sql.char_indices().skip(open) {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return i == sql.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_predicates_stay_on_one_line() {
        let p =
            Pred::and(vec![Pred::leaf("a = 1"), Pred::or(vec![Pred::leaf("b = 2"), Pred::leaf("c = 3")])]);
        assert_eq!(render(&p, 2), "a = 1 AND (b = 2 OR c = 3)");
    }

    #[test]
    fn long_predicates_break_at_operators() {
        let long = "x".repeat(60);
        let p = Pred::or(vec![Pred::leaf(format!("{long} = 1")), Pred::leaf(format!("{long} = 2"))]);
        assert_eq!(render(&p, 2), format!("{long} = 1\n  OR {long} = 2"));
        assert_eq!(operand(&p, 2), format!("(\n    {long} = 1\n    OR {long} = 2\n  )"));
    }

    #[test]
    fn negate_keeps_calls_bare() {
        assert_eq!(negate(&Pred::leaf("regexp_like(a, 'x(y)')")), Pred::leaf("NOT regexp_like(a, 'x(y)')"));
        assert_eq!(negate(&Pred::leaf("lower(a) LIKE 'x'")), Pred::leaf("NOT (lower(a) LIKE 'x')"));
    }

    #[test]
    fn quoting_doubles_single_quotes() {
        assert_eq!(quote("it's"), "'it''s'");
    }
}
