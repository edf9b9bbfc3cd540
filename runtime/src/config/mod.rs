//! **The pipeline file** (layer 4, above [`crate::lake`]): reads and
//! checks it, and builds what the layers below need from it (the loaded
//! [`Pipeline`](crate::pipeline::Pipeline), the lake's file options, the
//! Athena DDL of its table).
//!
//! The pipeline file is one TOML file that says everything about a pipeline.
//! Parsing checks syntax, unknown keys (refused) and types; [`PipelineFile::load`]
//! then resolves plugin paths against the file's folder. Every field is
//! documented in `docs/pipeline.md`.

pub mod athena;
pub mod build;
mod resolve;
pub mod schema;

use std::path::Path;

use serde::Deserialize;
use thiserror::Error;

use crate::engine::Limits;
use crate::engine::plugin::PluginSource;
use crate::pipeline::OnPluginError;
use crate::storage::{Location, S3Options};

pub use crate::lake::format::{Compression, Format};

/// A pipeline file that could not be used. One line naming the file and the
/// cause.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the pipeline file {path}")]
    Read {
        /// The file, as named to Weir.
        path: String,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a pipeline Weir can run.
    #[error("pipeline file {path}: {message}")]
    Invalid {
        /// The file, as named to Weir.
        path: String,
        /// What is wrong and, where it helps, the line and column and the fix.
        message: String,
    },
}

/// The pipeline file, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// The line of each `[[plugin]]` header in the file's text, in order,
    /// for messages that point into the file.
    #[serde(skip)]
    pub plugin_lines: Vec<usize>,
    /// The pipeline's name, for logs. Default: the file's stem.
    #[serde(default)]
    pub name: Option<String>,
    /// What a plugin failure does to its batch: `reject` (default) or `fail`.
    #[serde(default)]
    pub on_plugin_error: OnPluginError,
    /// Events per call into the plugins. Default 1,000.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Longest input record accepted, in bytes; longer ones are rejected
    /// with `too-large`. Default 1 MiB, Kinesis's own record limit.
    #[serde(default = "default_max_record_bytes")]
    pub max_record_bytes: usize,
    /// Memory and time limits of every plugin instance.
    #[serde(default)]
    pub limits: Limits,
    /// The plugins, in the order events pass through them.
    #[serde(default, rename = "plugin")]
    pub plugins: Vec<PluginEntry>,
    /// Where and how kept events are written.
    #[serde(default)]
    pub output: OutputConfig,
    /// Where rejected events are written.
    #[serde(default)]
    pub dead_letter: DeadLetterConfig,
    /// How S3 locations are reached.
    #[serde(default)]
    pub s3: S3Options,
}

fn default_batch_size() -> usize {
    1_000
}

fn default_max_record_bytes() -> usize {
    crate::pipeline::batch::DEFAULT_MAX_RECORD_BYTES
}

/// One `[[plugin]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginEntry {
    /// `bundled:<name>` for a plugin shipped in the `weir` binary, or the
    /// path of a `.wasm` component, relative to the pipeline file.
    pub path: String,
    /// The component's sha256 in hex. When given, a plugin whose bytes do not
    /// match is refused and never run.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The plugin's own settings, passed to its `init` as JSON.
    #[serde(default)]
    pub config: Option<toml::Table>,
}

/// The `[output]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Where the lake is: a folder, relative to the pipeline file, or
    /// `s3://bucket/prefix`; `weir run --lake` overrides it. Default `lake`.
    pub location: String,
    /// Table name: the folder under the location. Default `events`.
    pub table: String,
    /// Format of the files: `jsonl` or `parquet`. Default `jsonl`.
    pub format: Format,
    /// Compression: for Parquet `snappy` (default), `zstd` or `none`; for
    /// JSON lines `gzip` or `none` (default).
    pub compression: Option<Compression>,
    /// Rows after which a partition's file is closed and a new one begun.
    /// Default 1,000,000.
    pub max_rows_per_file: u64,
    /// Bytes after which a partition's file is closed and a new one begun.
    /// Default 128 MiB, the size Athena reads best.
    pub max_bytes_per_file: u64,
    /// The table's columns, in order: required for `parquet`.
    #[serde(rename = "column")]
    pub columns: Vec<crate::lake::columns::ColumnSpec>,
    /// The Hive partition keys, in folder order. Every kept event must carry
    /// exactly these (from the plugins); an event that carries none is
    /// partitioned by the date of `time_field` when the keys are `year`,
    /// `month`, `day` (and optionally `hour`). Default `["year", "month",
    /// "day"]`; `[]` writes files at the table's root.
    pub partitions: Vec<String>,
    /// The field whose ISO-8601 time partitions an event that no plugin
    /// partitioned. Default `timestamp`.
    pub time_field: String,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            location: "lake".to_string(),
            table: "events".to_string(),
            format: Format::Jsonl,
            compression: None,
            max_rows_per_file: 1_000_000,
            max_bytes_per_file: 128 * 1024 * 1024,
            columns: Vec::new(),
            partitions: vec!["year".into(), "month".into(), "day".into()],
            time_field: "timestamp".into(),
        }
    }
}

