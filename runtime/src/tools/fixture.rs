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
//!
//! **A fixture's own config.** A file whose first non-blank line is
//! `{"config": {…}}` (a JSON object, and nothing else on the line) is
//! written for the plugin with that config; it beats `--config` for the
//! file's cases:
//!
//! ```text
//! {"config": {"drop_user_prefixes": ["qa-"]}}
//! {"input": {"user_id": "qa-7"}, "expect": "dropped"}
//! ```
//!
//! It is for testing one plugin: with a pipeline file, each plugin's config
//! is that file's.
//!
//! **One-off cases** (`weir test --text`, [`parse_text`]): a case as on a
//! fixture line, or an input event alone, whose outcome is then only
//! reported. A value is a case when it has `"expect"`, or `"input"` and
//! nothing else.
//!
//! [`outcome`] runs cases and compares what became of them with what was
//! expected; [`junit`] writes the result as the JUnit XML that CI systems
//! read.

pub mod junit;
pub mod outcome;

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use thiserror::Error;

/// The suite name of the cases given on the command line (`--text`).
pub const TEXT_SUITE: &str = "--text";

/// Where a case is, for people: `f.jsonl line 3`, or `--text 2` for the
/// second `--text` value.
pub fn place(suite: &str, line: usize) -> String {
    if suite == TEXT_SUITE {
        format!("{TEXT_SUITE} {line}")
    } else {
        format!("{suite} line {line}")
    }
}

/// A fixture file (or `--text` value) that cannot be used.
#[derive(Debug, Error)]
#[error("{place}: {message}")]
pub struct FixtureError {
    place: String,
    message: String,
}

/// A fixture file read: its own plugin config, when it has one, and its
/// cases.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The `{"config": {…}}` of its first line.
    pub config: Option<OwnConfig>,
    /// The cases, in line order.
    pub cases: Vec<Case>,
}

/// The plugin config a fixture file carries on its first line.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnConfig {
    /// Line of the fixture file (its first non-blank one).
    pub line: usize,
    /// The config, a JSON object, as text for the plugin's `init`.
    pub json: String,
}

/// One case: an input record and what is expected of it.
#[derive(Clone, Debug)]
pub struct Case {
    /// Line of the fixture file, or which `--text` value (from 1).
    pub line: usize,
    /// The record as the host receives it.
    pub input: Vec<u8>,
    /// The expected outcome; `None` (an event given alone with `--text`):
    /// what becomes of it is only reported.
    pub expect: Option<Expect>,
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

/// Read a fixture file: its own config, if its first non-blank line is
/// one, and its cases.
pub fn parse(file: &str, text: &str) -> Result<Fixture, FixtureError> {
    let mut fixture = Fixture {
        config: None,
        cases: Vec::new(),
    };
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| FixtureError {
            place: place(file, line_number),
            message,
        };
        let case: Value =
            serde_json::from_str(line).map_err(|err| bad(format!("not JSON: {err}")))?;
        let Value::Object(case) = case else {
            return Err(bad(
                r#"a case is an object: {"input": …, "expect": …}"#.into()
            ));
        };
        if case.contains_key("config") {
            if fixture.config.is_some() || !fixture.cases.is_empty() {
                return Err(bad(
                    r#"{"config": …} may only be the file's first line"#.into()
                ));
            }
            let json = own_config(case).map_err(bad)?;
            fixture.config = Some(OwnConfig {
                line: line_number,
                json,
            });
            continue;
        }
        let (input, expect) = parse_case(case).map_err(bad)?;
        let Some(expect) = expect else {
            return Err(bad("no \"expect\"".into()));
        };
        fixture.cases.push(Case {
            line: line_number,
            input,
            expect: Some(expect),
        });
    }
    Ok(fixture)
}

/// Read the `number`th `--text` value (from 1): a case, as on a fixture
/// line, with or without `"expect"`, or an input event alone.
pub fn parse_text(number: usize, text: &str) -> Result<Case, FixtureError> {
    let bad = |message: String| FixtureError {
        place: place(TEXT_SUITE, number),
        message,
    };
    let value: Value = serde_json::from_str(text).map_err(|err| {
        bad(format!(
            "not JSON: {err}; a raw record goes in a case: {{\"input\": \"<raw>\", \"expect\": …}}"
        ))
    })?;
    let Value::Object(object) = value else {
        return Err(bad(
            r#"a --text value is a JSON object: a case {"input": …, "expect": …}, or an event"#
                .into(),
        ));
    };
    let is_case =
        object.contains_key("expect") || (object.contains_key("input") && object.len() == 1);
    let (input, expect) = if is_case {
        parse_case(object).map_err(bad)?
    } else {
        (Value::Object(object).to_string().into_bytes(), None)
    };
    Ok(Case {
        line: number,
        input,
        expect,
    })
}

