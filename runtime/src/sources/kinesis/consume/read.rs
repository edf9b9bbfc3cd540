//! Reading a stream's shards for `weir consume`: listing them, starting each
//! one's iterator where its checkpoint says, and forming its next batch from
//! `GetRecords` answers (a pending batch exactly as it was).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::operation::get_records::GetRecordsOutput;
use aws_sdk_kinesis::types::ShardIteratorType;

use super::{ConsumeError, ConsumeOptions};
use crate::sources::kinesis::checkpoint::ShardCheckpoint;
use crate::sources::kinesis::client::{Kinesis, describe, is_permanent};
use crate::storage::aws::AwsError;

/// A record read and not yet durable.
pub(super) struct Held {
    pub(super) data: Vec<u8>,
    pub(super) sequence: String,
    pub(super) arrival_micros: i64,
}

/// What the consumer knows of a shard while it runs.
#[derive(Default)]
pub(super) struct Live {
    pub(super) parents: Vec<String>,
    closed: bool,
    /// `None` before the first `GetShardIterator`, and once the shard is
    /// read to its end.
    iterator: Option<String>,
    started: bool,
    pub(super) ended: bool,
    pub(super) buffer: VecDeque<Held>,
    pub(super) caught_up: bool,
    pub(super) failures: u32,
    /// Reads that failed in a row (throttling, passing errors).
    read_failures: u32,
    pub(super) retry_at: Option<Instant>,
}

/// Sequence numbers are decimal strings of up to 128 bits: compare them as
/// numbers.
fn sequence_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A failure of the service reading shard `id` of the stream.
fn read_failed(options: &ConsumeOptions, id: &str, source: AwsError) -> ConsumeError {
    ConsumeError::Kinesis {
        at: format!("stream {}: {id}", options.stream),
        source,
    }
}

