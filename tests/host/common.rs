//! Helpers shared by the host tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use weir::batch::{Batch, Fate};
use weir::engine::{Limits, PluginEngine};
use weir::pipeline::{OnPluginError, Pipeline, Step};
use weir::plugin::{LoadedPlugin, PluginSource};
use weir_bundled_plugins::Guest;

/// Load one plugin component file into a one-step pipeline.
pub fn pipeline_of(guest: Guest, config: &str, limits: Limits, policy: OnPluginError) -> Pipeline {
    let engine = PluginEngine::new().expect("engine");
    let (plugin, instance) = LoadedPlugin::load(
        &engine,
        &PluginSource::File(PathBuf::from(guest.path)),
        None,
        config,
        &limits,
    )
    .unwrap_or_else(|err| panic!("load {}: {err}", guest.package));
    Pipeline::new(vec![Step::wasm(plugin, instance)], policy)
}

/// A batch of JSON lines.
pub fn batch_of(lines: &[&str]) -> Batch {
    let mut batch = Batch::new("test");
    for (index, line) in lines.iter().enumerate() {
        batch.push(line.as_bytes(), &(index + 1).to_string(), 0);
    }
    batch
}

/// The fate of each record, as `kept`, `dropped` or `rejected:<code>`.
pub fn fates(batch: &Batch) -> Vec<String> {
    batch
        .records()
        .iter()
        .map(|record| match &record.fate {
            Fate::Alive { .. } => "kept".to_string(),
            Fate::Dropped { .. } => "dropped".to_string(),
            Fate::Rejected(r) => format!("rejected:{}", r.code),
        })
        .collect()
}

/// The reject reasons of a batch.
pub fn reasons(batch: &Batch) -> Vec<String> {
    batch
        .records()
        .iter()
        .filter_map(|record| match &record.fate {
            Fate::Rejected(r) => Some(r.reason.clone()),
            _ => None,
        })
        .collect()
}

/// Run the `weir` binary.
pub fn weir(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run weir")
}

/// Every line of every file under `dir` whose name ends with `.jsonl`.
pub fn jsonl_lines(dir: &Path) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return lines;
    };
    let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            lines.extend(jsonl_lines(&path));
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            let bytes = std::fs::read(&path).unwrap();
            lines.extend(
                bytes
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
    }
    lines
}
