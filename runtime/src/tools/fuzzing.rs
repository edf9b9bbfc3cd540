//! What the fuzz targets under `fuzz/` check: one function per target, each
//! taking arbitrary bytes and panicking only when a promise of the host
//! breaks. The test suite replays the saved corpus through the same
//! functions, so what a fuzzer once found stays fixed.
//!
//! The promises: the host never panics on input; every record read gets a
//! fate (kept, dropped or rejected with a code); what the host writes for a
//! kept event is valid JSON that decodes to itself; KPL aggregates give back
//! what was aggregated; whatever a plugin answers, it cannot make the host
//! write a partition folder outside its table.

use std::path::PathBuf;

use md5::Digest as _;

use weir_plugin::layout;

use crate::config::{PipelineConfig, PipelineFile};
use crate::engine::bindings::wit;
use crate::pipeline::batch::{Batch, Fate, Stage};
use crate::pipeline::encode::ObjectWriter;
use crate::pipeline::{OnPluginError, Pipeline};
use crate::sources::lambda::event::KinesisEvent;
use crate::sources::lambda::firehose::{FirehoseEvent, transform};
use crate::storage::{Location, S3Options, Storage};

/// Records, one per line of `data`, through the host's decoder: each is
/// kept or rejected, and a kept one, written out, decodes to the same text.
pub fn record_decoder(data: &[u8]) {
    let mut batch = Batch::new("fuzz").with_max_record_bytes(4096);
    for (index, line) in data.split(|&byte| byte == b'\n').enumerate() {
        batch.push(line, &index.to_string(), 0);
    }
    let mut again = Batch::new("fuzz-again");
    let mut first_pass = Vec::new();
    for index in 0..batch.len() {
        match &batch.records()[index].fate {
            Fate::Alive { fields, .. } => {
                let mut out = Vec::new();
                ObjectWriter::new(batch.arena()).write(&mut out, fields);
                assert!(
                    serde_json::from_slice::<serde_json::Value>(&out).is_ok(),
                    "the host wrote invalid JSON {:?} for {:?}",
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(batch.payload(index))
                );
                again.push(&out, "again", 0);
                first_pass.push(out);
            }
            Fate::Rejected(rejection) => assert!(!rejection.code.is_empty()),
            Fate::Dropped { stage, .. } => assert!(stage.plugin.is_none()),
        }
    }
    for (index, written) in first_pass.iter().enumerate() {
        let Fate::Alive { fields, .. } = &again.records()[index].fate else {
            panic!(
                "what the host wrote does not decode again: {:?}",
                String::from_utf8_lossy(written)
            );
        };
        let mut out = Vec::new();
        ObjectWriter::new(again.arena()).write(&mut out, fields);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(written),
            "writing is not a fixed point"
        );
    }
}

/// KPL de-aggregation: never panics, a record always gives at least one
/// user record, and an aggregate of the records found gives them back. The
/// input is tried as it is, and as the protobuf message of an aggregate with
/// a right digest, so mutations reach the message's reader and are not all
/// stopped by the MD5 check.
pub fn kpl_records(data: &[u8]) {
    check_kpl(data);
    let mut framed = crate::sources::kinesis::kpl::MAGIC.to_vec();
    framed.extend_from_slice(data);
    framed.extend_from_slice(&md5::Md5::digest(data));
    check_kpl(&framed);
}

fn check_kpl(data: &[u8]) {
    let users = crate::sources::kinesis::kpl::user_records(data);
    assert!(!users.is_empty(), "a Kinesis record vanished");
    if users.len() == 1 && users[0] == data {
        return;
    }
    let again = crate::sources::kinesis::kpl::aggregate(&users);
    assert_eq!(crate::sources::kinesis::kpl::user_records(&again), users);
    // Cutting the aggregate anywhere leaves one record, whole.
    let cut = &data[..data.len() - 1];
    assert_eq!(crate::sources::kinesis::kpl::user_records(cut), vec![cut]);
}

/// A Lambda event from Kinesis, as the runtime hands it over: parsed or
/// refused, and each of its records accounted for in the batch.
pub fn kinesis_event(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<KinesisEvent>(data) else {
        return;
    };
    let _ = event.shard();
    let decoded = event.decode();
    let mut batch = Batch::new("fuzz");
    let unit_of = crate::sources::kinesis::shard::fill(&mut batch, event.shard_records(&decoded));
    assert_eq!(unit_of.len(), batch.len());
    assert!(unit_of.windows(2).all(|pair| pair[0] <= pair[1]));
    let units: std::collections::BTreeSet<usize> = unit_of.iter().copied().collect();
    assert_eq!(
        units.len(),
        event.records.len(),
        "every Kinesis record gives a record"
    );
}

