//! `weir test`: a plugin or a whole pipeline checked against fixture files.
//!
//! A fixture file is JSON lines, one case per line: the input event and the
//! outcome expected of it.
//!
//! ```text
//! {"input": {"user_id": "bot-7", "action": "VIEW"}, "expect": "dropped"}
//! {"input": {"action": "VIEW"}, "expect": {"rejected": "missing-field"}}
//! {"input": {"user_id": "u1", "price": 5}, "expect": {"kept": {"user_id": "u1", "price": 5}}}
//! {"input": {...}, "expect": {"kept": {...}, "partition": {"year": "2026", "month": "02", "day": "19"}}}
//! {"input": "{not json", "expect": {"rejected": "malformed-json"}}
//! ```
//!
//! An `input` that is a string is the raw record (for bad input); anything
//! else is written as JSON. `"kept": true` only checks that the event is
//! kept; an object compares the whole event after the plugins, field by
//! field. `partition`, when given, must equal the partition values set.

use std::collections::BTreeMap;

use serde_json::Value;
use thiserror::Error;

use crate::pipeline::batch::{Batch, Fate};
use crate::pipeline::encode::ObjectWriter;
use crate::pipeline::{Pipeline, PluginFailed};

/// A fixture file that cannot be used.
#[derive(Debug, Error)]
#[error("{file} line {line}: {message}")]
pub struct FixtureError {
    file: String,
    line: usize,
    message: String,
}

/// One case: an input record and what is expected of it.
#[derive(Clone, Debug)]
pub struct Case {
    /// Line of the fixture file.
    pub line: usize,
    /// The record as the host receives it.
    pub input: Vec<u8>,
    /// The expected outcome.
    pub expect: Expect,
}

/// An expected outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// Kept; with the whole event and the partition values, when given.
    Kept {
        /// The whole event as the pipeline should leave it, every field
        /// (numbers compared by value); `None` checks only that it was kept.
        event: Option<Value>,
        /// Its whole partition, key to value (non-string values as their
        /// JSON text); `None` does not check it.
        partition: Option<BTreeMap<String, String>>,
    },
    /// Dropped (filtered).
    Dropped,
    /// Rejected with this code.
    Rejected(String),
}

/// Read the cases of a fixture file.
pub fn parse(file: &str, text: &str) -> Result<Vec<Case>, FixtureError> {
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| FixtureError {
            file: file.to_string(),
            line: line_number,
            message,
        };
        let case: Value =
            serde_json::from_str(line).map_err(|err| bad(format!("not JSON: {err}")))?;
        let Value::Object(mut case) = case else {
            return Err(bad(
                r#"a case is an object: {"input": …, "expect": …}"#.into()
            ));
        };
        let input = match case.remove("input") {
            Some(Value::String(raw)) => raw.into_bytes(),
            Some(event) => event.to_string().into_bytes(),
            None => return Err(bad("no \"input\"".into())),
        };
        let expect = match case.remove("expect") {
            Some(expect) => parse_expect(expect).map_err(bad)?,
            None => return Err(bad("no \"expect\"".into())),
        };
        if let Some(key) = case.keys().next() {
            return Err(bad(format!(
                "unknown key \"{key}\": a case has \"input\" and \"expect\""
            )));
        }
        cases.push(Case {
            line: line_number,
            input,
            expect,
        });
    }
    Ok(cases)
}

fn parse_expect(expect: Value) -> Result<Expect, String> {
    const FORMS: &str =
        r#"expect "dropped", {"rejected": "<code>"}, {"kept": true | {…}, "partition": {…}}"#;
    match expect {
        Value::String(word) if word == "dropped" => Ok(Expect::Dropped),
        Value::String(word) if word == "kept" => Ok(Expect::Kept {
            event: None,
            partition: None,
        }),
        Value::Object(mut fields) => {
            if let Some(code) = fields.remove("rejected") {
                let Value::String(code) = code else {
                    return Err(format!("the rejected code must be a string; {FORMS}"));
                };
                if let Some(key) = fields.keys().next() {
                    return Err(format!("unknown key \"{key}\" beside \"rejected\""));
                }
                return Ok(Expect::Rejected(code));
            }
            let event = match fields.remove("kept") {
                Some(Value::Bool(true)) => None,
                Some(event @ Value::Object(_)) => Some(event),
                _ => return Err(FORMS.to_string()),
            };
            let partition = match fields.remove("partition") {
                None => None,
                Some(Value::Object(values)) => Some(
                    values
                        .into_iter()
                        .map(|(key, value)| match value {
                            Value::String(value) => Ok((key, value)),
                            other => Ok((key, other.to_string())),
                        })
                        .collect::<Result<_, String>>()?,
                ),
                Some(_) => return Err("\"partition\" must be an object of keys and values".into()),
            };
            if let Some(key) = fields.keys().next() {
                return Err(format!("unknown key \"{key}\"; {FORMS}"));
            }
            Ok(Expect::Kept { event, partition })
        }
        _ => Err(FORMS.to_string()),
    }
}

/// A case whose outcome was not the expected one.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// Line of the fixture file.
    pub line: usize,
    /// What was expected, and what happened, for people.
    pub explanation: String,
}

