//! Read-only views of the batch the host lends a plugin, read in place.

use std::cell::Cell;

use crate::layout::{self, EVENT_BYTES, FIELD_BYTES};
use crate::wit;

/// A batch of events, as a plugin reads it.
pub struct Batch<'a> {
    raw: &'a wit::Batch,
    events: usize,
    names: NameTable,
}

/// The batch's field names, hashed for lookups that mostly avoid comparing
/// strings: a name's length and first sixteen bytes are its key, and only
/// the rest of a longer name is compared. Each name also remembers where in
/// an event it was last found, since the events of a batch mostly share a
/// layout.
struct NameTable {
    /// Open addressing over the names: index + 1, or 0 for an empty slot.
    slots: Vec<u32>,
    /// Per name: its key.
    keys: Vec<NameKey>,
    /// Per name: the position in its event where it was last found.
    hints: Vec<Cell<u32>>,
}

/// Up to eight bytes as a little-endian number, zero-padded, read with a few
/// fixed-size loads (a byte loop would pay the host's deadline check on
/// every iteration, a variable-length copy a call).
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let u32_at = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()));
    match len {
        8 => u64::from_le_bytes(bytes.try_into().unwrap()),
        // Two overlapping four-byte reads: the overlap holds the same bytes.
        4..=7 => u32_at(0) | u32_at(len - 4) << (8 * (len - 4)),
        0 => 0,
        _ => {
            let mut value = 0;
            for (at, &byte) in bytes.iter().enumerate() {
                value |= u64::from(byte) << (8 * at);
            }
            value
        }
    }
}

/// A name's length and its first sixteen bytes, zero-padded, as numbers.
#[derive(Clone, Copy, PartialEq, Eq)]
struct NameKey {
    len: usize,
    head: u64,
    next: u64,
}

impl NameKey {
    #[inline(always)]
    fn of(name: &str) -> Self {
        let bytes = name.as_bytes();
        let (head, rest) = bytes.split_at(bytes.len().min(8));
        NameKey {
            len: name.len(),
            head: word(head),
            next: word(&rest[..rest.len().min(8)]),
        }
    }
}

impl NameTable {
    fn new(names: &[String]) -> Self {
        // At most half full, so probes stay short.
        let slots = (names.len() * 2).next_power_of_two().max(16);
        let mut table = NameTable {
            slots: vec![0; slots],
            keys: Vec::with_capacity(names.len()),
            hints: Vec::with_capacity(names.len()),
        };
        for (index, name) in names.iter().enumerate() {
            let key = NameKey::of(name);
            let mut slot = table.slot(key);
            while table.slots[slot] != 0 {
                slot = (slot + 1) & (slots - 1);
            }
            table.slots[slot] = index as u32 + 1;
            table.keys.push(key);
            table.hints.push(Cell::new(0));
        }
        table
    }

    #[inline(always)]
    fn slot(&self, key: NameKey) -> usize {
        // Fibonacci hashing; the top bits index.
        let hash = (key.head ^ key.next.rotate_left(29) ^ key.len as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (hash >> 40) as usize & (self.slots.len() - 1)
    }

    #[inline]
    fn find(&self, names: &[String], name: &str) -> Option<u32> {
        let key = NameKey::of(name);
        let mut slot = self.slot(key);
        loop {
            let index = self.slots[slot].checked_sub(1)?;
            if self.keys[index as usize] == key
                && (key.len <= 16
                    || names[index as usize].as_bytes()[16..] == name.as_bytes()[16..])
            {
                return Some(index);
            }
            slot = (slot + 1) & (self.slots.len() - 1);
        }
    }
}

impl<'a> Batch<'a> {
    /// Wrap the host's batch. Fails only if the host broke the contract:
    /// packed columns of the wrong length, an event's fields out of range.
    /// Text and names are checked as they are read.
    pub fn new(raw: &'a wit::Batch) -> Result<Self, String> {
        if !raw.fields.len().is_multiple_of(FIELD_BYTES)
            || !raw.events.len().is_multiple_of(EVENT_BYTES)
        {
            return Err("packed fields or events of a length the layout forbids".to_string());
        }
        let fields = raw.fields.len() / FIELD_BYTES;
        let events = raw.events.len() / EVENT_BYTES;
        for index in 0..events {
            let header = layout::read_event(&raw.events, index).expect("in range");
            let end = header.first_field as usize + header.field_count as usize;
            if end > fields {
                return Err(format!(
                    "event {index} has fields past the batch's {fields}"
                ));
            }
        }
        Ok(Batch {
            raw,
            events,
            names: NameTable::new(&raw.names),
        })
    }

    /// The source the batch came from: a file name, `stdin`, a shard id.
    pub fn source(&self) -> &'a str {
        &self.raw.source
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events
    }

    /// True when the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// The events, in source order.
    pub fn events(&self) -> impl Iterator<Item = Event<'_>> {
        let raw = self.raw;
        let names = &self.names;
        (0..self.events).map(move |index| Event {
            raw,
            names,
            header: layout::read_event(&raw.events, index).expect("checked by Batch::new"),
        })
    }

    /// The underlying contract value.
    pub fn raw(&self) -> &'a wit::Batch {
        self.raw
    }
}

/// One event: a JSON object the host decoded, field by field.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    raw: &'a wit::Batch,
    names: &'a NameTable,
    header: layout::EventHeader,
}

/// A field's value, borrowed from the batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// JSON `null`.
    Null,
    /// JSON `true` or `false`.
    Bool(bool),
    /// A number without fraction or exponent.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string, unescaped.
    Text(&'a str),
    /// A nested object or array, as JSON text.
    Json(&'a str),
}

impl<'a> Value<'a> {
    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(n) => Some(n as f64),
            Value::Float(x) => Some(x),
            _ => None,
        }
    }

    /// The value as a string, if it is one.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON type's name, for messages: `string`, `number`, `boolean`,
    /// `null`, `object or array`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Text(_) => "string",
            Value::Json(_) => "object or array",
        }
    }
}

