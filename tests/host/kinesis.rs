//! The local stream: `weir gen | weir send` into a Kinesis stream on a real
//! server (moto, on 127.0.0.1, for both Kinesis and S3), `weir consume`
//! into an S3 lake, `weir query` over it; the counts are those `weir run`
//! gives for the same events. A consumer killed part way and started again
//! loses nothing and duplicates nothing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{generate, json_of, python, weir_command};
use crate::s3::{bucket, moto, query_rows, weir_aws};

/// `tests/python/kinesis.py` (boto3) against the moto server.
fn kinesis_py(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python/kinesis.py");
    let output = Command::new(python())
        .arg(script)
        .arg(moto())
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kinesis.py {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn send(dir: &Path, stream: &str, file: &str) -> Value {
    json_of(
        weir_aws(dir)
            .args(["send", "--stream", stream, "--json", file])
            .output()
            .unwrap(),
    )
}

fn consume(dir: &Path, stream: &str, extra: &[&str]) -> Command {
    let mut command = weir_aws(dir);
    command.args([
        "consume",
        "--stream",
        stream,
        "--pipeline",
        "stream.toml",
        "--checkpoint",
        "checkpoints.json",
        "--json",
    ]);
    command.args(extra);
    command
}

const BY_ACTION_AND_CATEGORY: &str = "SELECT action, product_category, COUNT(*) AS n \
     FROM ecommerce_events GROUP BY action, product_category";
const BY_CODE: &str =
    "SELECT plugin, code, COUNT(*) AS n FROM ecommerce_events_errors GROUP BY plugin, code";
const ROWS: &str = "SELECT COUNT(*) AS n, COUNT(DISTINCT user_id || CAST(timestamp AS VARCHAR) || action || COALESCE(product_id, '')) AS distinct_n FROM ecommerce_events";

/// Write the stream pipeline (into `s3://<lake>/lake`) and the same one
/// into a local folder, run `weir run` over `events.jsonl` locally as the
/// oracle, and return its summary.
fn pipelines_and_oracle(dir: &Path, lake: &str) -> Value {
    let base = include_str!("../../examples/clickstream.toml");
    std::fs::write(
        dir.join("stream.toml"),
        base.replace(
            "location = \"lake\"",
            &format!("location = \"s3://{lake}/lake\""),
        ),
    )
    .unwrap();
    std::fs::write(dir.join("local.toml"), base).unwrap();
    json_of(
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
    )
}

/// The S3 lake holds what the local run wrote: the same events per action
/// and category, the same dead letters per plugin and code.
fn assert_lake_matches_oracle(dir: &Path, lake: &str) {
    let s3 = format!("s3://{lake}/lake");
    assert_eq!(
        query_rows(dir, &s3, BY_ACTION_AND_CATEGORY),
        query_rows(dir, "lake", BY_ACTION_AND_CATEGORY)
    );
    assert_eq!(
        query_rows(dir, &s3, BY_CODE),
        query_rows(dir, "lake", BY_CODE)
    );
    // As many rows, and as many distinct ones: none lost, none twice.
    assert_eq!(query_rows(dir, &s3, ROWS), query_rows(dir, "lake", ROWS));
}

#[test]
fn a_stream_goes_through_the_pipeline_into_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("stream-lake");
    let stream = "clicks-e2e";
    kinesis_py(&["create-stream", stream, "2"]);
    generate(dir, 4_000, 0.02);
    let oracle = pipelines_and_oracle(dir, &lake);

    // Half the events, then a shard splits, then the rest: the consumer
    // must finish the parent before it reads the children.
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(dir.join("first.jsonl"), lines[..2_000].join("\n") + "\n").unwrap();
    std::fs::write(dir.join("second.jsonl"), lines[2_000..].join("\n") + "\n").unwrap();
    let first = send(dir, stream, "first.jsonl");
    let parent = kinesis_py(&["split", stream]);
    let second = send(dir, stream, "second.jsonl");
    let mut sent = 0;
    let mut blank = 0;
    for report in [&first, &second] {
        assert_eq!(report["failed"], serde_json::json!([]), "{report}");
        assert_eq!(
            report["lines"].as_u64(),
            Some(report["sent"].as_u64().unwrap() + report["blank"].as_u64().unwrap())
        );
        sent += report["sent"].as_u64().unwrap();
        blank += report["blank"].as_u64().unwrap();
    }
    let shards: Vec<Value> = serde_json::from_str(&kinesis_py(&["shards", stream])).unwrap();
    assert_eq!(shards.len(), 4, "{shards:?}");
    assert!(shards.iter().any(|s| s["parent"] == parent.trim()));

    let summary = json_of(consume(dir, stream, &["--until-drained"]).output().unwrap());
    assert_eq!(summary["read"].as_u64(), Some(sent), "{summary}");
    assert_eq!(summary["kinesis_records"].as_u64(), Some(sent));
    assert_eq!(summary["kept"], oracle["kept"], "{summary} vs {oracle}");
    assert_eq!(summary["rejected"], oracle["rejected"]);
    assert_eq!(
        summary["dropped"].as_u64().unwrap() + blank,
        oracle["dropped"].as_u64().unwrap()
    );
    assert_eq!(summary["shards"], 4);
    assert_eq!(
        summary["shards_finished"], 1,
        "the split parent is finished"
    );
    assert_lake_matches_oracle(dir, &lake);

    // Consuming again, from the checkpoints, reads nothing new.
    let again = json_of(consume(dir, stream, &["--until-drained"]).output().unwrap());
    assert_eq!(again["read"], 0, "{again}");
    assert_lake_matches_oracle(dir, &lake);
}

/// Wait until `checkpoints.json` shows a shard past its first batch.
fn wait_for_progress(dir: &Path, child: &mut Child) {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join("checkpoints.json"))
            && let Ok(checkpoints) = serde_json::from_str::<Value>(&text)
            && checkpoints["shards"]
                .as_object()
                .is_some_and(|shards| shards.values().any(|s| s["after"].is_string()))
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the consumer ended ({status}) before it was killed");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no checkpoint within 60 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_consumer_killed_part_way_resumes_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("stream-kill-lake");
    let stream = "clicks-kill";
    kinesis_py(&["create-stream", stream, "2"]);
    generate(dir, 6_000, 0.02);
    let oracle = pipelines_and_oracle(dir, &lake);
    let report = send(dir, stream, "events.jsonl");
    assert_eq!(report["failed"], serde_json::json!([]));

    // Small batches, so the kill lands with most of the stream unread.
    let mut child = consume(dir, stream, &["--batch-records", "150"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_progress(dir, &mut child);
    child.kill().unwrap(); // SIGKILL: nothing is flushed, nothing cleaned up
    child.wait().unwrap();
    let checkpoints: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("checkpoints.json")).unwrap())
            .unwrap();

    let summary = json_of(
        consume(dir, stream, &["--until-drained", "--batch-records", "150"])
            .output()
            .unwrap(),
    );
    let read = summary["read"].as_u64().unwrap();
    assert!(
        read > 0 && read < report["sent"].as_u64().unwrap(),
        "the second consumer started where the first stopped ({read} read; checkpoints {checkpoints})"
    );
    assert_lake_matches_oracle(dir, &lake);
    let rows = query_rows(
        dir,
        &format!("s3://{lake}/lake"),
        "SELECT COUNT(*) FROM ecommerce_events",
    );
    assert_eq!(rows, vec![oracle["kept"].to_string()]);
}

