//! The `weir` command as a user meets it: one-line errors that name the
//! cause, and runs that can be repeated without duplicating data.

use std::path::Path;

use crate::common::{jsonl_lines, parquet_rows, weir};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn fails_with(dir: &Path, pipeline: &str, needles: &[&str]) {
    write(dir, "p.toml", pipeline);
    let output = weir(
        &[
            "run",
            "--pipeline",
            "p.toml",
            "--input",
            "in.jsonl",
            "--lake",
            "lake",
        ],
        dir,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{pipeline}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{needle:?} not in {stderr}");
    }
}

#[test]
fn bad_pipelines_fail_with_one_line_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in.jsonl", "{}\n");
    fails_with(
        dir.path(),
        "[[plugin]]\npath = \"bundled:filter\"\ncolour = 1\n",
        &["p.toml", "unknown field `colour`", "line 3"],
    );
    fails_with(
        dir.path(),
        "[[plugin]]\npath = \"missing.wasm\"\n",
        &["missing.wasm", "cannot read"],
    );
    fails_with(
        dir.path(),
        "[[plugin]]\npath = \"bundled:enrich\"\n[plugin.config]\nhigh_value_threshold = \"lots\"\n",
        &["enrich", "refused its config", "high_value_threshold"],
    );
    fails_with(
        dir.path(),
        "[[plugin]]\npath = \"bundled:filter\"\nsha256 = \"",
        &["p.toml"],
    );
    let missing = tempfile::tempdir().unwrap();
    let output = weir(
        &["run", "--pipeline", "nope.toml", "--input", "-"],
        missing.path(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("nope.toml"),
        "{stderr}"
    );
}

