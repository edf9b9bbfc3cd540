//! The Lambda host: the real `weir-lambda` bootstrap served by cargo-lambda's
//! runtime emulator (`cargo lambda watch --only-lambda-apis`), invoked with
//! `cargo lambda invoke` and Kinesis events in AWS's format, writing to a
//! real S3-compatible server (moto). KPL aggregates are built by AWS's own
//! aggregator (aws-kinesis-agg), not by Weir.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{example_pipeline_jsonl, python};
use crate::s3::{Fault, boto, bucket, fault_proxy, moto, s3_env};

/// The folder `cargo lambda` runs in: the workspace.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo_lambda() -> PathBuf {
    python().parent().unwrap().join("cargo-lambda")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The runtime emulator and the bootstrap serving it. Both are killed when
/// this is dropped.
struct Function {
    emulator: Child,
    /// `watch` exits when its standard input closes: held open here.
    _emulator_input: ChildStdin,
    bootstrap: Child,
    port: u16,
    dir: PathBuf,
}

impl Function {
    /// Start the emulator, then `weir-lambda` with `env` added to S3
    /// credentials for the moto server.
    fn start(dir: &Path, env: &[(&str, String)]) -> Function {
        let port = free_port();
        let mut emulator = Command::new(cargo_lambda())
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .current_dir(workspace())
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(dir.join("emulator.log")).unwrap())
            .stderr(std::fs::File::create(dir.join("emulator.err")).unwrap())
            .spawn()
            .expect("start cargo lambda watch");
        let input = emulator.stdin.take().unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "cargo lambda watch did not listen on {port}: {}",
                std::fs::read_to_string(dir.join("emulator.err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut command = Command::new(crate::common::lambda_binary());
        s3_env(&mut command, dir, moto());
        command
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("WEIR_CACHE_DIR", dir.join("cache"))
            .env_remove("WEIR_PRECOMPILED_DIR")
            .env_remove("LAMBDA_TASK_ROOT")
            .env_remove("WEIR_LOG");
        for (name, value) in env {
            command.env(name, value);
        }
        let bootstrap = command
            .stdout(std::fs::File::create(dir.join("bootstrap.out")).unwrap())
            .stderr(std::fs::File::create(dir.join("bootstrap.err")).unwrap())
            .spawn()
            .expect("start weir-lambda");
        Function {
            emulator,
            _emulator_input: input,
            bootstrap,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// Invoke the function with the event in `file`; its JSON answer.
    fn invoke(&mut self, file: &Path) -> serde_json::Value {
        let output = Command::new(cargo_lambda())
            .args(["lambda", "invoke", "-A", "127.0.0.1", "-o", "json", "-P"])
            .arg(self.port.to_string())
            .arg("--data-file")
            .arg(file)
            .current_dir(workspace())
            .output()
            .expect("run cargo lambda invoke");
        if let Ok(Some(status)) = self.bootstrap.try_wait() {
            panic!(
                "weir-lambda exited ({status}): {}",
                std::fs::read_to_string(self.dir.join("bootstrap.err")).unwrap_or_default()
            );
        }
        assert!(
            output.status.success(),
            "cargo lambda invoke failed: {}{}\nbootstrap: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("bootstrap.err")).unwrap_or_default()
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "the answer is not JSON ({err}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    /// The EMF lines the function printed for batches, in order.
    fn batch_metrics(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.join("bootstrap.out"))
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|doc| doc.get("RecordsIn").is_some())
            .collect()
    }

    /// The function's log lines (JSON).
    fn logs(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.join("bootstrap.err"))
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Peak resident memory of the bootstrap so far, in KiB.
    fn peak_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.bootstrap.id()))
            .expect("read the bootstrap's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc status")
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.bootstrap.kill();
        let _ = self.bootstrap.wait();
        let _ = self.emulator.kill();
        let _ = self.emulator.wait();
    }
}

/// A good event for `user` on `day` (2026-02-`day`).
fn good(user: &str, day: u32) -> String {
    format!(
        r#"{{"user_id":"{user}","product_id":"p-{user}","product_category":"Books","action":"VIEW","price":12.5,"device":"Mobile","timestamp":"2026-02-{day:02}T11:05:00Z"}}"#
    )
}

