//! The Kinesis event a Lambda event source mapping invokes the function
//! with, and its records as a batch.
//!
//! The event is read with its `data` as text, not decoded on the way in: a
//! record that is not base64 must become one rejected record, not a batch
//! that cannot be read at all.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::sources::kinesis::shard::ShardRecord;

/// A Kinesis event, as Lambda delivers it.
#[derive(Clone, Debug, Deserialize)]
pub struct KinesisEvent {
    /// The records, in shard order.
    #[serde(rename = "Records", default)]
    pub records: Vec<EventRecord>,
}

/// One record of the event.
#[derive(Clone, Debug, Deserialize)]
pub struct EventRecord {
    /// `shardId-…:<sequence number>`.
    #[serde(rename = "eventID", default)]
    pub event_id: String,
    /// `arn:aws:kinesis:<region>:<account>:stream/<name>`.
    #[serde(rename = "eventSourceARN", default)]
    pub event_source_arn: String,
    /// The Kinesis record itself.
    pub kinesis: KinesisRecord,
}

/// The Kinesis part of an event record.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecord {
    /// The payload, base64.
    pub data: String,
    /// The record's sequence number in its shard.
    pub sequence_number: String,
    /// When Kinesis received it, in seconds since the epoch.
    #[serde(default)]
    pub approximate_arrival_timestamp: f64,
}

/// The answer that reports partial batch failures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// At most one: the first record to retry. Lambda retries it and every
    /// record after it.
    pub batch_item_failures: Vec<ItemFailure>,
}

/// A record to retry from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    /// Its sequence number.
    pub item_identifier: String,
}

impl KinesisEvent {
    /// The stream and shard of the batch (a mapping's batch comes from one
    /// shard), from the first record: `("clicks", "shardId-000000000000")`.
    pub fn shard(&self) -> (&str, &str) {
        let Some(first) = self.records.first() else {
            return ("", "");
        };
        let stream = first
            .event_source_arn
            .rsplit_once(":stream/")
            .map_or("", |(_, name)| name);
        let shard = first
            .event_id
            .split_once(':')
            .map_or(first.event_id.as_str(), |(shard, _)| shard);
        (stream, shard)
    }

    /// Each record's data, decoded from base64, or why it could not be.
    pub fn decode(&self) -> Vec<Result<Vec<u8>, String>> {
        self.records
            .iter()
            .map(|record| {
                base64::engine::general_purpose::STANDARD
                    .decode(record.kinesis.data.trim())
                    .map_err(|err| format!("the Kinesis record's data is not base64: {err}"))
            })
            .collect()
    }

    /// The records as a shard's, with their data as `decoded` by
    /// [`KinesisEvent::decode`]; a record that is not base64 keeps its text.
    pub fn shard_records<'a>(
        &'a self,
        decoded: &'a [Result<Vec<u8>, String>],
    ) -> impl Iterator<Item = ShardRecord<'a>> {
        self.records.iter().zip(decoded).map(|(record, data)| {
            let kinesis = &record.kinesis;
            ShardRecord {
                data: match data {
                    Ok(bytes) => Ok(bytes.as_slice()),
                    Err(reason) => Err((kinesis.data.as_bytes(), reason.clone())),
                },
                sequence: &kinesis.sequence_number,
                arrival_micros: (kinesis.approximate_arrival_timestamp * 1e6).round() as i64,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::batch::{Batch, Fate};

    fn event(records: &[(&str, &str)]) -> KinesisEvent {
        let records: Vec<serde_json::Value> = records
            .iter()
            .map(|(data, sequence)| {
                serde_json::json!({
                    "eventID": format!("shardId-000000000003:{sequence}"),
                    "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks",
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": "u1",
                        "sequenceNumber": sequence,
                        "data": data,
                        "approximateArrivalTimestamp": 1771492500.25
                    }
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn records_become_a_batch_with_their_units() {
        let aggregate =
            crate::sources::kinesis::kpl::tests::aggregate(&[b"{\"n\":2}", b"{\"n\":3}"]);
        let event = event(&[
            (&b64(b"{\"n\":1}"), "100"),
            (&b64(&aggregate), "200"),
            ("{not base64}", "300"),
        ]);
        assert_eq!(event.shard(), ("clicks", "shardId-000000000003"));
        let mut batch = Batch::new("kinesis");
        let decoded = event.decode();
        let units = crate::sources::kinesis::shard::fill(&mut batch, event.shard_records(&decoded));
        assert_eq!(units, vec![0, 1, 1, 2]);
        let positions: Vec<&str> = (0..batch.len()).map(|i| batch.position(i)).collect();
        assert_eq!(positions, vec!["100", "200:0", "200:1", "300"]);
        assert_eq!(batch.payload(2), b"{\"n\":3}");
        assert_eq!(batch.records()[0].arrival_micros, 1_771_492_500_250_000);
        match &batch.records()[3].fate {
            Fate::Rejected(rejection) => {
                assert_eq!(rejection.code, "bad-base64");
                assert_eq!(batch.payload(3), b"{not base64}");
            }
            other => panic!("expected a reject, got {other:?}"),
        }
    }
}