/// The config of a `{"config": {…}}` line, as text.
fn own_config(mut line: Map<String, Value>) -> Result<String, String> {
    let config = line.remove("config");
    if let Some(key) = line.keys().next() {
        return Err(format!(
            "unknown key \"{key}\" beside \"config\": a config line is {{\"config\": {{…}}}} alone"
        ));
    }
    match config {
        Some(config @ Value::Object(_)) => Ok(config.to_string()),
        _ => Err(r#"the config must be a JSON object: {"config": {…}}"#.into()),
    }
}

/// The input record and the expected outcome, if any, of a case object.
fn parse_case(mut case: Map<String, Value>) -> Result<(Vec<u8>, Option<Expect>), String> {
    let input = match case.remove("input") {
        Some(Value::String(raw)) => raw.into_bytes(),
        Some(event) => event.to_string().into_bytes(),
        None => return Err("no \"input\"".into()),
    };
    let expect = case.remove("expect").map(parse_expect).transpose()?;
    if let Some(key) = case.keys().next() {
        return Err(format!(
            "unknown key \"{key}\": a case has \"input\" and \"expect\""
        ));
    }
    Ok((input, expect))
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
                            Value::String(value) => (key, value),
                            other => (key, other.to_string()),
                        })
                        .collect(),
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
        .unwrap()
        .cases;
        assert_eq!(cases.len(), 4);
        assert_eq!(cases[0].expect, Some(Expect::Dropped));
        assert_eq!(cases[1].input, b"{oops");
        assert_eq!(cases[1].line, 3);
        assert_eq!(
            cases[1].expect,
            Some(Expect::Rejected("malformed-json".into()))
        );
        assert!(
            matches!(&cases[2].expect, Some(Expect::Kept { event: Some(_), partition: Some(p) }) if p["day"] == "19")
        );
        for (text, needle) in [
            ("[1]", "a case is an object"),
            (r#"{"expect": "dropped"}"#, "no \"input\""),
            (r#"{"input": {}}"#, "no \"expect\""),
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
    fn a_first_line_may_give_the_config_and_no_other_may() {
        let fixture = parse(
            "f.jsonl",
            concat!(
                "\n",
                r#"{"config": {"drop_user_ids": ["u1"]}}"#,
                "\n",
                r#"{"input": {"user_id": "u1"}, "expect": "dropped"}"#,
            ),
        )
        .unwrap();
        assert_eq!(
            fixture.config,
            Some(OwnConfig {
                line: 2,
                json: r#"{"drop_user_ids":["u1"]}"#.into()
            })
        );
        assert_eq!(fixture.cases.len(), 1);
        assert_eq!(fixture.cases[0].line, 3);
        assert_eq!(
            parse("f.jsonl", "{\"input\": 1, \"expect\": \"kept\"}")
                .unwrap()
                .config,
            None
        );
        for (text, needle) in [
            (
                concat!(
                    r#"{"input": {}, "expect": "kept"}"#,
                    "\n",
                    r#"{"config": {}}"#
                ),
                "f.jsonl line 2: {\"config\": …} may only be the file's first line",
            ),
            (
                concat!(r#"{"config": {}}"#, "\n", r#"{"config": {}}"#),
                "f.jsonl line 2: {\"config\": …} may only",
            ),
            (
                r#"{"config": [1]}"#,
                "line 1: the config must be a JSON object",
            ),
            (
                r#"{"config": {}, "input": {}}"#,
                "line 1: unknown key \"input\" beside \"config\"",
            ),
        ] {
            let err = parse("f.jsonl", text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn a_text_is_a_case_or_an_event_alone() {
        let case =
            parse_text(1, r#"{"input": {"user_id": "bot-1"}, "expect": "dropped"}"#).unwrap();
        assert_eq!((case.line, case.expect), (1, Some(Expect::Dropped)));
        assert_eq!(case.input, br#"{"user_id":"bot-1"}"#);
        let case = parse_text(2, r#"{"input": "{oops"}"#).unwrap();
        assert_eq!((case.input.as_slice(), case.expect), (&b"{oops"[..], None));
        // An event alone, even one with a field named input beside others.
        let case = parse_text(3, r#"{"user_id": "u1", "input": "x"}"#).unwrap();
        assert_eq!(case.expect, None);
        assert_eq!(case.input, br#"{"user_id":"u1","input":"x"}"#);
        for (text, needle) in [
            (r#"{"input": {}, "expect": "dropped""#, "--text 4: not JSON"),
            ("[1]", "--text 4: a --text value is a JSON object"),
            (r#"{"expect": "dropped"}"#, "--text 4: no \"input\""),
            (
                r#"{"input": {}, "expect": "gone"}"#,
                "--text 4: expect \"dropped\"",
            ),
        ] {
            let err = parse_text(4, text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
