//! The guest SDK for Weir plugins.
//!
//! A plugin is one type that implements [`Plugin`] and one line that exports
//! it:
//!
//! ```
//! use weir_plugin::{Config, Event, Outcome, Plugin};
//!
//! struct DropBots;
//!
//! impl Plugin for DropBots {
//!     const NAME: &'static str = "drop-bots";
//!     // VERSION: the crate's own, from Cargo.toml, unless set here.
//!
//!     fn init(_config: Config) -> Result<Self, String> {
//!         Ok(DropBots)
//!     }
//!
//!     fn process(&self, event: &Event<'_>) -> Outcome {
//!         match event.str("user_id") {
//!             Some(id) if id.starts_with("bot-") => Outcome::drop(),
//!             _ => Outcome::keep(),
//!         }
//!     }
//! }
//!
//! weir_plugin::export_plugin!(DropBots);
//! ```
//!
//! Built for `wasm32-wasip2` this is a component that implements the
//! `weir:plugin` contract (`wit/plugin.wit`). Built natively, the same code is
//! a plain library: [`testing`] runs a plugin over JSON events so its logic is
//! unit-tested with `cargo test`, without WebAssembly.

#![warn(missing_docs)]

// Lets the generated bindings name this crate the same way from inside it
// and from the plugin crates that expand `export_plugin!`.
extern crate self as weir_plugin;

mod config;
mod event;
#[doc(hidden)]
pub mod layout;
pub mod log;
mod outcome;
#[doc(hidden)]
pub mod results;
pub mod testing;
pub mod time;
#[doc(hidden)]
pub mod wit;

#[doc(hidden)]
pub mod __private;

pub use config::Config;
pub use event::{Batch, Event, Value};
pub use outcome::{Change, NewValue, Outcome};

/// A Weir plugin: one type, configured once, that decides the fate of each
/// event.
pub trait Plugin: Sized + 'static {
    /// The plugin's name, kebab-case. Written next to every event it rejects.
    const NAME: &'static str;
    /// The plugin's version, semver. Left out, it is the plugin crate's own
    /// version from its `Cargo.toml` (read where `export_plugin!` expands).
    const VERSION: &'static str = "";

    /// Build the plugin from its table in the pipeline file. An `Err` refuses
    /// the configuration; the host fails the pipeline's load with the message.
    fn init(config: Config) -> Result<Self, String>;

    /// Decide one event's fate: keep it (with changes), drop it, or reject it.
    fn process(&self, event: &Event<'_>) -> Outcome;

    /// Decide the fate of a whole batch, one outcome per event in order. The
    /// default calls [`Plugin::process`] for each event; override it only to
    /// share work across a batch.
    fn process_batch(&self, batch: &Batch<'_>) -> Vec<Outcome> {
        batch.events().map(|event| self.process(&event)).collect()
    }
}

/// Export a [`Plugin`] type as the component's implementation of the contract.
///
/// Expands to nothing when not compiled for WebAssembly, so the crate also
/// builds natively for unit tests.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        mod __weir_plugin_export {
            use super::*;
            use $crate::__private::exports::Guest;

            ::std::thread_local! {
                static INSTANCE: ::std::cell::RefCell<::std::option::Option<$plugin>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }

            pub struct Export;

            impl Guest for Export {
                fn describe() -> $crate::wit::Description {
                    $crate::__private::describe::<$plugin>(::core::env!("CARGO_PKG_VERSION"))
                }

                fn init(config: ::std::string::String) -> ::std::result::Result<(), ::std::string::String> {
                    let plugin = $crate::__private::init::<$plugin>(config)?;
                    INSTANCE.with(|cell| *cell.borrow_mut() = ::std::option::Option::Some(plugin));
                    ::std::result::Result::Ok(())
                }

                fn process(batch: $crate::wit::Batch) -> $crate::wit::Results {
                    INSTANCE.with(|cell| $crate::__private::process(cell.borrow().as_ref(), &batch))
                }
            }

            $crate::__private::bindings::export_guest!(Export with_types_in $crate::__private::bindings);
        }

        // Natively nothing is exported; naming the type's `init` keeps a
        // private plugin type from counting as dead code in unit-test builds.
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn($crate::Config) -> ::std::result::Result<$plugin, ::std::string::String> =
            <$plugin as $crate::Plugin>::init;
    };
}
