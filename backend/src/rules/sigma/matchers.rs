//! Translates one Sigma detection item (a field, its modifiers and its values) into a predicate,
//! following the Sigma modifier semantics: case-insensitive by default, lists OR-ed unless `all`.

use rsigma_parser::{DetectionItem, Modifier, SigmaString, SigmaValue, SpecialChar, StringPart};

use super::Failure;
use super::cidr::cidr;
use super::fields::{Field, Table};
use super::sql::{Pred, has_case, negate, quote};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    Re,
    Cidr,
    Exists,
    /// `fieldref`: the field equals another field of the same event.
    FieldRef,
    Compare(&'static str),
}

struct Spec {
    op: Operator,
    all: bool,
    neq: bool,
    cased: bool,
    regex_flags: String,
}

fn name(m: Modifier) -> &'static str {
    use Modifier::*;
    match m {
        Contains => "contains",
        StartsWith => "startswith",
        EndsWith => "endswith",
        All => "all",
        Base64 => "base64",
        Base64Offset => "base64offset",
        Wide => "wide",
        Utf16be => "utf16be",
        Utf16 => "utf16",
        WindAsh => "windash",
        Re => "re",
        Cidr => "cidr",
        Cased => "cased",
        Exists => "exists",
        Expand => "expand",
        FieldRef => "fieldref",
        Gt => "gt",
        Gte => "gte",
        Lt => "lt",
        Lte => "lte",
        Neq => "neq",
        IgnoreCase => "i",
        Multiline => "m",
        DotAll => "s",
        Minute => "minute",
        Hour => "hour",
        Day => "day",
        Week => "week",
        Month => "month",
        Year => "year",
    }
}

fn unsupported(m: Modifier, values: &[SigmaValue]) -> Option<Failure> {
    use Modifier::*;
    let message = match m {
        Base64 | Base64Offset | Wide | Utf16be | Utf16 => {
            "encoded-value modifiers are not supported; match the decoded value instead".to_string()
        }
        WindAsh => {
            "windash is for Windows command lines; list the `-` and `/` spellings as separate values".into()
        }
        Expand => {
            let placeholders: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
            return Some(Failure::new(
                format!("placeholder {}", placeholders.join(", ")),
                "the placeholder has no value here; replace it with the list of values it stands for and drop `|expand`",
            ));
        }
        Minute | Hour | Day | Week | Month | Year => {
            "timestamp-part modifiers are not supported; compare the whole timestamp instead".into()
        }
        _ => return None,
    };
    Some(Failure::new(format!("modifier `{}`", name(m)), message))
}

fn spec(modifiers: &[Modifier], values: &[SigmaValue]) -> Result<Spec, Failure> {
    if let Some(failure) = modifiers.iter().find_map(|m| unsupported(*m, values)) {
        return Err(failure);
    }
    let mut operators = Vec::new();
    let mut spec =
        Spec { op: Operator::Equals, all: false, neq: false, cased: false, regex_flags: String::new() };
    for m in modifiers {
        let op = match m {
            Modifier::Contains => Operator::Contains,
            Modifier::StartsWith => Operator::StartsWith,
            Modifier::EndsWith => Operator::EndsWith,
            Modifier::Re => Operator::Re,
            Modifier::Cidr => Operator::Cidr,
            Modifier::Exists => Operator::Exists,
            Modifier::FieldRef => Operator::FieldRef,
            Modifier::Gt => Operator::Compare(">"),
            Modifier::Gte => Operator::Compare(">="),
            Modifier::Lt => Operator::Compare("<"),
            Modifier::Lte => Operator::Compare("<="),
            Modifier::All => {
                spec.all = true;
                continue;
            }
            Modifier::Neq => {
                spec.neq = true;
                continue;
            }
            Modifier::Cased => {
                spec.cased = true;
                continue;
            }
            Modifier::IgnoreCase | Modifier::Multiline | Modifier::DotAll => {
                spec.regex_flags.push_str(name(*m));
                continue;
            }
            _ => continue,
        };
        operators.push((op, name(*m)));
    }
    let chain = || modifiers.iter().map(|m| name(*m)).collect::<Vec<_>>().join("|");
    if operators.len() > 1 {
        let names: Vec<&str> = operators.iter().map(|(_, n)| *n).collect();
        return Err(Failure::new(
            format!("modifiers `{}`", chain()),
            format!("{} each say how to compare; use one of them per field", names.join(" and ")),
        ));
    }
    if let Some((op, _)) = operators.first() {
        spec.op = *op;
    }
    if !spec.regex_flags.is_empty() && spec.op != Operator::Re {
        return Err(Failure::new(format!("modifiers `{}`", chain()), "the regex flags i, m and s need `re`"));
    }
    if spec.op == Operator::Exists && (spec.neq || spec.all) {
        return Err(Failure::new(
            format!("modifiers `{}`", chain()),
            "`exists` takes no other modifiers; write `exists: false` for a missing field",
        ));
    }
    Ok(spec)
}

