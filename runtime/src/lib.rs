//! Weir's host: runs clickstream events through a chain of WebAssembly
//! plugins into a data lake.
//!
//! The flow, one module per idea:
//!
//! - [`source`] reads records (lines of a file or standard input) into a
//!   [`batch::Batch`], which [`decode`]s each one once into typed columns;
//! - [`pipeline`] lends the batch to each [`plugin`] in turn — compiled and
//!   sandboxed by the [`engine`], each instance in a store built by [`state`]
//!   — and applies their outcomes, so every record ends kept, dropped or
//!   rejected;
//! - [`lake`] writes kept events into Hive-style partitions — JSON lines with
//!   the [`encode`]r, Parquet through [`columns`] — and rejected ones into the
//!   dead-letter zone;
//! - [`config`] reads the pipeline file (and [`athena`] turns its table into
//!   DDL), [`run`] wires it all for `weir run`, [`query`] runs SQL over the
//!   lake,
//!   and [`bench`] measures the pipeline against the same rules run natively.
//!
//! The contract itself is `wit/plugin.wit`; [`bindings`] holds its host-side
//! bindings.

pub mod athena;
pub mod batch;
pub mod bench;
pub mod bindings;
pub mod cache;
pub mod clock;
pub mod columns;
pub mod commit;
pub mod compact;
pub mod config;
pub mod decode;
pub mod encode;
pub mod engine;
pub mod etl;
pub mod fixture;
pub mod fuzzing;
pub mod generate;
pub mod kinesis;
pub mod kpl;
pub mod lake;
pub mod lambda;
pub mod ledger;
pub mod limiter;
pub mod native;
pub mod pipeline;
pub mod plugin;
pub mod query;
pub mod report;
pub mod run;
pub mod scaffold;
pub mod shard;
pub mod source;
pub mod state;
pub mod storage;
pub mod tail_pipe;

/// The name the host gives itself as a stage: on records it drops or rejects
/// before any plugin (blank lines, malformed JSON).
pub const HOST_NAME: &str = "weir";

/// The version of the plugin contract this host implements (`wit/plugin.wit`).
pub const CONTRACT_VERSION: &str = "0.1.0";