/// Write `lines` and build a Kinesis event of them with
/// `tests/python/kinesis_event.py` and `args`. Returns the event's path and
/// each record's sequence number and user-record count.
fn kinesis_event(
    dir: &Path,
    name: &str,
    lines: &[String],
    args: &[&str],
) -> (PathBuf, Vec<(String, u64)>) {
    let events = dir.join(format!("{name}.jsonl"));
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    let out = dir.join(format!("{name}.json"));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/python/kinesis_event.py"
    );
    let output = Command::new(python())
        .arg(script)
        .arg(&events)
        .arg(&out)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kinesis_event.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let records = listing
        .iter()
        .map(|entry| {
            (
                entry["sequence"].as_str().unwrap().to_string(),
                entry["user_records"].as_u64().unwrap(),
            )
        })
        .collect();
    (out, records)
}

/// Every data object under `prefix` of `bucket`: key → lines.
fn objects(bucket: &str, prefix: &str, dir: &Path) -> BTreeMap<String, Vec<serde_json::Value>> {
    let target = tempfile::tempdir_in(dir).unwrap();
    let listing = boto(
        moto(),
        &["download", bucket, prefix, target.path().to_str().unwrap()],
    );
    let listing: Vec<serde_json::Value> = serde_json::from_str(&listing).unwrap();
    listing
        .iter()
        // The lake's record of what each input wrote is not data.
        .filter(|object| !object["key"].as_str().unwrap().contains("/_weir/"))
        .map(|object| {
            let key = object["key"].as_str().unwrap();
            let relative = key.strip_prefix(prefix).unwrap().trim_start_matches('/');
            let mut text = String::new();
            std::fs::File::open(target.path().join(relative))
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            let lines = text
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            (key.to_string(), lines)
        })
        .collect()
}

/// The user ids of every row of `objects`, sorted.
fn users_in(objects: &BTreeMap<String, Vec<serde_json::Value>>) -> Vec<String> {
    let mut users: Vec<String> = objects
        .values()
        .flatten()
        .map(|row| row["user_id"].as_str().unwrap().to_string())
        .collect();
    users.sort();
    users
}

/// The example pipeline, as JSON lines, writing to `lake` with dead
/// letters in `errors`.
fn pipeline(lake: &str, errors: &str) -> String {
    example_pipeline_jsonl().replace("location = \"lake\"", &format!("location = \"{lake}\""))
        + &format!("\n[dead_letter]\nlocation = \"{errors}\"\n")
}

