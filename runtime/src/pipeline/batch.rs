//! A batch of input records on its way through the pipeline: each record's
//! original bytes, its decoded fields while it is alive, and its fate.

use std::sync::Arc;

use weir_plugin::layout::{self, EventHeader, PackedFields, Span};

use crate::engine::bindings::wit;
use crate::pipeline::decode::{Arena, DecodeError, decode_object_into};

mod apply;

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
        /// The event's top-level fields, packed as they are lent.
        fields: PackedFields,
        /// Hive partition values, in folder order: the key as an index of
        /// the batch's names, the value as a span of its text.
        partition: Vec<(u32, Span)>,
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
    position: Span,
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
    scratch_fields: Vec<u8>,
    scratch_events: Vec<u8>,
    /// Records lent in the current call, by index.
    lent: Vec<usize>,
    /// Longest record accepted, in bytes; longer ones are rejected.
    max_record_bytes: usize,
    /// Emptied buffers of earlier records, for new ones.
    spare: Vec<(PackedFields, Vec<(u32, Span)>)>,
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

    /// Bytes of the records' payloads.
    pub fn payload_bytes(&self) -> usize {
        self.raw.len()
    }

    /// The longest record accepted.
    pub fn max_record_bytes(&self) -> usize {
        self.max_record_bytes
    }

    /// A record of `length` bytes, over the limit, of which only `start` was
    /// kept: rejected `too-large`, with its start as the dead letter's
    /// payload.
    pub fn push_too_large(
        &mut self,
        start: &[u8],
        length: u64,
        position: &str,
        arrival_micros: i64,
    ) {
        let begin = self.raw.len();
        self.raw.extend_from_slice(start);
        let position = self.arena.push_text(position);
        let fate = Fate::Rejected(Rejection {
            stage: Stage::host(),
            code: "too-large".to_string(),
            reason: format!(
                "record of {length} bytes is over the {}-byte limit (its first {} bytes are kept as the payload)",
                self.max_record_bytes,
                start.len()
            ),
        });
        self.records.push(Record {
            payload: begin..self.raw.len(),
            position,
            arrival_micros,
            fate,
        });
    }

    /// Set the longest record accepted.
    pub fn with_max_record_bytes(mut self, max: usize) -> Batch {
        self.max_record_bytes = max;
        self
    }

    /// Forget every record, keeping allocations, for the next batch.
    pub fn clear(&mut self) {
        self.raw.clear();
        // Keep the kept records' buffers for the next batch's records: in a
        // steady stream, decoding then allocates nothing.
        for record in self.records.drain(..) {
            if let Fate::Alive {
                mut fields,
                mut partition,
            } = record.fate
            {
                fields.clear();
                partition.clear();
                self.spare.push((fields, partition));
            }
        }
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
        crate::pipeline::encode::span_str(&self.arena.text, self.records[index].position)
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
        let (mut fields, partition) = self
            .spare
            .pop()
            .unwrap_or_else(|| (PackedFields::with_capacity(20), Vec::new()));
        match decode_object_into(text, &mut self.arena, &mut fields) {
            Ok(()) => Fate::Alive { fields, partition },
            Err(error) => {
                fields.clear();
                self.spare.push((fields, partition));
                reject(error)
            }
        }
    }

    /// Lay out the records still alive as a contract batch, to lend to a
    /// plugin. Give it back with [`Batch::restore`] after the call.
    pub fn lend(&mut self) -> wit::Batch {
        self.lent.clear();
        for (index, record) in self.records.iter().enumerate() {
            if matches!(record.fate, Fate::Alive { .. }) {
                self.lent.push(index);
            }
        }
        self.lay_out_lent()
    }

    /// Lay out the records `indices` (those still alive among them) as a
    /// contract batch: part of what [`Batch::lend`] would lend, to run a
    /// plugin's events again in smaller batches.
    pub fn lend_only(&mut self, indices: &[usize]) -> wit::Batch {
        self.lent.clear();
        for &index in indices {
            if matches!(
                self.records.get(index).map(|record| &record.fate),
                Some(Fate::Alive { .. })
            ) {
                self.lent.push(index);
            }
        }
        self.lay_out_lent()
    }

    fn lay_out_lent(&mut self) -> wit::Batch {
        self.scratch_fields.clear();
        self.scratch_events.clear();
        let mut field_count = 0u32;
        for &index in &self.lent {
            let record = &self.records[index];
            if let Fate::Alive { fields, .. } = &record.fate {
                layout::push_event(
                    &mut self.scratch_events,
                    EventHeader {
                        first_field: field_count,
                        field_count: fields.len() as u32,
                        position: record.position,
                        arrival_micros: record.arrival_micros,
                    },
                );
                self.scratch_fields.extend_from_slice(fields.as_bytes());
                field_count += fields.len() as u32;
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

    /// The `key=value/key=value` folder of a kept record's partition values.
    pub fn partition_path(&self, partition: &[(u32, Span)], out: &mut String) {
        out.clear();
        for (key, value) in partition {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(&self.arena.names[*key as usize]);
            out.push('=');
            out.push_str(crate::pipeline::encode::span_str(&self.arena.text, *value));
        }
    }

    /// True when two kept records have the same partition values (so the
    /// same folder), compared by text.
    pub fn same_partition(&self, a: &[(u32, Span)], b: &[(u32, Span)]) -> bool {
        let text = &self.arena.text;
        a.len() == b.len()
            && a.iter().zip(b).all(|((key_a, value_a), (key_b, value_b))| {
                key_a == key_b
                    && crate::pipeline::encode::span_bytes(text, *value_a)
                        == crate::pipeline::encode::span_bytes(text, *value_b)
            })
    }
}
