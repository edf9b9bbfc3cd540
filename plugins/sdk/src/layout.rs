//! The packed layouts of the contract (see `wit/plugin.wit`), shared by the
//! host and the SDK: `batch.fields` and `batch.events`, which the host writes
//! and plugins read in place, and `results.changes` and `results.outcomes`,
//! which plugins write and the host reads in place. All little-endian.
//!
//! - field, 16 bytes: name (u32), value kind (u8), 3 zero bytes, payload.
//! - event, 24 bytes: first field (u32), field count (u32), position span,
//!   arrival micros (s64).
//! - change, 16 bytes: name (u32), value kind (u8), operation (u8), 2 zero
//!   bytes, payload.
//! - outcome, 20 bytes: kind (u32), then four u32s.
//!
//! A span is start (u32) then length (u32); a payload is 8 bytes holding an
//! integer, a float's bits, or a span.

/// Bytes of one packed field.
pub const FIELD_BYTES: usize = 16;
/// Bytes of one packed event.
pub const EVENT_BYTES: usize = 24;
/// Bytes of one packed change.
pub const CHANGE_BYTES: usize = 16;
/// Bytes of one packed outcome.
pub const OUTCOME_BYTES: usize = 20;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INTEGER: u8 = 3;
const FLOAT: u8 = 4;
const TEXT: u8 = 5;
const JSON: u8 = 6;

/// A byte range of a text buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Number of bytes.
    pub len: u32,
}

impl Span {
    /// The bytes of `text` in the span, if it lies within.
    pub fn of(self, text: &[u8]) -> Option<&[u8]> {
        let start = self.start as usize;
        text.get(start..start.checked_add(self.len as usize)?)
    }
}

/// A field's value, with text as spans of a text buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// JSON `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string, unescaped.
    Text(Span),
    /// A nested object or array, as JSON text.
    Json(Span),
}

/// One top-level field of an event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    /// Index of the field's name.
    pub name: u32,
    /// The value.
    pub value: Value,
}

/// The fixed part of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventHeader {
    /// Index of its first field.
    pub first_field: u32,
    /// Number of fields.
    pub field_count: u32,
    /// Its position in the source, as a span of the text.
    pub position: Span,
    /// Arrival time, microseconds since the Unix epoch.
    pub arrival_micros: i64,
}

#[inline(always)]
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[inline(always)]
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

fn encode_value(value: Value) -> (u8, u64) {
    let span = |span: Span| u64::from(span.start) | u64::from(span.len) << 32;
    match value {
        Value::Null => (NULL, 0),
        Value::Bool(false) => (FALSE, 0),
        Value::Bool(true) => (TRUE, 0),
        Value::Int(n) => (INTEGER, n as u64),
        Value::Float(x) => (FLOAT, x.to_bits()),
        Value::Text(s) => (TEXT, span(s)),
        Value::Json(s) => (JSON, span(s)),
    }
}

#[inline]
fn decode_value(kind: u8, payload: u64) -> Option<Value> {
    let span = Span {
        start: payload as u32,
        len: (payload >> 32) as u32,
    };
    Some(match kind {
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        INTEGER => Value::Int(payload as i64),
        FLOAT => Value::Float(f64::from_bits(payload)),
        TEXT => Value::Text(span),
        JSON => Value::Json(span),
        _ => return None,
    })
}

/// Sixteen bytes of name, kind, operation and payload: a field or a change.
fn pack16(name: u32, kind: u8, operation: u8, payload: u64) -> [u8; 16] {
    let mut packed = [0u8; 16];
    packed[..4].copy_from_slice(&name.to_le_bytes());
    packed[4] = kind;
    packed[5] = operation;
    packed[8..].copy_from_slice(&payload.to_le_bytes());
    packed
}

/// Append one packed field.
pub fn push_field(out: &mut Vec<u8>, field: Field) {
    let (kind, payload) = encode_value(field.value);
    out.extend_from_slice(&pack16(field.name, kind, 0, payload));
}

