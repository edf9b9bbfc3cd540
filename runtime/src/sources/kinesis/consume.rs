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
//!
//! [`read`] lists the shards and forms each one's next batch; this module
//! gives each shard its turn and writes its batches.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use thiserror::Error;

use super::client::Kinesis;
use crate::lake::commit::Committed;
use crate::pipeline::summary::Summary;
use crate::pipeline::{Pipeline, PluginFailed};
use crate::sources::kinesis::checkpoint::{CheckpointError, CheckpointStore, Checkpoints};
use crate::sources::kinesis::shard::{LakeTarget, ShardRecord, find_poison, process};
use crate::storage::aws::AwsError;

mod read;

use read::{Held, Live, list_shards, next_batch};

/// Why a consumer stopped.
#[derive(Debug, Error)]
pub enum ConsumeError {
    /// Kinesis refused or failed a request.
    #[error("{at}")]
    Kinesis {
        /// The stream, and the shard when one was being read.
        at: String,
        /// What went wrong.
        #[source]
        source: AwsError,
    },
    /// The checkpoints could not be read or written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A plugin failed under `on_plugin_error = "fail"`: the batch stays
    /// pending and is formed again on the next start.
    #[error(
        "stream {stream}: {at} (on_plugin_error = \"fail\"; the batch is kept pending and is formed again on the next start)"
    )]
    PluginFailed {
        /// The stream.
        stream: String,
        /// The shard and the record that fails alone, or the batch's range.
        at: String,
        /// How the plugin failed.
        #[source]
        failure: PluginFailed,
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

/// How often the stream's shards are listed again, to find those a reshard
/// made (a shard that ends also has them listed at once).
const LIST_EVERY: Duration = Duration::from_secs(10);

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
        start_from_now(&mut checkpoints, store)?;
    }
    let mut consumer = Consumer {
        kinesis,
        options,
        pipeline,
        target,
        store,
        checkpoints,
        live: BTreeMap::new(),
        report: ConsumeReport::default(),
        listed_at: None,
    };
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        consumer.list_shards_when_due()?;
        let pass = consumer.pass(stop, progress)?;
        if options.until_drained && pass.drained && !pass.worked {
            break;
        }
        if !pass.worked {
            sleep_unless_stopped(options.poll, stop);
        }
    }
    Ok(consumer.report)
}

/// A consumer with no checkpoints yet, asked to start at records arriving
/// from now on: now, saved as where every shard with no checkpoint starts,
/// so a restart starts there too.
fn start_from_now(
    checkpoints: &mut Checkpoints,
    store: &CheckpointStore,
) -> Result<(), ConsumeError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64);
    checkpoints.read_from_millis = Some(now);
    store.save(checkpoints)?;
    Ok(())
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let until = Instant::now() + total;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A consumer at work: where it reads and writes, its checkpoints, what it
/// knows of each shard, and what it has done.
struct Consumer<'a> {
    kinesis: &'a Kinesis,
    options: &'a ConsumeOptions,
    pipeline: &'a mut Pipeline,
    target: &'a LakeTarget<'a>,
    store: &'a CheckpointStore,
    checkpoints: Checkpoints,
    live: BTreeMap<String, Live>,
    report: ConsumeReport,
    /// When the shards were last listed; `None` to list them now.
    listed_at: Option<Instant>,
}

/// What one pass over the shards did.
struct Pass {
    /// A shard wrote a batch or was finished.
    worked: bool,
    /// Every shard is caught up or finished: nothing is left to read now.
    drained: bool,
}

/// What one shard's turn in a pass came to.
enum Turn {
    /// Nothing to do: finished before, or caught up with nothing to write.
    Idle,
    /// Records are still to come: it waits for its parents to finish, for
    /// a pause after a failure to pass, or for more to be read.
    Waiting,
    /// Read to its end and marked finished.
    Finished,
    /// A batch was written (all of it, or part to be written again).
    Wrote,
}

