//! `weir consume`: every shard of a Kinesis stream through the pipeline into
//! the lake, the way the Lambda host runs it, with checkpoints.
//!
//! - Shards are found with `ListShards` (again as the stream reshards); a
//!   child shard starts only once its parents are finished.
//! - Each batch goes through [`crate::sources::kinesis::shard::process`], so the objects and
//!   their names are those the Lambda host writes for the same records.
//! - A shard's checkpoint moves only once the batch's output is durable.
//!   Before a batch is written, its first and last sequence numbers are
//!   recorded as *pending*: a consumer that restarts after a crash forms the
//!   same batch again and so writes the same object names, replacing what
//!   the crashed one wrote instead of adding to it.
//! - A batch only partly written is resumed from the first record not
//!   durable, after a pause.
//! - Checkpoints live in a local file (default) or an S3 object.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::types::ShardIteratorType;
use thiserror::Error;

use super::client::{Kinesis, describe, is_permanent};
use crate::pipeline::Pipeline;
use crate::pipeline::summary::Summary;
use crate::sources::kinesis::checkpoint::{CheckpointError, CheckpointStore, ShardCheckpoint};
use crate::sources::kinesis::shard::{LakeTarget, ShardRecord, find_poison, process};

/// Why a consumer stopped.
#[derive(Debug, Error)]
pub enum ConsumeError {
    /// Kinesis refused a call for good (listing shards, getting an iterator,
    /// or reading with an error that retrying will not cure).
    #[error("stream {stream}: {message}")]
    Kinesis {
        /// The stream's name.
        stream: String,
        /// The call's error, naming the shard where there is one.
        message: String,
    },
    /// The checkpoints could not be read or saved.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A plugin failed under `on_plugin_error = "fail"`; the batch stays
    /// pending, so the next start forms it again.
    #[error(
        "stream {stream}: {message} (on_plugin_error = \"fail\"; the batch is kept pending and is formed again on the next start)"
    )]
    PluginFailed {
        /// The stream's name.
        stream: String,
        /// The shard, the failing record (or the batch's sequence numbers
        /// when no record fails alone) and the plugin's failure.
        message: String,
    },
}

/// How to consume.
#[derive(Clone, Debug)]
pub struct ConsumeOptions {
    /// The stream's name.
    pub stream: String,
    /// Records per batch (and per `GetRecords` call), at most 10,000.
    pub batch_records: i32,
    /// Where a shard with no checkpoint starts: its oldest record, or
    /// records arriving from now on.
    pub from_latest: bool,
    /// Stop once every shard is caught up.
    pub until_drained: bool,
    /// Wait between polls of a caught-up stream.
    pub poll: Duration,
}

/// What a consumer did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ConsumeReport {
    /// Records through the pipeline, each counted once, when durable.
    #[serde(flatten)]
    pub summary: Summary,
    /// Kinesis records read (aggregates counted once).
    pub kinesis_records: u64,
    /// Batches written.
    pub batches: u64,
    /// Batches that were only partly written and resumed.
    pub resumed: u64,
    /// Shards finished (closed and read to the end).
    pub shards_finished: u64,
    /// Shards seen.
    pub shards: u64,
}

/// A record read and not yet durable.
struct Held {
    data: Vec<u8>,
    sequence: String,
    arrival_micros: i64,
}

/// What the consumer knows of a shard while it runs.
#[derive(Default)]
struct Live {
    parents: Vec<String>,
    closed: bool,
    /// `None` before the first `GetShardIterator`, and once the shard is
    /// read to its end.
    iterator: Option<String>,
    started: bool,
    ended: bool,
    buffer: VecDeque<Held>,
    caught_up: bool,
    failures: u32,
    /// Reads that failed in a row (throttling, passing errors).
    read_failures: u32,
    retry_at: Option<Instant>,
}