/// A Firehose transformation event through a pipeline of no plugins: one
/// answer per record, in order, with a result Firehose knows, and the
/// counts adding up.
pub fn firehose_event(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<FirehoseEvent>(data) else {
        return;
    };
    let config = jsonl_config();
    let lake = Storage::open(&Location::Local(unwritable()), &S3Options::default())
        .expect("a local storage opens without touching the disk");
    let mut pipeline = Pipeline::new(Vec::new(), OnPluginError::Reject);
    let transformed = transform(&event, &mut pipeline, &config, &lake, &lake)
        .expect("no plugin, so nothing can fail the batch");
    let answers = &transformed.response.records;
    assert_eq!(answers.len(), event.records.len());
    for (answer, record) in answers.iter().zip(&event.records) {
        assert_eq!(answer.record_id, record.record_id);
        assert!(
            ["Ok", "Dropped", "ProcessingFailed"].contains(&answer.result.as_str()),
            "{}",
            answer.result
        );
    }
    let summary = &transformed.summary;
    assert_eq!(
        summary.read,
        summary.kept + summary.dropped + summary.rejected
    );
}

/// A pipeline file: parsed and checked, or refused with an error of one
/// line; never a panic.
pub fn pipeline_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let checked = PipelineFile::parse(text, "fuzz.toml").and_then(|file| {
        file.resolve(
            &Location::Local(PathBuf::from("/fuzz")),
            "fuzz",
            "fuzz.toml",
        )
    });
    if let Err(err) = checked {
        assert!(!err.to_string().is_empty());
    }
}

/// A plugin's results applied to a batch of three events: whatever the
/// bytes, each event is kept, dropped or rejected, a kept event is written
/// as valid JSON, and partition folders stay inside the table.
///
/// `data` is cut in four at its first three `0xFF` bytes: names (split at
/// `\0`), text, changes and outcomes (padded or cut to three outcomes, as
/// the pipeline checks their length before applying them).
pub fn plugin_results(data: &[u8]) {
    let mut parts = data.splitn(4, |&byte| byte == 0xFF);
    let names = parts.next().unwrap_or_default();
    let text = parts.next().unwrap_or_default();
    let changes = parts.next().unwrap_or_default();
    let outcomes = parts.next().unwrap_or_default();
    let mut batch = Batch::new("fuzz");
    for (index, event) in [
        r#"{"user_id":"u1","action":"VIEW","price":1.5}"#,
        r#"{"user_id":"u2","tags":["a",{"b":2}],"n":null}"#,
        r#"{"user_id":"u3","ts":"2026-11-27T10:00:00Z","qty":3}"#,
    ]
    .iter()
    .enumerate()
    {
        batch.push(event.as_bytes(), &index.to_string(), 0);
    }
    let lent = batch.lend();
    let events = batch.lent().len();
    batch.restore(lent);
    let mut outcomes = outcomes.to_vec();
    outcomes.resize(events * layout::OUTCOME_BYTES, 0);
    let results = wit::Results {
        names: names
            .split(|&byte| byte == 0)
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect(),
        text: text.to_vec(),
        changes: changes.to_vec(),
        outcomes,
    };
    let stage = Stage {
        name: "fuzz".into(),
        version: "0".into(),
        plugin: Some(0),
    };
    batch.apply(&results, &stage);
    let writer = ObjectWriter::new(batch.arena());
    let mut folder = String::new();
    for record in batch.records() {
        match &record.fate {
            Fate::Alive { fields, partition } => {
                let mut out = Vec::new();
                writer.write(&mut out, fields);
                assert!(
                    serde_json::from_slice::<serde_json::Value>(&out).is_ok(),
                    "invalid JSON written: {:?}",
                    String::from_utf8_lossy(&out)
                );
                if partition.is_empty() {
                    continue;
                }
                batch.partition_path(partition, &mut folder);
                let safe = |part: &str| {
                    !part.is_empty()
                        && part != "."
                        && part != ".."
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                };
                let parts: Vec<&str> = folder.split('/').collect();
                assert_eq!(parts.len(), partition.len(), "folder {folder:?}");
                for part in parts {
                    let (key, value) = part.split_once('=').expect("key=value");
                    assert!(
                        safe(key) && safe(value),
                        "partition folder {folder:?} could leave the table"
                    );
                }
            }
            Fate::Rejected(rejection) => assert!(!rejection.code.is_empty()),
            Fate::Dropped { .. } => {}
        }
    }
}

/// The settings the Firehose target shapes records by: JSON lines, no
/// declared columns.
fn jsonl_config() -> PipelineConfig {
    let text = "[[plugin]]\npath = \"bundled:filter\"\n[output]\nformat = \"jsonl\"\n";
    PipelineFile::parse(text, "fuzz.toml")
        .and_then(|file| file.resolve(&Location::Local(unwritable()), "fuzz", "fuzz.toml"))
        .expect("the fuzz targets' pipeline is valid")
}

/// A folder nothing is written to (the Firehose transform only shapes
/// records).
fn unwritable() -> PathBuf {
    PathBuf::from("/nonexistent/weir-fuzz")
}