impl Consumer<'_> {
    /// List the shards, when that is due.
    fn list_shards_when_due(&mut self) -> Result<(), ConsumeError> {
        if self.listed_at.is_none_or(|at| at.elapsed() > LIST_EVERY) {
            list_shards(self.kinesis, &self.options.stream, &mut self.live)?;
            self.listed_at = Some(Instant::now());
            self.report.shards = self.live.len() as u64;
        }
        Ok(())
    }

    /// Give each shard listed a turn, until `stop` is set.
    fn pass(
        &mut self,
        stop: &AtomicBool,
        progress: &mut dyn FnMut(&ConsumeReport),
    ) -> Result<Pass, ConsumeError> {
        let mut pass = Pass {
            worked: false,
            drained: true,
        };
        let ids: Vec<String> = self.live.keys().cloned().collect();
        for id in ids {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            match self.turn(&id, progress)? {
                Turn::Idle => {}
                Turn::Waiting => pass.drained = false,
                Turn::Finished => pass.worked = true,
                Turn::Wrote => {
                    pass.worked = true;
                    pass.drained = false;
                }
            }
        }
        Ok(pass)
    }

    /// Shard `id`'s turn: once its parents are finished and no pause holds
    /// it, write its next batch, or mark it finished when it has ended.
    fn turn(
        &mut self,
        id: &str,
        progress: &mut dyn FnMut(&ConsumeReport),
    ) -> Result<Turn, ConsumeError> {
        let state = self
            .checkpoints
            .shards
            .entry(id.to_string())
            .or_default()
            .clone();
        if state.finished {
            return Ok(Turn::Idle);
        }
        if !self.parents_finished(id) {
            return Ok(Turn::Waiting);
        }
        let shard = self.live.get_mut(id).expect("listed");
        if shard.retry_at.is_some_and(|at| Instant::now() < at) {
            return Ok(Turn::Waiting);
        }
        let read_from = self.checkpoints.read_from_millis;
        let batch = next_batch(self.kinesis, self.options, id, shard, &state, read_from)?;
        let Some(batch) = batch else {
            if shard.ended && shard.buffer.is_empty() {
                self.finish(id)?;
                return Ok(Turn::Finished);
            }
            return Ok(if shard.caught_up {
                Turn::Idle
            } else {
                Turn::Waiting
            });
        };
        self.write(id, batch, progress)?;
        Ok(Turn::Wrote)
    }

    /// Whether every parent of shard `id` that is still listed is finished:
    /// a child's records come after its parents'.
    fn parents_finished(&self, id: &str) -> bool {
        self.live[id].parents.iter().all(|parent| {
            !self.live.contains_key(parent)
                || self
                    .checkpoints
                    .shards
                    .get(parent)
                    .is_some_and(|p| p.finished)
        })
    }

    /// Mark shard `id` finished (read to its end, all of it durable), and
    /// list the shards again at once: its children can start.
    fn finish(&mut self, id: &str) -> Result<(), ConsumeError> {
        let entry = self.checkpoints.shards.get_mut(id).expect("present");
        entry.finished = true;
        entry.pending = None;
        self.store.save(&self.checkpoints)?;
        self.report.shards_finished += 1;
        self.listed_at = None;
        Ok(())
    }

    /// Write a batch of shard `id`: first recorded as pending, so a restart
    /// forms the same batch again; then through the pipeline into the lake;
    /// then the checkpoint moved past what is durable, and saved.
    fn write(
        &mut self,
        id: &str,
        batch: Vec<Held>,
        progress: &mut dyn FnMut(&ConsumeReport),
    ) -> Result<(), ConsumeError> {
        let first = batch[0].sequence.clone();
        let last = batch[batch.len() - 1].sequence.clone();
        self.checkpoints
            .shards
            .get_mut(id)
            .expect("present")
            .pending = Some((first, last));
        self.store.save(&self.checkpoints)?;
        let outcome = process(
            self.pipeline,
            self.target,
            &self.options.stream,
            id,
            shard_records(&batch),
            None,
        );
        if let Some(failure) = &outcome.plugin_failed {
            return Err(self.plugin_failed(id, &batch, failure));
        }
        log_commit_failures(id, &outcome.committed);
        self.report.summary.add(&outcome.summary);
        self.advance(id, batch, outcome.committed.retry_from);
        self.store.save(&self.checkpoints)?;
        progress(&self.report);
        Ok(())
    }

    /// Under `on_plugin_error = "fail"` the batch would fail the same way
    /// forever: the error that stops the consumer, naming the record. The
    /// batch stays pending, so a restart after a fix forms it again.
    fn plugin_failed(&mut self, id: &str, batch: &[Held], failure: &PluginFailed) -> ConsumeError {
        let (at, failure) = match find_poison(self.pipeline, shard_records(batch)) {
            Some((position, failure)) => (format!("{id}: record {position}"), failure),
            None => (
                format!(
                    "{id}: the batch of records {} to {} (no record fails alone)",
                    batch[0].sequence,
                    batch[batch.len() - 1].sequence
                ),
                failure.clone(),
            ),
        };
        ConsumeError::PluginFailed {
            stream: self.options.stream.clone(),
            at,
            failure,
        }
    }

    /// Move shard `id`'s checkpoint past the records of `batch` that are
    /// durable (all of them, or those before `retry_from`) and count them.
    /// The rest go back to the front of its buffer, to be written again as
    /// the same batch after a pause that grows with each failure.
    fn advance(&mut self, id: &str, batch: Vec<Held>, retry_from: Option<usize>) {
        let last = batch[batch.len() - 1].sequence.clone();
        let entry = self.checkpoints.shards.get_mut(id).expect("present");
        let shard = self.live.get_mut(id).expect("listed");
        match retry_from {
            None => {
                self.report.kinesis_records += batch.len() as u64;
                self.report.batches += 1;
                entry.after = Some(last);
                entry.pending = None;
                shard.failures = 0;
                shard.retry_at = None;
            }
            Some(point) => {
                self.report.kinesis_records += point as u64;
                self.report.resumed += 1;
                if point > 0 {
                    entry.after = Some(batch[point - 1].sequence.clone());
                }
                entry.pending = Some((batch[point].sequence.clone(), last));
                for held in batch.into_iter().skip(point).rev() {
                    shard.buffer.push_front(held);
                }
                shard.failures += 1;
                let pause = Duration::from_millis(500u64 << shard.failures.min(6));
                shard.retry_at = Some(Instant::now() + pause);
            }
        }
    }
}

/// The records of a batch as the shard's batch processing takes them.
fn shard_records(batch: &[Held]) -> impl Iterator<Item = ShardRecord<'_>> {
    batch.iter().map(|held| ShardRecord {
        data: Ok(&held.data),
        sequence: &held.sequence,
        arrival_micros: held.arrival_micros,
    })
}

/// Log each file of shard `id`'s batch that is not durable, and each that
/// should have been withdrawn and was not.
fn log_commit_failures(id: &str, committed: &Committed) {
    for failure in &committed.failures {
        tracing::error!(shard = %id, error = %failure, "part of a batch is not durable");
    }
    for failure in &committed.not_withdrawn {
        tracing::error!(shard = %id, error = %failure, "could not remove an object that holds records to be written again; writing them again replaces it");
    }
}