#[test]
fn a_kinesis_batch_becomes_objects_and_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("lambda-lake");
    let file = dir.join("pipeline.toml");
    std::fs::write(
        &file,
        pipeline(&format!("s3://{lake}/lake"), &format!("s3://{lake}/errors")),
    )
    .unwrap();
    let mut lines: Vec<String> = Vec::new();
    for i in 0..6 {
        lines.push(good(&format!("u{i}"), 18));
    }
    for i in 6..12 {
        lines.push(good(&format!("u{i}"), 19));
    }
    lines.push(good("bot-1", 19)); // dropped by the filter
    lines.push(good("u-bad", 19).replace("\"VIEW\"", "\"TELEPORT\"")); // rejected
    // The first four go in one KPL aggregate; two broken records follow.
    let (event, records) = kinesis_event(dir, "batch", &lines, &["--aggregate", "4", "--bad"]);
    assert_eq!(records[0].1, 4);
    let mut function = Function::start(dir, &[("WEIR_PIPELINE", file.display().to_string())]);
    let answer = function.invoke(&event);
    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));

    let data = objects(&lake, "lake", dir);
    let first = &records[0].0;
    // Records: the aggregate (u0-u3), u4 … u11, bot-1, u-bad, two broken.
    // Objects are named after the shard and their first record alone.
    let first_of_day19 = &records[3].0;
    let day18 = format!(
        "lake/ecommerce_events/year=2026/month=02/day=18/part-clicks-shardId-000000000001-{first}_0.jsonl"
    );
    assert!(data.contains_key(&day18), "no {day18} in {:?}", data.keys());
    let mut expected: Vec<String> = (0..12).map(|i| format!("u{i}")).collect();
    expected.sort();
    assert_eq!(users_in(&data), expected, "each kept event once");
    assert!(data.keys().any(|key| key.ends_with(&format!(
        "day=19/part-clicks-shardId-000000000001-{first_of_day19}.jsonl"
    ))));

    let errors = objects(&lake, "errors", dir);
    let letters: Vec<&serde_json::Value> = errors.values().flatten().collect();
    let mut codes: Vec<&str> = letters
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        vec!["bad-base64", "malformed-json", "unknown-action"]
    );
    let base64 = letters.iter().find(|l| l["code"] == "bad-base64").unwrap();
    assert_eq!(base64["payload"], "this is not base64!");
    assert_eq!(base64["source"], "kinesis:clicks/shardId-000000000001");
    assert!(
        errors
            .keys()
            .all(|key| key.starts_with("errors/ecommerce_events/dt=2026-02-19/"))
    );

    let metrics = function.batch_metrics();
    assert_eq!(metrics.len(), 1);
    let m = &metrics[0];
    assert_eq!(m["KinesisRecords"], 13.0);
    assert_eq!(m["RecordsIn"], 16.0);
    assert_eq!(
        (
            m["Kept"].as_f64(),
            m["Dropped"].as_f64(),
            m["Rejected"].as_f64()
        ),
        (Some(12.0), Some(1.0), Some(3.0))
    );
    assert_eq!(m["Retried"], 0.0);
    assert_eq!(m["ObjectsWritten"], 3.0);
    assert_eq!(m["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Weir");

    // The same batch again (a retry of a batch whose answer was lost)
    // replaces the same objects: nothing is added.
    let answer = function.invoke(&event);
    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));
    let again = objects(&lake, "lake", dir);
    assert_eq!(again, data);
    assert_eq!(objects(&lake, "errors", dir), errors);
}

#[test]
fn a_failed_write_is_retried_from_the_first_record_not_durable() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("lambda-fault-lake");
    // The dead letters' bucket does not exist yet: writing them fails.
    let errors_bucket = "lambda-fault-errors";
    let file = dir.join("pipeline.toml");
    std::fs::write(
        &file,
        pipeline(
            &format!("s3://{lake}/lake"),
            &format!("s3://{errors_bucket}/errors"),
        ),
    )
    .unwrap();
    let mut lines: Vec<String> = Vec::new();
    for i in 0..5 {
        lines.push(good(&format!("a{i}"), 18));
    }
    for i in 5..10 {
        lines.push(good(&format!("b{i}"), 19));
    }
    // Record 7 is rejected: its dead letter cannot be written, and the
    // day-19 file holds records 5 to 9, so the batch is durable up to 5.
    lines[7] = lines[7].replace("\"VIEW\"", "\"TELEPORT\"");
    let (event, records) = kinesis_event(dir, "batch", &lines, &[]);
    let mut function = Function::start(dir, &[("WEIR_PIPELINE", file.display().to_string())]);
    let answer = function.invoke(&event);
    assert_eq!(
        answer,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": records[5].0}]})
    );
    let data = objects(&lake, "lake", dir);
    let keys: Vec<&String> = data.keys().collect();
    assert_eq!(keys.len(), 1, "only day 18 stands: {keys:?}");
    assert!(keys[0].contains("/day=18/"));
    let m = &function.batch_metrics()[0];
    assert_eq!(
        (
            m["RecordsIn"].as_f64(),
            m["Retried"].as_f64(),
            m["WriteFailures"].as_f64()
        ),
        (Some(5.0), Some(5.0), Some(1.0))
    );
    let logs = function.logs();
    assert!(
        logs.iter().any(|line| line["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("NoSuchBucket"))),
        "the failure is logged with its cause"
    );

    // S3 recovers; Lambda sends the batch again from the record named.
    bucket(errors_bucket);
    let (retry, _) = kinesis_event(dir, "retry", &lines, &["--from", &records[5].0]);
    let answer = function.invoke(&retry);
    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));
    let data = objects(&lake, "lake", dir);
    let users = users_in(&data);
    let expected: Vec<String> = ["a0", "a1", "a2", "a3", "a4", "b5", "b6", "b8", "b9"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(users, expected, "every kept event exactly once");
    let errors = objects(errors_bucket, "errors", dir);
    let letters: Vec<&serde_json::Value> = errors.values().flatten().collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["position"], records[7].0.as_str());
    // Counted once over both invocations.
    let counted: f64 = function
        .batch_metrics()
        .iter()
        .map(|m| m["RecordsIn"].as_f64().unwrap())
        .sum();
    assert_eq!(counted, 10.0);
}

