//! Kinesis Data Streams: one shard's batch through the pipeline and into
//! the lake ([`shard`]), aggregated records ([`kpl`]) — what the Lambda host
//! needs — and, with the `kinesis-client` feature, the client `weir send`
//! and `weir consume` share ([`client`]) and their checkpoints.

#[cfg(feature = "kinesis-client")]
pub mod checkpoint;
#[cfg(feature = "kinesis-client")]
pub mod client;
#[cfg(feature = "kinesis-client")]
pub mod consume;
pub mod kpl;
#[cfg(feature = "kinesis-client")]
pub mod send;
pub mod shard;
