//! What a plugin decides for an event.

use crate::wit;

pub use crate::wit::NewValue;

/// The fate of one event: keep (possibly changed), drop, or reject.
///
/// ```
/// use weir_plugin::Outcome;
/// let kept = Outcome::keep()
///     .set("event_date", "2026-02-19")
///     .set("is_high_value", true)
///     .partition("year", "2026");
/// assert!(kept.is_keep());
/// assert!(Outcome::reject("missing-field", "`price` is missing").is_reject());
/// ```
#[derive(Clone, Debug)]
pub struct Outcome(wit::Outcome);

impl Outcome {
    /// Keep the event unchanged (add changes with the builder methods).
    pub fn keep() -> Self {
        Outcome(wit::Outcome::Keep(wit::Kept {
            replace: None,
            set: Vec::new(),
            remove: Vec::new(),
            partition: Vec::new(),
        }))
    }

    /// Filter the event out on purpose: counted as dropped, not an error.
    pub fn drop() -> Self {
        Outcome(wit::Outcome::Drop)
    }

    /// Refuse the event: it goes to the dead-letter output with this code (a
    /// short kebab-case word such as `missing-field`) and reason (a sentence
    /// that names the field at fault).
    pub fn reject(code: impl Into<String>, reason: impl Into<String>) -> Self {
        Outcome(wit::Outcome::Reject(wit::Rejection {
            code: code.into(),
            reason: reason.into(),
        }))
    }

    fn kept_mut(&mut self) -> Option<&mut wit::Kept> {
        match &mut self.0 {
            wit::Outcome::Keep(kept) => Some(kept),
            _ => None,
        }
    }

    /// Set (or add) a top-level field. Ignored unless the outcome is a keep.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<NewValue>) -> Self {
        if let Some(kept) = self.kept_mut() {
            kept.set.push(wit::FieldUpdate {
                name: name.into(),
                value: value.into(),
            });
        }
        self
    }

    /// Remove a top-level field. Ignored unless the outcome is a keep.
    pub fn remove(mut self, name: impl Into<String>) -> Self {
        if let Some(kept) = self.kept_mut() {
            kept.remove.push(name.into());
        }
        self
    }

    /// Replace the whole event with this JSON object, before any `set` or
    /// `remove`. Ignored unless the outcome is a keep.
    pub fn replace(mut self, json: impl Into<String>) -> Self {
        if let Some(kept) = self.kept_mut() {
            kept.replace = Some(json.into());
        }
        self
    }

    /// Set a Hive partition value (`key=value` folder). Keys and values may
    /// hold letters, digits, `-`, `_` and `.`. Ignored unless a keep.
    pub fn partition(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        if let Some(kept) = self.kept_mut() {
            kept.partition.push(wit::PartitionValue {
                key: key.into(),
                value: value.into(),
            });
        }
        self
    }

    /// True for a keep.
    pub fn is_keep(&self) -> bool {
        matches!(self.0, wit::Outcome::Keep(_))
    }

    /// True for a drop.
    pub fn is_drop(&self) -> bool {
        matches!(self.0, wit::Outcome::Drop)
    }

    /// True for a reject.
    pub fn is_reject(&self) -> bool {
        matches!(self.0, wit::Outcome::Reject(_))
    }

    /// The reject code, for a reject.
    pub fn reject_code(&self) -> Option<&str> {
        match &self.0 {
            wit::Outcome::Reject(rejection) => Some(&rejection.code),
            _ => None,
        }
    }

    /// The reject reason, for a reject.
    pub fn reject_reason(&self) -> Option<&str> {
        match &self.0 {
            wit::Outcome::Reject(rejection) => Some(&rejection.reason),
            _ => None,
        }
    }

    /// The value this outcome sets on `name`, for a keep (the last one wins).
    pub fn set_value(&self, name: &str) -> Option<&NewValue> {
        match &self.0 {
            wit::Outcome::Keep(kept) => kept
                .set
                .iter()
                .rev()
                .find(|update| update.name == name)
                .map(|update| &update.value),
            _ => None,
        }
    }

    /// The partition values this outcome sets, in order, for a keep.
    pub fn partitions(&self) -> Vec<(&str, &str)> {
        match &self.0 {
            wit::Outcome::Keep(kept) => kept
                .partition
                .iter()
                .map(|p| (p.key.as_str(), p.value.as_str()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The contract value.
    pub fn as_wit(&self) -> &wit::Outcome {
        &self.0
    }

    /// Into the contract value.
    pub fn into_wit(self) -> wit::Outcome {
        self.0
    }
}

impl From<&str> for NewValue {
    fn from(value: &str) -> Self {
        NewValue::Text(value.to_string())
    }
}

impl From<String> for NewValue {
    fn from(value: String) -> Self {
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