/// Add the stream's shards to `live` (those already known are kept).
pub(super) fn list_shards(
    kinesis: &Kinesis,
    stream: &str,
    live: &mut BTreeMap<String, Live>,
) -> Result<(), ConsumeError> {
    let fail = |source| ConsumeError::Kinesis {
        at: format!("stream {stream}"),
        source,
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
pub(super) fn next_batch(
    kinesis: &Kinesis,
    options: &ConsumeOptions,
    id: &str,
    shard: &mut Live,
    state: &ShardCheckpoint,
    read_from_millis: Option<i64>,
) -> Result<Option<Vec<Held>>, ConsumeError> {
    if !shard.started {
        shard.started = true;
        open_iterator(kinesis, options, id, shard, state, read_from_millis)?;
    }
    let wanted = options.batch_records.max(1) as usize;
    loop {
        // A pending batch is formed again exactly, whatever the reads give.
        if let Some(batch) = shard.ready_batch(state.pending.as_ref(), wanted) {
            return Ok(Some(batch));
        }
        let Some(iterator) = shard.iterator.clone() else {
            // Read to the end: what is left (a pending batch whose last
            // record is gone from the stream, too).
            return Ok(shard.take_all());
        };
        let Some(answer) = get_records(kinesis, options, id, shard, &iterator)? else {
            return Ok(None);
        };
        let read_none = answer.records().is_empty();
        shard.take_answer(answer);
        if read_none && !shard.ended {
            if state.pending.is_some() && shard.caught_up && !shard.buffer.is_empty() {
                // The pending batch's last record is not in the stream any
                // more: write what there is.
                return Ok(shard.take_all());
            }
            if shard.caught_up || shard.buffer.is_empty() {
                return Ok(shard.take_up_to(wanted));
            }
        }
    }
}

/// Ask for the shard's first iterator: after its checkpoint; at its pending
/// batch's first record, when that batch was its first; at the consumer's
/// start time (`--latest`); or at its oldest record.
fn open_iterator(
    kinesis: &Kinesis,
    options: &ConsumeOptions,
    id: &str,
    shard: &mut Live,
    state: &ShardCheckpoint,
    read_from_millis: Option<i64>,
) -> Result<(), ConsumeError> {
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
        .map_err(|err| read_failed(options, id, describe(err)))?;
    shard.iterator = answer.shard_iterator().map(str::to_string);
    shard.ended = shard.iterator.is_none();
    Ok(())
}

/// One `GetRecords` call at `iterator`. `None` when the shard is to wait:
/// its iterator expired (it starts again from its checkpoint), or the read
/// failed in a way worth retrying (it pauses, longer each time); an error
/// when the service will refuse it however often it is asked.
fn get_records(
    kinesis: &Kinesis,
    options: &ConsumeOptions,
    id: &str,
    shard: &mut Live,
    iterator: &str,
) -> Result<Option<GetRecordsOutput>, ConsumeError> {
    let answer = kinesis.block(
        kinesis
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(options.batch_records.clamp(1, 10_000))
            .send(),
    );
    let err = match answer {
        Ok(answer) => {
            shard.read_failures = 0;
            return Ok(Some(answer));
        }
        Err(err) => err,
    };
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
        return Err(read_failed(options, id, describe(err)));
    }
    // Throttled (the shard's read limit, shared with other
    // readers), or a passing failure: this shard waits, longer
    // each time, and the others go on.
    shard.read_failures += 1;
    let pause = Duration::from_millis(200u64 << shard.read_failures.min(6));
    tracing::warn!(shard = %id, error = %describe(err), retry_in_ms = pause.as_millis() as u64, "reading the shard failed; retrying");
    shard.retry_at = Some(Instant::now() + pause);
    Ok(None)
}

impl Live {
    /// A batch from the buffer, if one is ready: the `pending` batch once
    /// its last record has been read (or a record past it, when its own are
    /// gone from the stream); else `wanted` records once there are that
    /// many, or what there is once the shard is caught up or ended.
    fn ready_batch(
        &mut self,
        pending: Option<&(String, String)>,
        wanted: usize,
    ) -> Option<Vec<Held>> {
        if let Some((_, last)) = pending {
            let end = self
                .buffer
                .iter()
                .position(|held| sequence_order(&held.sequence, last).is_ge())?;
            let take = match end {
                _ if self.buffer[end].sequence == *last => end + 1,
                // The pending batch's records are not in the stream any
                // more: go on with what is.
                0 => self.buffer.len().min(wanted),
                _ => end,
            };
            return Some(self.buffer.drain(..take).collect());
        }
        if self.buffer.len() >= wanted
            || (!self.buffer.is_empty() && (self.caught_up || self.ended))
        {
            return self.take_up_to(wanted);
        }
        None
    }

    /// Up to `most` records from the front of the buffer; `None` when it is
    /// empty.
    fn take_up_to(&mut self, most: usize) -> Option<Vec<Held>> {
        if self.buffer.is_empty() {
            return None;
        }
        let take = self.buffer.len().min(most);
        Some(self.buffer.drain(..take).collect())
    }

    /// Every record in the buffer; `None` when it is empty.
    fn take_all(&mut self) -> Option<Vec<Held>> {
        self.take_up_to(usize::MAX)
    }

    /// Take in a `GetRecords` answer: its records onto the buffer, the next
    /// iterator, and whether the shard is caught up or read to its end.
    fn take_answer(&mut self, answer: GetRecordsOutput) {
        let records = answer.records();
        for record in records {
            self.buffer.push_back(Held {
                data: record.data().as_ref().to_vec(),
                sequence: record.sequence_number().to_string(),
                arrival_micros: record.approximate_arrival_timestamp().map_or(0, |at| {
                    at.secs() * 1_000_000 + i64::from(at.subsec_nanos() / 1_000)
                }),
            });
        }
        self.iterator = answer.next_shard_iterator().map(str::to_string);
        let behind = answer.millis_behind_latest().unwrap_or(0);
        self.caught_up = records.is_empty() && behind == 0;
        // A closed shard with nothing more to give is read to its end, even
        // where a server keeps handing out iterators for it.
        if self.iterator.is_none() || (self.closed && self.caught_up) {
            self.iterator = None;
            self.ended = true;
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
