//! Plugins compiled into the host: the native baseline that `weir bench`
//! measures the WebAssembly pipeline against, running the very same plugin
//! code through the same lending and applying.
//!
//! A native step converts the host's batch into the SDK's plain types (the
//! copy a WebAssembly call makes into guest memory) and the outcomes back.

use crate::bindings::wit;
use weir_plugin::wit as sdk;

/// A plugin that runs in the host's process, without a sandbox.
pub trait NativePlugin: Send {
    /// Its name.
    fn name(&self) -> &str;
    /// Its version.
    fn version(&self) -> &str;
    /// Process one batch, one outcome per event.
    fn process(&self, batch: &wit::Batch) -> Vec<wit::Outcome>;
}

/// A guest SDK plugin, compiled natively.
pub struct Native<P>(pub P);

impl<P: weir_plugin::Plugin + Send> NativePlugin for Native<P> {
    fn name(&self) -> &str {
        P::NAME
    }

    fn version(&self) -> &str {
        P::VERSION
    }

    fn process(&self, batch: &wit::Batch) -> Vec<wit::Outcome> {
        let batch = to_sdk(batch);
        match weir_plugin::Batch::new(&batch) {
            Ok(view) => self
                .0
                .process_batch(&view)
                .into_iter()
                .map(|outcome| from_sdk(outcome.into_wit()))
                .collect(),
            Err(reason) => batch
                .events
                .iter()
                .map(|_| {
                    wit::Outcome::Reject(wit::Rejection {
                        code: "bad-batch".to_string(),
                        reason: reason.clone(),
                    })
                })
                .collect(),
        }
    }
}

/// Initialise a guest SDK plugin natively with a JSON config.
pub fn native<P: weir_plugin::Plugin + Send>(
    config_json: &str,
) -> Result<Box<dyn NativePlugin>, String> {
    let plugin = P::init(weir_plugin::Config::from_json(config_json))?;
    Ok(Box::new(Native(plugin)))
}

fn span(span: wit::Span) -> sdk::Span {
    sdk::Span {
        start: span.start,
        len: span.len,
    }
}

/// The host's batch in the SDK's types.
pub fn to_sdk(batch: &wit::Batch) -> sdk::Batch {
    sdk::Batch {
        source: batch.source.clone(),
        names: batch.names.clone(),
        text: batch.text.clone(),
        fields: batch
            .fields
            .iter()
            .map(|field| sdk::Field {
                name: field.name,
                value: match field.value {
                    wit::Value::Null => sdk::Value::Null,
                    wit::Value::Boolean(b) => sdk::Value::Boolean(b),
                    wit::Value::Integer(n) => sdk::Value::Integer(n),
                    wit::Value::Float(x) => sdk::Value::Float(x),
                    wit::Value::Text(s) => sdk::Value::Text(span(s)),
                    wit::Value::Json(s) => sdk::Value::Json(span(s)),
                },
            })
            .collect(),
        events: batch
            .events
            .iter()
            .map(|event| sdk::Event {
                first_field: event.first_field,
                field_count: event.field_count,
                position: span(event.position),
                arrival_micros: event.arrival_micros,
            })
            .collect(),
    }
}

/// An SDK outcome in the host's types.
pub fn from_sdk(outcome: sdk::Outcome) -> wit::Outcome {
    match outcome {
        sdk::Outcome::Drop => wit::Outcome::Drop,
        sdk::Outcome::Reject(r) => wit::Outcome::Reject(wit::Rejection {
            code: r.code,
            reason: r.reason,
        }),
        sdk::Outcome::Keep(kept) => wit::Outcome::Keep(wit::Kept {
            replace: kept.replace,
            set: kept
                .set
                .into_iter()
                .map(|update| wit::FieldUpdate {
                    name: update.name,
                    value: match update.value {
                        sdk::NewValue::Null => wit::NewValue::Null,
                        sdk::NewValue::Boolean(b) => wit::NewValue::Boolean(b),
                        sdk::NewValue::Integer(n) => wit::NewValue::Integer(n),
                        sdk::NewValue::Float(x) => wit::NewValue::Float(x),
                        sdk::NewValue::Text(t) => wit::NewValue::Text(t),
                        sdk::NewValue::Json(j) => wit::NewValue::Json(j),
                    },
                })
                .collect(),
            remove: kept.remove,
            partition: kept
                .partition
                .into_iter()
                .map(|p| wit::PartitionValue {
                    key: p.key,
                    value: p.value,
                })
                .collect(),
        }),
    }
}
