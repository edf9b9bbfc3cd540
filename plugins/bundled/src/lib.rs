//! The plugins that ship with Weir, built to `wasm32-wasip2` components by
//! this crate's build script, plus the misbehaving plugins the host's tests
//! use.
//!
//! Bundled plugins are embedded in the `weir` binary: a pipeline file names
//! them as `bundled:<name>` and needs no file next to it.

#![warn(missing_docs)]

/// A guest component built by the build script.
#[derive(Clone, Copy, Debug)]
pub struct Guest {
    /// The cargo package it was built from.
    pub package: &'static str,
    /// Where the component file lies.
    pub path: &'static str,
    /// The component's bytes (empty for test plugins, which are not embedded).
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/guests.rs"));

/// The plugins a pipeline file can name as `bundled:<name>`, by name.
pub const BUNDLED: &[(&str, Guest)] = &[
    ("validate-clickstream", VALIDATE_CLICKSTREAM),
    ("filter", FILTER),
    ("enrich", ENRICH),
    ("partition-by-date", PARTITION_BY_DATE),
];

/// A bundled plugin by name.
pub fn bundled(name: &str) -> Option<Guest> {
    BUNDLED
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, guest)| *guest)
}

pub mod wasm_target;
