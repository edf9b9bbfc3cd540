//! Object names and reruns: different inputs never overwrite each other, and
//! running an input again replaces everything it wrote before, whatever the
//! rules now keep. Through the real `weir` binary into JSON-lines lakes,
//! read back line by line.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use crate::common::{example_pipeline_jsonl, json_of, jsonl_lines, tree, weir, weir_command};

/// `count` events of 2026-02-19 (one day, so every file lands in one
/// partition), generated with `seed`, into `path`.
fn events(dir: &Path, path: &str, count: u64, seed: u64) {
    if let Some(parent) = Path::new(path).parent() {
        std::fs::create_dir_all(dir.join(parent)).unwrap();
    }
    let output = weir(
        &[
            "gen",
            "--events",
            &count.to_string(),
            "--seed",
            &seed.to_string(),
            "--start",
            "2026-02-19T00:00:00Z",
            "--days",
            "0.5",
            "--output",
            path,
        ],
        dir,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run(dir: &Path, pipeline: &str, input: &str) -> serde_json::Value {
    json_of(weir(
        &[
            "run",
            "--pipeline",
            pipeline,
            "--input",
            input,
            "--lake",
            "lake",
            "--json",
        ],
        dir,
    ))
}

/// Rows of the lake by action.
fn actions(dir: &Path) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in jsonl_lines(&dir.join("lake/ecommerce_events")) {
        let event: serde_json::Value = serde_json::from_slice(&line).unwrap();
        *counts
            .entry(event["action"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

fn rows(dir: &Path) -> u64 {
    jsonl_lines(&dir.join("lake/ecommerce_events")).len() as u64
}

#[test]
fn files_of_one_name_in_two_folders_both_stay() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), example_pipeline_jsonl()).unwrap();
    events(dir.path(), "h10/events.jsonl", 1000, 1);
    events(dir.path(), "h11/events.jsonl", 1000, 2);
    let first = run(dir.path(), "p.toml", "h10/events.jsonl");
    let second = run(dir.path(), "p.toml", "h11/events.jsonl");
    let kept = first["kept"].as_u64().unwrap() + second["kept"].as_u64().unwrap();
    assert!(kept > 1900, "{first} {second}");
    assert_eq!(rows(dir.path()), kept);
    // Dead letters too: both runs' rejects are there.
    let rejected = first["rejected"].as_u64().unwrap() + second["rejected"].as_u64().unwrap();
    assert_eq!(
        jsonl_lines(&dir.path().join("lake/_errors/ecommerce_events")).len() as u64,
        rejected
    );
}

#[test]
fn two_runs_of_standard_input_are_two_inputs_unless_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), example_pipeline_jsonl()).unwrap();
    events(dir.path(), "events.jsonl", 500, 3);
    let piped = |extra: &[&str]| {
        let mut command = weir_command(dir.path());
        command
            .args([
                "run",
                "--pipeline",
                "p.toml",
                "--input",
                "-",
                "--lake",
                "lake",
                "--json",
            ])
            .args(extra)
            .stdin(Stdio::from(
                std::fs::File::open(dir.path().join("events.jsonl")).unwrap(),
            ));
        json_of(command.output().unwrap())
    };
    let kept = piped(&[])["kept"].as_u64().unwrap();
    piped(&[]);
    assert_eq!(rows(dir.path()), 2 * kept, "two unnamed runs add up");

    // Named, a run replaces the last run of that name.
    std::fs::remove_dir_all(dir.path().join("lake")).unwrap();
    piped(&["--source-name", "orders"]);
    piped(&["--source-name", "orders"]);
    assert_eq!(rows(dir.path()), kept);
    piped(&["--source-name", "returns"]);
    assert_eq!(rows(dir.path()), 2 * kept);
}