enum Atom {
    Eq { base: String, literal: Literal },
    Like { base: String, pattern: String, escaped: bool },
    Null { base: String },
    Raw(Pred),
}

#[derive(Clone)]
enum Literal {
    Text(String),
    Number(String),
}

/// The predicate for one detection item; fields it touches are appended to `used`.
pub(crate) fn item_pred(item: &DetectionItem, table: &Table, used: &mut Vec<Field>) -> Result<Pred, Failure> {
    let Some(field_name) = &item.field.name else {
        return Err(keyword_failure());
    };
    let spec = spec(&item.field.modifiers, &item.values)?;
    let field = table.resolve(field_name)?;
    if !used.iter().any(|f| f.label == field.label) {
        used.push(field.clone());
    }
    if spec.op == Operator::Exists {
        return exists(&field, &item.values);
    }
    if spec.op == Operator::FieldRef {
        return field_ref(&field, &item.values, table, &spec, used);
    }
    if item.values.is_empty() {
        return Err(Failure::new(
            format!("field `{field_name}`"),
            "the field has an empty list of values; give at least one",
        ));
    }
    let atoms = item.values.iter().map(|v| atom(v, &field, &spec)).collect::<Result<Vec<_>, _>>()?;
    Ok(combine(atoms, &spec))
}

pub(crate) fn keyword_failure() -> Failure {
    Failure::new(
        "keyword search",
        "keyword search is not supported; name the field, e.g. `eventName|contains: value`",
    )
}

/// `a|fieldref: b`: the two fields hold the same value (case-insensitive unless `cased`, as
/// Sigma compares strings); several names are OR-ed unless `all`.
fn field_ref(
    field: &Field,
    values: &[SigmaValue],
    table: &Table,
    spec: &Spec,
    used: &mut Vec<Field>,
) -> Result<Pred, Failure> {
    let mut preds = vec![];
    for value in values {
        let SigmaValue::String(name) = value else {
            return Err(value_failure(field, "fieldref", "the name of another field"));
        };
        let other = table.resolve(&name.original)?;
        let pred = if field.is_numeric() && other.is_numeric() {
            format!("{} = {}", field.value_sql(), other.value_sql())
        } else if spec.cased {
            format!("{} = {}", field.text_sql(), other.text_sql())
        } else {
            format!("lower({}) = lower({})", field.text_sql(), other.text_sql())
        };
        let pred = Pred::leaf(pred);
        preds.push(if spec.neq { negate(&pred) } else { pred });
        if !used.iter().any(|f| f.label == other.label) {
            used.push(other);
        }
    }
    if values.is_empty() {
        return Err(value_failure(field, "fieldref", "the name of another field"));
    }
    Ok(if spec.all != spec.neq { Pred::and(preds) } else { Pred::or(preds) })
}

fn exists(field: &Field, values: &[SigmaValue]) -> Result<Pred, Failure> {
    let wanted = match values {
        [SigmaValue::Bool(b)] => Some(*b),
        [SigmaValue::String(s)] => match s.original.to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    };
    let Some(wanted) = wanted else {
        return Err(Failure::new(
            format!("`{}|exists`", field.sigma),
            "`exists` takes a single true or false",
        ));
    };
    let check = if wanted { "IS NOT NULL" } else { "IS NULL" };
    Ok(Pred::leaf(format!("{} {check}", field.presence_sql())))
}

fn atom(value: &SigmaValue, field: &Field, spec: &Spec) -> Result<Atom, Failure> {
    match spec.op {
        Operator::Re => {
            let pattern = match value {
                SigmaValue::String(s) => s.original.clone(),
                SigmaValue::Null => return Err(value_failure(field, "re", "a regular expression")),
                other => other.to_string(),
            };
            let flags =
                if spec.regex_flags.is_empty() { String::new() } else { format!("(?{})", spec.regex_flags) };
            Ok(Atom::Raw(Pred::leaf(format!(
                "regexp_like({}, {})",
                field.text_sql(),
                quote(&(flags + &pattern))
            ))))
        }
        Operator::Cidr => match value {
            SigmaValue::String(s) if !field.is_numeric() => {
                Ok(Atom::Raw(cidr(&field.text_sql(), &s.original)?))
            }
            _ => Err(value_failure(field, "cidr", "an IPv4 range like 10.0.0.0/8 on a text field")),
        },
        Operator::Compare(op) => {
            let number = match value {
                SigmaValue::Integer(_) | SigmaValue::Float(_) => numeric_literal(&value.to_string()),
                SigmaValue::String(s) => numeric_literal(&s.original),
                _ => None,
            };
            let Some(number) = number else { return Err(value_failure(field, op_name(op), "a number")) };
            Ok(Atom::Raw(Pred::leaf(format!("{} {op} {number}", field.number_sql()))))
        }
        Operator::Exists | Operator::FieldRef => unreachable!("handled before values"),
        Operator::Equals | Operator::Contains | Operator::StartsWith | Operator::EndsWith => {
            string_atom(value, field, spec.op)
        }
    }
}

