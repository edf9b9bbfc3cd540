//! One batch of a Kinesis shard's records through the pipeline into the
//! lake: what the Lambda host and `weir consume` share, so the same records
//! give the same objects, under the same names, whichever runs them.
//!
//! KPL aggregates are split into their user records (positioned
//! `<sequence number>:<index>`); a record whose data could not be had (not
//! base64, in a Lambda event) is rejected by the host with the reason. The
//! batch is written by [`crate::commit`], which says from which record it
//! must be processed again, if any.

use crate::batch::{Batch, Stage};
use crate::commit::{Committed, commit};
use crate::config::PipelineConfig;
use crate::lake::{FileOptions, LakeWriter};
use crate::pipeline::Pipeline;
use crate::run::Summary;
use crate::storage::Storage;

/// One Kinesis record.
pub struct ShardRecord<'a> {
    /// Its data; or, when the data could not be had, the text to keep as the
    /// dead letter's payload and why.
    pub data: Result<&'a [u8], (&'a [u8], String)>,
    /// Its sequence number.
    pub sequence: &'a str,
    /// When Kinesis received it, microseconds since the epoch.
    pub arrival_micros: i64,
}

/// Where a shard's batches go: the pipeline's lake, opened.
pub struct LakeTarget<'a> {
    /// The pipeline's settings.
    pub config: &'a PipelineConfig,
    /// The lake.
    pub data: &'a Storage,
    /// The dead letters.
    pub errors: &'a Storage,
}

/// What became of a batch.
pub struct Outcome {
    /// What was written, and the first Kinesis record (its index in the
    /// batch) to process again, if any.
    pub committed: Committed,
    /// The user records before that point, counted: each once, when its
    /// output is durable.
    pub summary: Summary,
    /// User records from that point on, to be processed again.
    pub retried: u64,
    /// A plugin failed under `on_plugin_error = "fail"`: nothing was
    /// written, and the whole batch is to be processed again.
    pub plugin_failed: Option<String>,
}

/// Push the user records of `records` into `batch`. Returns the Kinesis
/// record (unit) of each user record pushed, in order.
pub fn fill<'a>(
    batch: &mut Batch,
    records: impl IntoIterator<Item = ShardRecord<'a>>,
) -> Vec<usize> {
    let mut unit_of = Vec::new();
    let host = Stage::host();
    let mut position = String::new();
    for (unit, record) in records.into_iter().enumerate() {
        match record.data {
            Ok(data) => {
                let users = crate::kpl::user_records(data);
                let aggregated = users.len() != 1 || users[0].len() != data.len();
                for (index, user) in users.into_iter().enumerate() {
                    position.clear();
                    position.push_str(record.sequence);
                    if aggregated {
                        position.push(':');
                        position.push_str(itoa::Buffer::new().format(index));
                    }
                    batch.push(user, &position, record.arrival_micros);
                    unit_of.push(unit);
                }
            }
            Err((payload, reason)) => {
                batch.push(payload, record.sequence, record.arrival_micros);
                batch.reject(batch.len() - 1, &host, "bad-base64", &reason);
                unit_of.push(unit);
            }
        }
    }
    unit_of
}

/// After a plugin failed a batch under `on_plugin_error = "fail"`: run its
/// records through the pipeline one at a time to find the first that fails
/// alone. Returns its position (sequence number, with the KPL index) and
/// the failure; `None` when none fails alone (the failure needed the batch).
pub fn find_poison<'a>(
    pipeline: &mut Pipeline,
    records: impl IntoIterator<Item = ShardRecord<'a>>,
) -> Option<(String, String)> {
    let mut single = Batch::new("poison-search");
    for record in records {
        single.clear();
        fill(&mut single, [record]);
        if let Err(failed) = pipeline.run(&mut single) {
            let position = if single.is_empty() {
                String::new()
            } else {
                single.position(0).to_string()
            };
            return Some((position, failed.to_string()));
        }
    }
    None
}

/// Run `records`, one shard's (`stream`/`shard`), through the pipeline and
/// into the lake; writes not finished by `deadline` count as failed.
pub fn process<'a>(
    pipeline: &mut Pipeline,
    target: &LakeTarget,
    stream: &str,
    shard: &str,
    records: impl IntoIterator<Item = ShardRecord<'a>>,
    deadline: Option<std::time::Instant>,
) -> Outcome {
    let config = target.config;
    let mut batch = Batch::new(&format!("kinesis:{stream}/{shard}"))
        .with_max_record_bytes(config.max_record_bytes);
    let unit_of = fill(&mut batch, records);
    let mut plugin_failed = None;
    let committed = match pipeline.run(&mut batch) {
        Err(failed) => {
            plugin_failed = Some(failed.to_string());
            Committed {
                retry_from: (!unit_of.is_empty()).then_some(0),
                ..Committed::default()
            }
        }
        Ok(()) => {
            let mut writer = LakeWriter::new(
                target.data,
                target.errors,
                &config.table,
                // The whole tag in names (a stream's name may hold a `.`).
                &format!("{stream}-{shard}").replace('.', "_"),
                FileOptions::of(config),
            )
            .named_by_first_row()
            .holding();
            match writer.write(&mut batch) {
                Ok(()) => commit(writer, &unit_of, deadline),
                Err(err) => retry_all(
                    &unit_of,
                    format!("could not build the batch's files: {err}"),
                ),
            }
        }
    };
    let retry_from = committed.retry_from.unwrap_or(usize::MAX);
    let mut summary = Summary::default();
    // What stayed durable: files withdrawn for a retry are not counted.
    summary.written.files = committed.files;
    summary.written.error_files = committed.error_files;
    summary.written.bytes = committed.bytes;
    let mut retried = 0;
    for (record, &unit) in batch.records().iter().zip(&unit_of) {
        if unit < retry_from {
            summary.count_record(record);
        } else {
            retried += 1;
        }
    }
    Outcome {
        committed,
        summary,
        retried,
        plugin_failed,
    }
}

/// Nothing of the batch is durable: all of it is to be processed again.
fn retry_all(unit_of: &[usize], failure: String) -> Committed {
    Committed {
        retry_from: (!unit_of.is_empty()).then_some(0),
        failures: vec![failure],
        ..Committed::default()
    }
}
