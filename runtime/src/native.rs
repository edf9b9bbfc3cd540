//! Plugins compiled into the host: the native baseline that `weir bench`
//! measures the WebAssembly pipeline against, running the very same plugin
//! code through the same lending and applying.
//!
//! A native step copies the host's batch into the SDK's plain types (the
//! copy a WebAssembly call makes into guest memory) and the results back.

use crate::bindings::wit;
use weir_plugin::wit as sdk;

/// A plugin that runs in the host's process, without a sandbox.
pub trait NativePlugin: Send {
    /// Its name.
    fn name(&self) -> &str;
    /// Its version.
    fn version(&self) -> &str;
    /// Process one batch, one outcome per event.
    fn process(&self, batch: &wit::Batch) -> wit::Results;
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

    fn process(&self, batch: &wit::Batch) -> wit::Results {
        let batch = to_sdk(batch);
        let outcomes = match weir_plugin::Batch::new(&batch) {
            Ok(view) => self.0.process_batch(&view),
            Err(reason) => (0..batch.events.len() / weir_plugin::layout::EVENT_BYTES)
                .map(|_| weir_plugin::Outcome::reject("bad-batch", reason.clone()))
                .collect(),
        };
        from_sdk(weir_plugin::results::results(outcomes))
    }
}

/// Initialise a guest SDK plugin natively with a JSON config.
pub fn native<P: weir_plugin::Plugin + Send>(
    config_json: &str,
) -> Result<Box<dyn NativePlugin>, String> {
    let plugin = P::init(weir_plugin::Config::from_json(config_json))?;
    Ok(Box::new(Native(plugin)))
}

fn span(span: sdk::Span) -> wit::Span {
    wit::Span {
        start: span.start,
        len: span.len,
    }
}

/// The host's batch in the SDK's types: the copy a call into WebAssembly
/// makes of the same buffers.
pub fn to_sdk(batch: &wit::Batch) -> sdk::Batch {
    sdk::Batch {
        source: batch.source.clone(),
        names: batch.names.clone(),
        text: batch.text.clone(),
        fields: batch.fields.clone(),
        events: batch.events.clone(),
    }
}

/// SDK results in the host's types.
pub fn from_sdk(results: sdk::Results) -> wit::Results {
    let value = |value: sdk::Value| match value {
        sdk::Value::Null => wit::Value::Null,
        sdk::Value::Boolean(b) => wit::Value::Boolean(b),
        sdk::Value::Integer(n) => wit::Value::Integer(n),
        sdk::Value::Float(x) => wit::Value::Float(x),
        sdk::Value::Text(s) => wit::Value::Text(span(s)),
        sdk::Value::Json(s) => wit::Value::Json(span(s)),
    };
    wit::Results {
        names: results.names,
        text: results.text,
        changes: results
            .changes
            .into_iter()
            .map(|change| match change {
                sdk::Change::Replace(s) => wit::Change::Replace(span(s)),
                sdk::Change::Set(field) => wit::Change::Set(wit::Field {
                    name: field.name,
                    value: value(field.value),
                }),
                sdk::Change::Remove(name) => wit::Change::Remove(name),
                sdk::Change::Partition(p) => wit::Change::Partition(wit::PartitionValue {
                    key: p.key,
                    value: span(p.value),
                }),
            })
            .collect(),
        outcomes: results
            .outcomes
            .into_iter()
            .map(|outcome| match outcome {
                sdk::Outcome::Keep(kept) => wit::Outcome::Keep(wit::Kept {
                    first: kept.first,
                    count: kept.count,
                }),
                sdk::Outcome::Drop => wit::Outcome::Drop,
                sdk::Outcome::Reject(r) => wit::Outcome::Reject(wit::Rejection {
                    code: span(r.code),
                    reason: span(r.reason),
                }),
            })
            .collect(),
    }
}
