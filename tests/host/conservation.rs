//! Conservation as a property: for random mixes of good and bad records and
//! random batch sizes, through the real bundled plugins (whose outcomes vary
//! with the records: kept, filtered, rejected by the validator, partitioned
//! by day), every record read is counted once as kept, dropped or rejected,
//! the lake holds each kept event exactly once and the dead letters each
//! rejected record exactly once. A test plugin that traps on some events
//! (`boom`) runs first: only those events are rejected as `plugin-failed`,
//! however the batches fall.

use std::collections::BTreeMap;

use proptest::prelude::*;

use weir::config::build::load_pipeline;
use weir::engine::PluginEngine;
use weir::sources::run::{RunTarget, run};
use weir::storage::Location;

use crate::common::{example_pipeline_jsonl, jsonl_lines};

thread_local! {
    /// The engine (its epoch ticker lives as long as it) and the pipeline.
    static PIPELINE: std::cell::RefCell<Option<(PluginEngine, weir::pipeline::Pipeline)>> =
        const { std::cell::RefCell::new(None) };
}

/// The record limit of these runs: small, so too-large records are cheap.
const MAX_RECORD: usize = 2_000;

/// One input line, by kind.
#[derive(Clone, Debug)]
enum Line {
    /// A well-formed event: user, action, day of February; its product id
    /// carries its line's index, to find it in the lake.
    Event {
        user: &'static str,
        action: &'static str,
        day: u32,
    },
    Blank,
    Malformed,
    NotUtf8,
    HugeInteger,
    TooLarge,
    BadTimestamp,
    /// An event the first plugin traps on.
    Poison,
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        8 => (
            prop::sample::select(vec!["u1", "u2", "u3", "bot-7", "test_x"]),
            prop::sample::select(vec!["VIEW", "ADD_TO_CART", "PURCHASE", "TELEPORT"]),
            15u32..22,
        )
            .prop_map(|(user, action, day)| Line::Event { user, action, day }),
        1 => Just(Line::Blank),
        1 => Just(Line::Malformed),
        1 => Just(Line::NotUtf8),
        1 => Just(Line::HugeInteger),
        1 => Just(Line::TooLarge),
        1 => Just(Line::BadTimestamp),
        1 => Just(Line::Poison),
    ]
}

