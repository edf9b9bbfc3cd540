//! The lake on S3: the real `weir` binary with the real AWS SDK against a
//! real S3-compatible server (moto, started here on 127.0.0.1), read back
//! with a client Weir did not write (boto3).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{generate, python, run_json, tree, weir_command};

/// The endpoint of a moto server shared by the tests of this binary; started
/// on first use, gone when the binary exits. Panics when it cannot start.
pub fn moto() -> &'static str {
    static ENDPOINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/python/moto_server.py"
        );
        let mut child = Command::new(python())
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start moto_server.py");
        let mut port = String::new();
        let mut stdout = child.stdout.take().expect("piped");
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
            port.push(byte[0] as char);
        }
        let listening = port.trim().parse::<u16>().ok().filter(|port| {
            (0..300).any(|_| {
                let up = TcpStream::connect(("127.0.0.1", *port)).is_ok();
                if !up {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                up
            })
        });
        match listening {
            Some(port) => {
                // The server outlives every test and exits with this
                // process: a thread owns it and reaps it if it ends first.
                std::thread::spawn(move || child.wait());
                format!("http://127.0.0.1:{port}")
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("moto server did not start on 127.0.0.1 within 30 s (it printed {port:?})");
            }
        }
    })
}

/// Run `tests/python/s3.py` (boto3) against `endpoint`.
pub fn boto(endpoint: &str, args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python/s3.py");
    let output = Command::new(python())
        .arg(script)
        .arg(endpoint)
        .args(args)
        .output()
        .expect("run s3.py");
    assert!(
        output.status.success(),
        "s3.py {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A fresh bucket on the moto server.
pub fn bucket(name: &str) -> String {
    boto(moto(), &["make-bucket", name]);
    name.to_string()
}

/// `weir`, to run in `dir` with credentials for the server at `endpoint` and
/// nothing from this machine's own AWS setup.
pub fn s3_command(dir: &Path, endpoint: &str) -> Command {
    let mut command = weir_command(dir);
    s3_env(&mut command, dir, endpoint);
    command
}

/// Give `command` credentials for the server at `endpoint` and nothing from
/// this machine's own AWS setup.
pub fn s3_env(command: &mut Command, dir: &Path, endpoint: &str) {
    for empty in ["no-aws-config", "no-aws-credentials"] {
        std::fs::write(dir.join(empty), "").unwrap();
    }
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL_S3");
}

/// `weir`, to run in `dir` against the shared moto server (S3 and Kinesis).
pub fn weir_aws(dir: &Path) -> Command {
    s3_command(dir, moto())
}

/// `weir query --format csv` over `lake` against the moto server: the rows
/// without the header, sorted.
pub fn query_rows(dir: &Path, lake: &str, sql: &str) -> Vec<String> {
    let output = weir_aws(dir)
        .args(["query", "--lake", lake, "--format", "csv", sql])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "weir query: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut rows: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    rows.sort();
    rows
}

/// Run `weir` with [`s3_command`].
fn weir_s3(args: &[&str], dir: &Path, endpoint: &str) -> Output {
    s3_command(dir, endpoint)
        .args(args)
        .output()
        .expect("run weir")
}

fn write_pipeline(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn ok(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "weir failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("summary JSON")
}

/// The same input written to a folder and to S3 gives the same objects,
/// byte for byte, data and dead letters alike; writing it again to S3
/// replaces them rather than adding to them.
#[test]
fn s3_lake_equals_the_local_lake() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    generate(dir, 20_000, 0.02);
    let pipeline = write_pipeline(
        dir,
        "pipeline.toml",
        include_str!("../../examples/clickstream.toml"),
    );
    let pipeline = pipeline.to_str().unwrap();
    let local = run_json(weir_command(dir), pipeline, "local");
    let bucket = bucket("same-as-local");
    let out = format!("s3://{bucket}/lake");
    for _ in 0..2 {
        let remote = run_json(s3_command(dir, moto()), pipeline, &out);
        for key in [
            "read",
            "kept",
            "dropped",
            "rejected",
            "files",
            "error_files",
            "bytes",
        ] {
            assert!(local[key].is_u64(), "{key}");
            assert_eq!(local[key], remote[key], "{key}");
        }
    }
    let listed: Vec<serde_json::Value> = serde_json::from_str(&boto(
        moto(),
        &[
            "download",
            &bucket,
            "lake",
            dir.join("mirror").to_str().unwrap(),
        ],
    ))
    .unwrap();
    let local_tree = tree(&dir.join("local"));
    let remote_tree = tree(&dir.join("mirror"));
    assert!(local_tree.len() >= 5, "{:?}", local_tree.keys());
    assert_eq!(
        local_tree.keys().collect::<Vec<_>>(),
        remote_tree.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &local_tree {
        assert!(remote_tree[name] == *bytes, "{name} differs");
    }
    assert!(
        local_tree
            .keys()
            .any(|k| k.starts_with("_errors/ecommerce_events/dt=")),
        "no dead letters"
    );
    // `weir query` reads the S3 lake through the same client and gives the
    // local lake's answers, for every seed query and the dead letters.
    let mut queries: Vec<PathBuf> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../athena/queries"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
    queries.sort();
    assert!(queries.len() >= 6);
    let errors = dir.join("errors.sql");
    std::fs::write(
        &errors,
        "SELECT code, dt, COUNT(*) AS n FROM ecommerce_events_errors GROUP BY code, dt ORDER BY code, dt",
    )
    .unwrap();
    queries.push(errors);
    for query in &queries {
        let query = query.to_str().unwrap();
        let answer = |lake: &str| {
            let output = weir_s3(
                &["query", "--file", query, "--lake", lake, "--format", "csv"],
                dir,
                moto(),
            );
            assert!(
                output.status.success(),
                "{query} over {lake}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            // The seed's own query has no ORDER BY: compare rows as a set.
            let text = String::from_utf8(output.stdout).unwrap();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines[1..].sort();
            lines
        };
        let local = answer("local");
        assert!(local.len() > 1, "{query}: no rows");
        assert_eq!(answer(&out), local, "{query}");
    }
    for object in &listed {
        let key = object["key"].as_str().unwrap();
        let want = if key.ends_with(".parquet") {
            "application/vnd.apache.parquet"
        } else if key.contains("/_weir/inputs/") {
            // The lake's record of what the input wrote.
            "application/json"
        } else {
            "application/x-ndjson"
        };
        assert_eq!(object["content_type"], want, "{key}");
    }
}

/// The example pipeline writing JSON lines, every kept event into one
/// unpartitioned file, with `s3` in its `[s3]` table.
fn one_file_pipeline(s3: &str) -> String {
    let text = crate::common::example_pipeline_jsonl()
        .replace("[[plugin]]\npath = \"bundled:partition-by-date\"\n", "")
        .replace(
            "table = \"ecommerce_events\"",
            "table = \"ecommerce_events\"\npartitions = []",
        );
    assert!(!text.contains("partition-by-date"), "{text}");
    format!("{text}\n[s3]\n{s3}\n")
}

/// An object past the part size goes up by multipart upload (its ETag says
/// how many parts) and arrives whole.
#[test]
fn large_objects_go_up_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    generate(dir, 60_000, 0.0);
    // A day's file would be too small to need parts.
    let text = one_file_pipeline("part_size_mib = 5");
    let pipeline = write_pipeline(dir, "pipeline.toml", &text);
    let pipeline = pipeline.to_str().unwrap();
    let local = run_json(weir_command(dir), pipeline, "local");
    let bucket = bucket("multipart");
    run_json(s3_command(dir, moto()), pipeline, &format!("s3://{bucket}"));
    let listed: Vec<serde_json::Value> = serde_json::from_str(&boto(
        moto(),
        &[
            "download",
            &bucket,
            "",
            dir.join("mirror").to_str().unwrap(),
        ],
    ))
    .unwrap();
    let data: Vec<&serde_json::Value> = listed
        .iter()
        .filter(|o| o["key"].as_str().unwrap().starts_with("ecommerce_events/"))
        .collect();
    assert_eq!(data.len(), 1, "{listed:?}");
    let size = data[0]["size"].as_u64().unwrap();
    assert!(
        size > 10 * 1024 * 1024,
        "only {size} bytes: too small to need parts"
    );
    let parts = size.div_ceil(5 * 1024 * 1024);
    let etag = data[0]["etag"].as_str().unwrap();
    assert!(
        etag.ends_with(&format!("-{parts}")),
        "ETag {etag}: not {parts} parts"
    );
    assert_eq!(local["bytes"], size);
    assert_eq!(tree(&dir.join("local")), tree(&dir.join("mirror")));
}

/// What a [`fault_proxy`] does to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer its first request `503 Slow Down`, as S3 does under load.
    Refuse,
    /// Read its first request and close the connection without an answer.
    Reset,
    /// Read its first request and never answer: hold the connection until
    /// the client gives up on it.
    Stall,
    /// Answer its first request with this HTTP status and S3 error code, as
    /// S3 does for access denied (403 `AccessDenied`) or a bucket in
    /// another region (301 `PermanentRedirect`).
    Answer {
        /// The HTTP status.
        status: u16,
        /// The S3 error code.
        code: &'static str,
    },
}

/// A proxy in front of the S3 server: connection `n` (counted from 0)
/// meets `fault(n)`, if any; the others are forwarded. Returns its endpoint
/// and the count of connections it saw.
pub fn fault_proxy(
    upstream: &str,
    fault: impl Fn(usize) -> Option<Fault> + Send + 'static,
) -> (String, Arc<AtomicUsize>) {
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let number = counter.fetch_add(1, Ordering::SeqCst);
            if let Some(fault) = fault(number) {
                std::thread::spawn(move || {
                    // Read the request head, then fail it.
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n")
                        && client.read(&mut byte).is_ok_and(|n| n == 1)
                    {
                        head.push(byte[0]);
                    }
                    if fault == Fault::Stall {
                        // Until the client closes it (or ten minutes, so a
                        // client that never gives up fails its test).
                        let _ = client.set_read_timeout(Some(std::time::Duration::from_secs(600)));
                        let mut sink = [0u8; 4096];
                        while client.read(&mut sink).is_ok_and(|n| n > 0) {}
                    }
                    if let Fault::Answer { status, code } = fault {
                        let body = format!(
                            "<Error><Code>{code}</Code><Message>{code} (from the test proxy)</Message></Error>"
                        );
                        let _ = write!(
                            client,
                            "HTTP/1.1 {status} {code}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    if fault == Fault::Refuse {
                        let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                        let _ = write!(
                            client,
                            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    let _ = client.shutdown(std::net::Shutdown::Both);
                });
                continue;
            }
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    return;
                };
                let (mut client_read, mut server_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let forward = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_read, &mut server_write);
                    let _ = server_write.shutdown(std::net::Shutdown::Write);
                });
                let (mut server_read, mut client_write) = (server, client);
                let _ = std::io::copy(&mut server_read, &mut client_write);
                let _ = client_write.shutdown(std::net::Shutdown::Write);
                let _ = forward.join();
            });
        }
    });
    (endpoint, seen)
}

