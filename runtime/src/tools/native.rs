//! Plugins compiled into the host: the native baseline that `weir bench`
//! measures the WebAssembly pipeline against, running the very same plugin
//! code through the same lending and applying.
//!
//! A native step copies the host's batch into the SDK's plain types (the
//! copy a WebAssembly call makes into guest memory) and the results back.

use crate::engine::bindings::wit;
use crate::pipeline::NativePlugin;
use weir_plugin::wit as sdk;

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

/// SDK results in the host's types: the same buffers, moved.
pub fn from_sdk(results: sdk::Results) -> wit::Results {
    wit::Results {
        names: results.names,
        text: results.text,
        changes: results.changes,
        outcomes: results.outcomes,
    }
}