fn op_name(op: &str) -> &'static str {
    match op {
        ">" => "gt",
        ">=" => "gte",
        "<" => "lt",
        _ => "lte",
    }
}

fn value_failure(field: &Field, modifier: &str, wanted: &str) -> Failure {
    Failure::new(format!("`{}|{modifier}`", field.sigma), format!("`{modifier}` needs {wanted}"))
}

fn string_atom(value: &SigmaValue, field: &Field, op: Operator) -> Result<Atom, Failure> {
    let exact_number = |text: &str| {
        let number = numeric_literal(text).filter(|_| field.is_numeric() && op == Operator::Equals)?;
        Some(Atom::Eq { base: field.value_sql(), literal: Literal::Number(number) })
    };
    let text = match value {
        SigmaValue::Null => return Ok(Atom::Null { base: field.value_sql() }),
        SigmaValue::Bool(b) if field.is_numeric() => {
            return Err(Failure::new(
                format!("value `{b}` of `{}`", field.sigma),
                "the column is numeric; compare it with a number",
            ));
        }
        SigmaValue::Bool(b) => SigmaString::from_raw(&b.to_string()),
        SigmaValue::Integer(_) | SigmaValue::Float(_) => {
            let text = value.to_string();
            if let Some(atom) = exact_number(&text) {
                return Ok(atom);
            }
            SigmaString::from_raw(&text)
        }
        SigmaValue::String(s) => {
            if let Some(plain) = s.as_plain() {
                if let Some(atom) = exact_number(&plain) {
                    return Ok(atom);
                }
                if op == Operator::Equals && is_placeholder(&plain) {
                    return Err(Failure::new(
                        format!("placeholder `{plain}`"),
                        "the placeholder has no value here; replace it with the list of values it stands for",
                    ));
                }
            }
            s.clone()
        }
    };
    let mut parts = text.parts;
    if matches!(op, Operator::Contains | Operator::EndsWith) {
        parts.insert(0, StringPart::Special(SpecialChar::WildcardMulti));
    }
    if matches!(op, Operator::Contains | Operator::StartsWith) {
        parts.push(StringPart::Special(SpecialChar::WildcardMulti));
    }
    if parts.iter().all(|p| matches!(p, StringPart::Plain(_))) {
        let plain: String =
            parts.iter().map(|p| if let StringPart::Plain(s) = p { s.as_str() } else { "" }).collect();
        return Ok(Atom::Eq { base: field.text_sql(), literal: Literal::Text(plain) });
    }
    let multi = |p: Option<&StringPart>| matches!(p, Some(StringPart::Special(SpecialChar::WildcardMulti)));
    let base =
        if multi(parts.first()) && multi(parts.last()) { field.substring_sql() } else { field.text_sql() };
    let (pattern, escaped) = like_pattern(&parts);
    Ok(Atom::Like { base, pattern, escaped })
}

/// The text as a SQL number literal, if it is a plain decimal number (not `inf`, `NaN` or `1e5`,
/// which Rust parses but SQL would not read as numbers).
fn numeric_literal(text: &str) -> Option<String> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    (all_digits(whole) && all_digits(fraction)).then(|| text.to_string())
}

fn is_placeholder(text: &str) -> bool {
    text.len() > 2
        && text.starts_with('%')
        && text.ends_with('%')
        && text[1..text.len() - 1].chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A LIKE pattern for Sigma string parts, and whether it needs `ESCAPE '\'`.
fn like_pattern(parts: &[StringPart]) -> (String, bool) {
    let mut pattern = String::new();
    let mut escaped = false;
    let mut last_was_multi = false;
    for part in parts {
        match part {
            StringPart::Plain(text) => {
                for c in text.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        pattern.push('\\');
                        escaped = true;
                    }
                    pattern.push(c);
                }
                last_was_multi = text.is_empty() && last_was_multi;
            }
            StringPart::Special(SpecialChar::WildcardMulti) => {
                // Adjacent `*`s (e.g. `contains: '*'`) mean the same as one.
                if !last_was_multi {
                    pattern.push('%');
                }
                last_was_multi = true;
            }
            StringPart::Special(SpecialChar::WildcardSingle) => {
                pattern.push('_');
                last_was_multi = false;
            }
        }
    }
    (pattern, escaped)
}

