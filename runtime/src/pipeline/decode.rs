//! Decoding: one JSON object into a batch's columns, parsed once.
//!
//! Top-level fields become typed values; strings are unescaped into the
//! batch's text buffer; nested objects and arrays are re-written there as
//! compact JSON text. No per-event JSON tree is built.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use weir_plugin::layout::{Field, PackedFields, Span, Value};

use crate::pipeline::json::{write_json_f64, write_json_i64, write_json_string};

mod wide;
use wide::{check_wide_integers, note_float};

/// Field names and text of one batch: what spans and name indexes point into.
#[derive(Debug, Default)]
pub struct Arena {
    /// Field names, each once.
    pub names: Vec<String>,
    /// SipHash, keyed per process: names come from untrusted input, and the
    /// hot path rarely hashes (see `intern_at`).
    index: HashMap<String, u32>,
    /// The name index last seen at each field position (see `intern_at`).
    hints: Vec<u32>,
    /// Per name: the decode generation that last saw it, and the position of
    /// its field then.
    slots: Vec<(u64, u32)>,
    /// Counts decoded objects, so `slots` never needs clearing. 64 bits: it
    /// must never come back to 0, the stamp of a name no object has used.
    generation: u64,
    /// Text that spans point into.
    pub text: Vec<u8>,
    /// Set when the object being decoded held a whole-number float too
    /// large to count in exactly: perhaps an integer literal beyond 64 bits
    /// that the parser rounded (see `check_wide_integers`).
    wide_float: bool,
}

impl Arena {
    /// The index of the name of the field at `position` in an event, adding
    /// it if new. Events of a batch mostly hold the same fields in the same
    /// order, so the name seen at this position before is tried first.
    pub fn intern_at(&mut self, position: usize, name: &str) -> u32 {
        if let Some(&hint) = self.hints.get(position)
            && self
                .names
                .get(hint as usize)
                .is_some_and(|known| known == name)
        {
            return hint;
        }
        let index = self.intern(name);
        if position >= self.hints.len() {
            self.hints.resize(position + 1, 0);
        }
        self.hints[position] = index;
        index
    }

    /// The index of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&index) = self.index.get(name) {
            return index;
        }
        let index = self.names.len() as u32;
        self.names.push(name.to_string());
        self.slots.push((0, 0));
        self.index.insert(name.to_string(), index);
        index
    }

    /// The index of `name`, if some event of the batch has used it.
    pub fn lookup(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// Append text, returning its span.
    pub fn push_text(&mut self, text: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.extend_from_slice(text.as_bytes());
        Span {
            start,
            len: text.len() as u32,
        }
    }

    /// Forget everything, keeping the allocations.
    pub fn clear(&mut self) {
        self.names.clear();
        self.index.clear();
        self.hints.clear();
        self.slots.clear();
        self.text.clear();
    }
}

/// Why an input record is not an event. `code` is the reject code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The reject code written on the dead letter, such as `malformed-json`,
    /// `not-an-object`, `too-deep` or `number-out-of-range`.
    pub code: &'static str,
    /// The parser's message, saying what is wrong and where.
    pub reason: String,
}

/// Decode one JSON object into its fields. A repeated key keeps its last
/// value, in the place of its first, as most JSON readers do.
pub fn decode_object(json: &str, arena: &mut Arena) -> Result<PackedFields, DecodeError> {
    // Room for a typical event and the fields enrichment adds, so apply
    // rarely reallocates.
    let mut fields = PackedFields::with_capacity(20);
    decode_object_into(json, arena, &mut fields)?;
    Ok(fields)
}

/// [`decode_object`] into `fields`, which must be empty: a caller that
/// recycles field buffers across batches allocates nothing here.
pub fn decode_object_into(
    json: &str,
    arena: &mut Arena,
    fields: &mut PackedFields,
) -> Result<(), DecodeError> {
    arena.generation += 1;
    arena.wide_float = false;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    ObjectSeed {
        arena: &mut *arena,
        fields,
    }
    .deserialize(&mut deserializer)
    .and_then(|()| deserializer.end())
    .map_err(classify)?;
    if arena.wide_float {
        check_wide_integers(json)?;
    }
    Ok(())
}

