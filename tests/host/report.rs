//! `weir report`: one self-contained HTML page answering the seed questions
//! with the queries of `athena/queries`. The page is opened in a real browser
//! (Debian's Chromium, headless, through Playwright:
//! `tests/python/report_check.py`), which says what it drew: every panel has
//! its charts, each with one bar or point per value of its query's answer,
//! and a table showing exactly the numbers `weir query` gives for the same
//! SQL; the page asks nothing of the network and logs no error.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{generate, parquet_and_jsonl_lakes, python, run_json, weir, weir_command};

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// What a NULL looks like in a panel's table.
const NULL_CELL: &str = "—";

/// One panel of the report: its id (and query, `athena/queries/<id>.sql`),
/// the query's columns in order, which of them are ratios (shown as
/// percentages), and for each chart the columns it plots: a chart draws one
/// mark per non-NULL value of those columns.
struct Panel {
    id: &'static str,
    columns: &'static [&'static str],
    percent: &'static [&'static str],
    charts: &'static [&'static [&'static str]],
}

const PANELS: &[Panel] = &[
    Panel {
        id: "top_cart_categories",
        columns: &["product_category", "cart_adds"],
        percent: &[],
        charts: &[&["cart_adds"]],
    },
    Panel {
        id: "device_behaviour",
        columns: &[
            "device",
            "views",
            "cart_adds",
            "purchases",
            "view_to_cart",
            "cart_to_purchase",
        ],
        percent: &["view_to_cart", "cart_to_purchase"],
        charts: &[
            &["views", "cart_adds", "purchases"],
            &["view_to_cart", "cart_to_purchase"],
        ],
    },
    Panel {
        id: "cart_trend_daily",
        columns: &["event_date", "cart_adds"],
        percent: &[],
        charts: &[&["cart_adds"]],
    },
    Panel {
        id: "cart_trend_hourly",
        columns: &["event_hour", "cart_adds"],
        percent: &[],
        charts: &[&["cart_adds"]],
    },
    Panel {
        id: "high_value_interest",
        columns: &["product_id", "product_category", "views", "cart_adds"],
        percent: &[],
        charts: &[&["views", "cart_adds"]],
    },
    Panel {
        id: "rejects_by_code",
        columns: &["dt", "code", "rejects"],
        percent: &[],
        charts: &[&["rejects"]],
    },
    Panel {
        id: "rejects_by_plugin",
        columns: &["dt", "plugin", "rejects"],
        percent: &[],
        charts: &[&["rejects"]],
    },
];

const DEAD_LETTER_PANELS: &[&str] = &["rejects_by_code", "rejects_by_plugin"];

/// The page of a lake with dead letters: every panel drawn, every number
/// the query's.
#[test]
fn the_report_draws_every_answer_with_the_queries_numbers() {
    let dir = tempfile::tempdir().unwrap();
    parquet_and_jsonl_lakes(dir.path(), 20_000, 0.02);
    assert!(
        dir.path().join("parquet/_errors/ecommerce_events").is_dir(),
        "the test lake should hold dead letters"
    );
    let shown = report(dir.path(), &[]);
    assert_clean(&shown);

    let mut answers = BTreeMap::new();
    for panel in PANELS {
        let answer = query(dir.path(), panel);
        assert!(
            !answer.is_empty(),
            "{}.sql answers nothing over the test lake",
            panel.id
        );
        let page = &shown["panels"][panel.id];
        assert!(
            page.is_object(),
            "no panel {} on the page: {shown:#}",
            panel.id
        );
        assert_charts(panel, page, &answer);
        assert_table(panel, page, &answer);
        assert_eq!(
            page["query"].as_str(),
            Some(format!("{}.sql", panel.id).as_str()),
            "{}: the caption names another query",
            panel.id
        );
        let sql = std::fs::read_to_string(
            Path::new(WORKSPACE).join(format!("athena/queries/{}.sql", panel.id)),
        )
        .unwrap();
        assert_eq!(
            page["sql"].as_str().map(str::trim),
            Some(sql.trim()),
            "{}: the SQL shown is not the query's",
            panel.id
        );
        answers.insert(panel.id, answer);
    }

    // The header: the lake, all dates, and totals that add up.
    let header = &shown["header"];
    assert!(
        header["lake"]
            .as_str()
            .is_some_and(|l| l.ends_with("parquet")),
        "{header}"
    );
    assert_eq!(header["range"], "all dates", "{header}");
    assert!(
        header["generated"]
            .as_str()
            .is_some_and(|g| g.contains("UTC")),
        "{header}"
    );
    let total = |panel: &str, column: &str| -> i64 {
        let index = PANELS
            .iter()
            .find(|p| p.id == panel)
            .unwrap()
            .columns
            .iter()
            .position(|c| *c == column)
            .unwrap();
        answers[panel]
            .iter()
            .map(|row| row[index].as_i64().unwrap())
            .sum()
    };
    for (key, panel, column) in [
        ("views", "device_behaviour", "views"),
        ("cart_adds", "device_behaviour", "cart_adds"),
        ("purchases", "device_behaviour", "purchases"),
        ("rejects", "rejects_by_code", "rejects"),
    ] {
        assert_eq!(
            header["totals"][key].as_str(),
            Some(with_commas(total(panel, column)).as_str()),
            "total {key}: {header}"
        );
    }
    assert_eq!(
        total("rejects_by_code", "rejects"),
        total("rejects_by_plugin", "rejects")
    );
}

