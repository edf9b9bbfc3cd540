//! One batch of a Kinesis shard's records through the pipeline into the
//! lake: what the Lambda host and `weir consume` share, so the same records
//! give the same objects, under the same names, whichever runs them.
//!
//! KPL aggregates are split into their user records (positioned
//! `<sequence number>:<index>`); a record whose data could not be had (not
//! base64, in a Lambda event) is rejected by the host with the reason. The
//! batch is written by [`crate::lake::commit`], which says from which record it
//! must be processed again, if any.

use std::iter::Peekable;

use crate::config::PipelineConfig;
use crate::config::build::file_options;
use crate::lake::LakeWriter;
use crate::lake::commit::{Committed, commit};
use crate::pipeline::batch::{Batch, Stage};
use crate::pipeline::summary::Summary;
use crate::pipeline::{Pipeline, PluginFailed};
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
    pub plugin_failed: Option<PluginFailed>,
}

/// Push the user records of `records` into `batch`. Returns the Kinesis
/// record (unit) of each user record pushed, in order.
pub fn fill<'a>(
    batch: &mut Batch,
    records: impl IntoIterator<Item = ShardRecord<'a>>,
) -> Vec<usize> {
    let mut unit_of = Vec::new();
    for (unit, record) in records.into_iter().enumerate() {
        push_unit(batch, record, unit, &mut unit_of);
    }
    unit_of
}

/// Push the user records of one Kinesis record, unit `unit`, into `batch`,
/// noting the unit of each in `unit_of`.
fn push_unit(batch: &mut Batch, record: ShardRecord, unit: usize, unit_of: &mut Vec<usize>) {
    match record.data {
        Ok(data) => {
            let users = crate::sources::kinesis::kpl::user_records(data);
            let aggregated = users.len() != 1 || users[0].len() != data.len();
            let mut position = String::new();
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
            batch.reject(batch.len() - 1, &Stage::host(), "bad-base64", &reason);
            unit_of.push(unit);
        }
    }
}

/// After a plugin failed a batch under `on_plugin_error = "fail"`: run its
/// records through the pipeline one at a time to find the first that fails
/// alone. Returns its position (sequence number, with the KPL index) and
/// the failure; `None` when none fails alone (the failure needed the batch).
pub fn find_poison<'a>(
    pipeline: &mut Pipeline,
    records: impl IntoIterator<Item = ShardRecord<'a>>,
) -> Option<(String, PluginFailed)> {
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
            return Some((position, failed));
        }
    }
    None
}

/// Run `records`, one shard's (`stream`/`shard`), through the pipeline and
/// into the lake; writes not finished by `deadline` count as failed.
///
/// The records go through the plugins in batches of the pipeline's size (in
/// events and in bytes, as `weir run` reads a file), so a Kinesis batch of
/// any size fits a plugin's memory; all of them go into one set of files,
/// committed together.
pub fn process<'a>(
    pipeline: &mut Pipeline,
    target: &LakeTarget,
    stream: &str,
    shard: &str,
    records: impl IntoIterator<Item = ShardRecord<'a>>,
    deadline: Option<std::time::Instant>,
) -> Outcome {
    let mut writer = holding_writer(target, stream, shard);
    let source = format!("kinesis:{stream}/{shard}");
    let mut records = records.into_iter().enumerate().peekable();
    let Run {
        batches,
        unit_of,
        failure,
    } = run_batches(pipeline, &mut writer, target.config, &source, &mut records);
    // After a failure nothing is written: every user record is retried,
    // those of the failed batch and those never read alike.
    let given = batches.iter().map(Batch::len).sum::<usize>();
    let (unread_units, unread_users) = count_unread(records);
    let units = unit_of.last().map_or(0, |last| last + 1) + unread_units;
    let mut retried = (unit_of.len() - given) as u64 + unread_users;
    let mut plugin_failed = None;
    let committed = match failure {
        None => commit(writer, &unit_of, deadline),
        Some(Failure::Plugin(failed)) => {
            plugin_failed = Some(failed);
            retry_all(units, Vec::new())
        }
        Some(Failure::Files(failure)) => retry_all(units, vec![failure]),
    };
    let (summary, written_then_retried) = count_durable(&committed, &batches, &unit_of);
    retried += written_then_retried;
    Outcome {
        committed,
        summary,
        retried,
        plugin_failed,
    }
}