/// The connections a fault matrix fails, one per case, of the `total` a
/// fault-free run makes: the first three, the middle one and the last two.
pub fn fault_points(total: usize) -> std::collections::BTreeSet<usize> {
    [
        0,
        1,
        2,
        total / 2,
        total.saturating_sub(2),
        total.saturating_sub(1),
    ]
    .into_iter()
    .filter(|at| *at < total)
    .collect()
}

/// A proxy that answers the first `failures` connections `503 Slow Down`
/// and forwards the rest. Returns its endpoint and how many it refused.
fn flaky_proxy(upstream: &str, failures: usize) -> (String, Arc<AtomicUsize>) {
    let refused = Arc::new(AtomicUsize::new(0));
    let count = refused.clone();
    let (endpoint, _) = fault_proxy(upstream, move |number| {
        (number < failures).then(|| {
            count.fetch_add(1, Ordering::SeqCst);
            Fault::Refuse
        })
    });
    (endpoint, refused)
}

/// Requests the server refuses for a while are retried with backoff, and
/// the run completes with every object written.
#[test]
fn transient_failures_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    generate(dir, 5_000, 0.02);
    let pipeline = write_pipeline(
        dir,
        "pipeline.toml",
        include_str!("../../examples/clickstream.toml"),
    );
    let pipeline = pipeline.to_str().unwrap();
    run_json(weir_command(dir), pipeline, "local");
    let bucket = bucket("flaky");
    let (endpoint, refused) = flaky_proxy(moto(), 3);
    run_json(
        s3_command(dir, &endpoint),
        pipeline,
        &format!("s3://{bucket}/lake"),
    );
    assert_eq!(
        refused.load(Ordering::SeqCst),
        3,
        "the proxy refused no request"
    );
    boto(
        moto(),
        &[
            "download",
            &bucket,
            "lake",
            dir.join("mirror").to_str().unwrap(),
        ],
    );
    assert_eq!(tree(&dir.join("local")), tree(&dir.join("mirror")));
}

