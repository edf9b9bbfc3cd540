//! `weir send`: JSON lines into a Kinesis stream with `PutRecords`, within
//! the service's limits (500 records and 5 MiB a request, 1 MiB a record),
//! retrying only the entries the service refused, with exponential backoff
//! and jitter. Every line read is sent, skipped (blank) or reported as not
//! sent, by line number.

use std::io::{self, BufRead};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::error::SdkError;
use aws_sdk_kinesis::operation::put_records::PutRecordsError;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, PutRecordsResultEntry};

use super::client::{Kinesis, describe, is_permanent};

/// Why a send stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The input could not be read.
    #[error("cannot read the input")]
    Read(#[from] io::Error),
    /// The service refused a request in a way it will repeat (no such
    /// stream, access denied, no credentials): nothing more is sent.
    #[error(
        "stream {stream}: {reason}; stopped: {sent} of the {lines} lines read were sent, none after line {first_unsent}"
    )]
    Refused {
        /// The stream.
        stream: String,
        /// What the service said.
        reason: String,
        /// Records sent before it.
        sent: u64,
        /// Lines read so far.
        lines: u64,
        /// The first line of the refused request.
        first_unsent: u64,
    },
}

/// Most records in one `PutRecords` request.
pub const MAX_RECORDS: usize = 500;
/// Most bytes (data and partition keys) in one request.
pub const MAX_REQUEST_BYTES: usize = 5 * 1024 * 1024;
/// Most bytes (data and partition key) in one record.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Longest partition key.
const MAX_KEY_CHARS: usize = 256;

/// How to send.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// The stream's name.
    pub stream: String,
    /// The field whose value is a record's partition key; a line without it
    /// (or not JSON) is keyed by its line number.
    pub key_field: String,
    /// Most records per second; none for as fast as the stream takes them.
    pub rate: Option<f64>,
    /// Tries per record, the first included.
    pub max_attempts: u32,
}

/// What a send did: `lines = sent + blank + failed.len()`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SendReport {
    /// Lines read.
    pub lines: u64,
    /// Records the stream accepted.
    pub sent: u64,
    /// Blank lines, not sent.
    pub blank: u64,
    /// Lines that could not be sent: line number and why.
    pub failed: Vec<(u64, String)>,
    /// Entries sent again after the stream refused them.
    pub retried: u64,
    /// Seconds the send took.
    pub seconds: f64,
}

struct Entry {
    line: u64,
    key: String,
    data: Vec<u8>,
}

/// Send every line of `input` to the stream. `progress` is told the report
/// so far after each request.
pub fn send(
    kinesis: &Kinesis,
    options: &SendOptions,
    input: &mut dyn BufRead,
    progress: &mut dyn FnMut(&SendReport),
) -> Result<SendReport, SendError> {
    let started = Instant::now();
    let mut sender = Sender {
        kinesis,
        options,
        report: SendReport::default(),
        started,
        jitter: Jitter::new(),
        refused: None,
    };
    let mut batch: Vec<Entry> = Vec::with_capacity(MAX_RECORDS);
    let mut batch_bytes = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        sender.report.lines += 1;
        let number = sender.report.lines;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            sender.report.blank += 1;
            continue;
        }
        let key = partition_key(&line, &options.key_field, number);
        let size = line.len() + key.len();
        if size > MAX_RECORD_BYTES {
            sender.report.failed.push((
                number,
                format!("{size} bytes with its key, over Kinesis's {MAX_RECORD_BYTES}-byte limit on a record"),
            ));
            continue;
        }
        if batch.len() == MAX_RECORDS || batch_bytes + size > MAX_REQUEST_BYTES {
            sender.put(std::mem::take(&mut batch));
            batch_bytes = 0;
            progress(&sender.report);
            sender.stop_if_refused()?;
        }
        batch_bytes += size;
        batch.push(Entry {
            line: number,
            key,
            data: line.clone(),
        });
    }
    if !batch.is_empty() {
        sender.put(batch);
        progress(&sender.report);
        sender.stop_if_refused()?;
    }
    sender.report.failed.sort();
    sender.report.seconds = started.elapsed().as_secs_f64();
    Ok(sender.report)
}

/// The partition key of a line: its `field` (text, or a number written out),
/// else its line number.
fn partition_key(line: &[u8], field: &str, number: u64) -> String {
    let value = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line)
        .ok()
        .and_then(|mut object| object.remove(field));
    let key = match value {
        Some(serde_json::Value::String(text)) if !text.is_empty() => text,
        Some(value @ serde_json::Value::Number(_)) => value.to_string(),
        _ => format!("line-{number}"),
    };
    key.chars().take(MAX_KEY_CHARS).collect()
}

/// Why the service refused a request for good, in one line: the kind of
/// problem, the service's code and message, and what to check.
fn refusal(err: SdkError<PutRecordsError, HttpResponse>) -> String {
    describe(err).to_string()
}