/// The name index of packed field `index`, without decoding its value.
#[inline]
pub fn read_field_name(fields: &[u8], index: usize) -> Option<u32> {
    let at = index.checked_mul(FIELD_BYTES)?;
    let bytes = fields.get(at..at + 4)?;
    Some(u32_at(bytes, 0))
}

/// Read packed field `index` of `fields`. `None` when out of range or of an
/// unknown kind.
#[inline]
pub fn read_field(fields: &[u8], index: usize) -> Option<Field> {
    let at = index.checked_mul(FIELD_BYTES)?;
    let bytes = fields.get(at..at + FIELD_BYTES)?;
    Some(Field {
        name: u32_at(bytes, 0),
        value: decode_value(bytes[4], u64_at(bytes, 8))?,
    })
}

/// Append one packed event header.
pub fn push_event(out: &mut Vec<u8>, event: EventHeader) {
    out.extend_from_slice(&event.first_field.to_le_bytes());
    out.extend_from_slice(&event.field_count.to_le_bytes());
    out.extend_from_slice(&event.position.start.to_le_bytes());
    out.extend_from_slice(&event.position.len.to_le_bytes());
    out.extend_from_slice(&event.arrival_micros.to_le_bytes());
}

/// Read packed event `index` of `events`, if in range.
pub fn read_event(events: &[u8], index: usize) -> Option<EventHeader> {
    let at = index.checked_mul(EVENT_BYTES)?;
    let bytes = events.get(at..at + EVENT_BYTES)?;
    Some(EventHeader {
        first_field: u32_at(bytes, 0),
        field_count: u32_at(bytes, 4),
        position: Span {
            start: u32_at(bytes, 8),
            len: u32_at(bytes, 12),
        },
        arrival_micros: u64_at(bytes, 16) as i64,
    })
}

/// The fields of one event, packed as in `batch.fields`: what the host keeps
/// per event, so lending a batch copies bytes rather than packing fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PackedFields {
    bytes: Vec<u8>,
    /// Bit `name % 64` is set for every name present: a clear bit proves a
    /// name absent without a scan (adding a field a plugin computes is the
    /// common case).
    present: u64,
}

impl PackedFields {
    /// No fields, with room for `fields` of them.
    pub fn with_capacity(fields: usize) -> Self {
        PackedFields {
            bytes: Vec::with_capacity(fields * FIELD_BYTES),
            present: 0,
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.bytes.len() / FIELD_BYTES
    }

    /// Remove every field, keeping the allocation.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.present = 0;
    }

    /// True when there is no field.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = Field> + '_ {
        self.bytes.chunks_exact(FIELD_BYTES).filter_map(|packed| {
            Some(Field {
                name: u32_at(packed, 0),
                value: decode_value(packed[4], u64_at(packed, 8))?,
            })
        })
    }

    /// Add a field at the end.
    pub fn push(&mut self, field: Field) {
        let (kind, payload) = encode_value(field.value);
        self.bytes
            .extend_from_slice(&pack16(field.name, kind, 0, payload));
        self.present |= 1 << (field.name % 64);
    }

    /// Overwrite the field at `index` (which must exist).
    pub fn replace_at(&mut self, index: usize, field: Field) {
        let (kind, payload) = encode_value(field.value);
        self.bytes[index * FIELD_BYTES..][..FIELD_BYTES]
            .copy_from_slice(&pack16(field.name, kind, 0, payload));
        self.present |= 1 << (field.name % 64);
    }

    fn position(&self, name: u32) -> Option<usize> {
        if self.present & (1 << (name % 64)) == 0 {
            return None;
        }
        (0..self.len()).find(|&index| read_field_name(&self.bytes, index) == Some(name))
    }

    /// Set field `name`: replace its value where it is, or add it at the end.
    pub fn set(&mut self, field: Field) {
        match self.position(field.name) {
            Some(index) => self.replace_at(index, field),
            None => self.push(field),
        }
    }

    /// Remove field `name`, if present.
    pub fn remove(&mut self, name: u32) {
        if let Some(index) = self.position(name) {
            self.bytes
                .drain(index * FIELD_BYTES..(index + 1) * FIELD_BYTES);
        }
    }
}

