//! Run a plugin natively over JSON events, for unit tests.
//!
//! ```
//! # use weir_plugin::{Config, Event, Outcome, Plugin};
//! # struct KeepAll;
//! # impl Plugin for KeepAll {
//! #     const NAME: &'static str = "keep-all";
//! #     const VERSION: &'static str = "0.1.0";
//! #     fn init(_: Config) -> Result<Self, String> { Ok(KeepAll) }
//! #     fn process(&self, _: &Event<'_>) -> Outcome { Outcome::keep() }
//! # }
//! let outcomes = weir_plugin::testing::run::<KeepAll>("{}", &[r#"{"user_id":"u1"}"#]).unwrap();
//! assert!(outcomes[0].is_keep());
//! ```
//!
//! The batch is laid out as the host lays it out: one entry per distinct field
//! name, strings unescaped into one text buffer, nested values as JSON text,
//! fields in the event's order.

#[cfg(not(target_arch = "wasm32"))]
use crate::{
    Batch, Outcome,
    layout::{self, EventHeader, Field, Span, Value},
    wit,
};
use crate::{Config, Plugin};

/// Build a contract batch from JSON objects, one per event. Positions are the
/// 1-based index of each event; arrival is 0. Panics on an event that is not
/// a JSON object: test input is the test author's to get right.
#[cfg(not(target_arch = "wasm32"))]
pub fn batch_from_json(events: &[&str]) -> wit::Batch {
    let mut batch = wit::Batch {
        source: "test".to_string(),
        ..Default::default()
    };
    let mut field_count = 0u32;
    for (index, json) in events.iter().enumerate() {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).unwrap_or_else(|err| panic!("event {index}: {err}"));
        let first_field = field_count;
        for (name, value) in &object {
            let name = match batch.names.iter().position(|known| known == name) {
                Some(at) => at as u32,
                None => {
                    batch.names.push(name.clone());
                    (batch.names.len() - 1) as u32
                }
            };
            let value = match value {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Bool(*b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Value::Int(i),
                    None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::String(s) => Value::Text(push_text(&mut batch.text, s)),
                nested => Value::Json(push_text(&mut batch.text, &nested.to_string())),
            };
            layout::push_field(&mut batch.fields, Field { name, value });
            field_count += 1;
        }
        let position = push_text(&mut batch.text, &(index + 1).to_string());
        layout::push_event(
            &mut batch.events,
            EventHeader {
                first_field,
                field_count: field_count - first_field,
                position,
                arrival_micros: 0,
            },
        );
    }
    batch
}

#[cfg(not(target_arch = "wasm32"))]
fn push_text(text: &mut Vec<u8>, s: &str) -> Span {
    let start = text.len() as u32;
    text.extend_from_slice(s.as_bytes());
    Span {
        start,
        len: s.len() as u32,
    }
}

/// Initialise a plugin with a JSON config.
pub fn init<P: Plugin>(config: &str) -> Result<P, String> {
    P::init(Config::from_json(config))
}

/// Initialise a plugin with `config` (JSON) and run `events` (JSON objects)
/// through it as one batch. `Err` is the plugin's refusal of its config.
#[cfg(not(target_arch = "wasm32"))]
pub fn run<P: Plugin>(config: &str, events: &[&str]) -> Result<Vec<Outcome>, String> {
    let plugin = init::<P>(config)?;
    let batch = batch_from_json(events);
    let view = Batch::new(&batch)?;
    Ok(plugin.process_batch(&view))
}

/// Run one event through an initialised plugin.
#[cfg(not(target_arch = "wasm32"))]
pub fn one<P: Plugin>(plugin: &P, event: &str) -> Outcome {
    let batch = batch_from_json(&[event]);
    let view = Batch::new(&batch).expect("a batch built by batch_from_json is valid");
    plugin.process_batch(&view).remove(0)
}
