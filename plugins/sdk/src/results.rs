//! Laying out a batch's outcomes as the contract's columnar `results`: each
//! name once, all text in one buffer, values and reasons as spans of it.

use std::borrow::Cow;

use crate::layout::{self, Field, PackedChange, PackedOutcome, Span, Value};
use crate::outcome::{Change, Fate, NewValue};
use crate::{Outcome, wit};

/// Builds the `results` of one batch.
pub struct ResultsBuilder {
    results: wit::Results,
    /// The name index used at each change position of the previous keep, and
    /// the literal it came from: the outcomes of one plugin set the same
    /// names in the same order, so the guess is nearly always right and saves
    /// a search.
    hints: Vec<(u32, Option<(usize, usize)>)>,
    /// Changes written so far.
    changes: u32,
}

impl Default for ResultsBuilder {
    fn default() -> Self {
        ResultsBuilder {
            results: wit::Results {
                names: Vec::new(),
                text: Vec::new(),
                changes: Vec::new(),
                outcomes: Vec::new(),
            },
            hints: Vec::new(),
            changes: 0,
        }
    }
}

impl ResultsBuilder {
    /// Add the outcome of the next event.
    pub fn push(&mut self, outcome: Outcome) {
        let packed = match outcome.fate {
            Fate::Drop => PackedOutcome::Drop,
            Fate::Reject { code, reason } => PackedOutcome::Reject {
                code: self.text(&code),
                reason: self.text(&reason),
            },
            Fate::Keep => {
                let first = self.changes;
                for (position, change) in outcome.changes.into_iter().enumerate() {
                    let packed = match change {
                        Change::Replace(json) => PackedChange::Replace(self.text(&json)),
                        Change::Set(name, value) => PackedChange::Set(Field {
                            name: self.name(position, &name),
                            value: self.value(value),
                        }),
                        Change::Remove(name) => PackedChange::Remove(self.name(position, &name)),
                        Change::Partition(key, value) => PackedChange::Partition {
                            key: self.name(position, &key),
                            value: self.text(&value),
                        },
                    };
                    layout::push_change(&mut self.results.changes, packed);
                    self.changes += 1;
                }
                PackedOutcome::Keep {
                    first,
                    count: self.changes - first,
                }
            }
        };
        layout::push_outcome(&mut self.results.outcomes, packed);
    }

    /// The laid-out results.
    pub fn finish(self) -> wit::Results {
        self.results
    }

    fn text(&mut self, text: &str) -> Span {
        let start = self.results.text.len() as u32;
        self.results.text.extend_from_slice(text.as_bytes());
        Span {
            start,
            len: text.len() as u32,
        }
    }

    // The `Cow` itself, not `&str`: whether it borrows a `'static` literal is
    // what allows the comparison by pointer.
    #[allow(clippy::ptr_arg)]
    fn name(&mut self, position: usize, name: &Cow<'static, str>) -> u32 {
        // A `&'static str` never changes: the same pointer and length at the
        // same position as last time is the same name, with no comparison.
        let literal = match name {
            Cow::Borrowed(text) => Some((text.as_ptr() as usize, text.len())),
            Cow::Owned(_) => None,
        };
        if let Some(&(hint, seen)) = self.hints.get(position) {
            if literal.is_some() && seen == literal {
                return hint;
            }
            if self
                .results
                .names
                .get(hint as usize)
                .is_some_and(|known| known == name)
            {
                self.hints[position].1 = literal;
                return hint;
            }
        }
        let names = &mut self.results.names;
        let index = match names.iter().position(|known| known == name) {
            Some(index) => index as u32,
            None => {
                names.push(name.to_string());
                (names.len() - 1) as u32
            }
        };
        if position >= self.hints.len() {
            self.hints.resize(position + 1, (0, None));
        }
        self.hints[position] = (index, literal);
        index
    }

    fn value(&mut self, value: NewValue) -> Value {
        match value {
            NewValue::Null => Value::Null,
            NewValue::Boolean(b) => Value::Bool(b),
            NewValue::Integer(n) => Value::Int(n),
            NewValue::Float(x) => Value::Float(x),
            NewValue::Text(text) => Value::Text(self.text(&text)),
            NewValue::Json(json) => Value::Json(self.text(&json)),
        }
    }
}

/// Lay out a batch's outcomes.
pub fn results(outcomes: Vec<Outcome>) -> wit::Results {
    let mut builder = ResultsBuilder::default();
    for outcome in outcomes {
        builder.push(outcome);
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_is_laid_out_once_whatever_its_source() {
        let owned = |text: &str| -> Cow<'static, str> { Cow::Owned(text.to_string()) };
        let laid = results(vec![
            Outcome::keep().set("a", 1i64).set("b", "x"),
            Outcome::keep().set(owned("a"), 2i64).set("c", true),
            Outcome::keep().set("b", 3i64).set(owned("a"), 4i64),
            Outcome::reject("code", "reason"),
            Outcome::drop(),
        ]);
        assert_eq!(laid.names, ["a", "b", "c"]);
        let names: Vec<u32> = (0..6)
            .map(
                |index| match layout::read_change(&laid.changes, index).unwrap() {
                    PackedChange::Set(field) => field.name,
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        assert_eq!(names, [0, 1, 0, 2, 1, 0]);
        assert_eq!(laid.outcomes.len(), 5 * layout::OUTCOME_BYTES);
        assert_eq!(
            layout::read_outcome(&laid.outcomes, 2),
            Some(PackedOutcome::Keep { first: 4, count: 2 })
        );
    }
}
