//! Every line read leaves as exactly one of kept, dropped or rejected, on
//! input as bad as it gets, through the real `weir` binary.

use base64::Engine as _;

use crate::common::{example_pipeline_jsonl, jsonl_lines, parquet_rows, weir};

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
                "--out",
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
    // Every dead letter holds its original bytes, losslessly.
    for letter in &letters {
        let position: usize = letter["position"].as_str().unwrap().parse().unwrap();
        let original = &input[position - 1];
        let payload = match letter["payload"].as_str() {
            Some(text) => text.as_bytes().to_vec(),
            None => base64::engine::general_purpose::STANDARD
                .decode(letter["payload_base64"].as_str().unwrap())
                .unwrap(),
        };
        assert_eq!(&payload, original, "position {position}");
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