/// A pipeline on S3 that changes is picked up between batches; one that
/// does not load (here: a plugin whose sha256 does not match) leaves the
/// running one in place, and is never run.
#[test]
fn a_changed_pipeline_on_s3_is_swapped_between_batches() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("lambda-reload-lake");
    let artifacts = bucket("lambda-reload-artifacts");
    let key = "pipelines/clicks.toml";
    let base = pipeline(&format!("s3://{lake}/lake"), &format!("s3://{lake}/errors"));
    let upload = |text: &str, name: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        boto(moto(), &["upload", &artifacts, key, path.to_str().unwrap()]);
    };
    upload(&base, "v1.toml");
    let mut function = Function::start(
        dir,
        &[
            ("WEIR_PIPELINE", format!("s3://{artifacts}/{key}")),
            ("WEIR_RELOAD_SECONDS", "0".to_string()),
        ],
    );
    let batch = |name: &str, user: &str| kinesis_event(dir, name, &[good(user, 19)], &[]).0;
    assert_eq!(
        function.invoke(&batch("one", "qa-1"))["batchItemFailures"],
        serde_json::json!([])
    );
    assert_eq!(function.batch_metrics()[0]["Kept"], 1.0);

    // Version 2 also drops QA accounts.
    upload(
        &base.replace("[\"bot-\", \"test_\"]", "[\"bot-\", \"test_\", \"qa-\"]"),
        "v2.toml",
    );
    function.invoke(&batch("two", "qa-2"));
    let m = &function.batch_metrics()[1];
    assert_eq!(
        (m["Kept"].as_f64(), m["Dropped"].as_f64()),
        (Some(0.0), Some(1.0))
    );
    assert_ne!(
        function.batch_metrics()[0]["PipelineVersion"],
        m["PipelineVersion"]
    );

    // Version 3 names a plugin beside the pipeline with the wrong sha256.
    let filter = dir.join("filter.wasm");
    std::fs::write(
        &filter,
        weir_bundled_plugins::bundled("filter").unwrap().bytes,
    )
    .unwrap();
    boto(
        moto(),
        &[
            "upload",
            &artifacts,
            "pipelines/plugins/filter.wasm",
            filter.to_str().unwrap(),
        ],
    );
    let wrong = "0".repeat(64);
    upload(
        &base.replace(
            "path = \"bundled:filter\"",
            &format!("path = \"plugins/filter.wasm\"\nsha256 = \"{wrong}\""),
        ),
        "v3.toml",
    );
    function.invoke(&batch("three", "qa-3"));
    let m = &function.batch_metrics()[2];
    assert_eq!(m["Dropped"], 1.0, "version 2 still runs");
    assert_eq!(
        m["PipelineVersion"],
        function.batch_metrics()[1]["PipelineVersion"]
    );
    let refusal = function
        .logs()
        .into_iter()
        .find(|line| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("failed to load"))
        })
        .expect("the refusal is logged");
    assert!(
        refusal["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("sha256 mismatch"),
        "{refusal}"
    );
}