/// Sequence numbers are decimal strings of up to 128 bits: compare them as
/// numbers.
fn sequence_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Consume the stream until it is drained (with `until_drained`) or `stop`
/// is set. `progress` is told the report after each batch.
pub fn consume(
    kinesis: &Kinesis,
    options: &ConsumeOptions,
    pipeline: &mut Pipeline,
    target: &LakeTarget,
    store: &CheckpointStore,
    stop: &Arc<AtomicBool>,
    progress: &mut dyn FnMut(&ConsumeReport),
) -> Result<ConsumeReport, ConsumeError> {
    let mut checkpoints = store.load(&options.stream)?;
    if options.from_latest
        && checkpoints.shards.is_empty()
        && checkpoints.read_from_millis.is_none()
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as i64);
        checkpoints.read_from_millis = Some(now);
        store.save(&checkpoints)?;
    }
    let mut live: BTreeMap<String, Live> = BTreeMap::new();
    let mut report = ConsumeReport::default();
    let mut listed_at: Option<Instant> = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if listed_at.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
            list_shards(kinesis, &options.stream, &mut live)?;
            listed_at = Some(Instant::now());
            report.shards = live.len() as u64;
        }
        let mut worked = false;
        let mut drained = true;
        let ids: Vec<String> = live.keys().cloned().collect();
        for id in ids {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let state = checkpoints.shards.entry(id.clone()).or_default().clone();
            if state.finished {
                continue;
            }
            let ready = live[&id].parents.iter().all(|parent| {
                !live.contains_key(parent)
                    || checkpoints.shards.get(parent).is_some_and(|p| p.finished)
            });
            if !ready {
                drained = false;
                continue;
            }
            let shard = live.get_mut(&id).expect("listed");
            if shard.retry_at.is_some_and(|at| Instant::now() < at) {
                drained = false;
                continue;
            }
            let read_from = checkpoints.read_from_millis;
            let batch = next_batch(kinesis, options, &id, shard, &state, read_from)?;
            let Some(batch) = batch else {
                if shard.ended && shard.buffer.is_empty() {
                    let entry = checkpoints.shards.get_mut(&id).expect("present");
                    entry.finished = true;
                    entry.pending = None;
                    store.save(&checkpoints)?;
                    report.shards_finished += 1;
                    listed_at = None;
                    worked = true;
                } else if !shard.caught_up {
                    drained = false;
                }
                continue;
            };
            worked = true;
            drained = false;
            let first = batch[0].sequence.clone();
            let last = batch[batch.len() - 1].sequence.clone();
            checkpoints.shards.get_mut(&id).expect("present").pending = Some((first, last.clone()));
            store.save(&checkpoints)?;
            let outcome = process(
                pipeline,
                target,
                &options.stream,
                &id,
                batch.iter().map(|held| ShardRecord {
                    data: Ok(&held.data),
                    sequence: &held.sequence,
                    arrival_micros: held.arrival_micros,
                }),
                None,
            );
            if let Some(failure) = &outcome.plugin_failed {
                // Under `on_plugin_error = "fail"` the batch would fail the
                // same way forever: stop, naming the record. The batch stays
                // pending, so a restart after a fix forms it again.
                let records = batch.iter().map(|held| ShardRecord {
                    data: Ok(&held.data),
                    sequence: &held.sequence,
                    arrival_micros: held.arrival_micros,
                });
                let message = match find_poison(pipeline, records) {
                    Some((position, failure)) => format!("{id}: record {position}: {failure}"),
                    None => format!(
                        "{id}: the batch of records {} to {} (no record fails alone): {failure}",
                        batch[0].sequence,
                        batch[batch.len() - 1].sequence
                    ),
                };
                return Err(ConsumeError::PluginFailed {
                    stream: options.stream.clone(),
                    message,
                });
            }
            for failure in &outcome.committed.failures {
                tracing::error!(shard = %id, error = %failure, "part of a batch is not durable");
            }
            for failure in &outcome.committed.not_withdrawn {
                tracing::error!(shard = %id, error = %failure, "could not remove an object that holds records to be written again; writing them again replaces it");
            }
            report.summary.add(&outcome.summary);
            let entry = checkpoints.shards.get_mut(&id).expect("present");
            match outcome.committed.retry_from {
                None => {
                    report.kinesis_records += batch.len() as u64;
                    report.batches += 1;
                    entry.after = Some(last);
                    entry.pending = None;
                    shard.failures = 0;
                    shard.retry_at = None;
                }
                Some(point) => {
                    report.kinesis_records += point as u64;
                    report.resumed += 1;
                    if point > 0 {
                        entry.after = Some(batch[point - 1].sequence.clone());
                    }
                    entry.pending = Some((batch[point].sequence.clone(), last));
                    // The rest is written again, as the same batch, after a
                    // pause that grows with each failure.
                    for held in batch.into_iter().skip(point).rev() {
                        shard.buffer.push_front(held);
                    }
                    shard.failures += 1;
                    let pause = Duration::from_millis(500u64 << shard.failures.min(6));
                    shard.retry_at = Some(Instant::now() + pause);
                }
            }
            store.save(&checkpoints)?;
            progress(&report);
        }
        if options.until_drained && drained && !worked {
            break;
        }
        if !worked {
            sleep_unless_stopped(options.poll, stop);
        }
    }
    Ok(report)
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let until = Instant::now() + total;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Add the stream's shards to `live` (those already known are kept).
fn list_shards(
    kinesis: &Kinesis,
    stream: &str,
    live: &mut BTreeMap<String, Live>,
) -> Result<(), ConsumeError> {
    let fail = |message: String| ConsumeError::Kinesis {
        stream: stream.to_string(),
        message,
    };
    let mut token: Option<String> = None;
    loop {
        let request = match &token {
            Some(token) => kinesis.client.list_shards().next_token(token),
            None => kinesis.client.list_shards().stream_name(stream),
        };
        let page = kinesis
            .block(request.send())
            .map_err(|err| fail(describe(err)))?;
        for shard in page.shards() {
            let entry = live.entry(shard.shard_id().to_string()).or_default();
            entry.parents = [shard.parent_shard_id(), shard.adjacent_parent_shard_id()]
                .into_iter()
                .flatten()
                .map(str::to_string)
                .collect();
            entry.closed = shard
                .sequence_number_range()
                .is_some_and(|range| range.ending_sequence_number().is_some());
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(());
        }
    }
}