/// Joins the value predicates: OR, or AND under `all`. `neq` negates the whole item (neither of
/// the values), so the negated values are joined with the other operator.
fn combine(atoms: Vec<Atom>, spec: &Spec) -> Pred {
    let insensitive = !spec.cased;
    let mut groups: Vec<(String, bool, Vec<Literal>)> = Vec::new();
    let mut order: Vec<Result<usize, Atom>> = Vec::new();
    for atom in atoms {
        match atom {
            // Equalities under OR collapse into IN lists.
            Atom::Eq { base, literal } if !spec.all => {
                let numeric = matches!(literal, Literal::Number(_));
                match groups.iter_mut().position(|(b, n, _)| *b == base && *n == numeric) {
                    Some(i) => groups[i].2.push(literal),
                    None => {
                        groups.push((base, numeric, vec![literal]));
                        order.push(Ok(groups.len() - 1));
                    }
                }
            }
            other => order.push(Err(other)),
        }
    }
    let preds: Vec<Pred> = order
        .into_iter()
        .map(|entry| match entry {
            Ok(i) => {
                let (base, _, literals) = &groups[i];
                equality(base, literals, insensitive, spec.neq)
            }
            Err(atom) => single(atom, insensitive, spec.neq),
        })
        .collect();
    if spec.all != spec.neq { Pred::and(preds) } else { Pred::or(preds) }
}

fn case_base(base: &str, texts: &[&str], insensitive: bool) -> (String, bool) {
    let lower = insensitive && texts.iter().any(|t| has_case(t));
    (if lower { format!("lower({base})") } else { base.to_string() }, lower)
}

fn render_literal(literal: &Literal, lower: bool) -> String {
    match literal {
        Literal::Text(t) if lower => quote(&t.to_lowercase()),
        Literal::Text(t) => quote(t),
        Literal::Number(n) => n.clone(),
    }
}

fn equality(base: &str, literals: &[Literal], insensitive: bool, negated: bool) -> Pred {
    let texts: Vec<&str> = literals
        .iter()
        .filter_map(|l| if let Literal::Text(t) = l { Some(t.as_str()) } else { None })
        .collect();
    let (base, lower) = case_base(base, &texts, insensitive);
    let rendered: Vec<String> = literals.iter().map(|l| render_literal(l, lower)).collect();
    let sql = match (rendered.len(), negated) {
        (1, false) => format!("{base} = {}", rendered[0]),
        (1, true) => format!("{base} <> {}", rendered[0]),
        (_, false) => format!("{base} IN ({})", rendered.join(", ")),
        (_, true) => format!("{base} NOT IN ({})", rendered.join(", ")),
    };
    Pred::leaf(sql)
}

fn single(atom: Atom, insensitive: bool, negated: bool) -> Pred {
    match atom {
        Atom::Eq { base, literal } => equality(&base, &[literal], insensitive, negated),
        Atom::Like { base, pattern, escaped } => {
            let (base, lower) = case_base(&base, &[&pattern], insensitive);
            let pattern = if lower { pattern.to_lowercase() } else { pattern };
            let not = if negated { "NOT " } else { "" };
            let escape = if escaped { " ESCAPE '\\'" } else { "" };
            Pred::leaf(format!("{base} {not}LIKE {}{escape}", quote(&pattern)))
        }
        Atom::Null { base } => {
            Pred::leaf(format!("{base} {}", if negated { "IS NOT NULL" } else { "IS NULL" }))
        }
        Atom::Raw(pred) if negated => negate(&pred),
        Atom::Raw(pred) => pred,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_sql_wildcards_and_merges_stars() {
        let s = SigmaString::new("a_b%c\\d*?");
        assert_eq!(like_pattern(&s.parts), ("a\\_b\\%c\\\\d%_".to_string(), true));
        let star = vec![
            StringPart::Special(SpecialChar::WildcardMulti),
            StringPart::Special(SpecialChar::WildcardMulti),
            StringPart::Special(SpecialChar::WildcardMulti),
        ];
        assert_eq!(like_pattern(&star), ("%".to_string(), false));
    }
}
