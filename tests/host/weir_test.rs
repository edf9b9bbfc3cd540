//! `weir test` as a CI user runs it (issue 21): fixture files and one-off
//! `--text` cases, fixtures that carry their own config, `--json` and a
//! JUnit report, exit status 0 when every case holds and 1 otherwise. All
//! against the bundled `filter` plugin, whose config drops user prefixes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::weir;

/// The filter's config in most tests: drop the `bot-` users.
const DROP_BOTS: &str = r#"{"drop_user_prefixes": ["bot-"]}"#;

/// Cases that hold with [`DROP_BOTS`].
const HOLDS: &str = concat!(
    r#"{"input": {"user_id": "bot-1", "action": "VIEW"}, "expect": "dropped"}"#,
    "\n",
    r#"{"input": {"user_id": "u1", "action": "VIEW"}, "expect": {"kept": {"user_id": "u1", "action": "VIEW"}}}"#,
    "\n",
);

/// With [`DROP_BOTS`], line 2 does not hold: `qa-1` is kept. Its user id
/// holds what XML must escape.
const LINE_2_FAILS: &str = concat!(
    r#"{"input": {"user_id": "bot-2"}, "expect": "dropped"}"#,
    "\n",
    r#"{"input": {"user_id": "qa-1 <&\"'>"}, "expect": "dropped"}"#,
    "\n",
    r#"{"input": {"user_id": "u2"}, "expect": "kept"}"#,
    "\n",
);

/// `weir test --plugin bundled:filter` with `args`, in `dir`.
fn test_filter(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["test", "--plugin", "bundled:filter"];
    all.extend_from_slice(args);
    weir(&all, dir)
}

/// Assert that `output` exited with `code` and that its standard output
/// holds `needle`; returns that output.
fn exits_saying(output: &Output, code: i32, needle: &str) -> String {
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains(needle), "{needle:?} not in {stdout}");
    stdout
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder holding the fixture files `holds.jsonl` and `fails.jsonl`.
fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("holds.jsonl"), HOLDS).unwrap();
    std::fs::write(dir.path().join("fails.jsonl"), LINE_2_FAILS).unwrap();
    dir
}

#[test]
fn fixtures_that_hold_pass_and_a_case_that_does_not_fails_by_name() {
    let dir = fixtures();
    let output = test_filter(dir.path(), &["--config", DROP_BOTS, "holds.jsonl"]);
    let stdout = exits_saying(&output, 0, "ok    holds.jsonl (2 cases)");
    assert!(
        stdout.contains("2 cases in 1 files, all as expected"),
        "{stdout}"
    );

    let output = test_filter(
        dir.path(),
        &["--config", DROP_BOTS, "holds.jsonl", "fails.jsonl"],
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("FAIL  fails.jsonl: 1 of 3 cases"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  line 2: expected dropped, got kept"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("line 1:") && !stdout.contains("line 3:"),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: 1 of 5 cases did not go as expected"),
        "{stderr}"
    );
}

