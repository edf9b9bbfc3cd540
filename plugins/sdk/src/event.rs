//! Read-only views of the batch the host lends a plugin.

use crate::wit;

/// A batch of events, as a plugin reads it.
#[derive(Clone, Copy)]
pub struct Batch<'a> {
    raw: &'a wit::Batch,
}

impl<'a> Batch<'a> {
    /// Wrap the host's batch. Fails only if the host broke the contract (an
    /// index out of range). Text is checked span by span as it is read, which
    /// costs less than checking all of it when plugins read a few fields.
    pub fn new(raw: &'a wit::Batch) -> Result<Self, String> {
        let field_count = raw.fields.len();
        for event in &raw.events {
            let end = event.first_field as usize + event.field_count as usize;
            if end > field_count {
                return Err(format!("event fields {end} out of range {field_count}"));
            }
        }
        for field in &raw.fields {
            if field.name as usize >= raw.names.len() {
                return Err(format!("field name index {} out of range", field.name));
            }
        }
        Ok(Batch { raw })
    }

    /// The source the batch came from: a file name, `stdin`, a shard id.
    pub fn source(&self) -> &'a str {
        &self.raw.source
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.raw.events.len()
    }

    /// True when the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.raw.events.is_empty()
    }

    /// The events, in source order.
    pub fn events(&self) -> impl Iterator<Item = Event<'a>> + '_ {
        let batch = *self;
        (0..self.raw.events.len()).map(move |index| Event {
            raw: batch.raw,
            meta: &batch.raw.events[index],
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
    meta: &'a wit::Event,
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
    fn span(&self, span: wit::Span) -> &'a str {
        let start = span.start as usize;
        // The host writes only UTF-8 at character boundaries; a span that is
        // out of range or not UTF-8 reads as empty rather than trapping.
        self.raw
            .text
            .get(start..start + span.len as usize)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or("")
    }

    fn fields_raw(&self) -> &'a [wit::Field] {
        let start = self.meta.first_field as usize;
        &self.raw.fields[start..start + self.meta.field_count as usize]
    }

    fn decode(&self, value: &wit::Value) -> Value<'a> {
        match *value {
            wit::Value::Null => Value::Null,
            wit::Value::Boolean(b) => Value::Bool(b),
            wit::Value::Integer(n) => Value::Int(n),
            wit::Value::Float(x) => Value::Float(x),
            wit::Value::Text(span) => Value::Text(self.span(span)),
            wit::Value::Json(span) => Value::Json(self.span(span)),
        }
    }

    /// The value of the top-level field `name`, if the event has it.
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        let names = &self.raw.names;
        self.fields_raw()
            .iter()
            .find(|field| names[field.name as usize] == name)
            .map(|field| self.decode(&field.value))
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
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, Value<'a>)> + '_ {
        let names = &self.raw.names;
        self.fields_raw().iter().map(move |field| {
            (
                names[field.name as usize].as_str(),
                self.decode(&field.value),
            )
        })
    }

    /// Where the event sits in its source: a line number, a sequence number.
    pub fn position(&self) -> &'a str {
        self.span(self.meta.position)
    }

    /// When the event reached Weir, microseconds since the Unix epoch (UTC).
    pub fn arrival_micros(&self) -> i64 {
        self.meta.arrival_micros
    }

    /// The source the event came from.
    pub fn source(&self) -> &'a str {
        &self.raw.source
    }
}