/// A write that still fails after the retries, or cannot succeed at all, is
/// an error the caller sees: a non-zero exit and one line naming the object
/// and the cause.
#[test]
fn failed_writes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    generate(dir, 2_000, 0.0);
    let pipeline = write_pipeline(
        dir,
        "pipeline.toml",
        &(include_str!("../../examples/clickstream.toml").to_string()
            + "\n[s3]\nmax_attempts = 2\n"),
    );
    let pipeline = pipeline.to_str().unwrap();
    // No such bucket: the server's answer, not a retry loop.
    let output = weir_s3(
        &[
            "run",
            "--pipeline",
            pipeline,
            "--input",
            "events.jsonl",
            "--lake",
            "s3://no-such-bucket/lake",
        ],
        dir,
        moto(),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    // It stops before running anything: the lake's record of the input is
    // the first object read.
    assert!(
        last.contains("s3://no-such-bucket/lake/") && last.contains("NoSuchBucket"),
        "{stderr}"
    );
    // A server that refuses every request: the one object is tried exactly
    // `max_attempts` times, then the run fails.
    bucket("always-refused");
    write_pipeline(dir, "one-file.toml", &one_file_pipeline("max_attempts = 2"));
    let (endpoint, refused) = flaky_proxy(moto(), usize::MAX);
    let output = weir_s3(
        &[
            "run",
            "--pipeline",
            "one-file.toml",
            "--input",
            "events.jsonl",
            "--lake",
            "s3://always-refused/lake",
        ],
        dir,
        &endpoint,
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.contains("s3://always-refused/lake/") && last.contains("SlowDown"),
        "{stderr}"
    );
    assert_eq!(refused.load(Ordering::SeqCst), 2);
}

/// Compaction on S3 does what it does in a folder, to the byte: the same
/// merged objects, the small ones gone, no journal left.
#[test]
fn compaction_on_s3_matches_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    crate::compact::small_files_lake(dir, 5_000);
    let bucket = bucket("compaction");
    let out = format!("s3://{bucket}/lake");
    run_json(s3_command(dir, moto()), "pipeline.toml", &out);
    let mut reports = Vec::new();
    for lake in ["lake", out.as_str()] {
        let output = weir_s3(
            &[
                "compact",
                "--lake",
                lake,
                "--table",
                "ecommerce_events",
                "--json",
            ],
            dir,
            moto(),
        );
        reports.push(ok(&output));
    }
    assert_eq!(reports[0], reports[1]);
    assert!(
        reports[0]["compacted"].as_u64().unwrap() > 0,
        "{}",
        reports[0]
    );
    boto(
        moto(),
        &[
            "download",
            &bucket,
            "lake",
            dir.join("mirror").to_str().unwrap(),
        ],
    );
    assert_eq!(tree(&dir.join("lake")), tree(&dir.join("mirror")));
    assert!(
        !tree(&dir.join("mirror"))
            .keys()
            .any(|k| k.starts_with("_compaction")),
        "journal left behind"
    );
}
