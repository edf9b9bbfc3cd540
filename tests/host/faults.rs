//! The fault matrix for `weir run` into S3: a proxy in front of the real S3
//! server (moto) fails one connection of the run, at points from the first
//! request (the lake's record of the input) to the last, by answering
//! `503 Slow Down`, by closing the connection unanswered, or by never
//! answering (a stall, which the attempt timeout ends). With retries off,
//! the fault stops the run (or the run gets past it); either way, a rerun
//! leaves the lake exactly as a run that met no fault: every event once, no
//! file of the failed run left beside it. (`weir consume` and the Lambda
//! host meet the same faults in `tests/host/kinesis.rs` and `tests/host/lambda.rs`.)

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{generate, run_json, tree, weir_command};
use crate::s3::{Fault, boto, bucket, fault_proxy, moto, s3_command};

/// The lake under `prefix` of `bucket`, downloaded, without the lake's
/// bookkeeping (`_weir/`).
fn lake_of(bucket: &str, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let target = dir.join(format!("download-{bucket}"));
    boto(
        moto(),
        &["download", bucket, "lake", target.to_str().unwrap()],
    );
    without_bookkeeping(tree(&target))
}

fn without_bookkeeping(mut lake: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    lake.retain(|key, _| !key.starts_with("_weir/"));
    lake
}

#[test]
fn a_failure_at_any_request_of_a_run_leaves_every_event_once_after_the_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    generate(dir, 3_000, 0.02);
    // Retries off: one refused request fails the run; a stalled one fails
    // after two seconds.
    std::fs::write(
        dir.join("pipeline.toml"),
        include_str!("../../examples/clickstream.toml").to_string()
            + "\n[s3]\nmax_attempts = 1\nattempt_timeout_secs = 2\n",
    )
    .unwrap();
    run_json(weir_command(dir), "pipeline.toml", "local");
    let expected = without_bookkeeping(tree(&dir.join("local")));
    assert!(expected.len() > 5, "{:?}", expected.keys());

    // How many connections a run without faults makes.
    let clean = bucket("faults-clean");
    let (endpoint, seen) = fault_proxy(moto(), |_| None);
    run_json(
        s3_command(dir, &endpoint),
        "pipeline.toml",
        &format!("s3://{clean}/lake"),
    );
    let total = seen.load(std::sync::atomic::Ordering::SeqCst);
    assert!(total >= 3, "{total} connections");
    assert_eq!(lake_of(&clean, dir), expected);

    let points = crate::s3::fault_points(total);
    let mut matrix = Vec::new();
    for fault in [Fault::Refuse, Fault::Reset, Fault::Stall] {
        for &at in &points {
            let name = bucket(&format!(
                "faults-{}-{at}",
                format!("{fault:?}").to_lowercase()
            ));
            let lake = format!("s3://{name}/lake");
            let (endpoint, _) = fault_proxy(moto(), move |n| (n == at).then_some(fault));
            let started = std::time::Instant::now();
            let first = s3_command(dir, &endpoint)
                .args([
                    "run",
                    "--pipeline",
                    "pipeline.toml",
                    "--input",
                    "events.jsonl",
                    "--lake",
                    &lake,
                ])
                .output()
                .unwrap();
            // A stall costs the attempt timeout, not the proxy's ten minutes.
            assert!(
                started.elapsed() < std::time::Duration::from_secs(90),
                "{fault:?} at {at}: the run waited {:?}",
                started.elapsed()
            );
            if !first.status.success() {
                // A failed run says what failed, in one line.
                let stderr = String::from_utf8_lossy(&first.stderr);
                let errors = stderr.lines().filter(|l| l.starts_with("error")).count();
                assert_eq!(errors, 1, "{stderr}");
                if fault == Fault::Stall {
                    assert!(
                        stderr.contains("timeout") || stderr.contains("timed out"),
                        "{stderr}"
                    );
                }
            }
            // The rerun, with nothing in the way.
            run_json(s3_command(dir, moto()), "pipeline.toml", &lake);
            assert_eq!(
                lake_of(&name, dir),
                expected,
                "{fault:?} at connection {at} of {total}"
            );
            matrix.push((fault, at, first.status.success()));
        }
    }
    // The faults bit: some first runs failed.
    assert!(
        matrix.iter().any(|(_, _, succeeded)| !succeeded),
        "{matrix:?}"
    );
    eprintln!("fault matrix (fault, connection, first run succeeded): {matrix:?} of {total}");
}