/// Run the cases through the pipeline in one batch; the mismatches.
pub fn check(pipeline: &mut Pipeline, cases: &[Case]) -> Result<Vec<Mismatch>, PluginFailed> {
    let mut batch = Batch::new("fixture");
    for case in cases {
        batch.push(&case.input, &case.line.to_string(), 0);
    }
    pipeline.run(&mut batch)?;
    let writer = ObjectWriter::new(batch.arena());
    let mut mismatches = Vec::new();
    for (case, record) in cases.iter().zip(batch.records()) {
        let explanation = match (&case.expect, &record.fate) {
            (Expect::Dropped, Fate::Dropped { .. }) => None,
            (Expect::Rejected(code), Fate::Rejected(rejection)) if *code == rejection.code => None,
            (
                Expect::Kept { event, partition },
                Fate::Alive {
                    fields,
                    partition: set,
                },
            ) => {
                let mut json = Vec::new();
                writer.write(&mut json, fields);
                let got: Value = serde_json::from_slice(&json).unwrap_or(Value::Null);
                let mut path = String::new();
                batch.partition_path(set, &mut path);
                let got_partition: BTreeMap<String, String> = path
                    .split('/')
                    .filter_map(|part| part.split_once('='))
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect();
                let mut problems = Vec::new();
                if let Some(want) = event {
                    problems.extend(event_diff(want, &got));
                }
                if let Some(want) = partition
                    && *want != got_partition
                {
                    problems.push(format!(
                        "partition: expected {want:?}, got {got_partition:?}"
                    ));
                }
                (!problems.is_empty())
                    .then(|| format!("kept, but\n      {}", problems.join("\n      ")))
            }
            (expect, fate) => Some(format!(
                "expected {}, got {}",
                describe_expect(expect),
                describe_fate(fate)
            )),
        };
        if let Some(explanation) = explanation {
            mismatches.push(Mismatch {
                line: case.line,
                explanation,
            });
        }
    }
    Ok(mismatches)
}

fn describe_expect(expect: &Expect) -> String {
    match expect {
        Expect::Kept { .. } => "kept".into(),
        Expect::Dropped => "dropped".into(),
        Expect::Rejected(code) => format!("rejected {code}"),
    }
}

fn describe_fate(fate: &Fate) -> String {
    match fate {
        Fate::Alive { .. } => "kept".into(),
        Fate::Dropped { stage, .. } => format!("dropped by {}", stage.name),
        Fate::Rejected(rejection) => format!(
            "rejected {} by {}: {}",
            rejection.code, rejection.stage.name, rejection.reason
        ),
    }
}

/// The fields of two events that differ, one line each.
fn event_diff(want: &Value, got: &Value) -> Vec<String> {
    let (Value::Object(want), Value::Object(got)) = (want, got) else {
        return vec![format!("event: expected {want}, got {got}")];
    };
    let mut lines = Vec::new();
    for (key, value) in want {
        match got.get(key) {
            None => lines.push(format!("- {key}: {value} (missing)")),
            Some(other) if !same(value, other) => {
                lines.push(format!("~ {key}: expected {value}, got {other}"))
            }
            _ => {}
        }
    }
    for (key, value) in got {
        if !want.contains_key(key) {
            lines.push(format!("+ {key}: {value} (not expected)"));
        }
    }
    lines
}

/// Equal as JSON values, a number equal to another whatever its notation
/// (`5` and `5.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_and_refuses_others() {
        let cases = parse(
            "f.jsonl",
            concat!(
                r#"{"input": {"a": 1}, "expect": "dropped"}"#,
                "\n\n",
                r#"{"input": "{oops", "expect": {"rejected": "malformed-json"}}"#,
                "\n",
                r#"{"input": {"a": 1}, "expect": {"kept": {"a": 1}, "partition": {"day": "19"}}}"#,
                "\n",
                r#"{"input": {"a": 1}, "expect": {"kept": true}}"#,
            ),
        )
        .unwrap();
        assert_eq!(cases.len(), 4);
        assert_eq!(cases[0].expect, Expect::Dropped);
        assert_eq!(cases[1].input, b"{oops");
        assert_eq!(cases[1].line, 3);
        assert_eq!(cases[1].expect, Expect::Rejected("malformed-json".into()));
        assert!(
            matches!(&cases[2].expect, Expect::Kept { event: Some(_), partition: Some(p) } if p["day"] == "19")
        );
        for (text, needle) in [
            ("[1]", "a case is an object"),
            (r#"{"expect": "dropped"}"#, "no \"input\""),
            (r#"{"input": {}, "expect": "maybe"}"#, "expect \"dropped\""),
            (
                r#"{"input": {}, "expect": "dropped", "why": 1}"#,
                "unknown key \"why\"",
            ),
        ] {
            let err = parse("f.jsonl", text).unwrap_err().to_string();
            assert!(
                err.contains("f.jsonl line 1") && err.contains(needle),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn diffs_name_each_field() {
        let want = serde_json::json!({"a": 1, "b": "x", "c": true});
        let got = serde_json::json!({"a": 1.0, "b": "y", "d": null});
        let diff = event_diff(&want, &got);
        assert_eq!(
            diff,
            [
                "~ b: expected \"x\", got \"y\"",
                "- c: true (missing)",
                "+ d: null (not expected)"
            ]
        );
    }
}
