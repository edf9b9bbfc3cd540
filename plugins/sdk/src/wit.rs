//! The contract's data types (`weir:plugin/types` in `wit/plugin.wit`).
//!
//! Compiled for WebAssembly these are the types `wit-bindgen` generates;
//! compiled natively they are plain Rust mirrors of the same shape, so plugin
//! code and the native test harness use one set of names either way.

#[cfg(target_arch = "wasm32")]
pub use crate::__private::bindings::weir::plugin::types::*;

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    /// A batch of events in columns; `fields` and `events` packed.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Batch {
        pub source: String,
        pub names: Vec<String>,
        pub text: Vec<u8>,
        pub fields: Vec<u8>,
        pub events: Vec<u8>,
    }

    /// What a plugin answers for a batch; `changes` and `outcomes` packed.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Results {
        pub names: Vec<String>,
        pub text: Vec<u8>,
        pub changes: Vec<u8>,
        pub outcomes: Vec<u8>,
    }

    /// What a plugin says of itself.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Description {
        pub name: String,
        pub version: String,
    }
}
