//! Applying a plugin's results to the records of a batch: its outcomes, and
//! the changes of each keep. The results are the plugin's word, not the
//! host's: anything out of range or malformed rejects the event it concerns
//! (`bad-result`), never the batch, never the host.

use weir_plugin::layout::{self, Field, PackedChange, PackedOutcome, Span, Value};

use super::{Batch, Fate, Rejection, Stage};
use crate::engine::bindings::wit;
use crate::pipeline::decode::{Arena, decode_object};

impl Batch {
    /// Apply a plugin's results to the records lent in the last
    /// [`Batch::lend`], outcome by outcome. The caller checked there is one
    /// outcome per lent record. Results are the plugin's word: anything out
    /// of range or malformed rejects the event it concerns (`bad-result`).
    pub fn apply(&mut self, results: &wit::Results, stage: &Stage) {
        let results = ResultsView::new(results, self.arena.text.len());
        // Each name of the results, as an index of the batch's names.
        let names: Vec<u32> = results
            .names
            .iter()
            .map(|name| self.arena.intern(name))
            .collect();
        let lent = std::mem::take(&mut self.lent);
        for (position, &index) in lent.iter().enumerate() {
            let fate = match layout::read_outcome(results.outcomes, position) {
                Some(PackedOutcome::Drop) => Fate::Dropped {
                    stage: stage.clone(),
                    reason: "",
                },
                Some(PackedOutcome::Reject { code, reason }) => Fate::Rejected(Rejection {
                    stage: stage.clone(),
                    // A code is what dead letters are counted by: never blank.
                    code: results
                        .text(code)
                        .filter(|code| !code.is_empty())
                        .unwrap_or("unnamed")
                        .to_string(),
                    reason: results.text(reason).unwrap_or("").to_string(),
                }),
                Some(PackedOutcome::Keep { first, count }) => {
                    match self.keep(index, &results, &names, first, count) {
                        Ok(()) => continue,
                        Err((code, reason)) => Fate::Rejected(Rejection {
                            stage: stage.clone(),
                            code: code.to_string(),
                            reason,
                        }),
                    }
                }
                None => {
                    let (code, reason) = bad_result("an outcome of unknown kind");
                    Fate::Rejected(Rejection {
                        stage: stage.clone(),
                        code: code.to_string(),
                        reason,
                    })
                }
            };
            self.records[index].fate = fate;
        }
        self.lent = lent;
    }

    /// Reject record `index` on behalf of `stage`.
    pub fn reject(&mut self, index: usize, stage: &Stage, code: &str, reason: &str) {
        self.records[index].fate = Fate::Rejected(Rejection {
            stage: stage.clone(),
            code: code.to_string(),
            reason: reason.to_string(),
        });
    }

    /// Apply a keep's changes. An invalid change rejects the event (the
    /// plugin broke the contract for it) with a code and reason.
    fn keep(
        &mut self,
        index: usize,
        results: &ResultsView<'_>,
        names: &[u32],
        first: u32,
        count: u32,
    ) -> Result<(), (&'static str, String)> {
        let Fate::Alive { fields, partition } = &mut self.records[index].fate else {
            return Ok(());
        };
        let name = |index: u32| {
            names
                .get(index as usize)
                .copied()
                .ok_or_else(|| bad_result("a change names a field outside the results"))
        };
        for change in first..first.saturating_add(count) {
            let change =
                layout::read_change(results.changes, change as usize).ok_or_else(|| {
                    bad_result("a keep's changes lie outside the results or are malformed")
                })?;
            match change {
                PackedChange::Replace(span) => {
                    let json = results
                        .text(span)
                        .ok_or_else(|| bad_result("a replacement outside the results' text"))?;
                    results.check_budget(&self.arena, json.len())?;
                    *fields = decode_object(json, &mut self.arena).map_err(|error| {
                        (
                            "bad-replace",
                            format!(
                                "the replacement payload is not a JSON object: {}",
                                error.reason
                            ),
                        )
                    })?;
                }
                PackedChange::Set(field) => {
                    let name = name(field.name)?;
                    let value = lower_value(&mut self.arena, results, name, field.value)?;
                    fields.set(Field { name, value });
                }
                PackedChange::Remove(removed) => {
                    let removed = name(removed)?;
                    fields.remove(removed);
                }
                PackedChange::Partition { key, value } => {
                    let key = name(key)?;
                    check_partition_part("key", &self.arena.names[key as usize])?;
                    let text = results
                        .text(value)
                        .ok_or_else(|| bad_result("a partition value outside the results' text"))?;
                    check_partition_part("value", text)?;
                    results.check_budget(&self.arena, text.len())?;
                    let span = self.arena.push_text(text);
                    match partition.iter_mut().find(|(known, _)| *known == key) {
                        Some(existing) => existing.1 = span,
                        None => partition.push((key, span)),
                    }
                }
            }
        }
        Ok(())
    }
}

