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
    /// A byte range of `Batch::text`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Span {
        pub start: u32,
        pub len: u32,
    }

    /// A decoded field value, as lent by the host.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Value {
        Null,
        Boolean(bool),
        Integer(i64),
        Float(f64),
        Text(Span),
        Json(Span),
    }

    /// One top-level field of an event.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Field {
        pub name: u32,
        pub value: Value,
    }

    /// One event of a batch.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Event {
        pub first_field: u32,
        pub field_count: u32,
        pub position: Span,
        pub arrival_micros: i64,
    }

    /// A batch of events in columns.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Batch {
        pub source: String,
        pub names: Vec<String>,
        pub text: Vec<u8>,
        pub fields: Vec<Field>,
        pub events: Vec<Event>,
    }

    /// A value a plugin writes.
    #[derive(Clone, Debug, PartialEq)]
    pub enum NewValue {
        Null,
        Boolean(bool),
        Integer(i64),
        Float(f64),
        Text(String),
        Json(String),
    }

    /// Set one top-level field.
    #[derive(Clone, Debug, PartialEq)]
    pub struct FieldUpdate {
        pub name: String,
        pub value: NewValue,
    }

    /// One Hive-style partition value.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct PartitionValue {
        pub key: String,
        pub value: String,
    }

    /// What a plugin keeps of an event.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Kept {
        pub replace: Option<String>,
        pub set: Vec<FieldUpdate>,
        pub remove: Vec<String>,
        pub partition: Vec<PartitionValue>,
    }

    /// Why an event is rejected.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Rejection {
        pub code: String,
        pub reason: String,
    }

    /// The fate of one event.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Outcome {
        Keep(Kept),
        Drop,
        Reject(Rejection),
    }

    /// What a plugin says of itself.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Description {
        pub name: String,
        pub version: String,
    }
}