/// Ctrl-C stops a consumer that would otherwise wait for more records,
/// once what it holds is written; it exits cleanly with its summary.
#[test]
fn ctrl_c_stops_the_consumer_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("stream-stop-lake");
    let stream = "clicks-stop";
    kinesis_py(&["create-stream", stream, "1"]);
    generate(dir, 500, 0.02);
    let oracle = pipelines_and_oracle(dir, &lake);
    send(dir, stream, "events.jsonl");
    let child = consume(dir, stream, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = child;
    wait_for_progress(dir, &mut child);
    // Let it catch up and start waiting for more.
    std::thread::sleep(Duration::from_millis(1500));
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    let summary = json_of(output);
    assert_eq!(summary["stopped"], true);
    assert_eq!(summary["kept"], oracle["kept"]);
    assert_lake_matches_oracle(dir, &lake);
}

/// Records that cannot be sent are counted and named by line, and the
/// command fails.
#[test]
fn send_names_the_lines_it_could_not_send() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let stream = "clicks-limits";
    kinesis_py(&["create-stream", stream, "1"]);
    let big = format!(
        r#"{{"user_id":"u1","blob":"{}"}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    let text = format!("{{\"user_id\":\"u0\"}}\n\n{big}\n{{\"user_id\":\"u2\"}}\n");
    std::fs::write(dir.join("mixed.jsonl"), text).unwrap();
    let output = weir_aws(dir)
        .args(["send", "--stream", stream, "--json", "mixed.jsonl"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["sent"], 2);
    assert_eq!(report["blank"], 1);
    assert_eq!(report["failed"][0][0], 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not send 1 of 4 lines (lines 3)"),
        "{stderr}"
    );

    // A stream that does not exist: every line is named, after the tries.
    let output = weir_aws(dir)
        .args([
            "send",
            "--stream",
            "no-such-stream",
            "--max-attempts",
            "2",
            "mixed.jsonl",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not send 3 of 4 lines (lines 1, 3, 4)")
            && stderr.contains("ResourceNotFound"),
        "{stderr}"
    );
}
