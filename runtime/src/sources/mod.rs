//! **Sources** (layer 5, above [`crate::config`]): the ways events reach
//! the pipeline — a file or standard input ([`run`]), raw objects in a lake
//! ([`etl`]), Kinesis shards ([`kinesis`]), and the AWS Lambda handlers
//! ([`lambda`]).

pub mod etl;
pub mod file;
pub mod kinesis;
pub mod lambda;
pub mod run;
