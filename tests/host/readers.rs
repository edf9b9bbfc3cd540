//! The Parquet lake read by readers Weir did not write — pyarrow and DuckDB —
//! with Hive partitioning: schema, types (timestamps in microseconds), row
//! counts, and the same answers as the JSON-lines lake of the same input.

use std::collections::BTreeMap;
use std::process::Command;

use crate::common::{jsonl_lines, parquet_and_jsonl_lakes, python};

#[test]
fn pyarrow_and_duckdb_read_what_weir_writes() {
    let dir = tempfile::tempdir().unwrap();
    let kept = parquet_and_jsonl_lakes(dir.path(), 20_000, 0.02);

    let output = Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/python/read_lake.py"
        ))
        .arg(dir.path().join("parquet/ecommerce_events"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(seen["pyarrow"]["rows"].as_u64(), Some(kept));
    assert_eq!(seen["duckdb"]["rows"].as_u64(), Some(kept));
    let schema = &seen["pyarrow"]["schema"];
    for (column, kind) in [
        ("user_id", "string"),
        ("price", "double"),
        ("timestamp", "timestamp[us, tz=UTC]"),
        ("event_date", "date32[day]"),
        ("event_hour", "int64"),
        ("is_high_value", "bool"),
        ("year", "int32"),
        ("month", "int32"),
        ("day", "int32"),
    ] {
        assert_eq!(schema[column], kind, "{column} in {schema}");
    }
    assert_eq!(seen["duckdb"]["timestamp_type"], "TIMESTAMP WITH TIME ZONE");

    // The same questions answered from the JSON-lines lake of the same input.
    let mut per_action: BTreeMap<String, u64> = BTreeMap::new();
    let mut days = std::collections::BTreeSet::new();
    for line in jsonl_lines(&dir.path().join("jsonl/ecommerce_events")) {
        let event: serde_json::Value = serde_json::from_slice(&line).unwrap();
        *per_action
            .entry(event["action"].as_str().unwrap().to_string())
            .or_default() += 1;
        days.insert(event["event_date"].as_str().unwrap().to_string());
    }
    let duckdb_per_action: BTreeMap<String, u64> =
        serde_json::from_value(seen["duckdb"]["per_action"].clone()).unwrap();
    assert_eq!(duckdb_per_action, per_action);
    let duckdb_days: Vec<String> = serde_json::from_value(seen["duckdb"]["days"].clone()).unwrap();
    let expected: Vec<String> = days.into_iter().collect();
    assert_eq!(duckdb_days, expected);
}
