//! Helpers shared by the host tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use weir::engine::plugin::{LoadedPlugin, PluginSource};
use weir::engine::{Limits, PluginEngine};
use weir::pipeline::batch::{Batch, Fate};
use weir::pipeline::{OnPluginError, Pipeline, Step};
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
    weir_command(dir).args(args).output().expect("run weir")
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

/// Rows in every `.parquet` file under `dir`, read with the parquet crate's
/// own reader (the independent readers are in `readers`).
pub fn parquet_rows(dir: &Path) -> u64 {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let mut rows = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rows += parquet_rows(&path);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
            rows += reader.metadata().file_metadata().num_rows() as u64;
        }
    }
    rows
}

/// The example pipeline, writing JSON lines instead of Parquet.
pub fn example_pipeline_jsonl() -> String {
    include_str!("../../examples/clickstream.toml")
        .replace("format = \"parquet\"", "format = \"jsonl\"")
        .replace("compression = \"snappy\"", "compression = \"none\"")
}

/// A Python with the independent readers (pyarrow, DuckDB), the S3 server
/// and client (moto, boto3), the Lambda emulator (cargo-lambda, whose
/// `cargo-lambda` program sits beside it) and the KPL aggregator installed: a
/// virtual environment under the target directory, made on first use from
/// `tests/python/requirements.txt`. Panics, with the command to run by hand,
/// when it cannot be made.
pub fn python() -> &'static Path {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("weir-venv");
        let python = venv.join("bin/python");
        let ready = || {
            venv.join("bin/cargo-lambda").is_file()
                && Command::new(&python)
                    .args([
                        "-c",
                        "import pyarrow, duckdb, moto, boto3, aws_kinesis_agg.aggregator",
                    ])
                    .output()
                    .is_ok_and(|output| output.status.success())
        };
        if !ready() {
            let requirements = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/python/requirements.txt"
            );
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|status| status.success())
                && Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", "-r", requirements])
                    .status()
                    .is_ok_and(|status| status.success());
            assert!(
                made && ready(),
                "the independent readers and moto need Python 3 with venv and pip; by hand: \
                 python3 -m venv {0} && {0}/bin/pip install -r {requirements}",
                venv.display()
            );
        }
        python
    })
}

/// Generate `events` clickstream events (a share `bad_fraction` of them bad)
/// into `dir`, and run the example pipeline over them twice: into
/// `dir/parquet` and, as JSON lines, into `dir/jsonl`. Returns the kept count,
/// the same for both.
pub fn parquet_and_jsonl_lakes(dir: &Path, events: u64, bad_fraction: f64) -> u64 {
    generate(dir, events, bad_fraction);
    std::fs::write(
        dir.join("parquet.toml"),
        include_str!("../../examples/clickstream.toml"),
    )
    .unwrap();
    std::fs::write(dir.join("jsonl.toml"), example_pipeline_jsonl()).unwrap();
    let parquet = run_json(weir_command(dir), "parquet.toml", "parquet");
    let jsonl = run_json(weir_command(dir), "jsonl.toml", "jsonl");
    assert_eq!(parquet["kept"], jsonl["kept"]);
    parquet["kept"].as_u64().unwrap()
}

/// `weir gen` of `events` events (a share `bad_fraction` bad) into
/// `dir/events.jsonl`.
pub fn generate(dir: &Path, events: u64, bad_fraction: f64) {
    let generated = weir(
        &[
            "gen",
            "--events",
            &events.to_string(),
            "--bad-fraction",
            &bad_fraction.to_string(),
            "--output",
            "events.jsonl",
        ],
        dir,
    );
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
}

/// The `weir` binary, to run in `dir`.
pub fn weir_command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weir"));
    // WEIR_LOG would add log lines to the one-line errors tests expect.
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("WEIR_LOG");
    command
}

/// `weir run` of `events.jsonl` through `pipeline` into `out` (a folder or
/// `s3://…`) with `command`; panics with weir's error unless it succeeds.
/// Returns the summary.
pub fn run_json(mut command: Command, pipeline: &str, out: &str) -> serde_json::Value {
    let output = command
        .args([
            "run",
            "--pipeline",
            pipeline,
            "--input",
            "events.jsonl",
            "--lake",
            out,
            "--json",
        ])
        .output()
        .expect("run weir");
    assert!(
        output.status.success(),
        "weir run into {out} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("summary JSON")
}

/// Every file under `dir`, as relative path → bytes.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The JSON a successful command printed; panics with its standard error
/// when it failed.
pub fn json_of(output: std::process::Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "weir failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// The `sh` blocks of a Markdown page, in order.
pub fn shell_blocks(page: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unclosed code block");
    blocks
}

/// `PATH` with the folder of the `weir` just built first, as a user who
/// installed it has it.
pub fn path_with_weir() -> String {
    let weir_dir = Path::new(env!("CARGO_BIN_EXE_weir")).parent().unwrap();
    format!(
        "{}:{}",
        weir_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The Lambda bootstrap as it ships: the `weir-lambda` package, built once
/// per test run (release, in this build's target folder) with the host
/// library's default features off, exactly as `cargo lambda build` builds
/// it. Another package's binary is not built for this one's tests, so the
/// suite builds it; a failed build fails the test with cargo's output.
pub fn lambda_binary() -> &'static Path {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target folder holds tmp/");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--release", "--locked", "-p", "weir-lambda"])
            .current_dir(&workspace)
            .env("CARGO_TARGET_DIR", target)
            .output()
            .expect("run cargo to build weir-lambda");
        assert!(
            output.status.success(),
            "cargo build -p weir-lambda failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let binary = target.join("release/weir-lambda");
        assert!(binary.is_file(), "{} was not built", binary.display());
        binary
    })
}
