//! What a plugin decides for an event.

use std::borrow::Cow;

/// A value a plugin writes into an event.
///
/// Text given as a `&'static str` is not copied until the batch's results are
/// laid out; pass a `String` for text built at run time.
#[derive(Clone, Debug, PartialEq)]
pub enum NewValue {
    /// JSON `null`.
    Null,
    /// JSON `true` or `false`.
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A finite float; the host rejects the event for NaN or an infinity.
    Float(f64),
    /// A string.
    Text(Cow<'static, str>),
    /// A nested object or array as JSON text; the host checks it parses.
    Json(Cow<'static, str>),
}

/// One change a keep makes to its event.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Replace the whole event with this JSON object.
    Replace(Cow<'static, str>),
    /// Set (or add) a top-level field.
    Set(Cow<'static, str>, NewValue),
    /// Remove a top-level field.
    Remove(Cow<'static, str>),
    /// Set a Hive partition value.
    Partition(Cow<'static, str>, Cow<'static, str>),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Fate {
    Keep,
    Drop,
    Reject {
        code: Cow<'static, str>,
        reason: Cow<'static, str>,
    },
}

/// The fate of one event: keep (possibly changed), drop, or reject.
///
/// ```
/// use weir_plugin::{NewValue, Outcome};
/// let kept = Outcome::keep()
///     .set("event_date", "2026-02-19")
///     .set("is_high_value", true)
///     .partition("year", "2026");
/// assert!(kept.is_keep());
/// assert_eq!(kept.set_value("is_high_value"), Some(&NewValue::Boolean(true)));
/// assert!(Outcome::reject("missing-field", "`price` is missing").is_reject());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub(crate) fate: Fate,
    pub(crate) changes: Vec<Change>,
}

impl Outcome {
    /// Keep the event unchanged (add changes with the builder methods).
    pub fn keep() -> Self {
        Outcome {
            fate: Fate::Keep,
            changes: Vec::new(),
        }
    }

    /// Filter the event out on purpose: counted as dropped, not an error.
    pub fn drop() -> Self {
        Outcome {
            fate: Fate::Drop,
            changes: Vec::new(),
        }
    }

    /// Refuse the event: it goes to the dead-letter output with this code (a
    /// short kebab-case word such as `missing-field`) and reason (a sentence
    /// that names the field at fault).
    pub fn reject(
        code: impl Into<Cow<'static, str>>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Outcome {
            fate: Fate::Reject {
                code: code.into(),
                reason: reason.into(),
            },
            changes: Vec::new(),
        }
    }

    fn change(mut self, change: Change) -> Self {
        if self.fate == Fate::Keep {
            // One allocation for the usual handful of changes, not one per
            // doubling.
            if self.changes.capacity() == 0 {
                self.changes.reserve(8);
            }
            self.changes.push(change);
        }
        self
    }

    /// Set (or add) a top-level field. Ignored unless the outcome is a keep.
    pub fn set(self, name: impl Into<Cow<'static, str>>, value: impl Into<NewValue>) -> Self {
        self.change(Change::Set(name.into(), value.into()))
    }

    /// Remove a top-level field. Ignored unless the outcome is a keep.
    pub fn remove(self, name: impl Into<Cow<'static, str>>) -> Self {
        self.change(Change::Remove(name.into()))
    }

    /// Replace the whole event with this JSON object; changes after it apply
    /// to the new event. Ignored unless the outcome is a keep.
    pub fn replace(self, json: impl Into<Cow<'static, str>>) -> Self {
        self.change(Change::Replace(json.into()))
    }

    /// Set a Hive partition value (`key=value` folder). Keys and values may
    /// hold letters, digits, `-`, `_` and `.`. Ignored unless a keep.
    pub fn partition(
        self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.change(Change::Partition(key.into(), value.into()))
    }

    /// True for a keep.
    pub fn is_keep(&self) -> bool {
        self.fate == Fate::Keep
    }

    /// True for a drop.
    pub fn is_drop(&self) -> bool {
        self.fate == Fate::Drop
    }

    /// True for a reject.
    pub fn is_reject(&self) -> bool {
        matches!(self.fate, Fate::Reject { .. })
    }

    /// The reject code, for a reject.
    pub fn reject_code(&self) -> Option<&str> {
        match &self.fate {
            Fate::Reject { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The reject reason, for a reject.
    pub fn reject_reason(&self) -> Option<&str> {
        match &self.fate {
            Fate::Reject { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The changes of a keep, in order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The value this outcome sets on `name`, for a keep (the last one wins).
    pub fn set_value(&self, name: &str) -> Option<&NewValue> {
        self.changes.iter().rev().find_map(|change| match change {
            Change::Set(set, value) if set == name => Some(value),
            _ => None,
        })
    }

    /// The partition values this outcome sets, in order, for a keep.
    pub fn partitions(&self) -> Vec<(&str, &str)> {
        self.changes
            .iter()
            .filter_map(|change| match change {
                Change::Partition(key, value) => Some((key.as_ref(), value.as_ref())),
                _ => None,
            })
            .collect()
    }
}

impl From<&'static str> for NewValue {
    fn from(value: &'static str) -> Self {
        NewValue::Text(Cow::Borrowed(value))
    }
}

impl From<String> for NewValue {
    fn from(value: String) -> Self {
        NewValue::Text(Cow::Owned(value))
    }
}

impl From<Cow<'static, str>> for NewValue {
    fn from(value: Cow<'static, str>) -> Self {
        NewValue::Text(value)
    }
}

impl From<bool> for NewValue {
    fn from(value: bool) -> Self {
        NewValue::Boolean(value)
    }
}

impl From<i64> for NewValue {
    fn from(value: i64) -> Self {
        NewValue::Integer(value)
    }
}

impl From<u32> for NewValue {
    fn from(value: u32) -> Self {
        NewValue::Integer(i64::from(value))
    }
}

impl From<f64> for NewValue {
    fn from(value: f64) -> Self {
        NewValue::Float(value)
    }
}
