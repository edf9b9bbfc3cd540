//! Glue used by [`crate::export_plugin!`]; not part of the SDK's API.

#[cfg(target_arch = "wasm32")]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_guest",
        default_bindings_module: "weir_plugin::__private::bindings",
        runtime_path: "::weir_plugin::__private::wit_bindgen::rt",
    });
}

#[cfg(target_arch = "wasm32")]
pub use bindings::exports::weir::plugin::transform as exports;
#[cfg(target_arch = "wasm32")]
pub use wit_bindgen;

use crate::results::results;
use crate::{Batch, Config, Outcome, Plugin, wit};

/// The plugin's name and version: [`Plugin::VERSION`], or when it is left
/// empty the version of the crate that expanded `export_plugin!`.
pub fn describe<P: Plugin>(cargo_version: &str) -> wit::Description {
    let version = if P::VERSION.is_empty() {
        cargo_version
    } else {
        P::VERSION
    };
    wit::Description {
        name: P::NAME.to_string(),
        version: version.to_string(),
    }
}

pub fn init<P: Plugin>(config: String) -> Result<P, String> {
    P::init(Config::from_json(config))
}

/// Run a batch through an initialised plugin. A plugin that was never
/// initialised rejects every event rather than trapping: the host always calls
/// `init` first, so this only happens when the host is wrong.
pub fn process<P: Plugin>(plugin: Option<&P>, batch: &wit::Batch) -> wit::Results {
    let failure = match plugin {
        None => "init was not called".to_string(),
        Some(plugin) => match Batch::new(batch) {
            Ok(view) => return results(plugin.process_batch(&view)),
            Err(reason) => reason,
        },
    };
    let events = batch.events.len() / crate::layout::EVENT_BYTES;
    results(
        (0..events)
            .map(|_| Outcome::reject("bad-batch", failure.clone()))
            .collect(),
    )
}
