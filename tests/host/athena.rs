//! The Athena side: the committed DDL is what `weir athena ddl` generates
//! from the example pipeline, and every query in `athena/queries` answers,
//! over the Parquet lake, what the JSON-lines lake of the same input says.
//! DuckDB stands in for Athena, and `weir query` (DataFusion) must give the
//! same answers.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::common::{jsonl_lines, parquet_and_jsonl_lakes, python, weir};

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

#[test]
fn committed_ddl_is_the_generated_ddl() {
    let output = weir(
        &[
            "athena",
            "ddl",
            "--pipeline",
            "examples/clickstream.toml",
            "--lake",
            "s3://your-lake-bucket/lake",
        ],
        Path::new(WORKSPACE),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = std::fs::read_to_string(Path::new(WORKSPACE).join("athena/ddl.sql")).unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        committed,
        "athena/ddl.sql is stale: regenerate it with \
         `weir athena ddl --pipeline examples/clickstream.toml --lake s3://your-lake-bucket/lake > athena/ddl.sql`"
    );
    for needle in [
        "STORED AS PARQUET",
        "`timestamp` timestamp",
        "'projection.enabled' = 'true'",
        "PARTITIONED BY (`year` int, `month` int, `day` int)",
    ] {
        assert!(committed.contains(needle), "{needle}");
    }
}

#[test]
fn the_seed_queries_answer_what_the_events_say() {
    let dir = tempfile::tempdir().unwrap();
    parquet_and_jsonl_lakes(dir.path(), 20_000, 0.01);

    // The answers, counted from the JSON-lines lake.
    let events: Vec<serde_json::Value> = jsonl_lines(&dir.path().join("jsonl/ecommerce_events"))
        .iter()
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect();
    let text = |event: &serde_json::Value, key: &str| event[key].as_str().unwrap().to_string();
    let carts = || events.iter().filter(|e| e["action"] == "ADD_TO_CART");
    let count_by = |keys: Vec<String>| {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for key in keys {
            *counts.entry(key).or_default() += 1;
        }
        counts
    };
    let by_category = count_by(carts().map(|e| text(e, "product_category")).collect());
    let by_day = count_by(carts().map(|e| text(e, "event_date")).collect());
    let by_hour = count_by(carts().map(|e| e["event_hour"].to_string()).collect());
    let mut by_device: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    let mut high_value: BTreeMap<(String, String), [i64; 2]> = BTreeMap::new();
    for event in &events {
        let action = text(event, "action");
        let slot = ["VIEW", "ADD_TO_CART", "PURCHASE"]
            .iter()
            .position(|a| *a == action);
        let device = by_device.entry(text(event, "device")).or_default();
        if let Some(slot) = slot {
            device[slot] += 1;
        }
        if event["is_high_value"] == true {
            let product = high_value
                .entry((text(event, "product_id"), text(event, "product_category")))
                .or_default();
            match action.as_str() {
                "VIEW" => product[0] += 1,
                "ADD_TO_CART" => product[1] += 1,
                _ => {}
            }
        }
    }
    let mut top: Vec<_> = high_value.into_iter().collect();
    top.sort_by(|(a_key, a), (b_key, b)| {
        b[0].cmp(&a[0])
            .then(b[1].cmp(&a[1]))
            .then(a_key.0.cmp(&b_key.0))
    });
    top.truncate(20);

    // The same questions, asked in SQL over the Parquet lake (the
    // data-quality queries, over the dead letters, are checked by `report`).
    let queries: Vec<_> = std::fs::read_dir(Path::new(WORKSPACE).join("athena/queries"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            !std::fs::read_to_string(path)
                .unwrap()
                .contains("ecommerce_events_errors")
        })
        .collect();
    assert_eq!(queries.len(), 6, "{queries:?}");
    let output = Command::new(python())
        .arg(Path::new(WORKSPACE).join("tests/python/run_queries.py"))
        .arg(dir.path().join("parquet/ecommerce_events"))
        .args(&queries)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: BTreeMap<String, Vec<Vec<serde_json::Value>>> =
        serde_json::from_slice(&output.stdout).unwrap();
    let pairs = |name: &str| -> BTreeMap<String, i64> {
        answers[name]
            .iter()
            .map(|row| {
                let key = row[0]
                    .as_str()
                    .map_or_else(|| row[0].to_string(), str::to_string);
                (key, row[1].as_i64().unwrap())
            })
            .collect()
    };
    assert_eq!(pairs("add_to_cart_by_category.sql"), by_category);
    assert_eq!(pairs("top_cart_categories.sql"), by_category);
    let top_counts: Vec<i64> = answers["top_cart_categories.sql"]
        .iter()
        .map(|r| r[1].as_i64().unwrap())
        .collect();
    assert!(
        top_counts.windows(2).all(|w| w[0] >= w[1]),
        "{top_counts:?}"
    );
    assert_eq!(pairs("cart_trend_daily.sql"), by_day);
    assert_eq!(pairs("cart_trend_hourly.sql"), by_hour);
    let devices: BTreeMap<String, [i64; 3]> = answers["device_behaviour.sql"]
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().to_string(),
                [
                    row[1].as_i64().unwrap(),
                    row[2].as_i64().unwrap(),
                    row[3].as_i64().unwrap(),
                ],
            )
        })
        .collect();
    assert_eq!(devices, by_device);
    let sql_top: Vec<((String, String), [i64; 2])> = answers["high_value_interest.sql"]
        .iter()
        .map(|row| {
            (
                (
                    row[0].as_str().unwrap().to_string(),
                    row[1].as_str().unwrap().to_string(),
                ),
                [row[2].as_i64().unwrap(), row[3].as_i64().unwrap()],
            )
        })
        .collect();
    assert_eq!(sql_top, top);

    // `weir query` (DataFusion) gives DuckDB's answers, query by query.
    for query in &queries {
        let name = query.file_name().unwrap().to_string_lossy().into_owned();
        let output = weir(
            &[
                "query",
                "--lake",
                "parquet",
                "--format",
                "json",
                "--file",
                &query.display().to_string(),
            ],
            dir.path(),
        );
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let rows: Vec<Vec<serde_json::Value>> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| {
                let row: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(line).unwrap();
                row.into_iter().map(|(_, value)| value).collect()
            })
            .collect();
        let mut ours = rows;
        let mut theirs = answers[&name].clone();
        // The seed's own query has no ORDER BY: compare as sets.
        if name == "add_to_cart_by_category.sql" {
            ours.sort_by_key(|row| row[0].to_string());
            theirs.sort_by_key(|row| row[0].to_string());
        }
        assert_eq!(ours.len(), theirs.len(), "{name}");
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a.len(), b.len(), "{name}: {a:?} vs {b:?}");
            for (x, y) in a.iter().zip(b) {
                match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{name}: {a:?} vs {b:?}"),
                    _ => assert_eq!(x, y, "{name}: {a:?} vs {b:?}"),
                }
            }
        }
    }
}

