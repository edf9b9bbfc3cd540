//! `weir test`: each bundled plugin passes its own fixtures, and a fixture
//! that does not hold fails with a readable account of every difference.

use std::path::Path;

use crate::common::weir;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The fixture files of a bundled plugin, `plugins/<name>/fixtures/*.jsonl`.
fn fixtures_of(name: &str) -> Vec<String> {
    let dir = Path::new(WORKSPACE)
        .join("plugins")
        .join(name)
        .join("fixtures");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .map(|path| path.display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn bundled_plugins_pass_their_fixtures() {
    for (name, config) in [
        ("validate-clickstream", "{}"),
        ("filter", r#"{"drop_user_prefixes": ["bot-", "test_"]}"#),
        ("enrich", r#"{"high_value_threshold": 500.0}"#),
        ("partition-by-date", "{}"),
    ] {
        let files = fixtures_of(name);
        assert!(!files.is_empty(), "{name} has no fixtures");
        let plugin = format!("bundled:{name}");
        let mut args = vec!["test", "--plugin", &plugin, "--config", config];
        args.extend(files.iter().map(String::as_str));
        let output = weir(&args, Path::new(WORKSPACE));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{name}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("all as expected"), "{stdout}");
    }
}

/// The example pipeline as a whole: the bundled plugins in order.
#[test]
fn the_example_pipeline_passes_its_fixtures() {
    let output = weir(
        &[
            "test",
            "--pipeline",
            "examples/clickstream.toml",
            "examples/fixtures/clickstream.jsonl",
        ],
        Path::new(WORKSPACE),
    );
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_fixture_that_does_not_hold_fails_with_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wrong.jsonl"),
        concat!(
            r#"{"input": {"user_id": "bot-1"}, "expect": "kept"}"#,
            "\n",
            r#"{"input": {"user_id": "u1", "a": 1}, "expect": {"kept": {"user_id": "u2", "b": 1}}}"#,
            "\n",
            r#"{"input": {"user_id": "u3"}, "expect": "kept"}"#,
            "\n",
        ),
    )
    .unwrap();
    let output = weir(
        &[
            "test",
            "--plugin",
            "bundled:filter",
            "--config",
            r#"{"drop_user_prefixes": ["bot-"]}"#,
            "wrong.jsonl",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "FAIL  wrong.jsonl: 2 of 3 cases",
        "line 1: expected kept, got dropped by filter",
        "line 2: kept, but",
        "~ user_id: expected \"u2\", got \"u1\"",
        "- b: 1 (missing)",
        "+ a: 1 (not expected)",
    ] {
        assert!(stdout.contains(needle), "{needle:?} not in:\n{stdout}");
    }
    assert!(!stdout.contains("line 3"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("2 of 3 cases did not go as expected"),
        "{stderr}"
    );
    // A reject with another code, and a keep in another partition, differ.
    std::fs::write(
        dir.path().join("codes.jsonl"),
        concat!(
            r#"{"input": {"user_id": "u1"}, "expect": {"rejected": "wrong-type"}}"#,
            "\n",
            r#"{"input": {"user_id": "u1", "timestamp": "2026-02-19T10:00:00Z"}, "expect": {"kept": true, "partition": {"year": "2026", "month": "02", "day": "20"}}}"#,
            "\n",
        ),
    )
    .unwrap();
    let output = weir(
        &[
            "test",
            "--plugin",
            "bundled:validate-clickstream",
            "codes.jsonl",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(
        stdout.contains("line 1: expected rejected wrong-type, got rejected missing-field by validate-clickstream"),
        "{stdout}"
    );
    let output = weir(
        &[
            "test",
            "--plugin",
            "bundled:partition-by-date",
            "codes.jsonl",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(
        stdout.contains(r#"partition: expected {"day": "20", "month": "02", "year": "2026"}, got {"day": "19", "month": "02", "year": "2026"}"#),
        "{stdout}"
    );
    // A broken fixture file is one line naming the file, the line and why.
    std::fs::write(dir.path().join("broken.jsonl"), "{\"input\": {}}\n").unwrap();
    let output = weir(
        &["test", "--plugin", "bundled:filter", "broken.jsonl"],
        dir.path(),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.jsonl line 1: no \"expect\"") && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
}
