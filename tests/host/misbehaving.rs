//! Plugins that trap, spin, hoard memory or snoop: the host survives each,
//! reports the cause, accounts for every event, and the plugin sees nothing.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use weir::engine::Limits;
use weir::pipeline::OnPluginError;
use weir_bundled_plugins::{TEST_HOG, TEST_SNOOP, TEST_SPIN, TEST_TRAP};

use crate::common::{batch_of, fates, pipeline_of, reasons};

const GOOD: &str = r#"{"user_id":"u1"}"#;

#[test]
fn a_trap_rejects_only_the_event_it_fails_on_and_the_next_call_runs_on_a_new_instance() {
    let mut pipeline = pipeline_of(TEST_TRAP, "{}", Limits::default(), OnPluginError::Reject);
    let mut batch = batch_of(&[GOOD, r#"{"user_id":"boom"}"#, GOOD]);
    pipeline
        .run(&mut batch)
        .expect("the reject policy never fails a batch");
    // The batch failed; its halves ran again, each on a new instance, until
    // the event the plugin fails on stood alone.
    assert_eq!(fates(&batch), ["kept", "rejected:plugin-failed", "kept"]);
    let reason = &reasons(&batch)[0];
    assert!(reason.contains("trapped"), "{reason}");
    // The panic message from the plugin's standard error names the cause.
    assert!(reason.contains("told to fail at position 2"), "{reason}");

    let mut next = batch_of(&[GOOD, GOOD]);
    pipeline.run(&mut next).unwrap();
    assert_eq!(fates(&next), ["kept", "kept"]);
    let stats = &pipeline.steps()[0].stats;
    // Three calls failed: the batch, the half [GOOD] [boom, GOOD] holding
    // boom, and boom alone.
    assert_eq!(
        (stats.events_in, stats.kept, stats.rejected, stats.failures),
        (5, 4, 1, 3)
    );
}

#[test]
fn a_few_poison_events_in_a_large_batch_cost_only_themselves() {
    let mut pipeline = pipeline_of(TEST_TRAP, "{}", Limits::default(), OnPluginError::Reject);
    let lines: Vec<String> = (0..1000)
        .map(|i| {
            if i == 17 || i == 600 {
                r#"{"user_id":"boom"}"#.to_string()
            } else {
                format!(r#"{{"user_id":"u{i}"}}"#)
            }
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut batch = batch_of(&refs);
    pipeline.run(&mut batch).unwrap();
    let fates = fates(&batch);
    let rejected: Vec<usize> = (0..fates.len()).filter(|&i| fates[i] != "kept").collect();
    assert_eq!(rejected, [17, 600]);
    // A plugin that fails on everything costs a bounded number of calls.
    let everything: Vec<&str> = vec![r#"{"user_id":"boom"}"#; 1000];
    let mut batch = batch_of(&everything);
    let before = pipeline.steps()[0].stats.failures;
    pipeline.run(&mut batch).unwrap();
    assert!(
        crate::common::fates(&batch)
            .iter()
            .all(|f| f == "rejected:plugin-failed")
    );
    let calls = pipeline.steps()[0].stats.failures - before;
    // The batch, then at most 128 calls on its parts.
    assert!((2..=129).contains(&calls), "{calls} failed calls");
}

#[test]
fn the_fail_policy_stops_with_the_cause() {
    let mut pipeline = pipeline_of(TEST_TRAP, "{}", Limits::default(), OnPluginError::Fail);
    let mut batch = batch_of(&[r#"{"user_id":"boom"}"#]);
    let err = pipeline.run(&mut batch).unwrap_err().to_string();
    assert!(err.starts_with("plugin test-trap failed: trapped"), "{err}");
}

#[test]
fn an_endless_loop_hits_the_deadline() {
    let limits = Limits {
        call_timeout_ms: 200,
        ..Limits::default()
    };
    let mut pipeline = pipeline_of(TEST_SPIN, "{}", limits, OnPluginError::Reject);
    let started = Instant::now();
    let mut batch = batch_of(&[GOOD, r#"{"user_id":"spin"}"#]);
    pipeline.run(&mut batch).unwrap();
    let took = started.elapsed();
    assert_eq!(fates(&batch), ["rejected:plugin-failed"; 2]);
    assert!(
        reasons(&batch)[0].contains("deadline exceeded"),
        "{:?}",
        reasons(&batch)
    );
    // Interrupted near its deadline, not left to run: a correctness bound
    // (the loop never ends by itself), generous for a loaded machine.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let mut next = batch_of(&[GOOD]);
    pipeline.run(&mut next).unwrap();
    assert_eq!(fates(&next), ["kept"]);
}

#[test]
fn a_sleep_does_not_hold_the_host() {
    // Sleeping waits on no real clock: the plugin's monotonic clock moves
    // forward instead, so a 30-second sleep returns at once with its event
    // kept, and a loop of sleeps spins in guest code until the deadline.
    let limits = Limits {
        call_timeout_ms: 200,
        ..Limits::default()
    };
    let mut pipeline = pipeline_of(TEST_SPIN, "{}", limits, OnPluginError::Reject);
    let started = Instant::now();
    let mut batch = batch_of(&[GOOD, r#"{"user_id":"sleep"}"#, GOOD]);
    pipeline.run(&mut batch).unwrap();
    assert_eq!(fates(&batch), ["kept"; 3]);
    let mut batch = batch_of(&[GOOD, r#"{"user_id":"nap-loop"}"#]);
    pipeline.run(&mut batch).unwrap();
    assert_eq!(fates(&batch), ["rejected:plugin-failed"; 2]);
    assert!(
        reasons(&batch)[0].contains("deadline exceeded"),
        "{:?}",
        reasons(&batch)
    );
    // Far below the 30 s the sleep asked for (a bound for a loaded machine).
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_chatty_plugin_keeps_working() {
    // 64 KiB of standard error per batch, batch after batch: the pipe keeps
    // the tail of each call and never refuses a write.
    let mut pipeline = pipeline_of(TEST_SPIN, "{}", Limits::default(), OnPluginError::Reject);
    for _ in 0..20 {
        let mut batch = batch_of(&[r#"{"user_id":"chatter"}"#, GOOD]);
        pipeline.run(&mut batch).unwrap();
        assert_eq!(fates(&batch), ["kept", "kept"], "{:?}", reasons(&batch));
    }
    assert_eq!(pipeline.steps()[0].stats.failures, 0);
}

#[test]
fn unbounded_allocation_hits_the_memory_cap() {
    let limits = Limits {
        memory_mib: 32,
        ..Limits::default()
    };
    let mut pipeline = pipeline_of(TEST_HOG, "{}", limits, OnPluginError::Reject);
    let mut batch = batch_of(&[r#"{"user_id":"hog"}"#, GOOD]);
    pipeline.run(&mut batch).unwrap();
    // Run again in halves: only the event that hoards is rejected.
    assert_eq!(fates(&batch), ["rejected:plugin-failed", "kept"]);
    let reason = &reasons(&batch)[0];
    assert!(
        reason.contains("out of memory") && reason.contains("32 MiB"),
        "{reason}"
    );
    let mut next = batch_of(&[GOOD]);
    pipeline.run(&mut next).unwrap();
    assert_eq!(fates(&next), ["kept"]);
}

#[test]
fn a_plugin_sees_no_environment_files_sockets_or_clock() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "top secret").unwrap();
    let config = serde_json::json!({
        "read_file": secret.path().display().to_string(),
        "connect": address,
    })
    .to_string();
    let mut pipeline = pipeline_of(TEST_SNOOP, &config, Limits::default(), OnPluginError::Fail);
    let mut batch = batch_of(&[GOOD]);
    pipeline.run(&mut batch).unwrap();

    let mut out = Vec::new();
    let arena = batch.arena();
    let weir::pipeline::batch::Fate::Alive { fields, .. } = &batch.records()[0].fate else {
        panic!("snoop keeps every event");
    };
    weir::pipeline::encode::ObjectWriter::new(arena).write(&mut out, fields);
    let seen: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        std::env::vars_os().count() > 0,
        "the test itself has an environment"
    );
    assert_eq!(seen["env_count"], 0, "{seen}");
    assert_eq!(seen["args_count"], 0, "{seen}");
    assert_eq!(seen["clock_secs"], 0, "{seen}");
    for key in ["file_read", "dir_list", "net", "dns"] {
        let value = seen[key].as_str().unwrap();
        assert!(value.starts_with("error"), "{key}: {value}");
    }
    // The listener really was there, and nothing reached it.
    let mut buffer = [0u8; 1];
    match listener.accept() {
        Ok((mut stream, _)) => panic!("the plugin connected: {:?}", stream.read(&mut buffer)),
        Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock),
    }
}