/// The writer of one shard's batch: a holding writer (nothing is published
/// before the commit) whose files are named after the stream, the shard and
/// their first row.
fn holding_writer(target: &LakeTarget, stream: &str, shard: &str) -> LakeWriter {
    LakeWriter::new(
        target.data,
        target.errors,
        &target.config.table,
        // The whole tag in names (a stream's name may hold a `.`).
        &format!("{stream}-{shard}").replace('.', "_"),
        file_options(target.config),
    )
    .named_by_first_row()
    .holding()
}

/// What went through the pipeline into the writer, before the commit.
struct Run {
    /// The batches given to the writer, in order.
    batches: Vec<Batch>,
    /// The Kinesis record (unit) of each user record read, those of a failed
    /// batch included.
    unit_of: Vec<usize>,
    /// Why it stopped before the end, if it did.
    failure: Option<Failure>,
}

/// Read `records` into batches of the pipeline's size, each through the
/// pipeline and into `writer`, until they run out or one fails. The records
/// after a failure are left in `records`.
fn run_batches<'a>(
    pipeline: &mut Pipeline,
    writer: &mut LakeWriter,
    config: &PipelineConfig,
    source: &str,
    records: &mut Peekable<impl Iterator<Item = (usize, ShardRecord<'a>)>>,
) -> Run {
    let new_batch = || Batch::new(source).with_max_record_bytes(config.max_record_bytes);
    let max_bytes = crate::config::build::batch_bytes(config);
    let mut unit_of = Vec::new();
    let mut batches = Vec::new();
    let mut batch = new_batch();
    let mut failure = None;
    while records.peek().is_some() {
        while batch.is_empty()
            || (batch.len() < config.batch_size && batch.payload_bytes() < max_bytes)
        {
            let Some((unit, record)) = records.next() else {
                break;
            };
            push_unit(&mut batch, record, unit, &mut unit_of);
        }
        if let Err(failed) = pipeline.run(&mut batch) {
            failure = Some(Failure::Plugin(failed));
            break;
        }
        if let Err(err) = writer.write(&mut batch) {
            failure = Some(Failure::Files(format!(
                "could not build the batch's files: {err}"
            )));
            break;
        }
        batches.push(std::mem::replace(&mut batch, new_batch()));
    }
    Run {
        batches,
        unit_of,
        failure,
    }
}

/// The Kinesis records never read (after a failure): how many, and how many
/// user records they hold.
fn count_unread<'a>(records: impl Iterator<Item = (usize, ShardRecord<'a>)>) -> (usize, u64) {
    let mut units = 0;
    let mut users = 0;
    for (_, record) in records {
        units += 1;
        users += record.data.map_or(1, |data| {
            crate::sources::kinesis::kpl::user_records(data).len()
        }) as u64;
    }
    (units, users)
}

/// The records of `batches` whose output stayed durable, counted, with the
/// files kept (those withdrawn for a retry are not counted); and how many
/// were written but are to be processed again. `unit_of` gives each
/// record's Kinesis record.
fn count_durable(committed: &Committed, batches: &[Batch], unit_of: &[usize]) -> (Summary, u64) {
    let retry_from = committed.retry_from.unwrap_or(usize::MAX);
    let mut summary = Summary::default();
    summary.written.files = committed.files;
    summary.written.error_files = committed.error_files;
    summary.written.bytes = committed.bytes;
    let mut retried = 0;
    let written = batches.iter().flat_map(|batch| batch.records());
    for (record, &unit) in written.zip(unit_of) {
        if unit < retry_from {
            summary.count_record(record);
        } else {
            retried += 1;
        }
    }
    (summary, retried)
}

/// Why a shard's batch stopped before its files were committed.
enum Failure {
    /// A plugin failed under `on_plugin_error = "fail"`.
    Plugin(PluginFailed),
    /// The files could not be built.
    Files(String),
}

/// Nothing of the batch is durable: all of it is to be processed again.
fn retry_all(units: usize, failures: Vec<String>) -> Committed {
    Committed {
        retry_from: (units > 0).then_some(0),
        failures,
        ..Committed::default()
    }
}