/// The next batch of a shard, if it has records to give now: exactly the
/// pending batch when one is recorded, else up to `batch_records`.
fn next_batch(
    kinesis: &Kinesis,
    options: &ConsumeOptions,
    id: &str,
    shard: &mut Live,
    state: &ShardCheckpoint,
    read_from_millis: Option<i64>,
) -> Result<Option<Vec<Held>>, ConsumeError> {
    let fail = |message: String| ConsumeError::Kinesis {
        stream: options.stream.clone(),
        message: format!("{id}: {message}"),
    };
    if !shard.started {
        shard.started = true;
        let mut request = kinesis
            .client
            .get_shard_iterator()
            .stream_name(&options.stream)
            .shard_id(id);
        request = match (&state.after, &state.pending, read_from_millis) {
            (Some(after), _, _) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(after),
            // The shard's first batch was being written when the consumer
            // stopped: form it again from its first record.
            (None, Some((first, _)), _) => request
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .starting_sequence_number(first),
            (None, None, Some(millis)) => request
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(aws_sdk_kinesis::primitives::DateTime::from_millis(millis)),
            (None, None, None) => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let answer = kinesis
            .block(request.send())
            .map_err(|err| fail(describe(err)))?;
        shard.iterator = answer.shard_iterator().map(str::to_string);
        shard.ended = shard.iterator.is_none();
    }
    let wanted = options.batch_records.max(1) as usize;
    loop {
        // A pending batch is formed again exactly, whatever the reads give.
        if let Some((_, last)) = &state.pending {
            if let Some(end) = shard
                .buffer
                .iter()
                .position(|held| sequence_order(&held.sequence, last).is_ge())
            {
                let take = match end {
                    _ if shard.buffer[end].sequence == *last => end + 1,
                    // The pending batch's records are not in the stream any
                    // more: go on with what is.
                    0 => shard.buffer.len().min(wanted),
                    _ => end,
                };
                return Ok(Some(shard.buffer.drain(..take).collect()));
            }
        } else if shard.buffer.len() >= wanted
            || (!shard.buffer.is_empty() && (shard.caught_up || shard.ended))
        {
            let take = shard.buffer.len().min(wanted);
            return Ok(Some(shard.buffer.drain(..take).collect()));
        }
        let Some(iterator) = shard.iterator.clone() else {
            // Read to the end: what is left (a pending batch whose last
            // record is gone from the stream, too).
            if shard.buffer.is_empty() {
                return Ok(None);
            }
            return Ok(Some(shard.buffer.drain(..).collect()));
        };
        let answer = kinesis.block(
            kinesis
                .client
                .get_records()
                .shard_iterator(&iterator)
                .limit(options.batch_records.clamp(1, 10_000))
                .send(),
        );
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) => {
                let expired = err
                    .as_service_error()
                    .is_some_and(|service| service.is_expired_iterator_exception());
                if expired {
                    // Start again from the checkpoint: the buffer's records
                    // are read again.
                    shard.buffer.clear();
                    shard.started = false;
                    return Ok(None);
                }
                if is_permanent(&err) {
                    return Err(fail(describe(err)));
                }
                // Throttled (the shard's read limit, shared with other
                // readers), or a passing failure: this shard waits, longer
                // each time, and the others go on.
                shard.read_failures += 1;
                let pause = Duration::from_millis(200u64 << shard.read_failures.min(6));
                tracing::warn!(shard = %id, error = %describe(err), retry_in_ms = pause.as_millis() as u64, "reading the shard failed; retrying");
                shard.retry_at = Some(Instant::now() + pause);
                return Ok(None);
            }
        };
        shard.read_failures = 0;
        let records = answer.records();
        for record in records {
            shard.buffer.push_back(Held {
                data: record.data().as_ref().to_vec(),
                sequence: record.sequence_number().to_string(),
                arrival_micros: record.approximate_arrival_timestamp().map_or(0, |at| {
                    at.secs() * 1_000_000 + i64::from(at.subsec_nanos() / 1_000)
                }),
            });
        }
        shard.iterator = answer.next_shard_iterator().map(str::to_string);
        let behind = answer.millis_behind_latest().unwrap_or(0);
        shard.caught_up = records.is_empty() && behind == 0;
        // A closed shard with nothing more to give is read to its end, even
        // where a server keeps handing out iterators for it.
        if shard.iterator.is_none() || (shard.closed && shard.caught_up) {
            shard.iterator = None;
            shard.ended = true;
        }
        if records.is_empty() && !shard.ended {
            if state.pending.is_some() && shard.caught_up && !shard.buffer.is_empty() {
                // The pending batch's last record is not in the stream any
                // more: write what there is.
                return Ok(Some(shard.buffer.drain(..).collect()));
            }
            if shard.caught_up || shard.buffer.is_empty() {
                return Ok(if shard.buffer.is_empty() {
                    None
                } else {
                    Some(
                        shard
                            .buffer
                            .drain(..wanted.min(shard.buffer.len()))
                            .collect(),
                    )
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(sequence_order("9", "10").is_lt());
        assert!(sequence_order("49600", "49599").is_gt());
        assert!(sequence_order("123", "123").is_eq());
    }
}