fn render(line: &Line, n: usize) -> Vec<u8> {
    let event = |user: &str, action: &str, timestamp: &str, price: &str| {
        format!(
            r#"{{"user_id":"{user}","product_id":"p{n}","product_category":"Books","action":"{action}","price":{price},"device":"Mobile","timestamp":"{timestamp}"}}"#
        )
        .into_bytes()
    };
    match line {
        Line::Event { user, action, day } => {
            event(user, action, &format!("2026-02-{day:02}T10:00:00Z"), "9.5")
        }
        Line::Blank => b"   ".to_vec(),
        Line::Malformed => format!("{{\"n\":{n},").into_bytes(),
        Line::NotUtf8 => format!("{{\"n\":{n},\"x\":\"\u{0}\"}}")
            .into_bytes()
            .into_iter()
            .map(|b| if b == 0 { 0xFF } else { b })
            .collect(),
        Line::HugeInteger => event("u1", "VIEW", "2026-02-19T10:00:00Z", "18446744073709551615"),
        Line::TooLarge => event("u1", &"V".repeat(MAX_RECORD), "2026-02-19T10:00:00Z", "1"),
        Line::BadTimestamp => event("u1", "VIEW", "yesterday", "1"),
        Line::Poison => event("boom", "VIEW", "2026-02-19T10:00:00Z", "1"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_record_read_is_counted_and_written_once(
        lines in prop::collection::vec(line(), 0..250),
        batch_size in 1usize..64,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let pipeline_file = dir.path().join("p.toml");
        let trap = format!(
            "[[plugin]]\npath = {:?}\n\n[[plugin]]",
            weir_bundled_plugins::TEST_TRAP.path
        );
        std::fs::write(
            &pipeline_file,
            example_pipeline_jsonl()
                .replace(
                    "batch_size = 1000",
                    &format!("batch_size = {batch_size}\nmax_record_bytes = {MAX_RECORD}"),
                )
                .replacen("[[plugin]]", &trap, 1),
        )
        .unwrap();
        let config = weir::config::PipelineFile::load(&pipeline_file).unwrap();
        prop_assert_eq!(config.batch_size, batch_size);
        let mut input = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            input.extend_from_slice(&render(line, n));
            input.push(b'\n');
        }
        let path = dir.path().join("input.jsonl");
        std::fs::write(&path, &input).unwrap();
        let lake = dir.path().join("lake");
        let target = RunTarget {
            location: Location::Local(lake.clone()),
            dead_letter: Location::Local(lake.join("_errors")),
        };
        // The plugins are compiled once for every case: what varies is the
        // input and the batching, not the plugins.
        let summary = PIPELINE.with_borrow_mut(|pipeline| {
            let (_, pipeline) = pipeline.get_or_insert_with(|| {
                let engine = PluginEngine::new().unwrap();
                let pipeline = load_pipeline(&engine, &config).unwrap();
                (engine, pipeline)
            });
            run(
                &config,
                pipeline,
                path.to_str().unwrap(),
                None,
                &target,
                &mut |_, _, _| {},
            )
        })
        .unwrap();

        prop_assert_eq!(summary.read, lines.len() as u64);
        prop_assert_eq!(summary.read, summary.kept + summary.dropped + summary.rejected);
        // Each kept event in the lake once, by its number.
        let mut kept: BTreeMap<u64, u32> = BTreeMap::new();
        for row in jsonl_lines(&lake.join("ecommerce_events")) {
            let row: serde_json::Value = serde_json::from_slice(&row).unwrap();
            let product = row["product_id"].as_str().unwrap();
            *kept.entry(product[1..].parse().unwrap()).or_default() += 1;
        }
        prop_assert_eq!(kept.len() as u64, summary.kept);
        prop_assert!(kept.values().all(|count| *count == 1), "{:?}", kept);
        // Each rejected record in the dead letters once, by its line.
        let mut letters: BTreeMap<String, u32> = BTreeMap::new();
        let mut failed = Vec::new();
        for letter in jsonl_lines(&lake.join("_errors/ecommerce_events")) {
            let letter: serde_json::Value = serde_json::from_slice(&letter).unwrap();
            let position = letter["position"].as_str().unwrap().to_string();
            if letter["code"] == "plugin-failed" {
                failed.push(position.clone());
            }
            *letters.entry(position).or_default() += 1;
        }
        // The trap costs only the events it traps on.
        let mut poisoned: Vec<String> = (0..lines.len())
            .filter(|&n| matches!(lines[n], Line::Poison))
            .map(|n| (n + 1).to_string())
            .collect();
        poisoned.sort();
        failed.sort();
        prop_assert_eq!(failed, poisoned);
        prop_assert_eq!(letters.len() as u64, summary.rejected);
        prop_assert!(letters.values().all(|count| *count == 1), "{:?}", letters);
        // Kept and rejected never share a line.
        for n in kept.keys() {
            prop_assert!(!letters.contains_key(&(n + 1).to_string()));
        }
        // What the rules say of each kind holds whatever the batching.
        for (n, line) in lines.iter().enumerate() {
            let position = (n + 1).to_string();
            match line {
                Line::Event { user: "u1" | "u2" | "u3", action: "VIEW" | "ADD_TO_CART" | "PURCHASE", .. } => {
                    prop_assert!(kept.contains_key(&(n as u64)), "line {} was not kept", position);
                }
                Line::Blank | Line::Event { user: "bot-7" | "test_x", action: "VIEW" | "ADD_TO_CART" | "PURCHASE", .. } => {
                    prop_assert!(!kept.contains_key(&(n as u64)) && !letters.contains_key(&position));
                }
                _ => prop_assert!(letters.contains_key(&position), "line {} was not rejected", position),
            }
        }
    }
}