/// Compiled plugins are cached: a second start loads them instead of
/// compiling, and plugins precompiled by `weir plugin precompile` and
/// shipped in the package are loaded from there.
#[test]
fn compiled_plugins_are_cached_and_can_ship_precompiled() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let file = dir.join("pipeline.toml");
    // Nothing is written: the lake's bucket need not exist.
    std::fs::write(
        &file,
        pipeline("s3://check-lake/lake", "s3://check-lake/errors"),
    )
    .unwrap();
    let check = |extra: &[(&str, &Path)]| -> serde_json::Value {
        let mut command = Command::new(crate::common::lambda_binary());
        command
            .arg("--check")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("WEIR_PIPELINE", &file)
            .env("WEIR_CACHE_DIR", dir.join("cache"))
            .env_remove("WEIR_PRECOMPILED_DIR")
            .env_remove("LAMBDA_TASK_ROOT");
        for (name, value) in extra {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let codes = |report: &serde_json::Value| -> Vec<String> {
        report["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes(&check(&[])), vec!["compiled"; 4]);
    assert_eq!(codes(&check(&[])), vec!["cached"; 4]);
    let shipped = dir.join("package/precompiled");
    let names = [
        "bundled:validate-clickstream",
        "bundled:filter",
        "bundled:enrich",
        "bundled:partition-by-date",
    ];
    let output = crate::common::weir_command(dir)
        .args(["plugin", "precompile"])
        .args(names)
        .arg("--output")
        .arg(&shipped)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::remove_dir_all(dir.join("cache")).unwrap();
    let report = check(&[("LAMBDA_TASK_ROOT", &dir.join("package"))]);
    assert_eq!(codes(&report), vec!["shipped"; 4]);
    // Code compiled for another CPU (Lambda's arm64, here on x86-64) is not
    // used: the plugin is compiled instead.
    let foreign = dir.join("foreign");
    let output = crate::common::weir_command(dir)
        .args([
            "plugin",
            "precompile",
            "bundled:filter",
            "--target",
            "aarch64-unknown-linux-gnu",
            "--output",
        ])
        .arg(&foreign)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !dir.join("cache").exists(),
        "nothing was compiled, so nothing cached"
    );
    let report = check(&[("WEIR_PRECOMPILED_DIR", &foreign)]);
    assert_eq!(codes(&report), vec!["compiled"; 4]);
}

/// A 10,000-record batch of typical events stays within 128 MB, the
/// smallest Lambda's memory.
#[test]
fn a_ten_thousand_record_batch_fits_the_smallest_lambda() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("lambda-memory-lake");
    let file = dir.join("pipeline.toml");
    std::fs::write(
        &file,
        include_str!("../../examples/clickstream.toml").replace(
            "location = \"lake\"",
            &format!("location = \"s3://{lake}/lake\""),
        ),
    )
    .unwrap();
    crate::common::generate(dir, 10_000, 0.01);
    let lines: Vec<String> = std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 10_000);
    let (event, _) = kinesis_event(dir, "big", &lines, &[]);
    let mut function = Function::start(dir, &[("WEIR_PIPELINE", file.display().to_string())]);
    assert_eq!(
        function.invoke(&event)["batchItemFailures"],
        serde_json::json!([])
    );
    let m = &function.batch_metrics()[0];
    assert_eq!(m["RecordsIn"], 10_000.0);
    let peak = function.peak_kib();
    println!(
        "peak resident memory after a 10,000-record batch: {} KiB",
        peak
    );
    assert!(peak < 128 * 1024, "peak {peak} KiB is over 128 MiB");
}

