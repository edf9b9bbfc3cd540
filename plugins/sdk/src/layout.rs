//! The packed layout of `batch.fields` and `batch.events` (see
//! `wit/plugin.wit`), shared by the host that writes it and the SDK that
//! reads it in place.
//!
//! A field is 16 bytes: name index (u32), kind (u8), 3 zero bytes, 8 bytes of
//! payload. An event is 24 bytes: first field (u32), field count (u32),
//! position span (u32 start, u32 len), arrival micros (s64). All
//! little-endian.

/// Bytes of one packed field.
pub const FIELD_BYTES: usize = 16;
/// Bytes of one packed event.
pub const EVENT_BYTES: usize = 24;

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

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// Append one packed field.
pub fn push_field(out: &mut Vec<u8>, field: Field) {
    let (kind, payload) = match field.value {
        Value::Null => (NULL, 0),
        Value::Bool(false) => (FALSE, 0),
        Value::Bool(true) => (TRUE, 0),
        Value::Int(n) => (INTEGER, n as u64),
        Value::Float(x) => (FLOAT, x.to_bits()),
        Value::Text(span) => (TEXT, u64::from(span.start) | u64::from(span.len) << 32),
        Value::Json(span) => (JSON, u64::from(span.start) | u64::from(span.len) << 32),
    };
    let mut packed = [0u8; FIELD_BYTES];
    packed[..4].copy_from_slice(&field.name.to_le_bytes());
    packed[4] = kind;
    packed[8..].copy_from_slice(&payload.to_le_bytes());
    out.extend_from_slice(&packed);
}

/// The name index of packed field `index`, without decoding its value.
pub fn read_field_name(fields: &[u8], index: usize) -> Option<u32> {
    let at = index.checked_mul(FIELD_BYTES)?;
    let bytes = fields.get(at..at + 4)?;
    Some(u32_at(bytes, 0))
}

/// Read packed field `index` of `fields`. `None` when out of range or of an
/// unknown kind.
pub fn read_field(fields: &[u8], index: usize) -> Option<Field> {
    let at = index.checked_mul(FIELD_BYTES)?;
    let bytes = fields.get(at..at + FIELD_BYTES)?;
    let payload = u64_at(bytes, 8);
    let span = Span {
        start: payload as u32,
        len: (payload >> 32) as u32,
    };
    let value = match bytes[4] {
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        INTEGER => Value::Int(payload as i64),
        FLOAT => Value::Float(f64::from_bits(payload)),
        TEXT => Value::Text(span),
        JSON => Value::Json(span),
        _ => return None,
    };
    Some(Field {
        name: u32_at(bytes, 0),
        value,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_events_round_trip() {
        let span = Span { start: 7, len: 3 };
        let values = [
            Value::Null,
            Value::Bool(false),
            Value::Bool(true),
            Value::Int(-42),
            Value::Float(19.99),
            Value::Text(span),
            Value::Json(span),
        ];
        let mut packed = Vec::new();
        for (name, value) in values.iter().enumerate() {
            push_field(
                &mut packed,
                Field {
                    name: name as u32,
                    value: *value,
                },
            );
        }
        assert_eq!(packed.len(), values.len() * FIELD_BYTES);
        for (index, value) in values.iter().enumerate() {
            let field = read_field(&packed, index).unwrap();
            assert_eq!((field.name, field.value), (index as u32, *value));
        }
        assert_eq!(read_field(&packed, values.len()), None);
        let header = EventHeader {
            first_field: 3,
            field_count: 9,
            position: span,
            arrival_micros: -5,
        };
        let mut events = Vec::new();
        push_event(&mut events, header);
        assert_eq!(read_event(&events, 0), Some(header));
        assert_eq!(read_event(&events, 1), None);
    }
}
