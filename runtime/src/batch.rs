//! A batch of input records on its way through the pipeline: each record's
//! original bytes, its decoded fields while it is alive, and its fate.

use std::sync::Arc;

use crate::bindings::wit;
use crate::decode::{Arena, DecodeError, decode_object};

/// Who decided a record's fate: the host (decoding) or a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// `weir` for the host, else the plugin's name.
    pub name: Arc<str>,
    /// The host's or the plugin's version.
    pub version: Arc<str>,
    /// Index of the plugin in the pipeline; `None` for the host.
    pub plugin: Option<usize>,
}

impl Stage {
    /// The host's own stage: decoding input before any plugin.
    pub fn host() -> Stage {
        Stage {
            name: Arc::from(crate::HOST_NAME),
            version: Arc::from(env!("CARGO_PKG_VERSION")),
            plugin: None,
        }
    }
}

/// Why a record was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Who rejected it.
    pub stage: Stage,
    /// Machine-readable code, kebab-case.
    pub code: String,
    /// A sentence for people.
    pub reason: String,
}

/// What became of a record.
#[derive(Clone, Debug)]
pub enum Fate {
    /// Still going (or kept, once the pipeline is done).
    Alive {
        /// The event's top-level fields.
        fields: Vec<wit::Field>,
        /// Hive partition values, in folder order.
        partition: Vec<(String, String)>,
    },
    /// Filtered out on purpose.
    Dropped {
        /// Who dropped it.
        stage: Stage,
        /// Why, for the host's drops (blank lines); empty for plugins.
        reason: &'static str,
    },
    /// Refused: bound for the dead-letter output.
    Rejected(Rejection),
}

/// One input record.
#[derive(Clone, Debug)]
pub struct Record {
    payload: std::ops::Range<usize>,
    position: wit::Span,
    /// Arrival time, microseconds since the Unix epoch.
    pub arrival_micros: i64,
    /// What became of it.
    pub fate: Fate,
}

/// Records of one batch and the columns their fields live in.
#[derive(Debug, Default)]
pub struct Batch {
    /// Name of the source: a file name, `stdin`, a shard id.
    pub source: String,
    raw: Vec<u8>,
    records: Vec<Record>,
    arena: Arena,
    scratch_fields: Vec<wit::Field>,
    scratch_events: Vec<wit::Event>,
    /// Records lent in the current call, by index.
    lent: Vec<usize>,
    /// Longest record accepted, in bytes; longer ones are rejected.
    max_record_bytes: usize,
}

/// Longest record accepted by default: Kinesis's own limit on a record, 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;

impl Batch {
    /// An empty batch from `source`.
    pub fn new(source: &str) -> Batch {
        Batch {
            source: source.to_string(),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            ..Batch::default()
        }
    }

    /// Set the longest record accepted.
    pub fn with_max_record_bytes(mut self, max: usize) -> Batch {
        self.max_record_bytes = max;
        self
    }