/// A Firehose transformation invocation, in AWS's format, through the same
/// bootstrap: every `recordId` comes back once, in order, with `Ok` (the
/// event after the plugins as a typed JSON line, newline-terminated, and
/// its partition as the dynamic partitioning keys), `Dropped` (filtered)
/// or `ProcessingFailed` (rejected, with the original data).
#[test]
fn firehose_records_come_back_once_each_with_their_result() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let file = dir.join("pipeline.toml");
    // Nothing is written: the bucket need not exist.
    std::fs::write(
        &file,
        pipeline("s3://firehose-lake/lake", "s3://firehose-lake/errors"),
    )
    .unwrap();
    let b64 = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
    let inputs: Vec<(String, &str)> = vec![
        (b64(good("u1", 19).as_bytes()), "Ok"),
        (b64(good("bot-2", 19).as_bytes()), "Dropped"),
        (
            b64(good("u3", 19)
                .replace("\"VIEW\"", "\"TELEPORT\"")
                .as_bytes()),
            "ProcessingFailed",
        ),
        (b64(b"{\"user_id\": \"u4\","), "ProcessingFailed"),
        ("not base64!".to_string(), "ProcessingFailed"),
        (b64(format!("{}\n", good("u6", 18)).as_bytes()), "Ok"),
    ];
    let records: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, (data, _))| {
            serde_json::json!({
                "recordId": format!("4954698668313554428650745793632167567570019247115678515{i}"),
                "approximateArrivalTimestamp": 1771492500125u64,
                "data": data,
            })
        })
        .collect();
    let event = serde_json::json!({
        "invocationId": "invocation-1",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/clicks",
        "region": "us-east-1",
        "records": records,
    });
    let event_file = dir.join("firehose.json");
    std::fs::write(&event_file, event.to_string()).unwrap();
    let mut function = Function::start(dir, &[("WEIR_PIPELINE", file.display().to_string())]);
    let answer = function.invoke(&event_file);
    let answered = answer["records"].as_array().expect("records in the answer");
    assert_eq!(answered.len(), inputs.len());
    for (i, ((data, result), got)) in inputs.iter().zip(answered).enumerate() {
        assert_eq!(
            got["recordId"], records[i]["recordId"],
            "record {i} in order"
        );
        assert_eq!(got["result"], *result, "record {i}: {got}");
        if *result != "Ok" {
            assert_eq!(got["data"], *data, "record {i} keeps its original data");
            assert!(got.get("metadata").is_none());
        }
    }
    let line = base64::engine::general_purpose::STANDARD
        .decode(answered[0]["data"].as_str().unwrap())
        .unwrap();
    assert!(line.ends_with(b"\n") && line.iter().filter(|&&b| b == b'\n').count() == 1);
    let kept: serde_json::Map<String, Value> = serde_json::from_slice(&line).unwrap();
    let columns: Vec<&str> = kept.keys().map(String::as_str).collect();
    assert_eq!(columns.len(), 12, "the table's columns: {columns:?}");
    assert_eq!(kept["user_id"], "u1");
    assert_eq!(kept["is_high_value"], false);
    assert_eq!(
        answered[0]["metadata"]["partitionKeys"],
        serde_json::json!({"year": "2026", "month": "02", "day": "19"})
    );
    assert_eq!(answered[5]["metadata"]["partitionKeys"]["day"], "18");
    let m = &function.batch_metrics()[0];
    assert_eq!(
        (
            m["RecordsIn"].as_f64(),
            m["Kept"].as_f64(),
            m["Dropped"].as_f64(),
            m["Rejected"].as_f64()
        ),
        (Some(6.0), Some(2.0), Some(1.0), Some(3.0))
    );
}

/// The scheduled ETL as an invocation: `{"etl": {"input", "date"}}` runs the
/// raw zone's day (records one per line or back to back, as Firehose
/// writes them) into the pipeline's lake and answers with the counts.
#[test]
fn an_etl_invocation_runs_the_raw_day() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let lake = bucket("lambda-etl-lake");
    let file = dir.join("pipeline.toml");
    std::fs::write(
        &file,
        pipeline(
            &format!("s3://{lake}/processed"),
            &format!("s3://{lake}/errors"),
        ),
    )
    .unwrap();
    // Two events back to back without a newline, one per line, one bad.
    let raw = format!(
        "{}{}\n{}\n{{\"user_id\": \"x\",\n",
        good("u1", 19),
        good("u2", 19),
        good("u3", 18)
    );
    let object = dir.join("raw-object");
    std::fs::write(&object, raw).unwrap();
    boto(
        moto(),
        &[
            "upload",
            &lake,
            "raw/year=2026/month=02/day=19/clicks-1",
            object.to_str().unwrap(),
        ],
    );
    let event = dir.join("etl.json");
    std::fs::write(
        &event,
        serde_json::json!({"etl": {"input": format!("s3://{lake}/raw"), "date": "2026-02-19"}})
            .to_string(),
    )
    .unwrap();
    let mut function = Function::start(dir, &[("WEIR_PIPELINE", file.display().to_string())]);
    let answer = function.invoke(&event);
    assert_eq!(answer["day"], "2026-02-19", "{answer}");
    assert_eq!(answer["objects"], 1);
    assert_eq!(
        (
            answer["read"].as_u64(),
            answer["kept"].as_u64(),
            answer["rejected"].as_u64()
        ),
        (Some(4), Some(3), Some(1))
    );
    let data = objects(&lake, "processed", dir);
    assert_eq!(users_in(&data), vec!["u1", "u2", "u3"]);
    assert!(data.keys().any(|key| key.contains("/day=18/")));
}

