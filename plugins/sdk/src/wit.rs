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
    /// A byte range of the text it travels with.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Span {
        pub start: u32,
        pub len: u32,
    }

    /// A field value.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Value {
        Null,
        Boolean(bool),
        Integer(i64),
        Float(f64),
        Text(Span),
        Json(Span),
    }

    /// One top-level field.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Field {
        pub name: u32,
        pub value: Value,
    }

    /// A batch of events in columns; `fields` and `events` packed.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Batch {
        pub source: String,
        pub names: Vec<String>,
        pub text: Vec<u8>,
        pub fields: Vec<u8>,
        pub events: Vec<u8>,
    }

    /// One partition value.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PartitionValue {
        pub key: u32,
        pub value: Span,
    }

    /// One change a keep makes.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Change {
        Replace(Span),
        Set(Field),
        Remove(u32),
        Partition(PartitionValue),
    }

    /// The changes of a keep.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Kept {
        pub first: u32,
        pub count: u32,
    }

    /// Why an event is rejected.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rejection {
        pub code: Span,
        pub reason: Span,
    }

    /// The fate of one event.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Outcome {
        Keep(Kept),
        Drop,
        Reject(Rejection),
    }

    /// What a plugin answers for a batch.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Results {
        pub names: Vec<String>,
        pub text: Vec<u8>,
        pub changes: Vec<Change>,
        pub outcomes: Vec<Outcome>,
    }

    /// What a plugin says of itself.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Description {
        pub name: String,
        pub version: String,
    }
}
