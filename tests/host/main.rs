//! End-to-end tests of the host: real plugin components built by the build,
//! the real `weir` binary, real files. One binary, one module per concern.

mod athena;
mod cli;
mod common;
mod compact;
mod conservation;
mod contract;
mod etl;
mod faults;
mod fixtures;
mod fuzz;
mod guide;
mod habits;
mod infra;
mod kinesis;
mod lambda;
mod layers;
mod misbehaving;
mod names;
mod nothing_lost;
mod python_plugin;
mod readers;
mod readme;
mod report;
mod s3;
mod scaffold;
mod weir_test;
