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
use crate::s3::{Fault, bucket, moto, query_rows, weir_aws};

/// `tests/python/kinesis.py` (boto3) against the moto server.
pub fn kinesis_py(args: &[&str]) -> String {
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
            .args(["send", "--stream", stream, "--json", "--input", file])
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
    pipelines_and_oracle_files(dir, lake);
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

/// The stream pipeline (`stream.toml`, into `s3://<lake>/lake`) and the same
/// one into a local folder (`local.toml`).
fn pipelines_and_oracle_files(dir: &Path, lake: &str) {
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
        .args([
            "send",
            "--stream",
            stream,
            "--json",
            "--input",
            "mixed.jsonl",
        ])
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

    // A stream that does not exist: an answer the service repeats stops the
    // send at its first request, with one line naming the stream and why,
    // however long the input and however many tries are allowed.
    let many: String = (0..20_000)
        .map(|i| format!("{{\"user_id\":\"u{i}\"}}\n"))
        .collect();
    std::fs::write(dir.join("many.jsonl"), many).unwrap();
    let started = std::time::Instant::now();
    let output = weir_aws(dir)
        .args([
            "send",
            "--stream",
            "no-such-stream",
            "--input",
            "many.jsonl",
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("stream no-such-stream: not found (ResourceNotFoundException")
            && errors[0].contains("check the name, the region and the endpoint")
            && errors[0].contains("stopped: 0 of the ")
            && errors[0].contains("lines read were sent, none after line 1"),
        "{stderr}"
    );
    // One request, no backoff: far below the 8 tries' worth of waiting (a
    // bound for a loaded machine, not a benchmark).
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}

/// `--latest` skips what was in the stream before the consumer first
/// started, and nothing after: a consumer stopped and started again reads
/// what arrived in between, from the time it first started. (Children of a
/// split read from that time too, so from their beginning; moto's
/// AT_TIMESTAMP answers wrongly once a shard is split, so that part is not
/// tried here.)
#[test]
fn latest_starts_at_new_records_and_keeps_that_start_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("stream-latest-lake");
    let stream = "clicks-latest";
    kinesis_py(&["create-stream", stream, "1"]);
    pipelines_and_oracle_files(dir, &lake);
    let lines = |from: usize, to: usize| -> String {
        (from..to)
            .map(|i| {
                format!(
                    r#"{{"user_id":"u{i}","product_id":"p1","product_category":"Books","action":"VIEW","price":1.5,"device":"Mobile","timestamp":"2026-02-19T11:05:00Z"}}"#
                ) + "\n"
            })
            .collect()
    };
    std::fs::write(dir.join("old.jsonl"), lines(0, 100)).unwrap();
    std::fs::write(dir.join("while-stopped.jsonl"), lines(100, 150)).unwrap();
    std::fs::write(dir.join("later.jsonl"), lines(150, 200)).unwrap();
    send(dir, stream, "old.jsonl");
    // Kinesis timestamps have millisecond precision: keep the old records
    // clearly before the consumer's start.
    std::thread::sleep(Duration::from_millis(50));
    let first = json_of(
        consume(dir, stream, &["--latest", "--until-drained"])
            .output()
            .unwrap(),
    );
    assert_eq!(first["read"], 0, "{first}");
    std::thread::sleep(Duration::from_millis(50));
    // Written while no consumer runs: the restarted one, with --latest
    // still given, reads them (its start is the first run's).
    send(dir, stream, "while-stopped.jsonl");
    let second = json_of(
        consume(dir, stream, &["--latest", "--until-drained"])
            .output()
            .unwrap(),
    );
    assert_eq!(second["read"], 50, "{second}");
    send(dir, stream, "later.jsonl");
    let third = json_of(
        consume(dir, stream, &["--latest", "--until-drained"])
            .output()
            .unwrap(),
    );
    assert_eq!(third["read"], 50, "{third}");
    let users = query_rows(
        dir,
        &format!("s3://{lake}/lake"),
        "SELECT MIN(CAST(SUBSTR(user_id, 2) AS INT)) AS low, MAX(CAST(SUBSTR(user_id, 2) AS INT)) AS high, COUNT(DISTINCT user_id) AS n FROM ecommerce_events",
    );
    assert_eq!(users, ["100,199,100"]);
}

/// Under `on_plugin_error = "fail"`, a record a plugin cannot take stops the
/// consumer with the plugin's error and the record's sequence number,
/// instead of being retried forever.
#[test]
fn a_poison_record_stops_the_consumer_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let stream = "clicks-poison";
    kinesis_py(&["create-stream", stream, "1"]);
    let lake = bucket("stream-poison-lake");
    std::fs::write(
        dir.join("stream.toml"),
        format!(
            "on_plugin_error = \"fail\"\n[[plugin]]\npath = {:?}\n[output]\nlocation = \"s3://{lake}/lake\"\npartitions = []\n",
            weir_bundled_plugins::TEST_TRAP.path
        ),
    )
    .unwrap();
    let lines: String = (0..10)
        .map(|i| {
            let user = if i == 6 {
                "boom".to_string()
            } else {
                format!("u{i}")
            };
            format!("{{\"user_id\":\"{user}\"}}\n")
        })
        .collect();
    std::fs::write(dir.join("events.jsonl"), lines).unwrap();
    let sent = send(dir, stream, "events.jsonl");
    assert_eq!(sent["sent"], 10);
    let started = std::time::Instant::now();
    let output = consume(dir, stream, &["--until-drained"]).output().unwrap();
    let took = started.elapsed();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error = stderr
        .lines()
        .find(|line| line.starts_with("error"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        error.contains("stream clicks-poison: shardId-")
            && error.contains(": record ")
            && error.contains("told to fail")
            && error.contains("on_plugin_error = \"fail\""),
        "{stderr}"
    );
    // It stopped at once rather than retrying (a bound for a loaded machine).
    assert!(took < Duration::from_secs(60), "{took:?}");
    // The batch stays pending: the checkpoint file says so.
    let checkpoints: Value =
        serde_json::from_slice(&std::fs::read(dir.join("checkpoints.json")).unwrap()).unwrap();
    let shard = checkpoints["shards"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert!(shard["pending"].is_array(), "{checkpoints}");
}

/// The fault matrix for `weir consume`: a proxy in front of S3 fails one
/// connection of the consumer's writes (503, reset, or a stall the attempt
/// timeout ends), at points from the first to the last; S3 retries are
/// off, so the write fails. The consumer writes the rest of the batch
/// again itself, and the lake ends as `weir run` leaves it: every event
/// once.
#[test]
fn a_failure_at_any_s3_request_of_a_consumer_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let stream = "clicks-faults";
    kinesis_py(&["create-stream", stream, "1"]);
    generate(dir, 2_000, 0.02);
    pipelines_and_oracle(dir, "unused");
    let report = send(dir, stream, "events.jsonl");
    assert_eq!(report["failed"], serde_json::json!([]));
    let base = include_str!("../../examples/clickstream.toml");
    let drain = |case: &str, lake: &str, endpoint: &str| {
        let file = format!("{case}.toml");
        std::fs::write(
            dir.join(&file),
            base.replace(
                "location = \"lake\"",
                &format!("location = \"s3://{lake}/lake\""),
            ) + &format!(
                "\n[s3]\nendpoint_url = \"{endpoint}\"\nmax_attempts = 1\nattempt_timeout_secs = 2\n"
            ),
        )
        .unwrap();
        let output = weir_aws(dir)
            .args(["consume", "--stream", stream, "--pipeline", &file])
            .args(["--checkpoint", &format!("{case}.json"), "--json"])
            .args(["--until-drained", "--batch-records", "400"])
            .output()
            .unwrap();
        json_of(output)
    };

    let clean = bucket("consume-faults-clean");
    let (endpoint, seen) = crate::s3::fault_proxy(moto(), |_| None);
    let summary = drain("clean", &clean, &endpoint);
    assert_eq!(summary["resumed"], 0, "{summary}");
    assert_lake_matches_oracle(dir, &clean);
    let total = seen.load(std::sync::atomic::Ordering::SeqCst);

    let points = crate::s3::fault_points(total);
    let mut matrix = Vec::new();
    for fault in [Fault::Refuse, Fault::Reset, Fault::Stall] {
        for &at in &points {
            let case = format!(
                "consume-faults-{}-{at}",
                format!("{fault:?}").to_lowercase()
            );
            let lake = bucket(&case);
            let (endpoint, _) = crate::s3::fault_proxy(moto(), move |n| (n == at).then_some(fault));
            let summary = drain(&case, &lake, &endpoint);
            assert_lake_matches_oracle(dir, &lake);
            matrix.push((fault, at, summary["resumed"].as_u64().unwrap()));
        }
    }
    // The faults bit: some batches were written again.
    assert!(
        matrix.iter().any(|(_, _, resumed)| *resumed > 0),
        "{matrix:?}"
    );
    eprintln!("consume fault matrix (fault, connection, batches resumed): {matrix:?} of {total}");
}

/// A Kinesis batch larger than a plugin's memory (1,000 records of 20 KB
/// against a 16 MiB plugin) goes through the plugins in parts sized to fit,
/// as `weir run` reads a file: every event is kept, none rejected as out
/// of memory, and the lake holds each once.
#[test]
fn a_batch_larger_than_a_plugins_memory_goes_through_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let stream = "clicks-large";
    kinesis_py(&["create-stream", stream, "1"]);
    let lake = bucket("stream-large-lake");
    std::fs::write(
        dir.join("stream.toml"),
        format!(
            "[limits]\nmemory_mib = 16\n[[plugin]]\npath = \"bundled:filter\"\n[output]\nlocation = \"s3://{lake}/lake\"\ntable = \"ecommerce_events\"\nformat = \"jsonl\"\npartitions = []\n"
        ),
    )
    .unwrap();
    let padding = "x".repeat(20_000);
    let lines: String = (0..1000)
        .map(|i| format!("{{\"user_id\":\"u{i:04}\",\"note\":\"{padding}\"}}\n"))
        .collect();
    std::fs::write(dir.join("events.jsonl"), lines).unwrap();
    assert_eq!(send(dir, stream, "events.jsonl")["sent"], 1000);
    let summary = json_of(
        consume(dir, stream, &["--until-drained", "--batch-records", "1000"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        (&summary["read"], &summary["kept"], &summary["rejected"]),
        (&Value::from(1000), &Value::from(1000), &Value::from(0)),
        "{summary}"
    );
    assert_eq!(summary["batches"], 1, "one Kinesis batch: {summary}");
    let rows = query_rows(
        dir,
        &format!("s3://{lake}/lake"),
        "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM ecommerce_events",
    );
    assert_eq!(rows, vec!["1000,1000".to_string()]);
}