/// The fault matrix for the Lambda host: a proxy in front of S3 fails one
/// connection of an invocation (503, reset, or a stall the attempt timeout
/// ends), at points from the first to the last. With retries off the
/// invocation names the first record not durable, and Lambda's retries
/// (the batch again from that record) leave every kept event and every
/// dead letter exactly once, as an invocation that met no fault does.
#[test]
fn a_failure_at_any_s3_request_loses_nothing_after_lambdas_retries() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut lines: Vec<String> = Vec::new();
    for i in 0..30 {
        lines.push(good(&format!("u{i:02}"), 18 + (i % 3)));
    }
    lines[7] = lines[7].replace("\"VIEW\"", "\"TELEPORT\"");
    lines[21] = "{not json".to_string();
    let (event, records) = kinesis_event(dir, "batch", &lines, &["--aggregate", "3"]);
    let settings = "\n[s3]\nmax_attempts = 1\nattempt_timeout_secs = 2\n";

    // What a case leaves: the kept users, and each dead letter's position
    // and code, sorted.
    let outcome = |lake: &str| {
        let letters: Vec<(String, String)> = {
            let mut letters: Vec<(String, String)> = objects(lake, "errors", dir)
                .values()
                .flatten()
                .map(|l| (l["position"].to_string(), l["code"].to_string()))
                .collect();
            letters.sort();
            letters
        };
        (users_in(&objects(lake, "lake", dir)), letters)
    };
    // Invoke, then retry from each first record not durable, as Lambda
    // does, until the batch is done. Returns the number of invocations.
    let invoke_until_done = |function: &mut Function, case: &str| {
        let mut next = event.clone();
        for invocation in 1..=6 {
            let answer = function.invoke(&next);
            let failures = answer["batchItemFailures"].as_array().unwrap();
            let Some(first) = failures.first() else {
                return invocation;
            };
            let from = first["itemIdentifier"].as_str().unwrap().to_string();
            assert!(records.iter().any(|(sequence, _)| *sequence == from));
            next = kinesis_event(
                dir,
                &format!("{case}-retry-{invocation}"),
                &lines,
                &["--aggregate", "3", "--from", &from],
            )
            .0;
        }
        panic!("{case}: still failing after six invocations");
    };
    let start = |lake: &str, endpoint: &str| {
        let file = dir.join(format!("{lake}.toml"));
        std::fs::write(
            &file,
            pipeline(&format!("s3://{lake}/lake"), &format!("s3://{lake}/errors")) + settings,
        )
        .unwrap();
        Function::start(
            dir,
            &[
                ("WEIR_PIPELINE", file.display().to_string()),
                ("AWS_ENDPOINT_URL", endpoint.to_string()),
            ],
        )
    };

    let clean = bucket("lambda-faults-clean");
    let (endpoint, seen) = fault_proxy(moto(), |_| None);
    let mut function = start(&clean, &endpoint);
    assert_eq!(invoke_until_done(&mut function, "clean"), 1);
    drop(function);
    let total = seen.load(std::sync::atomic::Ordering::SeqCst);
    let expected = outcome(&clean);
    assert_eq!(expected.0.len(), 28, "{expected:?}");
    assert_eq!(expected.1.len(), 2, "{expected:?}");

    let points = crate::s3::fault_points(total);
    let mut matrix = Vec::new();
    for fault in [Fault::Refuse, Fault::Reset, Fault::Stall] {
        for &at in &points {
            let case = format!("lambda-faults-{}-{at}", format!("{fault:?}").to_lowercase());
            let lake = bucket(&case);
            let (endpoint, _) = fault_proxy(moto(), move |n| (n == at).then_some(fault));
            let mut function = start(&lake, &endpoint);
            let invocations = invoke_until_done(&mut function, &case);
            drop(function);
            assert_eq!(
                outcome(&lake),
                expected,
                "{fault:?} at connection {at} of {total}"
            );
            matrix.push((fault, at, invocations));
        }
    }
    // The faults bit: some batches needed Lambda's retry.
    assert!(matrix.iter().any(|(_, _, n)| *n > 1), "{matrix:?}");
    eprintln!("Lambda fault matrix (fault, connection, invocations): {matrix:?} of {total}");
}
