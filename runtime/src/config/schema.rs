//! Every key a pipeline file may hold, read from the types that parse it:
//! their `Deserialize` implementations are walked once with a deserializer
//! that offers each struct every one of its fields. A key added to the code
//! is listed here without anyone writing it down twice, so a test can hold
//! `docs/pipeline.md` to it.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::value::Error;
use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};

use crate::config::PipelineFile;

/// The keys of a pipeline file, dotted (`limits.memory_mib`,
/// `output.column.name`; a table or array of tables is a key too), in the
/// order the types declare them.
pub fn keys() -> Vec<String> {
    let found = Rc::new(RefCell::new(Vec::new()));
    let walker = Walker {
        path: String::new(),
        found: found.clone(),
    };
    // Every value the walker offers is a valid one of its type, so the
    // walk only fails if a type refuses them all: then the keys found so
    // far are still listed.
    let _ = PipelineFile::deserialize(walker);
    found.take()
}

/// A deserializer that, at `path`, hands each type a value it accepts,
/// noting every struct field it passes.
struct Walker {
    path: String,
    found: Rc<RefCell<Vec<String>>>,
}

impl Walker {
    fn child(&self, field: &str) -> Walker {
        let path = if self.path.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.path)
        };
        self.found.borrow_mut().push(path.clone());
        Walker {
            path,
            found: self.found.clone(),
        }
    }
}

/// Plain values: one each, of the kind asked for.
macro_rules! offer {
    ($($method:ident => $visit:ident($($value:expr)?)),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                visitor.$visit($($value)?)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Walker {
    type Error = Error;

    offer! {
        deserialize_bool => visit_bool(false),
        deserialize_i8 => visit_i8(1),
        deserialize_i16 => visit_i16(1),
        deserialize_i32 => visit_i32(1),
        deserialize_i64 => visit_i64(1),
        deserialize_u8 => visit_u8(1),
        deserialize_u16 => visit_u16(1),
        deserialize_u32 => visit_u32(1),
        deserialize_u64 => visit_u64(1),
        deserialize_f32 => visit_f32(1.0),
        deserialize_f64 => visit_f64(1.0),
        deserialize_char => visit_char('x'),
        deserialize_str => visit_str("x"),
        deserialize_string => visit_str("x"),
        deserialize_bytes => visit_bytes(b"x"),
        deserialize_byte_buf => visit_bytes(b"x"),
        deserialize_unit => visit_unit(),
        deserialize_identifier => visit_str("x"),
        deserialize_ignored_any => visit_unit(),
        deserialize_any => visit_unit(),
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // One element, at the same path: an array of tables lists its
        // tables' keys under its own.
        visitor.visit_seq(One(Some(self)))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // A free-form table (a plugin's own config): its keys are the
        // plugin's to define.
        visitor.visit_map(Fields {
            walker: self,
            fields: &[],
            next: 0,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_map(Fields {
            walker: self,
            fields,
            next: 0,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let first = variants.first().copied().unwrap_or_default();
        visitor.visit_enum(FirstVariant(first))
    }
}

/// Every field of a struct, each offered once.
struct Fields {
    walker: Walker,
    fields: &'static [&'static str],
    next: usize,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.fields.get(self.next) {
            Some(field) => seed.deserialize(field.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let field = self.fields[self.next];
        self.next += 1;
        seed.deserialize(self.walker.child(field))
    }
}

/// A sequence of one element.
struct One(Option<Walker>);

impl<'de> SeqAccess<'de> for One {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.take() {
            Some(walker) => seed.deserialize(walker).map(Some),
            None => Ok(None),
        }
    }
}

/// An enum's first variant, as a unit variant.
struct FirstVariant(&'static str);

impl<'de> EnumAccess<'de> for FirstVariant {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let name: de::value::StrDeserializer<'_, Error> = self.0.into_deserializer();
        seed.deserialize(name).map(|value| (value, self))
    }
}

impl<'de> VariantAccess<'de> for FirstVariant {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, Error> {
        Err(de::Error::custom("only unit variants are walked"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("only unit variants are walked"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(de::Error::custom("only unit variants are walked"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_and_key_is_found() {
        let keys = keys();
        for key in [
            "name",
            "on_plugin_error",
            "limits.memory_mib",
            "plugin",
            "plugin.path",
            "plugin.config",
            "output.column.type",
            "output.column.nullable",
            "dead_letter.location",
            "s3.endpoint_url",
        ] {
            assert!(
                keys.contains(&key.to_string()),
                "{key} missing from {keys:?}"
            );
        }
        assert!(keys.len() > 30, "{keys:?}");
    }

    /// docs/pipeline.md's annotated example holds every key, under its
    /// table, and nothing the code does not accept.
    #[test]
    fn the_pipeline_guide_documents_every_key() {
        let guide = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/pipeline.md"),
        )
        .expect("read docs/pipeline.md");
        let start = guide.find("```toml\n").expect("the example") + "```toml\n".len();
        let example = &guide[start..start + guide[start..].find("```").expect("its end")];
        let parsed: toml::Table = toml::from_str(example).expect("the example is TOML");
        let mut documented = Vec::new();
        walk_toml(&parsed, "", &mut documented);
        let keys = keys();
        let undocumented: Vec<&String> = keys
            .iter()
            .filter(|key| !documented.contains(key) && !key.starts_with("plugin.config."))
            .collect();
        assert!(
            undocumented.is_empty(),
            "keys the code accepts and docs/pipeline.md's example does not show: {undocumented:?}"
        );
        let unknown: Vec<&String> = documented
            .iter()
            .filter(|key| !keys.contains(key) && !key.starts_with("plugin.config."))
            .collect();
        assert!(
            unknown.is_empty(),
            "keys docs/pipeline.md shows and the code refuses: {unknown:?}"
        );
        // And the example, as a whole, is a pipeline file the host reads.
        PipelineFile::parse(example, "docs/pipeline.md").expect("the example parses");
    }

    fn walk_toml(table: &toml::Table, path: &str, out: &mut Vec<String>) {
        for (key, value) in table {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            out.push(here.clone());
            match value {
                toml::Value::Table(inner) => walk_toml(inner, &here, out),
                toml::Value::Array(items) => {
                    for item in items {
                        if let toml::Value::Table(inner) = item {
                            walk_toml(inner, &here, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