/// A lake with no dead letters at all (no `_errors` folder): the report is
/// still made, its quality panels say the query returned no rows instead of
/// drawing empty charts, and the other panels are drawn as ever.
#[test]
fn a_lake_without_dead_letters_says_so() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 3_000, 0.0);
    std::fs::write(
        dir.path().join("parquet.toml"),
        include_str!("../../examples/clickstream.toml"),
    )
    .unwrap();
    let summary = run_json(weir_command(dir.path()), "parquet.toml", "parquet");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert!(!dir.path().join("parquet/_errors").exists());

    let shown = report(dir.path(), &[]);
    assert_clean(&shown);
    for panel in PANELS {
        let page = &shown["panels"][panel.id];
        assert!(
            page.is_object(),
            "no panel {} on the page: {shown:#}",
            panel.id
        );
        if DEAD_LETTER_PANELS.contains(&panel.id) {
            assert_eq!(page["charts"], 0, "{}: {page:#}", panel.id);
            assert_eq!(page["figures"], 0, "{}: {page:#}", panel.id);
            assert_eq!(
                page["table"],
                serde_json::json!([]),
                "{}: {page:#}",
                panel.id
            );
            assert!(
                page["empty"]
                    .as_str()
                    .is_some_and(|text| text.contains("No rows")),
                "{}: no \"No rows\" message: {page:#}",
                panel.id
            );
        } else {
            let answer = query(dir.path(), panel);
            assert!(!answer.is_empty(), "{}", panel.id);
            assert_charts(panel, page, &answer);
            assert_table(panel, page, &answer);
        }
    }
    assert_eq!(shown["header"]["totals"]["rejects"], "0", "{shown:#}");
}

/// `--from` and `--to` (inclusive, on the event's date) narrow the report:
/// the header says which dates, and the daily trend shows those days alone,
/// with the counts the whole lake has for them.
#[test]
fn a_date_range_narrows_the_report() {
    let dir = tempfile::tempdir().unwrap();
    parquet_and_jsonl_lakes(dir.path(), 5_000, 0.02);
    let daily = PANELS.iter().find(|p| p.id == "cart_trend_daily").unwrap();
    let every_day = query(dir.path(), daily);
    assert!(every_day.len() >= 4, "{every_day:?}");
    let from = every_day[1][0].as_str().unwrap().to_string();
    let to = every_day[2][0].as_str().unwrap().to_string();

    let shown = report(dir.path(), &["--from", from.as_str(), "--to", to.as_str()]);
    assert_clean(&shown);
    assert_eq!(
        shown["header"]["range"].as_str(),
        Some(format!("{from} to {to}").as_str()),
        "{:#}",
        shown["header"]
    );
    let page = &shown["panels"]["cart_trend_daily"];
    assert_table(daily, page, &every_day[1..3]);
    assert_charts(daily, page, &every_day[1..3]);
    // Every other panel still draws what its own table says.
    for panel in PANELS {
        let page = &shown["panels"][panel.id];
        let table: Vec<Vec<Value>> = page["table"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: {page:#}", panel.id))
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|cell| match cell.as_str() {
                        Some(NULL_CELL) => Value::Null,
                        _ => cell.clone(),
                    })
                    .collect()
            })
            .collect();
        if table.is_empty() {
            assert!(page["empty"].is_string(), "{}: {page:#}", panel.id);
            assert_eq!(page["charts"], 0, "{}: {page:#}", panel.id);
        } else {
            assert_charts(panel, page, &table);
        }
    }
}