/// One change a keep makes to its event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PackedChange {
    /// Set a top-level field.
    Set(Field),
    /// Remove the named field.
    Remove(u32),
    /// Set the named partition key to a text span.
    Partition {
        /// The key's name index.
        key: u32,
        /// The value.
        value: Span,
    },
    /// Replace the whole event with the JSON object in the span.
    Replace(Span),
}

const SET: u8 = 0;
const REMOVE: u8 = 1;
const PARTITION: u8 = 2;
const REPLACE: u8 = 3;

fn span_payload(span: Span) -> u64 {
    u64::from(span.start) | u64::from(span.len) << 32
}

/// Append one packed change.
pub fn push_change(out: &mut Vec<u8>, change: PackedChange) {
    let packed = match change {
        PackedChange::Set(field) => {
            let (kind, payload) = encode_value(field.value);
            pack16(field.name, kind, SET, payload)
        }
        PackedChange::Remove(name) => pack16(name, NULL, REMOVE, 0),
        PackedChange::Partition { key, value } => pack16(key, TEXT, PARTITION, span_payload(value)),
        PackedChange::Replace(span) => pack16(0, JSON, REPLACE, span_payload(span)),
    };
    out.extend_from_slice(&packed);
}

/// Read packed change `index`. `None` when out of range or malformed.
pub fn read_change(changes: &[u8], index: usize) -> Option<PackedChange> {
    let at = index.checked_mul(CHANGE_BYTES)?;
    let bytes = changes.get(at..at + CHANGE_BYTES)?;
    let name = u32_at(bytes, 0);
    let payload = u64_at(bytes, 8);
    let span = Span {
        start: payload as u32,
        len: (payload >> 32) as u32,
    };
    Some(match bytes[5] {
        SET => PackedChange::Set(Field {
            name,
            value: decode_value(bytes[4], payload)?,
        }),
        REMOVE => PackedChange::Remove(name),
        PARTITION => PackedChange::Partition {
            key: name,
            value: span,
        },
        REPLACE => PackedChange::Replace(span),
        _ => return None,
    })
}

/// The fate of one event, as laid out in `results.outcomes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackedOutcome {
    /// Keep it, with `count` changes from change `first`.
    Keep {
        /// Index of the first change.
        first: u32,
        /// Number of changes.
        count: u32,
    },
    /// Filter it out.
    Drop,
    /// Refuse it.
    Reject {
        /// The code's text.
        code: Span,
        /// The reason's text.
        reason: Span,
    },
}

/// Append one packed outcome.
pub fn push_outcome(out: &mut Vec<u8>, outcome: PackedOutcome) {
    let words: [u32; 5] = match outcome {
        PackedOutcome::Keep { first, count } => [0, first, count, 0, 0],
        PackedOutcome::Drop => [1, 0, 0, 0, 0],
        PackedOutcome::Reject { code, reason } => {
            [2, code.start, code.len, reason.start, reason.len]
        }
    };
    let mut packed = [0u8; OUTCOME_BYTES];
    for (slot, word) in packed.chunks_exact_mut(4).zip(words) {
        slot.copy_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&packed);
}

/// Read packed outcome `index`. `None` when out of range or of an unknown
/// kind.
pub fn read_outcome(outcomes: &[u8], index: usize) -> Option<PackedOutcome> {
    let at = index.checked_mul(OUTCOME_BYTES)?;
    let bytes = outcomes.get(at..at + OUTCOME_BYTES)?;
    let word = |i: usize| u32_at(bytes, 4 * i);
    Some(match word(0) {
        0 => PackedOutcome::Keep {
            first: word(1),
            count: word(2),
        },
        1 => PackedOutcome::Drop,
        2 => PackedOutcome::Reject {
            code: Span {
                start: word(1),
                len: word(2),
            },
            reason: Span {
                start: word(3),
                len: word(4),
            },
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