#[test]
fn running_the_same_input_twice_leaves_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let generated = weir(
        &[
            "gen",
            "--events",
            "3000",
            "--bad-fraction",
            "0.05",
            "--output",
            "events.jsonl",
        ],
        dir.path(),
    );
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    std::fs::write(
        dir.path().join("p.toml"),
        include_str!("../../examples/clickstream.toml"),
    )
    .unwrap();
    let run = || {
        let output = weir(
            &[
                "run",
                "--pipeline",
                "p.toml",
                "--input",
                "events.jsonl",
                "--lake",
                "lake",
            ],
            dir.path(),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut files: Vec<_> = walk(&dir.path().join("lake"));
        files.sort();
        files
    };
    let first = run();
    let second = run();
    let names =
        |files: &[(String, Vec<u8>)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&first), names(&second));
    for ((name, a), (_, b)) in first.iter().zip(&second) {
        assert!(
            a == b,
            "{name} differs:\n{}\n{}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
    assert!(
        first
            .iter()
            .any(|(name, _)| name.contains("_errors/ecommerce_events/dt=")),
        "{:?}",
        names(&first)
    );
    assert!(
        first.iter().all(|(name, _)| !name.ends_with(".tmp")),
        "{:?}",
        names(&first)
    );
    let kept = parquet_rows(&dir.path().join("lake/ecommerce_events"));
    assert!(kept > 2_500, "{kept}");
}

fn walk(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    files
}

#[test]
fn demo_runs_the_whole_job() {
    let dir = tempfile::tempdir().unwrap();
    let output = weir(&["demo", "--events", "5000", "--dir", "demo"], dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("read 5000"), "{stderr}");
    assert!(parquet_rows(&dir.path().join("demo/lake/ecommerce_events")) > 4_500);
}

#[test]
fn events_that_do_not_fit_the_columns_are_rejected_by_the_host() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "in.jsonl",
        "{\"user_id\":\"a\",\"qty\":1}\n{\"user_id\":\"b\",\"qty\":1.5}\n{\"qty\":2}\n{\"user_id\":\"c\",\"qty\":3.0,\"other\":[1]}\n",
    );
    write(
        dir.path(),
        "p.toml",
        r#"
        [[plugin]]
        path = "bundled:filter"
        [output]
        format = "parquet"
        partitions = []
        [[output.column]]
        name = "user_id"
        type = "string"
        nullable = false
        [[output.column]]
        name = "qty"
        type = "int64"
        "#,
    );
    let output = weir(
        &[
            "run",
            "--pipeline",
            "p.toml",
            "--input",
            "in.jsonl",
            "--lake",
            "lake",
            "--json",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (summary["kept"].as_u64(), summary["rejected"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(parquet_rows(&dir.path().join("lake/events")), 2);
    // The file is named after the rows it holds: lines 1 to 4.
    let names: Vec<String> = walk(&dir.path().join("lake/events"))
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.ends_with(".parquet"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = names[0].rsplit('/').next().unwrap();
    let id = name
        .strip_prefix("part-in-")
        .and_then(|rest| rest.strip_suffix("-000000000001-000000000004.parquet"))
        .unwrap_or_else(|| panic!("{names:?}"));
    assert!(
        id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{names:?}"
    );

    // When nothing fits, no empty file is left behind.
    write(
        dir.path(),
        "misfits.jsonl",
        "{\"qty\":2}\n{\"user_id\":\"b\",\"qty\":1.5}\n",
    );
    let output = weir(
        &[
            "run",
            "--pipeline",
            "p.toml",
            "--input",
            "misfits.jsonl",
            "--lake",
            "none",
            "--json",
            // Every event is meant to be rejected here.
            "--max-reject-ratio",
            "1",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (summary["rejected"].as_u64(), summary["files"].as_u64()),
        (Some(2), Some(0))
    );
    assert!(
        walk(&dir.path().join("none"))
            .iter()
            .all(|(name, _)| !name.contains("/events/part-")),
        "an empty data file was left behind"
    );
    let mut letters: Vec<(String, String)> = jsonl_lines(&dir.path().join("lake/_errors/events"))
        .iter()
        .map(|line| {
            let letter: serde_json::Value = serde_json::from_slice(line).unwrap();
            (
                letter["code"].as_str().unwrap().to_string(),
                letter["plugin"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    letters.sort();
    assert_eq!(
        letters,
        [
            ("bad-column".to_string(), "weir".to_string()),
            ("missing-column".to_string(), "weir".to_string())
        ]
    );
}

#[test]
fn events_land_in_the_folders_the_table_declares() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "in.jsonl",
        concat!(
            "{\"user_id\":\"a\",\"timestamp\":\"2026-02-19T23:30:00-02:00\"}\n",
            "{\"user_id\":\"b\",\"timestamp\":\"2026-03-01T00:00:00Z\"}\n",
            "{\"user_id\":\"c\",\"timestamp\":\"yesterday\"}\n",
        ),
    );
    // No plugin partitions: the table's year/month/day come from each
    // event's own timestamp, in UTC.
    write(
        dir.path(),
        "own.toml",
        "[[plugin]]\npath = \"bundled:filter\"\n",
    );
    let output = weir(
        &[
            "run",
            "--pipeline",
            "own.toml",
            "--input",
            "in.jsonl",
            "--lake",
            "own",
            "--json",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        jsonl_lines(&dir.path().join("own/events/year=2026/month=02/day=20")).len(),
        1
    );
    assert_eq!(
        jsonl_lines(&dir.path().join("own/events/year=2026/month=03/day=01")).len(),
        1
    );
    let letters = jsonl_lines(&dir.path().join("own/_errors/events"));
    assert_eq!(letters.len(), 1);
    assert!(String::from_utf8_lossy(&letters[0]).contains("bad-partition"));

    // A plugin that partitions by other keys than the table's is refused.
    write(
        dir.path(),
        "hour.toml",
        "[[plugin]]\npath = \"bundled:partition-by-date\"\nconfig = { hour = true }\n",
    );
    let output = weir(
        &[
            "run",
            "--pipeline",
            "hour.toml",
            "--input",
            "in.jsonl",
            "--lake",
            "hour",
            "--json",
            "--max-reject-ratio",
            "1",
        ],
        dir.path(),
    );
    assert!(output.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["kept"], 0);
    assert_eq!(summary["rejected"], 3);
    let reasons: Vec<String> = jsonl_lines(&dir.path().join("hour/_errors/events"))
        .iter()
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect();
    assert!(
        reasons
            .iter()
            .filter(|r| r.contains("year/month/day/hour"))
            .count()
            == 2,
        "{reasons:?}"
    );
}

#[test]
fn json_lines_can_be_gzipped() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let generated = weir(
        &["gen", "--events", "2000", "--output", "events.jsonl"],
        dir.path(),
    );
    assert!(generated.status.success());
    let pipeline = crate::common::example_pipeline_jsonl()
        .replace("compression = \"none\"", "compression = \"gzip\"");
    write(dir.path(), "p.toml", &pipeline);
    let output = weir(
        &[
            "run",
            "--pipeline",
            "p.toml",
            "--input",
            "events.jsonl",
            "--lake",
            "lake",
            "--json",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut lines = 0;
    let mut days = std::collections::BTreeSet::new();
    for (name, bytes) in walk(&dir.path().join("lake/ecommerce_events")) {
        assert!(name.ends_with(".jsonl.gz"), "{name}");
        days.insert(name.rsplit_once('/').unwrap().0.to_string());
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        for line in text.lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(event["event_date"].is_string());
            lines += 1;
        }
    }
    assert_eq!(Some(lines), summary["kept"].as_u64());
    // `weir query` reads the gzip table as it is, partitions included.
    let output = weir(
        &[
            "query",
            "SELECT COUNT(*) AS n, COUNT(DISTINCT year * 10000 + month * 100 + day) AS days FROM ecommerce_events",
            "--lake",
            "lake",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(output.status.success(), "{output:?}");
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["n"].as_u64(), Some(lines), "{answer}");
    assert!(days.len() > 1, "{days:?}");
    assert_eq!(answer["days"].as_u64(), Some(days.len() as u64), "{answer}");
    // Gzip is for JSON lines only.
    write(
        dir.path(),
        "bad.toml",
        &include_str!("../../examples/clickstream.toml").replace("\"snappy\"", "\"gzip\""),
    );
    let output = weir(
        &[
            "run",
            "--pipeline",
            "bad.toml",
            "--input",
            "events.jsonl",
            "--lake",
            "x",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not apply"));
}

/// JSON lines with declared columns hold exactly those columns, in order,
/// converted to their types; a value that does not fit is a reject naming
/// the column, not a line Athena cannot read.
#[test]
fn json_lines_follow_the_declared_columns() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.toml",
        r#"
[[plugin]]
path = "bundled:filter"

[output]
format = "jsonl"
table = "t"

[[output.column]]
name = "user_id"
type = "string"
nullable = false

[[output.column]]
name = "price"
type = "double"

[[output.column]]
name = "quantity"
type = "int64"

[[output.column]]
name = "timestamp"
type = "timestamp"

[[output.column]]
name = "sale_day"
type = "date"
"#,
    );
    write(
        dir.path(),
        "in.jsonl",
        concat!(
            r#"{"user_id":"u1","price":10,"quantity":2.0,"timestamp":"2026-02-19T10:15:00+01:00","sale_day":"2026-02-19","extra":true}"#,
            "\n",
            r#"{"user_id":"u2","timestamp":"2026-02-19T23:00:00Z"}"#,
            "\n",
            r#"{"user_id":"u3","price":"cheap","timestamp":"2026-02-19T23:00:00Z"}"#,
            "\n",
            r#"{"price":1.5,"timestamp":"2026-02-19T23:00:00Z"}"#,
            "\n",
        ),
    );
    let output = weir(
        &[
            "run",
            "--pipeline",
            "p.toml",
            "--input",
            "in.jsonl",
            "--lake",
            "lake",
            "--json",
        ],
        dir.path(),
    );
    assert!(output.status.success(), "{output:?}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (summary["kept"].as_u64(), summary["rejected"].as_u64()),
        (Some(2), Some(2))
    );
    let lines: Vec<String> = jsonl_lines(&dir.path().join("lake/t"))
        .into_iter()
        .map(|line| String::from_utf8(line).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            r#"{"user_id":"u1","price":10.0,"quantity":2,"timestamp":"2026-02-19T09:15:00.000000Z","sale_day":"2026-02-19"}"#,
            r#"{"user_id":"u2","price":null,"quantity":null,"timestamp":"2026-02-19T23:00:00.000000Z","sale_day":null}"#,
        ]
    );
    let errors: Vec<serde_json::Value> = jsonl_lines(&dir.path().join("lake/_errors/t"))
        .iter()
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect();
    let mut codes: Vec<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    codes.sort();
    assert_eq!(codes[0].0, "bad-column");
    assert!(codes[0].1.contains("`price`"), "{codes:?}");
    assert_eq!(codes[1].0, "missing-column");
    assert!(codes[1].1.contains("`user_id`"), "{codes:?}");
}

/// `weir plugin inspect` tells what a component is and asks for; a
/// component built against another contract version is refused, by inspect
/// and at load, with a message that says so.
#[test]
fn plugin_inspect_and_the_contract_version() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let filter = weir_bundled_plugins::FILTER.path;
    let output = weir(&["plugin", "inspect", filter, "--json"], dir.path());
    assert!(output.status.success(), "{output:?}");
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(info["name"], "filter");
    assert_eq!(info["contract"], "0.1.0");
    let bytes = std::fs::read(filter).unwrap();
    assert_eq!(info["size"], bytes.len() as u64);
    assert_eq!(info["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(
        info["exports"],
        serde_json::json!(["weir:plugin/transform@0.1.0"])
    );
    let imports = |info: &serde_json::Value| -> Vec<String> {
        info["imports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap().to_string())
            .collect()
    };
    // The filter asks for no files and no network; the snooping test plugin
    // does, and inspect shows it (the host still grants it nothing).
    assert!(
        !imports(&info)
            .iter()
            .any(|name| name.starts_with("wasi:filesystem") || name.starts_with("wasi:sockets")),
        "{info}"
    );
    let snoop = weir(
        &[
            "plugin",
            "inspect",
            weir_bundled_plugins::TEST_SNOOP.path,
            "--json",
        ],
        dir.path(),
    );
    let snoop: serde_json::Value = serde_json::from_slice(&snoop.stdout).unwrap();
    let snoop_imports = imports(&snoop);
    assert!(
        snoop_imports
            .iter()
            .any(|name| name.starts_with("wasi:filesystem"))
            && snoop_imports
                .iter()
                .any(|name| name.starts_with("wasi:sockets")),
        "{snoop}"
    );

    // The same plugin, as if built against contract 0.2.0.
    let mut other = bytes.clone();
    for interface in ["transform", "types", "log"] {
        let from = format!("weir:plugin/{interface}@0.1.0");
        let to = format!("weir:plugin/{interface}@0.2.0");
        let mut at = 0;
        while let Some(found) = other[at..]
            .windows(from.len())
            .position(|window| window == from.as_bytes())
        {
            let start = at + found;
            other[start..start + to.len()].copy_from_slice(to.as_bytes());
            at = start + to.len();
        }
    }
    assert_ne!(other, bytes);
    std::fs::write(dir.path().join("future.wasm"), &other).unwrap();
    let output = weir(&["plugin", "inspect", "future.wasm"], dir.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("built against contract weir:plugin@0.2.0")
            && stderr.contains("this host speaks weir:plugin@0.1.0")
            && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
    write(dir.path(), "p.toml", "[[plugin]]\npath = \"future.wasm\"\n");
    write(dir.path(), "in.jsonl", "{}\n");
    let output = weir(
        &[
            "run",
            "--pipeline",
            "p.toml",
            "--input",
            "in.jsonl",
            "--lake",
            "lake",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("weir:plugin@0.2.0"), "{stderr}");
    assert!(!dir.path().join("lake").exists());
}

/// `weir … | head`: the reader closing the pipe early ends the command
/// quietly and successfully, as with any Unix tool; before, `weir query`
/// panicked with `failed printing to stdout: Broken pipe` (exit 101).
#[test]
fn output_cut_short_by_its_reader_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::generate(dir.path(), 20_000, 0.0);
    std::fs::write(
        dir.path().join("pipeline.toml"),
        crate::common::example_pipeline_jsonl(),
    )
    .unwrap();
    crate::common::run_json(
        crate::common::weir_command(dir.path()),
        "pipeline.toml",
        "lake",
    );
    let weir = env!("CARGO_BIN_EXE_weir");
    for (what, command) in [
        (
            "query",
            format!("{weir} query --lake lake 'SELECT * FROM ecommerce_events'"),
        ),
        ("gen", format!("{weir} gen --events 200000")),
    ] {
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -o pipefail; {command} | head -n 3"))
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{what}: {:?} {stderr}",
            output.status
        );
        assert!(stderr.is_empty(), "{what} said: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).lines().count(),
            3,
            "{what}"
        );
    }
}

/// Log lines carry no colour codes when standard error is not a terminal
/// (a log file, CI), even without NO_COLOR.
#[test]
fn logs_off_a_terminal_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::generate(dir.path(), 100, 0.0);
    std::fs::write(
        dir.path().join("pipeline.toml"),
        crate::common::example_pipeline_jsonl(),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "run",
            "--pipeline",
            "pipeline.toml",
            "--input",
            "events.jsonl",
            "--lake",
            "lake",
        ])
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .env("WEIR_LOG", "debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("DEBUG") || stderr.contains("INFO"),
        "no log lines to check: {stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes off a terminal: {stderr:?}"
    );
}
