//! Metrics in CloudWatch Embedded Metric Format: one JSON line on standard
//! output per batch, and one per plugin, which CloudWatch turns into metrics
//! without any API call from the function.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::pipeline::summary::Summary;
use crate::pipeline::{PluginStats, Step};

/// The namespace Weir's metrics are published under.
pub const NAMESPACE: &str = "Weir";

/// The metrics of one batch.
#[derive(Clone, Debug, Default)]
pub struct BatchMetrics {
    /// The pipeline's name, a dimension.
    pub pipeline: String,
    /// The pipeline's version (the ETag or checksum of its file), a property.
    pub version: String,
    /// The shard, a property.
    pub shard: String,
    /// Kinesis records in the batch.
    pub kinesis_records: u64,
    /// User records (after KPL de-aggregation) accounted for below.
    pub records_in: u64,
    /// Of those, records written to the lake.
    pub kept: u64,
    /// Of those, records filtered out.
    pub dropped: u64,
    /// Of those, records written to the dead letters.
    pub rejected: u64,
    /// Records left to Lambda to retry (not counted above).
    pub retried: u64,
    /// Bytes in the objects written (data and dead letters).
    pub bytes_written: u64,
    /// Objects written, data and dead letters.
    pub objects_written: u64,
    /// Objects that could not be written.
    pub write_failures: u64,
    /// Time from the event's arrival to the answer, in milliseconds.
    pub batch_ms: f64,
}

impl BatchMetrics {
    /// The metrics of an invocation of `pipeline` at `version` that ran
    /// `summary`'s records, timed from `started`; the handler adds what is
    /// its own (Kinesis records, retries, writes).
    pub fn of(
        pipeline: &str,
        version: &str,
        shard: &str,
        summary: &Summary,
        started: Instant,
    ) -> BatchMetrics {
        BatchMetrics {
            pipeline: pipeline.to_string(),
            version: version.to_string(),
            shard: shard.to_string(),
            records_in: summary.read,
            kept: summary.kept,
            dropped: summary.dropped,
            rejected: summary.rejected,
            batch_ms: started.elapsed().as_secs_f64() * 1000.0,
            ..BatchMetrics::default()
        }
    }
}

/// The metrics of one plugin over one batch.
#[derive(Clone, Debug, Default)]
pub struct PluginMetrics {
    /// The plugin's name, a dimension.
    pub plugin: String,
    /// The plugin's version, a property.
    pub version: String,
    /// Events the plugin was lent.
    pub events_in: u64,
    /// Of those, events it kept.
    pub kept: u64,
    /// Of those, events it dropped.
    pub dropped: u64,
    /// Of those, events it rejected (including `plugin-failed`).
    pub rejected: u64,
    /// Calls into the plugin that failed (trap, deadline, memory, contract).
    pub failures: u64,
    /// Time spent in its calls, in milliseconds.
    pub time_ms: f64,
}

/// An EMF document: `metrics` as (name, unit, value) under `dimensions`,
/// plus `properties` that are logged but not metrics.
fn document(
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, f64)],
    properties: &[(&str, &str)],
) -> String {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions.iter().map(|(name, _)| *name).collect::<Vec<_>>()],
                "Metrics": metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (name, value) in dimensions.iter().chain(properties) {
        root.insert((*name).into(), Value::from(*value));
    }
    for (name, _, value) in metrics {
        root.insert((*name).into(), json!(value));
    }
    Value::Object(root).to_string()
}

impl BatchMetrics {
    /// The batch's EMF line.
    pub fn emf(&self) -> String {
        document(
            &[("Pipeline", &self.pipeline)],
            &[
                ("KinesisRecords", "Count", self.kinesis_records as f64),
                ("RecordsIn", "Count", self.records_in as f64),
                ("Kept", "Count", self.kept as f64),
                ("Dropped", "Count", self.dropped as f64),
                ("Rejected", "Count", self.rejected as f64),
                ("Retried", "Count", self.retried as f64),
                ("BytesWritten", "Bytes", self.bytes_written as f64),
                ("ObjectsWritten", "Count", self.objects_written as f64),
                ("WriteFailures", "Count", self.write_failures as f64),
                ("BatchTime", "Milliseconds", self.batch_ms),
            ],
            &[("PipelineVersion", &self.version), ("Shard", &self.shard)],
        )
    }
}

impl PluginMetrics {
    /// The plugin's EMF line, under the pipeline's name.
    pub fn emf(&self, pipeline: &str, version: &str) -> String {
        document(
            &[("Pipeline", pipeline), ("Plugin", &self.plugin)],
            &[
                ("PluginEventsIn", "Count", self.events_in as f64),
                ("PluginKept", "Count", self.kept as f64),
                ("PluginDropped", "Count", self.dropped as f64),
                ("PluginRejected", "Count", self.rejected as f64),
                ("PluginFailures", "Count", self.failures as f64),
                ("PluginTime", "Milliseconds", self.time_ms),
            ],
            &[
                ("PipelineVersion", version),
                ("PluginVersion", &self.version),
            ],
        )
    }
}

/// Where every handler's metrics go: one EMF line for the invocation and
/// one per plugin, with the plugin's counts since `before` (its counters
/// at the start of the invocation), on standard output.
pub fn publish(batch: &BatchMetrics, steps: &[Step], before: &[PluginStats]) {
    println!("{}", batch.emf());
    for (step, before) in steps.iter().zip(before) {
        let plugin = PluginMetrics {
            plugin: step.name().to_string(),
            version: step.version().to_string(),
            events_in: step.stats.events_in - before.events_in,
            kept: step.stats.kept - before.kept,
            dropped: step.stats.dropped - before.dropped,
            rejected: step.stats.rejected - before.rejected,
            failures: step.stats.failures - before.failures,
            time_ms: (step.stats.time - before.time).as_secs_f64() * 1000.0,
        };
        println!("{}", plugin.emf(&batch.pipeline, &batch.version));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_line_declares_every_metric_it_carries() {
        let line = BatchMetrics {
            pipeline: "clickstream".into(),
            version: "\"abc\"".into(),
            records_in: 10,
            kept: 7,
            dropped: 2,
            rejected: 1,
            ..BatchMetrics::default()
        }
        .emf();
        let doc: Value = serde_json::from_str(&line).unwrap();
        assert!(!line.contains('\n'));
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Weir");
        assert_eq!(directive["Dimensions"], json!([["Pipeline"]]));
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(doc[name].is_number(), "{name} has no value");
        }
        assert_eq!(doc["Kept"], 7.0);
        assert_eq!(doc["Pipeline"], "clickstream");
        assert_eq!(doc["PipelineVersion"], "\"abc\"");
        assert!(doc["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
    }
}