/// How an integer field beyond the host's 64-bit signed integers is refused.
const OUT_OF_RANGE: &str = "is beyond the signed 64-bit integers an event's fields hold";

fn classify(err: serde_json::Error) -> DecodeError {
    let message = err.to_string();
    let code = if message.contains("recursion limit") {
        "too-deep"
    } else if message.contains(OUT_OF_RANGE) {
        "number-out-of-range"
    } else if err.is_data() {
        "not-an-object"
    } else {
        "malformed-json"
    };
    DecodeError {
        code,
        reason: message,
    }
}

struct ObjectSeed<'a> {
    arena: &'a mut Arena,
    fields: &'a mut PackedFields,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut position = 0;
        while let Some(name) = map.next_key_seed(NameSeed(&mut *self.arena, position))? {
            position += 1;
            let value = map.next_value_seed(ValueSeed(&mut *self.arena))?;
            let field = Field { name, value };
            // A stamp per name says whether this object already has it, and
            // where, so repeated keys cost no search (and cannot make a
            // large object quadratic).
            let generation = self.arena.generation;
            let slot = &mut self.arena.slots[name as usize];
            if slot.0 == generation {
                self.fields.replace_at(slot.1 as usize, field);
            } else {
                *slot = (generation, self.fields.len() as u32);
                self.fields.push(field);
            }
        }
        Ok(())
    }
}

/// Reads a field name and interns it, with the field's position as a hint.
struct NameSeed<'a>(&'a mut Arena, usize);

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for NameSeed<'_> {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<u32, E> {
        Ok(self.0.intern_at(self.1, name))
    }
}