struct Sender<'a> {
    kinesis: &'a Kinesis,
    options: &'a SendOptions,
    report: SendReport,
    started: Instant,
    jitter: Jitter,
    /// A permanent refusal: why, and the first line it concerned.
    refused: Option<(String, u64)>,
}

impl Sender<'_> {
    /// Stop the send if the service refused it for good.
    fn stop_if_refused(&self) -> Result<(), SendError> {
        match &self.refused {
            None => Ok(()),
            Some((reason, line)) => Err(SendError::Refused {
                stream: self.options.stream.clone(),
                reason: reason.clone(),
                sent: self.report.sent,
                lines: self.report.lines,
                first_unsent: *line,
            }),
        }
    }

    /// Put `entries`, again and again for those refused, until all are in
    /// or out of attempts.
    fn put(&mut self, mut entries: Vec<Entry>) {
        let mut attempt = 1;
        loop {
            self.pace(entries.len());
            let Some(refused) = self.put_once(entries) else {
                return;
            };
            if refused.is_empty() {
                return;
            }
            if attempt >= self.options.max_attempts {
                self.report.failed.extend(
                    refused
                        .into_iter()
                        .map(|(entry, reason)| (entry.line, reason)),
                );
                return;
            }
            self.report.retried += refused.len() as u64;
            std::thread::sleep(self.jitter.backoff(attempt));
            attempt += 1;
            entries = refused.into_iter().map(|(entry, _)| entry).collect();
        }
    }

    /// One `PutRecords` request of `entries`: those the stream refused,
    /// each with why (all of them when the request failed); `None` when the
    /// service refused the request for good (noted in `refused`).
    fn put_once(&mut self, entries: Vec<Entry>) -> Option<Vec<(Entry, String)>> {
        let request = entries
            .iter()
            .map(|entry| {
                PutRecordsRequestEntry::builder()
                    .partition_key(&entry.key)
                    .data(Blob::new(entry.data.clone()))
                    .build()
                    .expect("key and data are set")
            })
            .collect::<Vec<_>>();
        let client = &self.kinesis.client;
        let result = self.kinesis.block(
            client
                .put_records()
                .stream_name(&self.options.stream)
                .set_records(Some(request))
                .send(),
        );
        match result {
            Err(err) if is_permanent(&err) => {
                let first = entries.iter().map(|entry| entry.line).min().unwrap_or(0);
                self.refused = Some((refusal(err), first));
                None
            }
            Err(err) => {
                let reason = describe(err).to_string();
                Some(
                    entries
                        .into_iter()
                        .map(|entry| (entry, reason.clone()))
                        .collect(),
                )
            }
            Ok(output) => Some(self.count_answers(entries, output.records())),
        }
    }

    /// Count the entries the stream accepted as sent; return the others,
    /// each with why (its answer's error, or no answer at all).
    fn count_answers(
        &mut self,
        entries: Vec<Entry>,
        answers: &[PutRecordsResultEntry],
    ) -> Vec<(Entry, String)> {
        let mut refused = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            match answers.get(index) {
                Some(answer) if answer.error_code().is_none() => self.report.sent += 1,
                Some(answer) => {
                    let reason = format!(
                        "{}: {}",
                        answer.error_code().unwrap_or_default(),
                        answer.error_message().unwrap_or_default()
                    );
                    refused.push((entry, reason));
                }
                None => refused.push((entry, "no answer for the record".into())),
            }
        }
        refused
    }

    /// Wait so that no more than `rate` records a second go out.
    fn pace(&self, about_to_send: usize) {
        let Some(rate) = self.options.rate else {
            return;
        };
        let due = (self.report.sent + self.report.retried + about_to_send as u64) as f64 / rate;
        let elapsed = self.started.elapsed().as_secs_f64();
        if due > elapsed {
            std::thread::sleep(Duration::from_secs_f64(due - elapsed));
        }
    }
}

/// Backoff with full jitter: a random wait up to 100 ms × 2^attempt,
/// at most 5 s, so refused senders do not retry in step.
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |since| since.as_nanos() as u64)
            | 1;
        Jitter(seed)
    }

    fn backoff(&mut self, attempt: u32) -> Duration {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let cap_ms = (100u64 << attempt.min(6)).min(5_000);
        Duration::from_millis(self.0 % (cap_ms + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_field_else_the_line() {
        assert_eq!(partition_key(br#"{"user_id":"u7"}"#, "user_id", 3), "u7");
        assert_eq!(partition_key(br#"{"user_id":42}"#, "user_id", 3), "42");
        assert_eq!(partition_key(br#"{"other":1}"#, "user_id", 3), "line-3");
        assert_eq!(partition_key(b"{not json", "user_id", 9), "line-9");
        let long = format!(r#"{{"user_id":"{}"}}"#, "x".repeat(300));
        assert_eq!(partition_key(long.as_bytes(), "user_id", 1).len(), 256);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut jitter = Jitter::new();
        for attempt in 1..20 {
            let wait = jitter.backoff(attempt);
            assert!(wait <= Duration::from_millis((100u64 << attempt.min(6)).min(5_000)));
        }
    }
}