fn bad_result(reason: &str) -> (&'static str, String) {
    (
        "bad-result",
        format!("the plugin broke the contract: {reason}"),
    )
}

/// Slack over the text budget, for what every event may gain (partition
/// values, enrichment fields pointing at one shared span of the results).
const TEXT_BUDGET_SLACK: usize = 16 << 20;

/// A plugin's results, with their text checked for UTF-8 once.
struct ResultsView<'a> {
    names: &'a [String],
    text: Result<&'a str, &'a [u8]>,
    changes: &'a [u8],
    outcomes: &'a [u8],
    /// How long the batch's text may grow while applying: what the results
    /// may make the host copy is bounded by the call, not by the plugin.
    /// Changes of many events can point at the same span of the results'
    /// text; without a bound, 1,000 events set to one 8 MiB value would make
    /// the host hold 8 GB, and past 4 GiB the 32-bit spans would wrap.
    text_budget_end: usize,
}

impl<'a> ResultsView<'a> {
    fn new(results: &'a wit::Results, batch_text: usize) -> Self {
        // The batch's text may double, plus twice the results' own text
        // (each byte returned copied twice over: set as a value, and as a
        // replacement) and the slack; no honest plugin comes near it.
        let budget = batch_text
            .saturating_mul(3)
            .saturating_add(results.text.len().saturating_mul(2))
            .saturating_add(TEXT_BUDGET_SLACK);
        ResultsView {
            names: &results.names,
            text: std::str::from_utf8(&results.text).map_err(|_| results.text.as_slice()),
            changes: &results.changes,
            outcomes: &results.outcomes,
            text_budget_end: budget.min(u32::MAX as usize),
        }
    }

    /// Whether `bytes` more of text fit the budget; the event is rejected as
    /// a plugin failure when not.
    fn check_budget(&self, arena: &Arena, bytes: usize) -> Result<(), (&'static str, String)> {
        if arena.text.len().saturating_add(bytes) <= self.text_budget_end {
            return Ok(());
        }
        Err((
            "plugin-failed",
            format!(
                "the plugin's results would make the host hold more than {} bytes of text for this batch (three times the batch's text, twice the results' text and 16 MiB); the events past that point are refused",
                self.text_budget_end
            ),
        ))
    }

    /// The text of a span, if it is in range and UTF-8 (checked per span
    /// only when the whole text is not).
    fn text(&self, span: Span) -> Option<&'a str> {
        let start = span.start as usize;
        let end = start.checked_add(span.len as usize)?;
        match self.text {
            Ok(text) => text.get(start..end),
            Err(bytes) => std::str::from_utf8(bytes.get(start..end)?).ok(),
        }
    }
}

/// Longest partition key or value: folder names must stay short enough for
/// every file system and S3 key.
const MAX_PARTITION_PART: usize = 128;

/// A partition key or value becomes a folder name: it must not be able to
/// climb out of its folder or need escaping.
fn check_partition_part(what: &str, part: &str) -> Result<(), (&'static str, String)> {
    let safe = !part.is_empty()
        && part.len() <= MAX_PARTITION_PART
        && part != "."
        && part != ".."
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if safe {
        Ok(())
    } else {
        Err((
            "bad-partition",
            format!(
                "partition {what} {part:?} must be 1 to {MAX_PARTITION_PART} of A-Z a-z 0-9 - _ ."
            ),
        ))
    }
}

fn lower_value(
    arena: &mut Arena,
    results: &ResultsView<'_>,
    name: u32,
    value: Value,
) -> Result<Value, (&'static str, String)> {
    Ok(match value {
        Value::Null | Value::Bool(_) | Value::Int(_) => value,
        Value::Float(x) if x.is_finite() => value,
        Value::Float(x) => {
            return Err((
                "bad-value",
                format!(
                    "field `{}` set to {x}, which JSON cannot hold",
                    arena_name(arena, name)
                ),
            ));
        }
        Value::Text(span) => {
            let text = results
                .text(span)
                .ok_or_else(|| bad_result("a value outside the results' text"))?;
            results.check_budget(arena, text.len())?;
            Value::Text(arena.push_text(text))
        }
        Value::Json(span) => {
            let json = results
                .text(span)
                .ok_or_else(|| bad_result("a value outside the results' text"))?
                .trim();
            let parsed: Result<serde::de::IgnoredAny, _> = serde_json::from_str(json);
            if parsed.is_err() || !json.starts_with(['{', '[']) {
                return Err((
                    "bad-value",
                    format!(
                        "field `{}` set to JSON that is not an object or array",
                        arena_name(arena, name)
                    ),
                ));
            }
            results.check_budget(arena, json.len())?;
            Value::Json(arena.push_text(json))
        }
    })
}

fn arena_name(arena: &Arena, name: u32) -> String {
    arena.names.get(name as usize).cloned().unwrap_or_default()
}