struct ValueSeed<'a>(&'a mut Arena);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Int(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        // Turning it into a float would change its last digits silently.
        i64::try_from(value)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("the integer {value} {OUT_OF_RANGE}")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        note_float(&mut self.0.wide_float, value);
        Ok(Value::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::Text(self.0.push_text(value)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let start = self.0.text.len();
        Transcode::of(self.0).visit_map(map)?;
        Ok(Value::Json(span_from(start, self.0.text.len())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        let start = self.0.text.len();
        Transcode::of(self.0).visit_seq(seq)?;
        Ok(Value::Json(span_from(start, self.0.text.len())))
    }
}

fn span_from(start: usize, end: usize) -> Span {
    Span {
        start: start as u32,
        len: (end - start) as u32,
    }
}

/// Writes whatever it visits back out as compact JSON, into the arena's
/// text, noting wide floats as the top level does.
struct Transcode<'a>(&'a mut Vec<u8>, &'a mut bool);

impl<'a> Transcode<'a> {
    fn of(arena: &'a mut Arena) -> Self {
        Transcode(&mut arena.text, &mut arena.wide_float)
    }

    fn nested(&mut self) -> Transcode<'_> {
        Transcode(&mut *self.0, &mut *self.1)
    }
}

impl<'de> DeserializeSeed<'de> for Transcode<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Transcode<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<(), E> {
        self.0
            .extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<(), E> {
        write_json_i64(self.0, value);
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<(), E> {
        self.0
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<(), E> {
        note_float(self.1, value);
        write_json_f64(self.0, value);
        Ok(())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
        write_json_string(self.0, value);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.0.push(b'{');
        let mut first = true;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if !first {
                self.0.push(b',');
            }
            first = false;
            write_json_string(self.0, &key);
            self.0.push(b':');
            map.next_value_seed(self.nested())?;
        }
        self.0.push(b'}');
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.0.push(b'[');
        let mut first = true;
        loop {
            if !first {
                self.0.push(b',');
            }
            let len = self.0.len();
            if seq.next_element_seed(self.nested())?.is_none() {
                // Nothing was written for the missing element; undo the comma.
                self.0.truncate(if first { len } else { len - 1 });
                break;
            }
            first = false;
        }
        self.0.push(b']');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::encode::{ObjectWriter, span_str};

    fn round_trip(json: &str) -> Result<String, DecodeError> {
        let mut arena = Arena::default();
        let fields = decode_object(json, &mut arena)?;
        let mut out = Vec::new();
        ObjectWriter::new(&arena).write(&mut out, &fields);
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn decodes_typed_fields_and_nested_json() {
        let mut arena = Arena::default();
        let fields = decode_object(
            r#"{"user_id":"u\"1","price":19.99,"qty":2,"ok":true,"none":null,"tags":["a",{"b":[1,2.5]}],"empty":[]}"#,
            &mut arena,
        )
        .unwrap();
        let fields: Vec<Field> = fields.iter().collect();
        assert_eq!(fields.len(), 7);
        assert!(matches!(fields[0].value, Value::Text(s) if span_str(&arena.text, s) == "u\"1"));
        assert_eq!(fields[1].value, Value::Float(19.99));
        assert_eq!(fields[2].value, Value::Int(2));
        assert_eq!(fields[3].value, Value::Bool(true));
        assert_eq!(fields[4].value, Value::Null);
        assert!(
            matches!(fields[5].value, Value::Json(s) if span_str(&arena.text, s) == r#"["a",{"b":[1,2.5]}]"#)
        );
        assert!(matches!(fields[6].value, Value::Json(s) if span_str(&arena.text, s) == "[]"));
    }

    #[test]
    fn round_trips_and_keeps_the_last_duplicate() {
        assert_eq!(
            round_trip(r#" {"a": 1, "b": "x", "a": 2} "#).unwrap(),
            r#"{"a":2,"b":"x"}"#
        );
    }

    #[test]
    fn classifies_bad_input() {
        assert_eq!(round_trip("{\"a\":").unwrap_err().code, "malformed-json");
        assert_eq!(round_trip("[1,2]").unwrap_err().code, "not-an-object");
        assert_eq!(round_trip("42").unwrap_err().code, "not-an-object");
        assert_eq!(round_trip("{} {}").unwrap_err().code, "malformed-json");
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(round_trip(&deep).unwrap_err().code, "too-deep");
    }

    #[test]
    fn floats_come_back_exactly() {
        // serde_json's fast float parsing is off by one unit in the last
        // place for some of these (found by fuzzing).
        for json in [
            r#"{"n":1.2345678901269136e29}"#,
            r#"{"n":0.30000000000000004}"#,
            r#"{"n":2.2250738585072014e-308}"#,
        ] {
            assert_eq!(round_trip(json).unwrap(), json);
        }
    }

    #[test]
    fn integers_stay_exact_or_are_refused() {
        let max = i64::MAX;
        assert_eq!(
            round_trip(&format!(r#"{{"id":{max}}}"#)).unwrap(),
            format!(r#"{{"id":{max}}}"#)
        );
        let err = round_trip(r#"{"id":18446744073709551615}"#).unwrap_err();
        assert_eq!(err.code, "number-out-of-range");
        assert!(
            err.reason.contains("18446744073709551615"),
            "{}",
            err.reason
        );
        // Inside nested JSON the number is kept as it was written.
        assert_eq!(
            round_trip(r#"{"a":{"b":18446744073709551615}}"#).unwrap(),
            r#"{"a":{"b":18446744073709551615}}"#
        );
        // Beyond 64 bits the parser would round: refused, at any depth and
        // either sign, naming the literal as written.
        for (json, literal) in [
            (r#"{"id":18446744073709551616}"#, "18446744073709551616"),
            (r#"{"id":-9223372036854775809}"#, "-9223372036854775809"),
            (
                r#"{"s":"12345678901234567890123","a":[1,{"b":123456789012345678901234567890}]}"#,
                "123456789012345678901234567890",
            ),
        ] {
            let err = round_trip(json).unwrap_err();
            assert_eq!(err.code, "number-out-of-range", "{json}");
            assert!(err.reason.contains(literal), "{}", err.reason);
        }
        // Large floats written as floats are floats, and digits in strings
        // (even beside an escaped quote) are text.
        assert_eq!(
            round_trip(r#"{"x":1e20,"y":-2.5E19,"s":"\"99999999999999999999"}"#).unwrap(),
            r#"{"x":1e20,"y":-2.5e19,"s":"\"99999999999999999999"}"#
        );
    }
}
