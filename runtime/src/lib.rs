//! Weir's host: runs clickstream events through a chain of WebAssembly
//! plugins into a data lake.
//!
//! The crate is built in layers; each imports only from the layers below it
//! (`ARCHITECTURE.md` at the repository's root draws them, and a test keeps
//! it true):
//!
//! 0. [`storage`] — objects in a folder or on S3;
//! 1. [`engine`] — the sandbox plugins run in;
//! 2. [`pipeline`] — batches of decoded events through the plugin chain;
//! 3. [`lake`] — partitions, file formats, commits, compaction and SQL;
//! 4. [`config`] — the pipeline file and what is built from it;
//! 5. [`sources`] — files, Kinesis, Lambda and ETL feeding the pipeline;
//! 6. [`tools`] — benchmarks, generated events, scaffolds, fixture tests.
//!
//! The command line (`src/main.rs`, `src/commands/`) sits on top. The
//! contract itself is `wit/plugin.wit`.

#![warn(missing_docs)]

pub mod config;
pub mod engine;
pub mod lake;
pub mod pipeline;
pub mod sources;
pub mod storage;
#[cfg(feature = "tools")]
pub mod tools;

/// The name the host gives itself as a stage: on records it drops or rejects
/// before any plugin (blank lines, malformed JSON).
pub const HOST_NAME: &str = "weir";

/// The version of the plugin contract this host implements (`wit/plugin.wit`).
pub const CONTRACT_VERSION: &str = "0.1.0";