impl<'a> Event<'a> {
    fn text(&self, span: layout::Span) -> &'a str {
        // The host writes only UTF-8 at character boundaries; a span that is
        // out of range or not UTF-8 reads as empty rather than trapping.
        let Some(bytes) = span.of(&self.raw.text) else {
            return "";
        };
        if bytes.is_ascii() {
            // SAFETY: ASCII is UTF-8. Most field values are ASCII, and this
            // check is a fraction of full validation, which stays for the rest.
            return unsafe { std::str::from_utf8_unchecked(bytes) };
        }
        std::str::from_utf8(bytes).unwrap_or("")
    }

    fn name(&self, index: u32) -> &'a str {
        self.raw
            .names
            .get(index as usize)
            .map_or("", String::as_str)
    }

    fn decode(&self, value: layout::Value) -> Value<'a> {
        match value {
            layout::Value::Null => Value::Null,
            layout::Value::Bool(b) => Value::Bool(b),
            layout::Value::Int(n) => Value::Int(n),
            layout::Value::Float(x) => Value::Float(x),
            layout::Value::Text(span) => Value::Text(self.text(span)),
            layout::Value::Json(span) => Value::Json(self.text(span)),
        }
    }

    fn raw_fields(&self) -> impl Iterator<Item = layout::Field> + use<'a> {
        let fields = &self.raw.fields;
        let first = self.header.first_field as usize;
        (first..first + self.header.field_count as usize)
            .filter_map(move |index| layout::read_field(fields, index))
    }

    /// The value of the top-level field `name`, if the event has it.
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        let wanted = self.names.find(&self.raw.names, name)?;
        let fields = &self.raw.fields;
        let first = self.header.first_field as usize;
        let count = self.header.field_count as usize;
        let hint = &self.names.hints[wanted as usize];
        let at_hint = hint.get() as usize;
        let position = if at_hint < count
            && layout::read_field_name(fields, first + at_hint) == Some(wanted)
        {
            at_hint
        } else {
            let position = (0..count).find(|&position| {
                layout::read_field_name(fields, first + position) == Some(wanted)
            })?;
            hint.set(position as u32);
            position
        };
        layout::read_field(fields, first + position).map(|field| self.decode(field.value))
    }

    /// The field `name` if it is a string.
    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(|value| value.as_str())
    }

    /// The field `name` if it is a number.
    pub fn f64(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|value| value.as_f64())
    }

    /// The field `name` parsed as an ISO-8601 date-time. The error is a
    /// reason fit for a `bad-timestamp` reject: it names the field and says
    /// what is wrong (missing, not a string, not a date-time).
    pub fn timestamp(&self, name: &str) -> Result<crate::time::Timestamp, String> {
        match self.get(name) {
            Some(Value::Text(text)) => {
                crate::time::Timestamp::parse(text).map_err(|err| format!("field `{name}`: {err}"))
            }
            Some(other) => Err(format!(
                "field `{name}` must be a string, found {}",
                other.type_name()
            )),
            None => Err(format!("field `{name}` is missing")),
        }
    }

    /// Every top-level field, in the event's order.
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, Value<'a>)> + use<'a> {
        let event = *self;
        self.raw_fields()
            .map(move |field| (event.name(field.name), event.decode(field.value)))
    }

    /// Where the event sits in its source: a line number, a sequence number.
    pub fn position(&self) -> &'a str {
        self.text(self.header.position)
    }

    /// When the event reached Weir, microseconds since the Unix epoch (UTC).
    pub fn arrival_micros(&self) -> i64 {
        self.header.arrival_micros
    }

    /// The source the event came from.
    pub fn source(&self) -> &'a str {
        &self.raw.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::batch_from_json;

    #[test]
    fn words_pad_like_a_byte_copy() {
        for len in 0..=8 {
            let bytes: Vec<u8> = (1..=len as u8).collect();
            let mut padded = [0u8; 8];
            padded[..len].copy_from_slice(&bytes);
            assert_eq!(word(&bytes), u64::from_le_bytes(padded), "{len}");
        }
    }

    #[test]
    fn looks_up_names_that_share_a_prefix_or_a_length() {
        let raw = batch_from_json(&[
            r#"{"product_id":"p1","product_category":"Books","product_ix":"x","a":1,"":true}"#,
            r#"{"product_ix":"y","b":2.5,"product_category_of_the_item":1,"product_category_of_the_other":2}"#,
        ]);
        let batch = Batch::new(&raw).unwrap();
        let events: Vec<Event<'_>> = batch.events().collect();
        assert_eq!(events[0].str("product_id"), Some("p1"));
        assert_eq!(events[0].str("product_category"), Some("Books"));
        assert_eq!(events[0].str("product_ix"), Some("x"));
        assert_eq!(events[0].get("a"), Some(Value::Int(1)));
        assert_eq!(events[0].get(""), Some(Value::Bool(true)));
        assert_eq!(events[0].get("b"), None);
        assert_eq!(events[0].get("product_iy"), None);
        assert_eq!(events[1].str("product_ix"), Some("y"));
        assert_eq!(events[1].f64("b"), Some(2.5));
        assert_eq!(events[1].get("product_id"), None);
        assert_eq!(events[1].position(), "2");
        assert_eq!(
            events[1].get("product_category_of_the_other"),
            Some(Value::Int(2))
        );
        assert_eq!(
            events[1].get("product_category_of_the_item"),
            Some(Value::Int(1))
        );
        assert_eq!(events[1].get("product_category_of_the_thing"), None);
    }
}
