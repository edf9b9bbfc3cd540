//! Read-only views of the batch the host lends a plugin, read in place.

use crate::layout::{self, EVENT_BYTES, FIELD_BYTES};
use crate::wit;

/// A batch of events, as a plugin reads it.
#[derive(Clone, Copy)]
pub struct Batch<'a> {
    raw: &'a wit::Batch,
    events: usize,
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
        Ok(Batch { raw, events })
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
    pub fn events(&self) -> impl Iterator<Item = Event<'a>> + use<'a> {
        let raw = self.raw;
        (0..self.events).map(move |index| Event {
            raw,
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
        span.of(&self.raw.text)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or("")
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
        let fields = &self.raw.fields;
        let first = self.header.first_field as usize;
        // Compare names before decoding any value: most fields are not it.
        let index = (first..first + self.header.field_count as usize).find(|&index| {
            layout::read_field_name(fields, index).is_some_and(|known| self.name(known) == name)
        })?;
        layout::read_field(fields, index).map(|field| self.decode(field.value))
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