#[test]
fn a_rerun_replaces_everything_the_input_wrote_even_under_new_rules() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = example_pipeline_jsonl();
    std::fs::write(dir.path().join("all.toml"), &pipeline).unwrap();
    let carts_only = pipeline.replace(
        "drop_user_prefixes = [\"bot-\", \"test_\"]",
        "drop_user_prefixes = [\"bot-\", \"test_\"]\nkeep_actions = [\"ADD_TO_CART\", \"PURCHASE\"]",
    );
    assert_ne!(carts_only, pipeline);
    std::fs::write(dir.path().join("carts.toml"), &carts_only).unwrap();
    // Over several days, so the narrower rules leave some partitions empty.
    let output = weir(
        &[
            "gen",
            "--events",
            "3000",
            "--bad-fraction",
            "0.02",
            "--days",
            "4",
            "--output",
            "events.jsonl",
        ],
        dir.path(),
    );
    assert!(output.status.success());

    let first = run(dir.path(), "all.toml", "events.jsonl");
    let before = actions(dir.path());
    assert!(before["VIEW"] > 0, "{before:?}");
    let lake_once = tree(&dir.path().join("lake"));

    // The same input and rules again: the very same lake.
    run(dir.path(), "all.toml", "events.jsonl");
    assert_eq!(tree(&dir.path().join("lake")), lake_once);

    // New rules: only carts and purchases, each once.
    let second = run(dir.path(), "carts.toml", "events.jsonl");
    let after = actions(dir.path());
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        ["ADD_TO_CART", "PURCHASE"],
        "{after:?}"
    );
    assert_eq!(after["ADD_TO_CART"], before["ADD_TO_CART"]);
    assert_eq!(after["PURCHASE"], before["PURCHASE"]);
    assert_eq!(rows(dir.path()), second["kept"].as_u64().unwrap());
    assert!(second["withdrawn"].as_u64().unwrap() > 0, "{second}");
    // The dead letters are this run's, once.
    assert_eq!(
        jsonl_lines(&dir.path().join("lake/_errors/ecommerce_events")).len() as u64,
        second["rejected"].as_u64().unwrap()
    );
    assert_eq!(first["rejected"], second["rejected"]);

    // And back: the first rules' lake, byte for byte.
    run(dir.path(), "all.toml", "events.jsonl");
    let mut lake_again = tree(&dir.path().join("lake"));
    let mut lake_once = lake_once;
    // The input's record in the lake is bookkeeping, not data.
    lake_again.retain(|key, _| !key.starts_with("_weir"));
    lake_once.retain(|key, _| !key.starts_with("_weir"));
    assert_eq!(lake_again, lake_once);
}

/// A Kinesis batch that was written but not acknowledged (the invocation
/// timed out after its writes) comes back split differently, as Lambda's
/// bisection does: the lake holds each record once, not the first attempt's
/// objects beside the retry's.
#[test]
fn a_differently_split_retry_of_a_shard_batch_neither_duplicates_nor_loses() {
    use weir::sources::kinesis::shard::{LakeTarget, ShardRecord, process};
    use weir::storage::Storage;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), example_pipeline_jsonl()).unwrap();
    let config = weir::config::PipelineFile::load(&dir.path().join("p.toml")).unwrap();
    let engine = weir::engine::PluginEngine::new().unwrap();
    let mut pipeline = weir::config::build::load_pipeline(&engine, &config).unwrap();
    let data = Storage::Local(dir.path().join("lake"));
    let errors = data.child("_errors");
    let target = LakeTarget {
        config: &config,
        data: &data,
        errors: &errors,
    };
    // Twenty records over two days, interleaved, and a rejected one.
    let records: Vec<(String, String)> = (0..20)
        .map(|i| {
            let day = 18 + i % 2;
            let action = if i == 7 { "TELEPORT" } else { "VIEW" };
            (
                format!("{:056}", 1000 + i),
                format!(
                    r#"{{"user_id":"u{i}","product_id":"p1","product_category":"Books","action":"{action}","price":1.5,"device":"Mobile","timestamp":"2026-02-{day}T11:05:00Z"}}"#
                ),
            )
        })
        .collect();
    let mut run = |range: std::ops::Range<usize>| {
        let outcome = process(
            &mut pipeline,
            &target,
            "clicks",
            "shardId-000000000000",
            records[range].iter().map(|(sequence, data)| ShardRecord {
                data: Ok(data.as_bytes()),
                sequence,
                arrival_micros: 1_771_500_000_000_000,
            }),
            None,
        );
        assert_eq!(outcome.committed.retry_from, None);
    };
    run(0..20);
    // The retry, bisected: the first half, then the rest in two.
    run(0..10);
    run(10..15);
    run(15..20);
    let mut users: Vec<String> = jsonl_lines(&dir.path().join("lake/ecommerce_events"))
        .iter()
        .map(|line| {
            serde_json::from_slice::<serde_json::Value>(line).unwrap()["user_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    users.sort();
    let mut expected: Vec<String> = (0..20)
        .filter(|i| *i != 7)
        .map(|i| format!("u{i}"))
        .collect();
    expected.sort();
    assert_eq!(users, expected);
    assert_eq!(
        jsonl_lines(&dir.path().join("lake/_errors/ecommerce_events")).len(),
        1
    );
}