/// The JSON table's DDL is committed too, and its columns are exactly the
/// keys of every line a JSON-lines run of the pipeline writes, in order, so
/// Athena's JSON SerDe reads each of them.
#[test]
fn committed_json_ddl_matches_the_json_lines() {
    let args = [
        "athena",
        "ddl",
        "--pipeline",
        "examples/clickstream.toml",
        "--format",
        "jsonl",
        "--table",
        "ecommerce_events_json",
        "--lake",
        "s3://your-lake-bucket/json",
    ];
    let output = weir(&args, Path::new(WORKSPACE));
    assert!(output.status.success(), "{output:?}");
    let generated = String::from_utf8(output.stdout).unwrap();
    let committed =
        std::fs::read_to_string(Path::new(WORKSPACE).join("athena/ddl_json.sql")).unwrap();
    assert_eq!(
        generated,
        committed,
        "athena/ddl_json.sql is stale: regenerate it with `weir {} > athena/ddl_json.sql`",
        args.join(" ")
    );
    assert!(committed.contains("org.openx.data.jsonserde.JsonSerDe"));
    // The column names of the events table, in order.
    let body = committed
        .split_once("CREATE EXTERNAL TABLE IF NOT EXISTS `ecommerce_events_json` (")
        .unwrap()
        .1
        .split_once("\n)")
        .unwrap()
        .0;
    let columns: Vec<String> = body
        .lines()
        .filter_map(|line| line.trim().strip_prefix('`')?.split_once('`'))
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(columns.len(), 12, "{columns:?}");

    let dir = tempfile::tempdir().unwrap();
    parquet_and_jsonl_lakes(dir.path(), 2_000, 0.05);
    let lines = jsonl_lines(&dir.path().join("jsonl/ecommerce_events"));
    assert!(lines.len() > 1000);
    for line in lines {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&line).unwrap();
        let mut keys: Vec<&String> = object.keys().collect();
        let mut want: Vec<&String> = columns.iter().collect();
        keys.sort();
        want.sort();
        assert_eq!(keys, want);
        // In the table's order.
        let text = String::from_utf8(line.clone()).unwrap();
        let at: Vec<usize> = columns
            .iter()
            .map(|name| text.find(&format!("\"{name}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
        let time = object["timestamp"].as_str().unwrap();
        // The SerDe's first format: yyyy-MM-dd'T'HH:mm:ss.SSSZZ.
        assert!(
            time.len() == 27 && time.ends_with('Z') && &time[19..20] == ".",
            "{time}"
        );
    }
}
