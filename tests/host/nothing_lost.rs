//! Every line read leaves as exactly one of kept, dropped or rejected, on
//! input as bad as it gets, through the real `weir` binary.

use base64::Engine as _;

use crate::common::{example_pipeline_jsonl, json_of, jsonl_lines, parquet_rows, weir};

fn good(user: &str, action: &str) -> String {
    format!(
        r#"{{"user_id":"{user}","product_id":"p1","product_category":"Books","action":"{action}","price":12.5,"device":"Mobile","timestamp":"2026-02-19T11:05:00Z"}}"#
    )
}

#[test]
fn mixed_bad_input_is_fully_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let mut input: Vec<Vec<u8>> = Vec::new();
    let mut expected_rejects = Vec::new();
    for i in 0..50 {
        input.push(good(&format!("u{i}"), "VIEW").into_bytes());
    }
    input.push(good("bot-7", "VIEW").into_bytes()); // dropped by the filter
    input.push(Vec::new()); // blank: dropped by the host
    input.push(b"   \t".to_vec()); // blank too
    input.push(b"{\"user_id\": \"u1\",".to_vec());
    expected_rejects.push("malformed-json");
    input.push(b"{\"user_id\":\"\xff\xfe\"}".to_vec());
    expected_rejects.push("invalid-utf8");
    input.push(format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes());
    expected_rejects.push("not-an-object");
    input.push(format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200)).into_bytes());
    expected_rejects.push("too-deep");
    input.push(format!(r#"{{"user_id":"{}"}}"#, "x".repeat(2 * 1024 * 1024)).into_bytes());
    expected_rejects.push("too-large");
    input.push(good("u1", "VIEW").replace("12.5", "\"12.5\"").into_bytes());
    expected_rejects.push("wrong-type");
    input.push(good("u1", "TELEPORT").into_bytes());
    expected_rejects.push("unknown-action");
    input.push(
        good("u1", "VIEW")
            .replace("2026-02-19T11:05:00Z", "19/02/2026")
            .into_bytes(),
    );
    expected_rejects.push("bad-timestamp");
    input.push(b"null".to_vec());
    expected_rejects.push("not-an-object");
    // Typographic dashes are normalised by the validator: kept.
    input.push(
        good("u2", "PURCHASE")
            .replace("2026-02-19", "2026\u{2013}02\u{2013}19")
            .into_bytes(),
    );
    let mut bytes = input.join(&b'\n');
    bytes.extend_from_slice(b"\n");
    std::fs::write(dir.path().join("mixed.jsonl"), &bytes).unwrap();
    std::fs::write(
        dir.path().join("pipeline.toml"),
        include_str!("../../examples/clickstream.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pipeline-jsonl.toml"),
        example_pipeline_jsonl(),
    )
    .unwrap();
    let run = |pipeline: &str, out: &str| {
        weir(
            &[
                "run",
                "--pipeline",
                pipeline,
                "--input",
                "mixed.jsonl",
                "--lake",
                out,
                "--json",
            ],
            dir.path(),
        )
    };

    // Into a Parquet lake: the same counts, as rows.
    let parquet = run("pipeline.toml", "lake-parquet");
    assert!(
        parquet.status.success(),
        "{}",
        String::from_utf8_lossy(&parquet.stderr)
    );
    let parquet_summary: serde_json::Value = serde_json::from_slice(&parquet.stdout).unwrap();
    assert_eq!(parquet_summary["kept"], 51);
    assert_eq!(
        parquet_rows(&dir.path().join("lake-parquet/ecommerce_events")),
        51
    );
    assert_eq!(
        jsonl_lines(&dir.path().join("lake-parquet/_errors/ecommerce_events")).len(),
        expected_rejects.len()
    );

    // Into a JSON-lines lake, where each event can be read back whole.
    let output = run("pipeline-jsonl.toml", "lake");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let count = |key: &str| summary[key].as_u64().unwrap();
    assert_eq!(count("read"), input.len() as u64);
    assert_eq!(
        count("read"),
        count("kept") + count("dropped") + count("rejected")
    );
    assert_eq!(count("kept"), 51);
    assert_eq!(count("dropped"), 3);
    assert_eq!(count("rejected"), expected_rejects.len() as u64);

    // What the summary says is what the lake holds.
    let kept = jsonl_lines(&dir.path().join("lake/ecommerce_events"));
    assert_eq!(kept.len() as u64, count("kept"));
    let day = dir
        .path()
        .join("lake/ecommerce_events/year=2026/month=02/day=19");
    assert_eq!(jsonl_lines(&day).len(), 51, "all events are of 2026-02-19");
    let event: serde_json::Value = serde_json::from_slice(&kept[0]).unwrap();
    assert_eq!(event["device"], "mobile");
    assert_eq!(event["event_date"], "2026-02-19");
    assert_eq!(event["day_of_week"], "Thursday");

    let letters: Vec<serde_json::Value> =
        jsonl_lines(&dir.path().join("lake/_errors/ecommerce_events"))
            .iter()
            .map(|line| serde_json::from_slice(line).unwrap())
            .collect();
    let mut codes: Vec<&str> = letters
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    codes.sort();
    let mut expected = expected_rejects.clone();
    expected.sort();
    assert_eq!(codes, expected);
    // Every dead letter holds its original bytes, losslessly; a record over
    // the size limit was refused while read, and holds its start (up to the
    // limit) with its whole length in the reason.
    for letter in &letters {
        let position: usize = letter["position"].as_str().unwrap().parse().unwrap();
        let original = &input[position - 1];
        let payload = match letter["payload"].as_str() {
            Some(text) => text.as_bytes().to_vec(),
            None => base64::engine::general_purpose::STANDARD
                .decode(letter["payload_base64"].as_str().unwrap())
                .unwrap(),
        };
        if letter["code"] == "too-large" {
            assert_eq!(payload.len(), 1024 * 1024, "position {position}");
            assert!(original.starts_with(&payload), "position {position}");
            let reason = letter["reason"].as_str().unwrap();
            assert!(
                reason.contains(&format!("record of {} bytes", original.len())),
                "{reason}"
            );
        } else {
            assert_eq!(&payload, original, "position {position}");
        }
        assert!(!letter["reason"].as_str().unwrap().is_empty());
        assert!(letter["plugin"].is_string() && letter["plugin_version"].is_string());
    }
    let by_plugin = |code: &str| {
        letters.iter().find(|l| l["code"] == code).unwrap()["plugin"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(by_plugin("malformed-json"), "weir");
    assert_eq!(by_plugin("wrong-type"), "validate-clickstream");
}

#[test]
fn a_byte_order_mark_crlf_and_big_integers_are_read_as_they_are_meant() {
    // A file saved by a Windows tool: a UTF-8 byte-order mark before the
    // first line and CRLF line ends. Plus an integer no 64-bit signed field
    // can hold, which must be refused by name rather than rounded.
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(good("u1", "VIEW").as_bytes());
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(good("u2", "PURCHASE").as_bytes());
    bytes.extend_from_slice(b"\r\n");
    let big = good("u3", "VIEW").replace("\"price\":12.5", "\"price\":18446744073709551615");
    bytes.extend_from_slice(big.as_bytes());
    bytes.extend_from_slice(b"\r\n");
    std::fs::write(dir.path().join("windows.jsonl"), &bytes).unwrap();
    std::fs::write(dir.path().join("pipeline.toml"), example_pipeline_jsonl()).unwrap();
    let output = weir(
        &[
            "run",
            "--pipeline",
            "pipeline.toml",
            "--input",
            "windows.jsonl",
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
        (&summary["read"], &summary["kept"], &summary["rejected"]),
        (&3.into(), &2.into(), &1.into()),
        "{summary}"
    );
    let kept = jsonl_lines(&dir.path().join("lake/ecommerce_events"));
    let users: Vec<String> = kept
        .iter()
        .map(|line| {
            serde_json::from_slice::<serde_json::Value>(line).unwrap()["user_id"].to_string()
        })
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");
    let letters = jsonl_lines(&dir.path().join("lake/_errors/ecommerce_events"));
    let letter: serde_json::Value = serde_json::from_slice(&letters[0]).unwrap();
    assert_eq!(letter["code"], "number-out-of-range", "{letter}");
    assert_eq!(letter["position"], "3", "{letter}");
}

#[test]
fn a_backfill_over_thousands_of_days_fits_few_open_files() {
    // 3,000 events over about eight years: well over a thousand distinct
    // days, each its own partition, with 256 file descriptors for the whole
    // process. Files are closed and published as partitions go cold.
    let dir = tempfile::tempdir().unwrap();
    let generated = weir(
        &[
            "gen",
            "--events",
            "3000",
            "--days",
            "3000",
            "--start",
            "2018-01-01T00:00:00Z",
            "--output",
            "years.jsonl",
        ],
        dir.path(),
    );
    assert!(generated.status.success());
    std::fs::write(dir.path().join("pipeline.toml"), example_pipeline_jsonl()).unwrap();
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n 256 && exec {} run --pipeline pipeline.toml --input years.jsonl --lake lake --json",
            env!("CARGO_BIN_EXE_weir")
        ))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("WEIR_LOG")
        .output()
        .unwrap();
    let summary = json_of(output);
    let kept = summary["kept"].as_u64().unwrap();
    assert!(kept > 2500, "{summary}");
    let lines = jsonl_lines(&dir.path().join("lake/ecommerce_events"));
    assert_eq!(lines.len() as u64, kept);
    // Every event once: no line twice.
    let distinct: std::collections::HashSet<&Vec<u8>> = lines.iter().collect();
    assert_eq!(distinct.len(), lines.len());
    let days = std::fs::read_dir(dir.path().join("lake/ecommerce_events"))
        .unwrap()
        .flat_map(|year| std::fs::read_dir(year.unwrap().path()).unwrap())
        .flat_map(|month| std::fs::read_dir(month.unwrap().path()).unwrap())
        .count();
    assert!(days > 1000, "{days} day folders");
}

#[test]
fn a_failed_run_leaves_no_temporary_files() {
    // Under `on_plugin_error = "fail"` the third batch stops the run while a
    // file is open with two batches in it: its temporary file goes too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.toml"),
        format!(
            "on_plugin_error = \"fail\"\nbatch_size = 1000\n[[plugin]]\npath = {:?}\n[output]\npartitions = []\n",
            weir_bundled_plugins::TEST_TRAP.path
        ),
    )
    .unwrap();
    let lines: String = (0..3000)
        .map(|i| {
            let user = if i == 2500 {
                "boom".to_string()
            } else {
                format!("u{i}")
            };
            format!("{{\"user_id\":\"{user}\"}}\n")
        })
        .collect();
    std::fs::write(dir.path().join("events.jsonl"), lines).unwrap();
    let output = weir(
        &[
            "run",
            "--pipeline",
            "pipeline.toml",
            "--input",
            "events.jsonl",
            "--lake",
            "lake",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("told to fail"), "{stderr}");
    fn files(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    let mut left = Vec::new();
    files(&dir.path().join("lake"), &mut left);
    assert!(left.iter().all(|path| !path.ends_with(".tmp")), "{left:?}");
}