    /// Forget every record, keeping allocations, for the next batch.
    pub fn clear(&mut self) {
        self.raw.clear();
        self.records.clear();
        self.arena.clear();
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of the batch's payloads.
    pub fn payload_bytes(&self) -> usize {
        self.raw.len()
    }

    /// The records, in input order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The original bytes of record `index`.
    pub fn payload(&self, index: usize) -> &[u8] {
        &self.raw[self.records[index].payload.clone()]
    }

    /// Where record `index` sits in its source.
    pub fn position(&self, index: usize) -> &str {
        crate::encode::span_str(&self.arena.text, self.records[index].position)
    }

    /// Field names and text the records' fields point into.
    pub fn arena(&self) -> &Arena {
        &self.arena
    }

    /// Add one record and decode it. Blank records are dropped by the host;
    /// records that are too long, not UTF-8 or not a JSON object are
    /// rejected by it, with the original bytes kept for the dead letters.
    pub fn push(&mut self, payload: &[u8], position: &str, arrival_micros: i64) {
        let start = self.raw.len();
        self.raw.extend_from_slice(payload);
        let position = self.arena.push_text(position);
        let fate = self.decode(payload);
        self.records.push(Record {
            payload: start..self.raw.len(),
            position,
            arrival_micros,
            fate,
        });
    }

    fn decode(&mut self, payload: &[u8]) -> Fate {
        let reject = |error: DecodeError| {
            Fate::Rejected(Rejection {
                stage: Stage::host(),
                code: error.code.to_string(),
                reason: error.reason,
            })
        };
        if payload.len() > self.max_record_bytes {
            return reject(DecodeError {
                code: "too-large",
                reason: format!(
                    "record of {} bytes is over the {}-byte limit",
                    payload.len(),
                    self.max_record_bytes
                ),
            });
        }
        let text = match std::str::from_utf8(payload) {
            Ok(text) => text,
            Err(err) => {
                return reject(DecodeError {
                    code: "invalid-utf8",
                    reason: format!("record is not UTF-8: {err}"),
                });
            }
        };
        if text.trim().is_empty() {
            return Fate::Dropped {
                stage: Stage::host(),
                reason: "blank line",
            };
        }
        let mut fields = Vec::with_capacity(12);
        match decode_object(text, &mut self.arena, &mut fields) {
            Ok(()) => Fate::Alive {
                fields,
                partition: Vec::new(),
            },
            Err(error) => reject(error),
        }
    }

    /// Lay out the records still alive as a contract batch, to lend to a
    /// plugin. Give it back with [`Batch::restore`] after the call.
    pub fn lend(&mut self) -> wit::Batch {
        self.lent.clear();
        self.scratch_fields.clear();
        self.scratch_events.clear();
        for (index, record) in self.records.iter().enumerate() {
            if let Fate::Alive { fields, .. } = &record.fate {
                self.lent.push(index);
                self.scratch_events.push(wit::Event {
                    first_field: self.scratch_fields.len() as u32,
                    field_count: fields.len() as u32,
                    position: record.position,
                    arrival_micros: record.arrival_micros,
                });
                self.scratch_fields.extend_from_slice(fields);
            }
        }
        wit::Batch {
            source: self.source.clone(),
            names: std::mem::take(&mut self.arena.names),
            text: std::mem::take(&mut self.arena.text),
            fields: std::mem::take(&mut self.scratch_fields),
            events: std::mem::take(&mut self.scratch_events),
        }
    }

    /// Take back the buffers lent by [`Batch::lend`].
    pub fn restore(&mut self, lent: wit::Batch) {
        self.arena.names = lent.names;
        self.arena.text = lent.text;
        self.scratch_fields = lent.fields;
        self.scratch_events = lent.events;
    }

    /// Indexes of the records lent in the last [`Batch::lend`].
    pub fn lent(&self) -> &[usize] {
        &self.lent
    }

    /// Apply a plugin's outcome to record `index`.
    pub fn apply(&mut self, index: usize, outcome: wit::Outcome, stage: &Stage) {
        let fate = match outcome {
            wit::Outcome::Drop => Fate::Dropped {
                stage: stage.clone(),
                reason: "",
            },
            wit::Outcome::Reject(rejection) => Fate::Rejected(Rejection {
                stage: stage.clone(),
                code: rejection.code,
                reason: rejection.reason,
            }),
            wit::Outcome::Keep(kept) => match self.keep(index, kept) {
                Ok(()) => return,
                Err((code, reason)) => Fate::Rejected(Rejection {
                    stage: stage.clone(),
                    code: code.to_string(),
                    reason,
                }),
            },
        };
        self.records[index].fate = fate;
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
    fn keep(&mut self, index: usize, kept: wit::Kept) -> Result<(), (&'static str, String)> {
        let Fate::Alive { fields, partition } = &mut self.records[index].fate else {
            return Ok(());
        };
        if let Some(json) = kept.replace {
            let mut replaced = Vec::with_capacity(12);
            decode_object(&json, &mut self.arena, &mut replaced).map_err(|error| {
                (
                    "bad-replace",
                    format!(
                        "the replacement payload is not a JSON object: {}",
                        error.reason
                    ),
                )
            })?;
            *fields = replaced;
        }
        for update in kept.set {
            let value = lower_value(&mut self.arena, &update.name, update.value)?;
            let name = self.arena.intern(&update.name);
            match fields.iter_mut().find(|field| field.name == name) {
                Some(field) => field.value = value,
                None => fields.push(wit::Field { name, value }),
            }
        }
        for name in kept.remove {
            if let Some(name) = self.arena.lookup(&name) {
                fields.retain(|field| field.name != name);
            }
        }
        for value in kept.partition {
            check_partition_part("key", &value.key)?;
            check_partition_part("value", &value.value)?;
            match partition.iter_mut().find(|(key, _)| *key == value.key) {
                Some(existing) => existing.1 = value.value,
                None => partition.push((value.key, value.value)),
            }
        }
        Ok(())
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
    name: &str,
    value: wit::NewValue,
) -> Result<wit::Value, (&'static str, String)> {
    Ok(match value {
        wit::NewValue::Null => wit::Value::Null,
        wit::NewValue::Boolean(b) => wit::Value::Boolean(b),
        wit::NewValue::Integer(n) => wit::Value::Integer(n),
        wit::NewValue::Float(x) if x.is_finite() => wit::Value::Float(x),
        wit::NewValue::Float(x) => {
            return Err((
                "bad-value",
                format!("field `{name}` set to {x}, which JSON cannot hold"),
            ));
        }
        wit::NewValue::Text(text) => wit::Value::Text(arena.push_text(&text)),
        wit::NewValue::Json(json) => {
            let parsed: Result<serde::de::IgnoredAny, _> = serde_json::from_str(&json);
            let nested = json.trim_start().starts_with(['{', '[']);
            if parsed.is_err() || !nested {
                return Err((
                    "bad-value",
                    format!("field `{name}` set to JSON that is not an object or array"),
                ));
            }
            wit::Value::Json(arena.push_text(json.trim()))
        }
    })
}
