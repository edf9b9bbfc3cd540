//! `weir compact`: small files merged, rows unchanged, idempotent, and an
//! interrupted compaction finished or undone by the next run.

use std::path::Path;

use crate::common::weir;

/// Every row of the table, sorted, as CSV from `weir query`.
pub fn all_rows(dir: &Path, lake: &str) -> String {
    let output = weir(
        &[
            "query",
            "SELECT user_id, product_id, product_category, action, price, device, timestamp, \
             event_date, event_hour, day_of_week, price_band, is_high_value, year, month, day \
             FROM ecommerce_events ORDER BY timestamp, user_id, action, product_id, price",
            "--lake",
            lake,
            "--format",
            "csv",
        ],
        dir,
    );
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Parquet files per partition folder under `table`.
pub fn files_per_partition(table: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, usize>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                let folder = path.parent().unwrap().strip_prefix(root).unwrap();
                *out.entry(folder.display().to_string()).or_default() += 1;
            }
        }
    }
    walk(table, table, &mut out);
    out
}

/// A lake of many small files: the example pipeline, files rolled every
/// 300 rows.
pub fn small_files_lake(dir: &Path, events: u64) {
    crate::common::generate(dir, events, 0.0);
    let pipeline = include_str!("../../examples/clickstream.toml").replace(
        "table = \"ecommerce_events\"",
        "table = \"ecommerce_events\"\nmax_rows_per_file = 300",
    );
    std::fs::write(dir.join("pipeline.toml"), pipeline).unwrap();
    crate::common::run_json(crate::common::weir_command(dir), "pipeline.toml", "lake");
}

/// Every file under `dir`, recursively (none when it does not exist).
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(files_under(&path));
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn compact(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec![
        "compact",
        "--lake",
        "lake",
        "--table",
        "ecommerce_events",
        "--json",
    ];
    all.extend_from_slice(args);
    let output = weir(&all, dir);
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn merges_small_files_and_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    small_files_lake(dir, 20_000);
    let table = dir.join("lake/ecommerce_events");
    let before = files_per_partition(&table);
    assert!(before.values().all(|n| *n >= 2), "{before:?}");
    let rows = all_rows(dir, "lake");

    // One day first: only its partition changes.
    let (day, _) = before.iter().next().unwrap();
    let date = day
        .split('/')
        .map(|part| part.split_once('=').unwrap().1)
        .collect::<Vec<_>>()
        .join("-");
    let report = compact(dir, &["--date", &date]);
    assert_eq!(report["compacted"], 1, "{report}");
    let after_one = files_per_partition(&table);
    assert_eq!(after_one[day], 1);
    assert_eq!(
        after_one
            .iter()
            .filter(|(k, _)| *k != day)
            .collect::<Vec<_>>(),
        before.iter().filter(|(k, _)| *k != day).collect::<Vec<_>>()
    );

    let report = compact(dir, &[]);
    assert_eq!(report["compacted"], before.len() as u64 - 1, "{report}");
    let merged: usize = before
        .iter()
        .filter(|(k, _)| *k != day)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(report["files_before"], merged as u64, "{report}");
    assert_eq!(report["files_after"], before.len() as u64 - 1, "{report}");
    let after = files_per_partition(&table);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    assert!(after.values().all(|n| *n == 1), "{after:?}");
    assert_eq!(all_rows(dir, "lake"), rows, "rows changed");
    assert!(
        files_under(&dir.join("lake/_compaction")).is_empty(),
        "journals left behind"
    );

    // Again: nothing to do, nothing changes.
    let snapshot = |table: &Path| {
        let mut files = Vec::new();
        for (folder, _) in files_per_partition(table) {
            for entry in std::fs::read_dir(table.join(&folder)).unwrap() {
                let path = entry.unwrap().path();
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
        files.sort();
        files
    };
    let files = snapshot(&table);
    let report = compact(dir, &[]);
    assert_eq!(report["compacted"], 0, "{report}");
    assert_eq!(snapshot(&table), files);
}

/// A journal left by a run that stopped after publishing its new files is
/// completed (the old files removed); one left before is undone (the new
/// files removed). Either way every row is there exactly once.
#[test]
fn an_interrupted_compaction_is_finished_or_undone() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    small_files_lake(dir, 3_000);
    let rows = all_rows(dir, "lake");
    let table = dir.join("lake/ecommerce_events");
    let (day, _) = files_per_partition(&table).into_iter().next().unwrap();
    let folder = table.join(&day);
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Stopped after publishing: a copy of the first file stands for the
    // merged output, so the first file itself is a duplicate to remove.
    std::fs::copy(
        folder.join(&names[0]),
        folder.join("part-compacted-test-0001.parquet"),
    )
    .unwrap();
    let journals = dir.join("lake/_compaction/ecommerce_events").join(&day);
    std::fs::create_dir_all(&journals).unwrap();
    let journal = serde_json::json!({
        "partition": day,
        "inputs": [names[0]],
        "outputs": ["part-compacted-test-0001.parquet"],
        "rows": 0,
    });
    std::fs::write(journals.join("done.json"), journal.to_string()).unwrap();
    // Stopped before publishing: its output never appeared.
    let journal = serde_json::json!({
        "partition": day,
        "inputs": [names[1]],
        "outputs": ["part-compacted-never-0001.parquet"],
        "rows": 0,
    });
    std::fs::write(journals.join("undone.json"), journal.to_string()).unwrap();
    assert_ne!(all_rows(dir, "lake"), rows, "the duplicate should show");

    // A day with no partition: recovery only, no merging to hide its work.
    let report = compact(dir, &["--date", "2000-01-01"]);
    assert_eq!(report["recovered"], 2, "{report}");
    assert_eq!(report["compacted"], 0, "{report}");
    assert!(files_under(&journals).is_empty(), "journals left behind");
    assert!(
        !folder.join(&names[0]).exists(),
        "the finished one's input stayed"
    );
    assert!(
        folder.join(&names[1]).exists(),
        "the undone one's input went"
    );
    assert!(folder.join("part-compacted-test-0001.parquet").exists());
    assert_eq!(all_rows(dir, "lake"), rows, "rows changed");
}

#[test]
fn refuses_bad_days_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = weir(
        &[
            "compact",
            "--lake",
            "lake",
            "--table",
            "t",
            "--date",
            "2026-13-01",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("2026-13-01") && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
}