/// The `[dead_letter]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeadLetterConfig {
    /// Where the dead-letter zone is: a folder or `s3://bucket/prefix`.
    /// Default `<output location>/_errors`.
    pub location: Option<String>,
}

/// A plugin entry, resolved.
#[derive(Clone, Debug)]
pub struct PluginSpec {
    /// Where its component comes from.
    pub source: PluginSource,
    /// Expected sha256, if given.
    pub sha256: Option<String>,
    /// Its config table as JSON.
    pub config_json: String,
    /// Where the pipeline file declares it, for messages: `plugin 2
    /// (p.toml line 21)`.
    pub origin: String,
}

/// A checked pipeline file with paths resolved.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// The pipeline's name.
    pub name: String,
    /// Failure policy.
    pub on_plugin_error: OnPluginError,
    /// Events per plugin call.
    pub batch_size: usize,
    /// Longest record accepted.
    pub max_record_bytes: usize,
    /// Plugin limits.
    pub limits: Limits,
    /// Plugins in order.
    pub plugins: Vec<PluginSpec>,
    /// Where the lake is: a folder or `s3://bucket/prefix`.
    pub location: Location,
    /// Table name.
    pub table: String,
    /// Output format.
    pub format: Format,
    /// Data file compression.
    pub compression: Compression,
    /// Rows per file before rolling.
    pub max_rows_per_file: u64,
    /// Bytes per file before rolling.
    pub max_bytes_per_file: u64,
    /// The table's columns.
    pub columns: std::sync::Arc<[crate::lake::columns::ColumnSpec]>,
    /// Partition keys, in folder order.
    pub partitions: std::sync::Arc<[String]>,
    /// Field that dates an unpartitioned event.
    pub time_field: String,
    /// Where the dead letters are.
    pub dead_letter: Location,
    /// How S3 locations are reached.
    pub s3: S3Options,
}

/// Largest batch accepted: a 100,000-event batch is far past the point where
/// batching stops paying.
const MAX_BATCH_SIZE: usize = 100_000;

/// Most bytes of input one batch may hold. Spans into a batch's text are
/// 32-bit; plugins add text as they change events, so a quarter of the 4 GiB
/// leaves room for them.
const MAX_BATCH_BYTES: usize = 1 << 30;

impl PipelineFile {
    /// Parse TOML text; `path` is for messages.
    pub fn parse(text: &str, path: &str) -> Result<PipelineFile, ConfigError> {
        let mut file: PipelineFile = toml::from_str(text).map_err(|err| ConfigError::Invalid {
            path: path.to_string(),
            message: err.message().to_string() + &location_suffix(text, err.span()),
        })?;
        file.plugin_lines = text
            .lines()
            .enumerate()
            .filter(|(_, line)| {
                let header: String = line.split_whitespace().collect();
                header.starts_with("[[plugin]]")
            })
            .map(|(index, _)| index + 1)
            .collect();
        Ok(file)
    }

    /// Read, parse and check a pipeline file.
    pub fn load(path: &Path) -> Result<PipelineConfig, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let file = PipelineFile::parse(&text, &shown)?;
        let base = Location::Local(path.parent().unwrap_or(Path::new(".")).to_path_buf());
        let stem = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pipeline".to_string());
        file.resolve(&base, &stem, &shown)
    }
}

