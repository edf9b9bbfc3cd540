//! Amazon Data Firehose data transformation: the same pipeline as a
//! Firehose transform function. For each record exactly one answer with the
//! same `recordId`:
//!
//! - `Ok`: the event after the plugins, as one JSON line (the table's
//!   columns, typed, when it declares them), newline-terminated so Athena
//!   reads one event per line, with its partition values as the dynamic
//!   partitioning keys (`metadata.partitionKeys`, e.g. `year`, `month`,
//!   `day`);
//! - `Dropped`: filtered out by a plugin;
//! - `ProcessingFailed`: rejected (Firehose writes the original record to
//!   its error prefix) — as is a record that is not base64, and any record
//!   past what fits in Firehose's 6 MB response.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::config::PipelineConfig;
use crate::config::build::file_options;
use crate::lake::LakeWriter;
use crate::pipeline::batch::{Batch, Fate};
use crate::pipeline::summary::Summary;
use crate::pipeline::{Pipeline, PluginFailed};
use crate::storage::Storage;

/// Firehose refuses a transformation response larger than this.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1000 * 1000;

/// A transformation invocation.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseEvent {
    /// The invocation's id.
    #[serde(default)]
    pub invocation_id: String,
    /// `arn:aws:firehose:<region>:<account>:deliverystream/<name>`.
    #[serde(default)]
    pub delivery_stream_arn: String,
    /// The records.
    pub records: Vec<FirehoseRecord>,
}

/// One record to transform.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseRecord {
    /// Its id, to answer with.
    pub record_id: String,
    /// When Firehose received it, milliseconds since the epoch.
    #[serde(default)]
    pub approximate_arrival_timestamp: i64,
    /// The data, base64.
    pub data: String,
}

/// The answer to a transformation invocation.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FirehoseResponse {
    /// One per record, in order.
    pub records: Vec<TransformedRecord>,
}

/// The answer for one record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransformedRecord {
    /// The record's id.
    pub record_id: String,
    /// `Ok`, `Dropped` or `ProcessingFailed`.
    pub result: String,
    /// The transformed data (`Ok`), else the original, base64.
    pub data: String,
    /// Dynamic partitioning keys (`Ok` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Dynamic partitioning keys.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Key to value, e.g. `year` → `2026`.
    pub partition_keys: std::collections::BTreeMap<String, String>,
}

/// What a transformation did.
pub struct Transformed {
    /// The answer.
    pub response: FirehoseResponse,
    /// Every record counted: `Ok` as kept, `Dropped` as dropped,
    /// `ProcessingFailed` as rejected.
    pub summary: Summary,
    /// Records failed only because the response was full.
    pub over_limit: u64,
}

impl FirehoseEvent {
    /// The delivery stream's name.
    pub fn stream(&self) -> &str {
        self.delivery_stream_arn
            .rsplit_once('/')
            .map_or("", |(_, name)| name)
    }
}

/// Run a transformation invocation through the pipeline. `data` and
/// `errors` are the pipeline's lake (nothing is written to them: they only
/// shape the records as the lake would file them).
pub fn transform(
    event: &FirehoseEvent,
    pipeline: &mut Pipeline,
    config: &PipelineConfig,
    data: &Storage,
    errors: &Storage,
) -> Result<Transformed, PluginFailed> {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut batch = batch_of(event, config);
    pipeline.run(&mut batch)?;
    let mut encoder = LakeWriter::new(
        data,
        errors,
        &config.table,
        "firehose",
        file_options(config),
    );
    let mut response = FirehoseResponse::default();
    let mut summary = Summary::default();
    let mut over_limit = 0;
    let mut size = 16;
    // What a failed answer for each record not yet answered would take.
    let mut still_to_come: usize = event.records.iter().map(failed_cost).sum();
    let mut line = Vec::new();
    for (index, record) in event.records.iter().enumerate() {
        let encoded = match &batch.records()[index].fate {
            Fate::Alive { .. } => Some(encoder.encode_kept(&batch, index, &mut line)),
            _ => None,
        };
        if let Some(Err(error)) = &encoded {
            let stage = crate::pipeline::batch::Stage::host();
            batch.reject(index, &stage, error.code, &error.reason);
        }
        let (result, data, metadata) = match (&batch.records()[index].fate, encoded) {
            (Fate::Alive { .. }, Some(Ok(keys))) => (
                "Ok",
                engine.encode(&line),
                Some(Metadata {
                    partition_keys: keys.into_iter().collect(),
                }),
            ),
            (Fate::Dropped { .. }, _) => ("Dropped", record.data.clone(), None),
            _ => ("ProcessingFailed", record.data.clone(), None),
        };
        let mut answer = TransformedRecord {
            record_id: record.record_id.clone(),
            result: result.to_string(),
            data,
            metadata,
        };
        // Room for this answer and, at least, a failed answer for each
        // record still to come.
        let cost = answer_size(&answer);
        still_to_come -= failed_cost(record);
        if size + cost + still_to_come > MAX_RESPONSE_BYTES && answer.result != "ProcessingFailed" {
            over_limit += 1;
            answer.result = "ProcessingFailed".into();
            answer.data = record.data.clone();
            answer.metadata = None;
            let stage = crate::pipeline::batch::Stage::host();
            batch.reject(
                index,
                &stage,
                "response-full",
                "past Firehose's 6 MB response limit",
            );
        }
        size += answer_size(&answer);
        summary.count_record(&batch.records()[index]);
        response.records.push(answer);
    }
    Ok(Transformed {
        response,
        summary,
        over_limit,
    })
}

/// The event's records as a batch: each record's data decoded, without the
/// newlines that end it; data that is not base64 rejected as it is.
fn batch_of(event: &FirehoseEvent, config: &PipelineConfig) -> Batch {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut batch = Batch::new(&format!("firehose:{}", event.stream()))
        .with_max_record_bytes(config.max_record_bytes);
    for record in &event.records {
        let arrival = record.approximate_arrival_timestamp.saturating_mul(1000);
        match engine.decode(record.data.trim()) {
            Ok(bytes) => {
                let mut end = bytes.len();
                while end > 0 && matches!(bytes[end - 1], b'\n' | b'\r') {
                    end -= 1;
                }
                batch.push(&bytes[..end], &record.record_id, arrival);
            }
            Err(err) => {
                batch.push(record.data.as_bytes(), &record.record_id, arrival);
                let host = crate::pipeline::batch::Stage::host();
                let reason = format!("the record's data is not base64: {err}");
                batch.reject(batch.len() - 1, &host, "bad-base64", &reason);
            }
        }
    }
    batch
}

/// Bytes a `ProcessingFailed` answer for `record` takes, near enough.
fn failed_cost(record: &FirehoseRecord) -> usize {
    record.record_id.len() + record.data.len() + 64
}

/// Bytes an answer takes in the response's JSON, near enough.
fn answer_size(answer: &TransformedRecord) -> usize {
    let keys: usize = answer.metadata.as_ref().map_or(0, |metadata| {
        metadata
            .partition_keys
            .iter()
            .map(|(key, value)| key.len() + value.len() + 6)
            .sum::<usize>()
            + 32
    });
    answer.record_id.len() + answer.data.len() + answer.result.len() + keys + 48
}
