//! What the function is invoked with, told apart once, and what it answers.
//!
//! One function serves three triggers: a Kinesis event source mapping
//! (`{"Records": [{"kinesis": …}]}`), a Firehose transformation
//! (`{"records": […], "deliveryStreamArn": …}`) and the scheduled ETL
//! (`{"etl": {"input": "s3://…/raw", "date": "YYYY-MM-DD"}}`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::event::{BatchResponse, KinesisEvent};
use super::firehose::{FirehoseEvent, FirehoseResponse};
use crate::sources::etl::EtlError;

/// An invocation, parsed.
#[derive(Debug)]
pub enum Invocation {
    /// A batch of one shard's records from the event source mapping.
    Kinesis(KinesisEvent),
    /// Records for Firehose to transform.
    Firehose(FirehoseEvent),
    /// A day of the raw zone to run into the lake.
    Etl(EtlRequest),
}

/// An `{"etl": …}` invocation: run the raw zone's day into the lake.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EtlRequest {
    /// The raw zone: `s3://bucket/raw`.
    pub input: String,
    /// The day; default the day before today (UTC).
    pub date: Option<String>,
}

/// The answer to an invocation, in the shape its trigger expects.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// `batchItemFailures`: where Lambda retries the shard from.
    Kinesis(BatchResponse),
    /// Each record back, transformed, dropped or failed.
    Firehose(FirehoseResponse),
    /// What the day's run did.
    Etl(EtlResponse),
}

/// What an ETL invocation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EtlResponse {
    /// The day run, `YYYY-MM-DD`.
    pub day: String,
    /// Raw objects read.
    pub objects: u64,
    /// Records read.
    pub read: u64,
    /// Of those, records written to the lake.
    pub kept: u64,
    /// Of those, records filtered out.
    pub dropped: u64,
    /// Of those, records written to the dead letters.
    pub rejected: u64,
    /// Data files written.
    pub files: u64,
    /// Dead-letter files written.
    pub dead_letter_files: u64,
    /// Bytes in both.
    pub bytes: u64,
}

/// Why an invocation got no answer. Lambda reports it as the invocation's
/// error and, for a Kinesis batch, retries it.
#[derive(Debug, Error)]
pub enum HandleError {
    /// The event looks like one kind and does not parse as it.
    #[error("the event looks like a {kind} event but is not one")]
    Malformed {
        /// The kind it looks like: `Kinesis`, `Firehose` or `ETL`.
        kind: &'static str,
        /// Why it does not parse as that kind.
        #[source]
        source: serde_json::Error,
    },
    /// No kind this host answers.
    #[error(
        "the event is neither a Kinesis batch (Records), a Firehose transformation (records) nor an ETL request (etl)"
    )]
    Unknown,
    /// A plugin failed under `on_plugin_error = "fail"`: nothing was
    /// written, and Lambda may split the batch to find the record.
    #[error(transparent)]
    PluginFailed(#[from] crate::pipeline::PluginFailed),
    /// The ETL request's input names no bucket.
    #[error("the ETL request's input: {0}")]
    EtlInput(crate::storage::NoBucket),
    /// The ETL run failed.
    #[error(transparent)]
    Etl(#[from] EtlError),
}

impl Invocation {
    /// Tell the kind of an invocation by its keys, then parse it as that
    /// kind alone, so an error says what was wrong with it.
    pub fn parse(payload: Value) -> Result<Invocation, HandleError> {
        let malformed = |kind| move |source| HandleError::Malformed { kind, source };
        if payload.get("Records").is_some() {
            return serde_json::from_value(payload)
                .map(Invocation::Kinesis)
                .map_err(malformed("Kinesis"));
        }
        if payload.get("records").is_some() {
            return serde_json::from_value(payload)
                .map(Invocation::Firehose)
                .map_err(malformed("Firehose"));
        }
        if let Some(request) = payload.get("etl") {
            return serde_json::from_value(request.clone())
                .map(Invocation::Etl)
                .map_err(malformed("ETL"));
        }
        Err(HandleError::Unknown)
    }

    /// The kind, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Invocation::Kinesis(_) => "kinesis",
            Invocation::Firehose(_) => "firehose",
            Invocation::Etl(_) => "etl",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_told_by_its_keys() {
        let kinesis = serde_json::json!({"Records": []});
        assert!(matches!(
            Invocation::parse(kinesis),
            Ok(Invocation::Kinesis(_))
        ));
        let firehose = serde_json::json!({
            "invocationId": "i",
            "deliveryStreamArn": "arn:aws:firehose:eu-west-1:1:deliverystream/d",
            "region": "eu-west-1",
            "records": []
        });
        assert!(matches!(
            Invocation::parse(firehose),
            Ok(Invocation::Firehose(_))
        ));
        let etl = serde_json::json!({"etl": {"input": "s3://b/raw"}});
        match Invocation::parse(etl) {
            Ok(Invocation::Etl(request)) => {
                assert_eq!(request.input, "s3://b/raw");
                assert_eq!(request.date, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_malformed_event_names_its_kind_and_the_fault() {
        let error =
            Invocation::parse(serde_json::json!({"etl": {"input": "s3://b/raw", "day": "x"}}))
                .unwrap_err();
        assert!(matches!(error, HandleError::Malformed { kind: "ETL", .. }));
        let whole = crate::ErrorChain(&error).to_string();
        assert!(whole.contains("unknown field `day`"), "{whole}");
        let error = Invocation::parse(serde_json::json!({"Records": "no"})).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the event looks like a Kinesis event"),
            "{error}"
        );
        assert!(matches!(
            Invocation::parse(serde_json::json!({"hello": 1})),
            Err(HandleError::Unknown)
        ));
    }

    #[test]
    fn answers_have_their_triggers_shapes() {
        let kinesis = serde_json::to_value(Response::Kinesis(BatchResponse::default())).unwrap();
        assert_eq!(kinesis, serde_json::json!({"batchItemFailures": []}));
        let etl = serde_json::to_value(Response::Etl(EtlResponse {
            day: "2026-02-19".into(),
            objects: 1,
            read: 3,
            kept: 2,
            dropped: 1,
            rejected: 0,
            files: 1,
            dead_letter_files: 0,
            bytes: 10,
        }))
        .unwrap();
        assert_eq!(etl["day"], "2026-02-19");
        assert_eq!(etl["dead_letter_files"], 0);
    }
}