/// ` at line L, column C` for a byte span of `text`.
fn location_suffix(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    format!(" (line {line}, column {column})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<PipelineConfig, ConfigError> {
        PipelineFile::parse(text, "p.toml")?.resolve(
            &Location::Local("/pipes".into()),
            "p",
            "p.toml",
        )
    }

    #[test]
    fn plugins_are_named_by_their_line_when_the_headers_can_be_told() {
        let text = "name = \"x\"\n\n[[plugin]]\npath = \"bundled:filter\"\n[[ plugin ]]\npath = \"bundled:enrich\"\n";
        let config = resolve(text).unwrap();
        let origins: Vec<&str> = config.plugins.iter().map(|p| p.origin.as_str()).collect();
        assert_eq!(
            origins,
            ["plugin 1 (p.toml line 3)", "plugin 2 (p.toml line 5)"]
        );
        // Headers the scan cannot match one for one (an inline array of
        // tables): no line is claimed rather than a wrong one.
        let inline = "plugin = [{ path = \"bundled:filter\" }, { path = \"bundled:enrich\" }]\n";
        let config = resolve(inline).unwrap();
        assert_eq!(config.plugins[1].origin, "plugin 2 of p.toml");
    }

    #[test]
    fn resolves_defaults_and_paths() {
        let config = resolve(
            r#"
            [[plugin]]
            path = "bundled:filter"
            config = { drop_user_prefixes = ["bot-"] }
            [[plugin]]
            path = "plugins/mine.wasm"
            "#,
        )
        .unwrap();
        assert_eq!(config.name, "p");
        assert_eq!(config.batch_size, 1_000);
        assert_eq!(
            config.plugins[0].source,
            PluginSource::Bundled("filter".into())
        );
        assert_eq!(
            config.plugins[0].config_json,
            r#"{"drop_user_prefixes":["bot-"]}"#
        );
        assert_eq!(
            config.plugins[1].source,
            PluginSource::File("/pipes/plugins/mine.wasm".into())
        );
        assert_eq!(config.plugins[1].config_json, "{}");
        assert_eq!(config.location, Location::Local("/pipes/lake".into()));
        assert_eq!(
            config.dead_letter,
            Location::Local("/pipes/lake/_errors".into())
        );
        assert_eq!(config.on_plugin_error, OnPluginError::Reject);
    }

    #[test]
    fn plugins_can_live_on_s3() {
        let config = resolve(
            "[[plugin]]\npath = \"s3://plugins/weir/f.wasm\"\n[s3]\nregion = \"eu-west-1\"\n",
        )
        .unwrap();
        let PluginSource::S3(location, options) = &config.plugins[0].source else {
            panic!("{:?}", config.plugins[0].source);
        };
        assert_eq!(location.to_string(), "s3://plugins/weir/f.wasm");
        assert_eq!(options.region.as_deref(), Some("eu-west-1"));
        assert!(resolve("[[plugin]]\npath = \"s3://\"\n").is_err());
    }

    #[test]
    fn refuses_unknown_keys_with_their_line() {
        let err = resolve("batch_sise = 10\n[[plugin]]\npath = \"bundled:filter\"\n").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("unknown field `batch_sise`"), "{message}");
        assert!(message.contains("line 1"), "{message}");
        let err = resolve("[[plugin]]\npath = \"bundled:filter\"\n[output]\nformat = \"csv\"\n")
            .unwrap_err();
        assert!(err.to_string().contains("csv"), "{err}");
    }

    #[test]
    fn refuses_bad_values() {
        for (text, needle) in [
            ("", "no [[plugin]]"),
            (
                "batch_size = 0\n[[plugin]]\npath = \"bundled:filter\"",
                "batch_size",
            ),
            ("[[plugin]]\npath = \"x.wasm\"\nsha256 = \"abc\"", "sha256"),
            (
                "batch_size = 100000\nmax_record_bytes = 1048576\n[[plugin]]\npath = \"x.wasm\"",
                "32-bit",
            ),
            (
                "[[plugin]]\npath = \"x.wasm\"\n[output]\ntable = \"../x\"",
                "output.table",
            ),
            (
                "on_plugin_error = \"ignore\"\n[[plugin]]\npath = \"x.wasm\"",
                "ignore",
            ),
            (
                "[[plugin]]\npath = \"x.wasm\"\n[s3]\npart_size_mib = 1",
                "s3.part_size_mib",
            ),
            (
                "[[plugin]]\npath = \"x.wasm\"\n[output]\nlocation = \"s3://\"",
                "output.location",
            ),
        ] {
            let message = resolve(text).unwrap_err().to_string();
            assert!(message.contains(needle), "{text:?}: {message}");
        }
    }
}
