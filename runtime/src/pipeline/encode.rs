//! Encoders: events to JSON text. Pure functions over bytes; no I/O.

use weir_plugin::layout::{PackedFields, Span, Value};

use crate::pipeline::decode::Arena;
pub use crate::pipeline::json::{
    write_json_f64, write_json_i64, write_json_string, write_json_string_bytes,
};

/// Writes the events of one batch as compact JSON objects. Every event of a
/// batch draws its field names from the same few, so each is escaped once,
/// here, rather than once per event.
pub struct ObjectWriter<'a> {
    /// `"name":` for every name of the batch, back to back.
    rendered: Vec<u8>,
    /// Where each rendered name ends in `rendered`.
    ends: Vec<usize>,
    text: &'a [u8],
}

impl<'a> ObjectWriter<'a> {
    /// A writer for events whose fields point into `arena`.
    pub fn new(arena: &'a Arena) -> Self {
        let mut rendered = Vec::new();
        let mut ends = Vec::with_capacity(arena.names.len());
        for name in &arena.names {
            write_json_string(&mut rendered, name);
            rendered.push(b':');
            ends.push(rendered.len());
        }
        ObjectWriter {
            rendered,
            ends,
            text: &arena.text,
        }
    }

    /// Append one event as a JSON object (no newline).
    pub fn write(&self, out: &mut Vec<u8>, fields: &PackedFields) {
        out.push(b'{');
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            let name = field.name as usize;
            let start = if name == 0 { 0 } else { self.ends[name - 1] };
            out.extend_from_slice(&self.rendered[start..self.ends[name]]);
            match field.value {
                Value::Null => out.extend_from_slice(b"null"),
                Value::Bool(true) => out.extend_from_slice(b"true"),
                Value::Bool(false) => out.extend_from_slice(b"false"),
                Value::Int(n) => write_json_i64(out, n),
                Value::Float(x) => write_json_f64(out, x),
                Value::Text(span) => write_json_string_bytes(out, span_bytes(self.text, span)),
                Value::Json(span) => out.extend_from_slice(span_bytes(self.text, span)),
            }
        }
        out.push(b'}');
    }
}

/// The bytes of a span. The host builds every span itself, in range.
pub fn span_bytes(text: &[u8], span: Span) -> &[u8] {
    let start = span.start as usize;
    &text[start..start + span.len as usize]
}

/// The text of a span: valid UTF-8, since the host only ever writes `&str`
/// into the text buffer at character boundaries.
pub fn span_str(text: &[u8], span: Span) -> &str {
    std::str::from_utf8(span_bytes(text, span)).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_json_requires() {
        let mut out = Vec::new();
        write_json_string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn floats_round_trip() {
        for x in [0.1, 19.99, 10.0, 1e21, -3.5e-7] {
            let mut out = Vec::new();
            write_json_f64(&mut out, x);
            let back: f64 = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, x);
        }
    }
}
