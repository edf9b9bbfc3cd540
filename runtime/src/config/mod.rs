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
    #[error("pipeline file {path}: {message}")]
    Read { path: String, message: String },
    #[error("pipeline file {path}: {message}")]
    Invalid { path: String, message: String },
}

/// The pipeline file, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
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
    /// `s3://bucket/prefix`; `weir run --out` overrides it. Default `lake`.
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
        toml::from_str(text).map_err(|err| ConfigError::Invalid {
            path: path.to_string(),
            message: err.message().to_string() + &location_suffix(text, err.span()),
        })
    }

    /// Read, parse and check a pipeline file.
    pub fn load(path: &Path) -> Result<PipelineConfig, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Read {
            path: shown.clone(),
            message: err.to_string(),
        })?;
        let file = PipelineFile::parse(&text, &shown)?;
        let base = Location::Local(path.parent().unwrap_or(Path::new(".")).to_path_buf());
        let stem = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pipeline".to_string());
        file.resolve(&base, &stem, &shown)
    }

    /// Check values and resolve relative paths against `base`, where the
    /// file was found: a folder, or an S3 prefix.
    pub fn resolve(
        self,
        base: &Location,
        stem: &str,
        shown: &str,
    ) -> Result<PipelineConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: shown.to_string(),
            message,
        };
        if self.plugins.is_empty() {
            return Err(invalid(
                "no [[plugin]] entries: a pipeline needs at least one plugin".into(),
            ));
        }
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            return Err(invalid(format!(
                "batch_size must be 1 to {MAX_BATCH_SIZE}, not {}",
                self.batch_size
            )));
        }
        if self.max_record_bytes == 0
            || self.batch_size.saturating_mul(self.max_record_bytes) > MAX_BATCH_BYTES
        {
            return Err(invalid(format!(
                "batch_size x max_record_bytes must be at most {MAX_BATCH_BYTES} bytes \
                 (a batch's text is addressed with 32-bit offsets), not {} x {}",
                self.batch_size, self.max_record_bytes
            )));
        }
        if self.limits.memory_mib == 0 || self.limits.call_timeout_ms == 0 {
            return Err(invalid(
                "limits.memory_mib and limits.call_timeout_ms must be above 0".into(),
            ));
        }
        if self.output.max_rows_per_file == 0 || self.output.max_bytes_per_file == 0 {
            return Err(invalid(
                "output.max_rows_per_file and output.max_bytes_per_file must be above 0".into(),
            ));
        }
        let compression = match (self.output.format, self.output.compression) {
            (Format::Parquet, None) => Compression::Snappy,
            (Format::Jsonl, None) => Compression::None,
            (
                Format::Parquet,
                Some(c @ (Compression::Snappy | Compression::Zstd | Compression::None)),
            )
            | (Format::Jsonl, Some(c @ (Compression::Gzip | Compression::None))) => c,
            (format, Some(other)) => {
                let format = match format {
                    Format::Parquet => "parquet",
                    Format::Jsonl => "jsonl",
                };
                let other = format!("{other:?}").to_lowercase();
                return Err(invalid(format!(
                    "output.compression \"{other}\" does not apply to format \"{format}\": parquet takes snappy, zstd or none; jsonl takes gzip or none"
                )));
            }
        };
        if self.output.format == Format::Parquet && self.output.columns.is_empty() {
            return Err(invalid(
                "output.format = \"parquet\" needs its columns: add [[output.column]] tables with name and type".into(),
            ));
        }
        let mut keys = std::collections::HashSet::new();
        for key in &self.output.partitions {
            let ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok || !keys.insert(key.as_str()) {
                return Err(invalid(format!(
                    "output.partitions {key:?}: keys must be unique letters, digits and _"
                )));
            }
            if self.output.columns.iter().any(|column| &column.name == key) {
                return Err(invalid(format!(
                    "output.partitions {key:?} is also a column: a partition key lives in the folder name, not the file"
                )));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for column in &self.output.columns {
            if column.name.is_empty() || !seen.insert(column.name.as_str()) {
                return Err(invalid(format!(
                    "output.column {:?}: column names must be non-empty and unique",
                    column.name
                )));
            }
        }
        let table_ok = !self.output.table.is_empty()
            && self
                .output
                .table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !table_ok {
            return Err(invalid(format!(
                "output.table {:?} must be letters, digits and _ (it names a folder and an Athena table)",
                self.output.table
            )));
        }
        self.s3.check().map_err(invalid)?;
        let mut plugins = Vec::new();
        for (index, entry) in self.plugins.into_iter().enumerate() {
            let source = PluginSource::parse(&entry.path, base, &self.s3)
                .map_err(|err| invalid(format!("plugin {}: {err}", index + 1)))?;
            if let Some(sha) = &entry.sha256
                && (sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(invalid(format!(
                    "plugin {} ({}): sha256 must be 64 hex digits",
                    index + 1,
                    entry.path
                )));
            }
            let config = entry.config.unwrap_or_default();
            let config_json = serde_json::to_string(&config).map_err(|err| {
                invalid(format!(
                    "plugin {}: config cannot be passed on: {err}",
                    index + 1
                ))
            })?;
            plugins.push(PluginSpec {
                source,
                sha256: entry.sha256,
                config_json,
            });
        }
        // A lake is never beside a pipeline file read from S3 (that is where
        // plugins go): it must be named in full.
        let lake = |key: &str, text: &str| {
            if base.is_s3() && !text.starts_with("s3://") {
                return Err(invalid(format!(
                    "{key} {text:?}: in a pipeline file read from S3 it must be s3://bucket/prefix"
                )));
            }
            Location::resolve(text, base).map_err(|err| invalid(format!("{key}: {err}")))
        };
        let location = lake("output.location", &self.output.location)?;
        let dead_letter = match &self.dead_letter.location {
            Some(text) => lake("dead_letter.location", text)?,
            None => location.join("_errors"),
        };

        Ok(PipelineConfig {
            name: self.name.unwrap_or_else(|| stem.to_string()),
            on_plugin_error: self.on_plugin_error,
            batch_size: self.batch_size,
            max_record_bytes: self.max_record_bytes,
            limits: self.limits,
            plugins,
            location,
            table: self.output.table,
            format: self.output.format,
            compression,
            max_rows_per_file: self.output.max_rows_per_file,
            max_bytes_per_file: self.output.max_bytes_per_file,
            columns: self.output.columns.into(),
            partitions: self.output.partitions.into(),
            time_field: self.output.time_field,
            dead_letter,
            s3: self.s3,
        })
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