/// `weir report` of `dir/parquet` into `dir/report.html` (with `extra`
/// arguments), then the browser's account of the page.
fn report(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["report", "--lake", "parquet", "--output", "report.html"];
    args.extend_from_slice(extra);
    let output = weir(&args, dir);
    assert!(
        output.status.success(),
        "weir {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html written");
    // Self-contained: everything inlined, every placeholder filled.
    for needle in [
        "<script src",
        "<link",
        "@import",
        "url(",
        "WEIR:LIBRARY",
        "WEIR:DATA",
    ] {
        assert!(!html.contains(needle), "the report holds {needle:?}");
    }
    assert!(
        html.contains("Chart.js v4"),
        "the chart library is not inlined"
    );

    let output = Command::new(browser_python())
        .arg(Path::new(WORKSPACE).join("tests/python/report_check.py"))
        .arg(dir.join("report.html"))
        .arg(dir.join("report.png"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the page did not render: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        dir.join("report.png")
            .metadata()
            .is_ok_and(|m| m.len() > 10_000),
        "no screenshot"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{err}: {stdout}"))
}

/// The page rendered, logged no error and asked for nothing off the page.
fn assert_clean(shown: &Value) {
    assert_eq!(shown["rendered"], true, "{shown:#}");
    assert_eq!(shown["render_errors"], serde_json::json!([]), "{shown:#}");
    assert_eq!(shown["console_errors"], serde_json::json!([]), "{shown:#}");
    assert_eq!(shown["requests"], serde_json::json!([]), "{shown:#}");
}

/// `weir query --format json` of the panel's query over `dir/parquet`, as
/// rows in the panel's column order (the JSON lines leave NULLs out).
fn query(dir: &Path, panel: &Panel) -> Vec<Vec<Value>> {
    let file = Path::new(WORKSPACE).join(format!("athena/queries/{}.sql", panel.id));
    let output = weir(
        &[
            "query",
            "--lake",
            "parquet",
            "--format",
            "json",
            "--file",
            &file.display().to_string(),
        ],
        dir,
    );
    assert!(
        output.status.success(),
        "{}: {}",
        panel.id,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let row: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
            for key in row.keys() {
                assert!(
                    panel.columns.contains(&key.as_str()),
                    "{}: unexpected column {key}",
                    panel.id
                );
            }
            panel
                .columns
                .iter()
                .map(|column| row.get(*column).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect()
}

/// The panel has its charts, each titled, with both axes titled, and as many
/// marks as its columns have values in `rows`.
fn assert_charts(panel: &Panel, page: &Value, rows: &[Vec<Value>]) {
    let id = panel.id;
    assert_eq!(
        page["charts"].as_u64(),
        Some(panel.charts.len() as u64),
        "{id}: charts drawn: {page:#}"
    );
    assert_eq!(
        page["figures"], page["charts"],
        "{id}: a figure without its chart: {page:#}"
    );
    assert!(page["empty"].is_null(), "{id}: says it is empty: {page:#}");
    let expected: Vec<u64> = panel
        .charts
        .iter()
        .map(|columns| {
            columns
                .iter()
                .map(|column| {
                    let index = panel.columns.iter().position(|c| c == column).unwrap();
                    rows.iter().filter(|row| !row[index].is_null()).count() as u64
                })
                .sum()
        })
        .collect();
    assert!(expected.iter().all(|n| *n > 0), "{id}: nothing to draw");
    let marks: Vec<u64> = page["marks"]
        .as_array()
        .unwrap_or_else(|| panic!("{id}: {page:#}"))
        .iter()
        .map(|m| m.as_u64().unwrap())
        .collect();
    assert_eq!(marks, expected, "{id}: marks per chart (bars/points drawn)");
    for (chart, title) in page["chart_titles"].as_array().unwrap().iter().enumerate() {
        assert!(
            title.as_str().is_some_and(|t| !t.is_empty()),
            "{id}: chart {chart} has no title"
        );
        let axes = &page["axes"][chart];
        for axis in 0..2 {
            assert!(
                axes[axis].as_str().is_some_and(|t| !t.is_empty()),
                "{id}: chart {chart} axis {axis} has no title: {axes}"
            );
        }
    }
}

/// The panel's table shows `rows`, cell by cell: strings as they are, NULL
/// as a dash, integers with thousands separators, ratios as percentages with
/// one decimal.
fn assert_table(panel: &Panel, page: &Value, rows: &[Vec<Value>]) {
    let id = panel.id;
    let columns: Vec<&str> = page["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("{id}: {page:#}"))
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(columns, panel.columns, "{id}: table columns");
    let table = page["table"].as_array().unwrap();
    assert_eq!(table.len(), rows.len(), "{id}: table rows: {page:#}");
    for (r, (shown, row)) in table.iter().zip(rows).enumerate() {
        let shown = shown.as_array().unwrap();
        assert_eq!(shown.len(), row.len(), "{id} row {r}: {shown:?}");
        for ((column, cell), want) in panel.columns.iter().zip(shown).zip(row) {
            let cell = cell.as_str().unwrap();
            let context =
                format!("{id} row {r} column {column}: shown {cell:?}, the query says {want}");
            match want {
                Value::Null => assert_eq!(cell, NULL_CELL, "{context}"),
                Value::String(text) => assert_eq!(cell, text.as_str(), "{context}"),
                Value::Bool(flag) => assert_eq!(cell, flag.to_string(), "{context}"),
                Value::Number(number) if panel.percent.contains(column) => {
                    let shown: f64 = cell
                        .strip_suffix('%')
                        .and_then(|p| p.replace(',', "").parse().ok())
                        .unwrap_or_else(|| panic!("{context}: not a percentage"));
                    let want = number.as_f64().unwrap();
                    assert!((shown / 100.0 - want).abs() <= 0.0005 + 1e-9, "{context}");
                    assert!(
                        cell.strip_suffix('%')
                            .and_then(|p| p.split_once('.'))
                            .is_some_and(|(_, decimals)| decimals.len() == 1),
                        "{context}: not one decimal"
                    );
                }
                Value::Number(number) => match number.as_i64() {
                    Some(integer) => assert_eq!(cell, with_commas(integer), "{context}"),
                    None => {
                        let shown: f64 = cell
                            .replace(',', "")
                            .parse()
                            .unwrap_or_else(|_| panic!("{context}: not a number"));
                        assert!(
                            (shown - number.as_f64().unwrap()).abs() <= 0.005 + 1e-9,
                            "{context}"
                        );
                    }
                },
                other => panic!("{context}: unexpected value {other}"),
            }
        }
    }
}

/// An integer as people read it: `1234567` as `1,234,567`.
fn with_commas(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0 { format!("-{out}") } else { out }
}

/// The tests' Python, with Playwright too (a venv made before it joined
/// `tests/python/requirements.txt` lacks it), and Debian's Chromium, which
/// Playwright drives: no browser is ever downloaded.
fn browser_python() -> &'static Path {
    static READY: OnceLock<()> = OnceLock::new();
    let python = python();
    READY.get_or_init(|| {
        let ready = || {
            Command::new(python)
                .args(["-c", "import playwright.sync_api"])
                .output()
                .is_ok_and(|output| output.status.success())
        };
        let requirements = Path::new(WORKSPACE).join("tests/python/requirements.txt");
        if !ready() {
            let installed = Command::new(python)
                .args(["-m", "pip", "install", "--quiet", "-r"])
                .arg(&requirements)
                .status()
                .is_ok_and(|status| status.success());
            assert!(
                installed && ready(),
                "the report check needs Playwright: {} -m pip install -r {}",
                python.display(),
                requirements.display()
            );
        }
        install_chromium();
    });
    python
}

/// Debian's Chromium, installed with apt-get on first use (through sudo when
/// not root), as the tests install their other tools; a machine where that
/// cannot happen fails here with the command to run by hand.
fn install_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if chromium.is_file() {
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0");
    let apt = |args: &[&str]| {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "apt-get"]);
            sudo
        };
        command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success())
    };
    let installed = apt(&["update", "-qq"]) && apt(&["install", "-y", "-qq", "chromium"]);
    assert!(
        installed && chromium.is_file(),
        "the report check drives Debian's Chromium and could not install it: \
         sudo apt-get install -y chromium"
    );
}
