//! `weir etl`: a day of the raw zone, laid out as Firehose writes it
//! (gzip JSON lines under `year=/month=/day=`), on a real S3-compatible
//! server (moto), into the processed zone as partitioned Parquet. Checked
//! with `weir query` against `weir run` of the same events, and read back by
//! pyarrow and DuckDB; a second run changes nothing.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{json_of, python, weir_command};
use crate::s3::{boto, bucket, moto, query_rows, weir_aws};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Every object under `prefix`, key → bytes, through boto3.
fn download(bucket: &str, prefix: &str, dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let target = tempfile::tempdir_in(dir).unwrap();
    boto(
        moto(),
        &["download", bucket, prefix, target.path().to_str().unwrap()],
    );
    crate::common::tree(target.path())
}

#[test]
fn a_raw_day_becomes_the_processed_zone_without_glue() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let raw = bucket("etl-raw");
    let lake = bucket("etl-lake");
    let generated = weir_command(dir)
        .args([
            "gen",
            "--events",
            "3000",
            "--bad-fraction",
            "0.02",
            "--start",
            "2026-02-19T00:00:00Z",
            "--days",
            "1",
            "--output",
            "events.jsonl",
        ])
        .output()
        .unwrap();
    assert!(generated.status.success());
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Three objects for the day as Firehose names them, two of them gzip;
    // and one for the next day, which this run must leave alone.
    let day = "raw/year=2026/month=02/day=19";
    let chunks = [&lines[..1000], &lines[1000..2200], &lines[2200..]];
    for (i, chunk) in chunks.iter().enumerate() {
        let body = chunk.join("\n") + "\n";
        let (name, bytes) = if i < 2 {
            (
                format!("clicks-1-2026-02-19-0{i}-00-00-0000000{i}.gz"),
                gzip(body.as_bytes()),
            )
        } else {
            (
                format!("clicks-1-2026-02-19-0{i}-00-00-0000000{i}"),
                body.into_bytes(),
            )
        };
        let path = dir.join(&name);
        std::fs::write(&path, bytes).unwrap();
        boto(
            moto(),
            &[
                "upload",
                &raw,
                &format!("{day}/{name}"),
                path.to_str().unwrap(),
            ],
        );
    }
    let other = dir.join("other.jsonl");
    std::fs::write(&other, format!("{}\n", lines[0])).unwrap();
    boto(
        moto(),
        &[
            "upload",
            &raw,
            "raw/year=2026/month=02/day=20/clicks-x",
            other.to_str().unwrap(),
        ],
    );

    let base = include_str!("../../examples/clickstream.toml");
    std::fs::write(
        dir.join("etl.toml"),
        base.replace(
            "location = \"lake\"",
            &format!("location = \"s3://{lake}/processed\""),
        ) + &format!("\n[dead_letter]\nlocation = \"s3://{lake}/errors\"\n"),
    )
    .unwrap();
    std::fs::write(dir.join("local.toml"), base).unwrap();
    let oracle = json_of(
        weir_command(dir)
            .args([
                "run",
                "--pipeline",
                "local.toml",
                "--input",
                "events.jsonl",
                "--json",
            ])
            .output()
            .unwrap(),
    );
    let etl_with = |pipeline: &str| {
        json_of(
            weir_aws(dir)
                .args([
                    "etl",
                    "--input",
                    &format!("s3://{raw}/raw"),
                    "--pipeline",
                    pipeline,
                    "--date",
                    "2026-02-19",
                    "--json",
                ])
                .output()
                .unwrap(),
        )
    };
    let etl = || etl_with("etl.toml");
    let summary = etl();
    assert_eq!(summary["objects"], 3, "{summary}");
    assert_eq!(summary["read"].as_u64(), Some(lines.len() as u64));
    for key in ["kept", "dropped", "rejected"] {
        assert_eq!(summary[key], oracle[key], "{key}: {summary} vs {oracle}");
    }
    assert_eq!(
        summary["read"].as_u64().unwrap(),
        ["kept", "dropped", "rejected"]
            .iter()
            .map(|k| summary[*k].as_u64().unwrap())
            .sum::<u64>()
    );

    // The same answers as the local run gives, through `weir query`.
    let s3 = format!("s3://{lake}/processed");
    for sql in [
        "SELECT action, product_category, COUNT(*) FROM ecommerce_events GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT year, month, day, COUNT(*) FROM ecommerce_events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    ] {
        assert_eq!(
            query_rows(dir, &s3, sql),
            query_rows(dir, "lake", sql),
            "{sql}"
        );
    }

    // An independent reader: pyarrow and DuckDB over the downloaded files.
    let processed = download(&lake, "processed", dir);
    let copy = dir.join("copy");
    for (key, bytes) in &processed {
        let path = copy.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python/read_lake.py");
    let output = Command::new(python())
        .arg(script)
        .arg(copy.join("ecommerce_events"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(read["duckdb"]["rows"], oracle["kept"], "{read}");
    assert_eq!(read["pyarrow"]["rows"], oracle["kept"], "{read}");

    // Dead letters filed under the raw day, with the raw object named.
    let letters = download(&lake, "errors", dir);
    assert!(!letters.is_empty());
    assert!(
        letters
            .keys()
            .all(|key| key.starts_with("ecommerce_events/dt=2026-02-19/")),
        "{:?}",
        letters.keys()
    );

    // A second run of the day changes nothing.
    let again = etl();
    assert_eq!(again["kept"], summary["kept"]);
    assert_eq!(download(&lake, "processed", dir), processed);
    assert_eq!(download(&lake, "errors", dir), letters);

    // Rerun under narrower rules: only carts and purchases stay, each once,
    // and what the first rules kept besides is gone.
    let carts = std::fs::read_to_string(dir.join("etl.toml"))
        .unwrap()
        .replace(
            "drop_user_prefixes = [\"bot-\", \"test_\"]",
            "drop_user_prefixes = [\"bot-\", \"test_\"]\nkeep_actions = [\"ADD_TO_CART\", \"PURCHASE\"]",
        );
    std::fs::write(dir.join("carts.toml"), carts).unwrap();
    let narrower = etl_with("carts.toml");
    assert!(narrower["withdrawn"].as_u64().unwrap() > 0, "{narrower}");
    let by_action = "SELECT action, COUNT(*) FROM ecommerce_events GROUP BY 1 ORDER BY 1";
    let before: Vec<String> = query_rows(dir, "lake", by_action)
        .into_iter()
        .filter(|row| row.starts_with("ADD_TO_CART,") || row.starts_with("PURCHASE,"))
        .collect();
    assert_eq!(query_rows(dir, &s3, by_action), before);
}
