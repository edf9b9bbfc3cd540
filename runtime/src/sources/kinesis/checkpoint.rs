//! Where `weir consume` has got to in each shard: one JSON object in a
//! folder or on S3, written after every batch whose output is durable, so a
//! consumer that is killed starts again where it stopped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::storage::{Location, S3Options, Storage};
use thiserror::Error;

/// Checkpoints that could not be read or written.
#[derive(Debug, Error)]
#[error("checkpoints at {location}")]
pub struct CheckpointError {
    /// Where they are.
    pub location: String,
    /// What went wrong.
    #[source]
    pub source: std::io::Error,
}

/// An I/O error of kind `kind` saying `message`.
fn fault(kind: std::io::ErrorKind, message: String) -> std::io::Error {
    std::io::Error::new(kind, message)
}

/// Where each shard has got to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoints {
    /// The stream.
    pub stream: String,
    /// Per shard.
    pub shards: BTreeMap<String, ShardCheckpoint>,
    /// Set when a consumer with no checkpoints started with `--latest`: the
    /// time (milliseconds since the epoch) it started. A shard without a
    /// checkpoint is read from its first record at or after it, so the
    /// shards open then start at new records, and the children of a later
    /// split or merge start at their beginning (all their records are later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_from_millis: Option<i64>,
}

/// Where one shard has got to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardCheckpoint {
    /// The last record whose output is durable.
    pub after: Option<String>,
    /// A batch being written: its first and last sequence numbers.
    pub pending: Option<(String, String)>,
    /// Every record of the (closed) shard is durable.
    pub finished: bool,
}

/// Checkpoints kept as one JSON object in a folder or on S3.
pub struct CheckpointStore {
    storage: Storage,
    key: String,
    shown: String,
}

impl CheckpointStore {
    /// The store at `location` (a file path or `s3://bucket/key`).
    pub fn open(location: &Location) -> Result<CheckpointStore, CheckpointError> {
        let shown = location.to_string();
        let fail = |source| CheckpointError {
            location: shown.clone(),
            source,
        };
        let invalid = |message: &str| fail(fault(std::io::ErrorKind::InvalidInput, message.into()));
        let (parent, key) = match location {
            Location::Local(path) => {
                let name = path
                    .file_name()
                    .ok_or_else(|| invalid("names no file"))?
                    .to_string_lossy()
                    .into_owned();
                let parent = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
                (Location::Local(parent), name)
            }
            Location::S3 { bucket, prefix } => {
                let (dir, name) = prefix.rsplit_once('/').unwrap_or(("", prefix));
                if name.is_empty() {
                    return Err(invalid("names no object"));
                }
                (
                    Location::S3 {
                        bucket: bucket.clone(),
                        prefix: dir.to_string(),
                    },
                    name.to_string(),
                )
            }
        };
        let storage = Storage::open(&parent, &S3Options::default()).map_err(fail)?;
        Ok(CheckpointStore {
            storage,
            key,
            shown,
        })
    }

    /// The checkpoints, or none yet for `stream`.
    pub fn load(&self, stream: &str) -> Result<Checkpoints, CheckpointError> {
        let fail = |source| CheckpointError {
            location: self.shown.clone(),
            source,
        };
        let bytes = match self.storage.read(&self.key) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Checkpoints {
                    stream: stream.to_string(),
                    ..Checkpoints::default()
                });
            }
            Err(err) => return Err(fail(err)),
        };
        let invalid = |message| fail(fault(std::io::ErrorKind::InvalidData, message));
        let checkpoints: Checkpoints = serde_json::from_slice(&bytes)
            .map_err(|err| invalid(format!("not checkpoints: {err}")))?;
        if checkpoints.stream != stream {
            return Err(invalid(format!(
                "they are stream {:?}'s, not {stream:?}'s",
                checkpoints.stream
            )));
        }
        Ok(checkpoints)
    }

    /// Write the checkpoints and wait until they are durable.
    pub fn save(&self, checkpoints: &Checkpoints) -> Result<(), CheckpointError> {
        let bytes = serde_json::to_vec_pretty(checkpoints).expect("checkpoints serialise");
        self.storage
            .write_now(&self.key, &bytes, "application/json")
            .map_err(|source| CheckpointError {
                location: self.shown.clone(),
                source,
            })
    }
}
