//! The fuzz targets (`fuzz/`, cargo-fuzz): the saved corpus replayed through
//! the same checks the targets make (`weir::tools::fuzzing`), and each target run
//! for a few seconds under libFuzzer, so the targets keep building and
//! nothing they find quickly comes back.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a target checks: one input.
type Check = fn(&[u8]);

/// Each target, by the name of its `weir::tools::fuzzing` function and binary.
const TARGETS: [(&str, Check); 6] = [
    ("record_decoder", weir::tools::fuzzing::record_decoder),
    ("kpl_records", weir::tools::fuzzing::kpl_records),
    ("kinesis_event", weir::tools::fuzzing::kinesis_event),
    ("firehose_event", weir::tools::fuzzing::firehose_event),
    ("pipeline_file", weir::tools::fuzzing::pipeline_file),
    ("plugin_results", weir::tools::fuzzing::plugin_results),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

#[test]
fn the_saved_corpus_passes_every_check() {
    for (target, check) in TARGETS {
        let folder = fuzz_dir().join("corpus").join(target);
        let inputs: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap_or_else(|err| panic!("{}: {err}", folder.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        assert!(!inputs.is_empty(), "no corpus for {target}");
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target} fails on {}", input.display());
        }
    }
}

/// `cargo fuzz`, installed from crates.io under `~/.cache/weir/tools` the
/// first time.
fn cargo_fuzz() -> PathBuf {
    let root = cache().join("tools");
    let binary = root.join("bin/cargo-fuzz");
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args([
                "install",
                "cargo-fuzz",
                "--version",
                "0.13.2",
                "--locked",
                "--root",
            ])
            .arg(&root)
            .status()
            .expect("run cargo install");
        assert!(status.success(), "cargo install cargo-fuzz failed");
    }
    binary
}

/// Where the fuzz build and its tools are kept between runs: the build
/// instruments the whole dependency tree, so it is kept out of the clone.
fn cache() -> PathBuf {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/weir"))
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("weir-cache"))
}

#[test]
fn each_target_runs_under_libfuzzer() {
    let cargo_fuzz = cargo_fuzz();
    let target_dir = cache().join("fuzz-target");
    // Without a sanitizer the targets build with the pinned stable
    // toolchain; libFuzzer still guides them by coverage.
    let fuzz = |args: &[&str]| {
        let mut command = Command::new(&cargo_fuzz);
        command
            .arg("fuzz")
            .args(args)
            .args(["-s", "none", "--target-dir"])
            .arg(&target_dir)
            .current_dir(fuzz_dir())
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS");
        command
    };
    let build = fuzz(&["build"]).output().unwrap();
    assert!(
        build.status.success(),
        "cargo fuzz build: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let work = tempfile::tempdir().unwrap();
    for (target, _) in TARGETS {
        // A copy of the corpus: libFuzzer adds what it finds to it.
        let corpus = work.path().join(target);
        std::fs::create_dir(&corpus).unwrap();
        for entry in std::fs::read_dir(fuzz_dir().join("corpus").join(target)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, corpus.join(path.file_name().unwrap())).unwrap();
        }
        let artifacts = format!("-artifact_prefix={}/", work.path().display());
        let run = fuzz(&["run", target])
            .arg(&corpus)
            .args(["--", "-max_total_time=10", "-rss_limit_mb=4096", &artifacts])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{target}: {stderr}");
        let runs: u64 = stderr
            .lines()
            .find_map(|line| line.strip_prefix("Done ")?.split(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("{target}: no 'Done N runs' line: {stderr}"));
        assert!(runs > 100, "{target}: only {runs} runs");
    }
}