#[test]
fn text_cases_run_with_or_without_fixture_files() {
    let dir = fixtures();
    let dropped = r#"{"input": {"user_id": "bot-9"}, "expect": "dropped"}"#;
    let wrong = r#"{"input": {"user_id": "u9"}, "expect": "dropped"}"#;
    // Alone: the case holds.
    let output = test_filter(dir.path(), &["--config", DROP_BOTS, "--text", dropped]);
    exits_saying(&output, 0, "1 cases from --text, all as expected");
    // Beside a fixture file, with a second --text that does not hold.
    let output = test_filter(
        dir.path(),
        &[
            "--config",
            DROP_BOTS,
            "holds.jsonl",
            "--text",
            dropped,
            "--text",
            wrong,
        ],
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("ok    holds.jsonl (2 cases)"), "{stdout}");
    assert!(stdout.contains("FAIL  --text: 1 of 2 cases"), "{stdout}");
    assert!(
        stdout.contains("  --text 2: expected dropped, got kept"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 of 4 cases did not go as expected"),
        "{stderr}"
    );
    // Neither files nor --text: a usage error naming both.
    let output = test_filter(dir.path(), &["--config", DROP_BOTS]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("<FIXTURES|--text <JSON>>"), "{stderr}");
    // A --text that is not JSON is refused, not run as a raw record.
    let output = test_filter(dir.path(), &["--text", r#"{"input": {}, "expect": "kept""#]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: --text 1: not JSON"), "{stderr}");
}

#[test]
fn an_event_alone_prints_what_became_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = test_filter(
        dir.path(),
        &[
            "--config",
            DROP_BOTS,
            "--text",
            r#"{"user_id": "bot-1"}"#,
            "--text",
            r#"{"user_id": "u1", "action": "VIEW"}"#,
            "--text",
            r#"{"input": "{not json"}"#,
        ],
    );
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "--text 1: dropped by filter",
            r#"--text 2: kept {"user_id":"u1","action":"VIEW"}"#,
        ],
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("--text 3: rejected malformed-json by "),
        "{stdout}"
    );
    assert_eq!(
        lines.len(),
        3,
        "nothing was expected, so nothing checked: {stdout}"
    );
    // The same as JSON: what became of each, with the reject's reason.
    let output = test_filter(
        dir.path(),
        &[
            "--config",
            DROP_BOTS,
            "--json",
            "--text",
            r#"{"user_id": "u1"}"#,
            "--text",
            r#"{"input": "{oops"}"#,
        ],
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(report["cases"], 0, "{report}");
    let tried = &report["tried"];
    assert_eq!(tried[0]["text"], 1);
    assert_eq!(tried[0]["outcome"], "kept");
    assert_eq!(tried[0]["event"], serde_json::json!({"user_id": "u1"}));
    assert_eq!(tried[1]["outcome"], "rejected");
    assert_eq!(tried[1]["code"], "malformed-json");
    assert!(!tried[1]["reason"].as_str().unwrap().is_empty(), "{report}");
}

#[test]
fn a_fixture_with_its_own_config_needs_no_config_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cases = concat!(
        r#"{"input": {"user_id": "qa-7"}, "expect": "dropped"}"#,
        "\n",
        r#"{"input": {"user_id": "bot-7"}, "expect": "kept"}"#,
        "\n",
    );
    std::fs::write(
        dir.path().join("own.jsonl"),
        format!("\n{{\"config\": {{\"drop_user_prefixes\": [\"qa-\"]}}}}\n{cases}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("bare.jsonl"), cases).unwrap();
    // Its own config, with none on the command line.
    let output = test_filter(dir.path(), &["own.jsonl"]);
    exits_saying(&output, 0, "ok    own.jsonl (2 cases)");
    // Its own config beats --config, which still serves a file without one.
    std::fs::write(dir.path().join("bots.jsonl"), HOLDS).unwrap();
    let output = test_filter(
        dir.path(),
        &["--config", DROP_BOTS, "own.jsonl", "bots.jsonl"],
    );
    exits_saying(&output, 0, "4 cases in 2 files, all as expected");
    // The same cases without the config line fail.
    let output = test_filter(dir.path(), &["bare.jsonl"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("line 1: expected dropped, got kept"),
        "{stdout}"
    );
    // A pipeline gives its plugins their configs: a fixture's own is an
    // error that names its line.
    std::fs::write(
        dir.path().join("p.toml"),
        "[[plugin]]\npath = \"bundled:filter\"\n[output]\nlocation = \"lake\"\n",
    )
    .unwrap();
    let output = weir(&["test", "--pipeline", "p.toml", "own.jsonl"], dir.path());
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: own.jsonl line 2: a fixture's own config is for testing one --plugin"
        ),
        "{stderr}"
    );
    // A config the plugin refuses is named by the file's line.
    std::fs::write(
        dir.path().join("typo.jsonl"),
        "{\"config\": {\"drop_users\": [\"qa-\"]}}\n",
    )
    .unwrap();
    let stderr = text(&test_filter(dir.path(), &["typo.jsonl"]).stderr);
    assert!(
        stderr.contains("typo.jsonl line 1: the file's own config")
            && stderr.contains("drop_users"),
        "{stderr}"
    );
}

#[test]
fn json_prints_one_document_and_people_read_standard_error() {
    let dir = fixtures();
    let output = test_filter(
        dir.path(),
        &[
            "--config",
            DROP_BOTS,
            "--json",
            "holds.jsonl",
            "fails.jsonl",
        ],
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(report["files"], 2, "{report}");
    assert_eq!(report["cases"], 5, "{report}");
    assert_eq!(report["passed"], false, "{report}");
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{report}");
    assert_eq!(failures[0]["file"], "fails.jsonl");
    assert_eq!(failures[0]["line"], 2);
    assert_eq!(failures[0]["explanation"], "expected dropped, got kept");
    assert!(
        stderr.contains("FAIL  fails.jsonl: 1 of 3 cases"),
        "{stderr}"
    );
    // All as expected.
    let output = test_filter(
        dir.path(),
        &["--config", DROP_BOTS, "--json", "holds.jsonl"],
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        (
            report["files"].clone(),
            report["cases"].clone(),
            report["passed"].clone()
        ),
        (1.into(), 2.into(), true.into()),
        "{report}"
    );
    assert_eq!(report["failures"], serde_json::json!([]));
}

/// A JUnit report read by Python's own XML parser: per suite its name,
/// `tests` and `failures`, and per case its name and failure message.
fn read_junit(path: &Path) -> Value {
    const READ: &str = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
print(json.dumps({"tests": root.get("tests"), "failures": root.get("failures"), "suites": [
    {"name": s.get("name"), "tests": s.get("tests"), "failures": s.get("failures"),
     "cases": [[c.get("name"), [f.get("message") for f in c.findall("failure")]]
               for c in s.findall("testcase")]}
    for s in root.findall("testsuite")]}))
"#;
    let output = Command::new("python3")
        .args(["-c", READ])
        .arg(path)
        .output()
        .expect("python3, whose standard library reads XML");
    assert!(
        output.status.success(),
        "not well-formed: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn junit_report_holds_every_case_and_each_failure() {
    let dir = fixtures();
    let output = test_filter(
        dir.path(),
        &[
            "--config",
            DROP_BOTS,
            "holds.jsonl",
            "fails.jsonl",
            "--text",
            r#"{"input": {"user_id": "bot-3"}, "expect": "dropped"}"#,
            "--text",
            r#"{"user_id": "u3"}"#,
            "--junit",
            "report.xml",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let xml = std::fs::read_to_string(dir.path().join("report.xml")).expect("the report");
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    let report = read_junit(&dir.path().join("report.xml"));
    let expected = serde_json::json!({
        "tests": "6",
        "failures": "1",
        "suites": [
            {"name": "holds.jsonl", "tests": "2", "failures": "0",
             "cases": [["line 1", []], ["line 2", []]]},
            {"name": "fails.jsonl", "tests": "3", "failures": "1",
             "cases": [["line 1", []], ["line 2", ["expected dropped, got kept"]], ["line 3", []]]},
            {"name": "--text", "tests": "1", "failures": "0", "cases": [["--text 1", []]]},
        ]
    });
    assert_eq!(report, expected, "{xml}");
    // A kept event's differences, with what XML must escape, read back
    // as written.
    std::fs::write(
        dir.path().join("diff.jsonl"),
        r#"{"input": {"user_id": "u <&\"'>"}, "expect": {"kept": {"user_id": "u"}}}"#,
    )
    .unwrap();
    let output = test_filter(
        dir.path(),
        &["--config", DROP_BOTS, "diff.jsonl", "--junit", "diff.xml"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report = read_junit(&dir.path().join("diff.xml"));
    assert_eq!(
        report["suites"][0]["cases"][0][1][0],
        r#"kept, but ~ user_id: expected "u", got "u <&\"'>""#,
        "{report}"
    );
}
