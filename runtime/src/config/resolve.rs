//! A parsed pipeline file made into a [`PipelineConfig`]: defaults filled
//! in, paths resolved against the file's folder, and every value checked,
//! with errors that name the key and, where it has one, its line.

use super::*;

impl PipelineFile {
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
        self.check_batches_and_limits().map_err(invalid)?;
        let compression = self.output.check().map_err(invalid)?;
        self.s3.check().map_err(|err| invalid(err.to_string()))?;
        let mut plugins = Vec::new();
        let count = self.plugins.len();
        for (index, entry) in self.plugins.into_iter().enumerate() {
            // The header lines are found by a scan of the text: trusted only
            // when there is one per plugin.
            let lines = (self.plugin_lines.len() == count).then_some(&self.plugin_lines);
            let origin = match lines.and_then(|lines| lines.get(index)) {
                Some(line) => format!("plugin {} ({shown} line {line})", index + 1),
                None => format!("plugin {} of {shown}", index + 1),
            };
            let spec = entry.resolve(index + 1, base, &self.s3).map_err(invalid)?;
            plugins.push(PluginSpec { origin, ..spec });
        }
        let location =
            resolve_lake("output.location", &self.output.location, base).map_err(invalid)?;
        let dead_letter = match &self.dead_letter.location {
            Some(text) => resolve_lake("dead_letter.location", text, base).map_err(invalid)?,
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

    /// A pipeline has plugins, batches of a size its text can be addressed
    /// in, and limits a plugin can run under.
    fn check_batches_and_limits(&self) -> Result<(), String> {
        if self.plugins.is_empty() {
            return Err("no [[plugin]] entries: a pipeline needs at least one plugin".into());
        }
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            return Err(format!(
                "batch_size must be 1 to {MAX_BATCH_SIZE}, not {}",
                self.batch_size
            ));
        }
        if self.max_record_bytes == 0
            || self.batch_size.saturating_mul(self.max_record_bytes) > MAX_BATCH_BYTES
        {
            return Err(format!(
                "batch_size x max_record_bytes must be at most {MAX_BATCH_BYTES} bytes \
                 (a batch's text is addressed with 32-bit offsets), not {} x {}",
                self.batch_size, self.max_record_bytes
            ));
        }
        if self.limits.memory_mib == 0 || self.limits.call_timeout_ms == 0 {
            return Err("limits.memory_mib and limits.call_timeout_ms must be above 0".into());
        }
        Ok(())
    }
}

impl OutputConfig {
    /// Check the `[output]` table: file sizes, compression, columns,
    /// partition keys and table name. Returns the compression to write
    /// with, the format's default when none is named.
    fn check(&self) -> Result<Compression, String> {
        if self.max_rows_per_file == 0 || self.max_bytes_per_file == 0 {
            return Err(
                "output.max_rows_per_file and output.max_bytes_per_file must be above 0".into(),
            );
        }
        let compression = self.compression()?;
        if self.format == Format::Parquet && self.columns.is_empty() {
            return Err(
                "output.format = \"parquet\" needs its columns: add [[output.column]] tables with name and type".into(),
            );
        }
        self.check_partitions()?;
        self.check_columns()?;
        self.check_table()?;
        Ok(compression)
    }

    /// The compression named, if the format takes it, else the format's
    /// default: snappy for Parquet, none for JSON lines.
    fn compression(&self) -> Result<Compression, String> {
        match (self.format, self.compression) {
            (Format::Parquet, None) => Ok(Compression::Snappy),
            (Format::Jsonl, None) => Ok(Compression::None),
            (
                Format::Parquet,
                Some(c @ (Compression::Snappy | Compression::Zstd | Compression::None)),
            )
            | (Format::Jsonl, Some(c @ (Compression::Gzip | Compression::None))) => Ok(c),
            (format, Some(other)) => {
                let format = match format {
                    Format::Parquet => "parquet",
                    Format::Jsonl => "jsonl",
                };
                let other = format!("{other:?}").to_lowercase();
                Err(format!(
                    "output.compression \"{other}\" does not apply to format \"{format}\": parquet takes snappy, zstd or none; jsonl takes gzip or none"
                ))
            }
        }
    }

    /// Partition keys are unique folder-safe names, none of them a column.
    fn check_partitions(&self) -> Result<(), String> {
        let mut keys = std::collections::HashSet::new();
        for key in &self.partitions {
            let ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok || !keys.insert(key.as_str()) {
                return Err(format!(
                    "output.partitions {key:?}: keys must be unique letters, digits and _"
                ));
            }
            if self.columns.iter().any(|column| &column.name == key) {
                return Err(format!(
                    "output.partitions {key:?} is also a column: a partition key lives in the folder name, not the file"
                ));
            }
        }
        Ok(())
    }

    /// Column names are non-empty and unique.
    fn check_columns(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for column in &self.columns {
            if column.name.is_empty() || !seen.insert(column.name.as_str()) {
                return Err(format!(
                    "output.column {:?}: column names must be non-empty and unique",
                    column.name
                ));
            }
        }
        Ok(())
    }

    /// The table's name can name a folder and an Athena table.
    fn check_table(&self) -> Result<(), String> {
        let table_ok = !self.table.is_empty()
            && self
                .table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !table_ok {
            return Err(format!(
                "output.table {:?} must be letters, digits and _ (it names a folder and an Athena table)",
                self.table
            ));
        }
        Ok(())
    }
}

impl PluginEntry {
    /// The `[[plugin]]` entry numbered `number` (from 1), with its source
    /// resolved against `base`, its sha256 checked and its config as JSON.
    fn resolve(self, number: usize, base: &Location, s3: &S3Options) -> Result<PluginSpec, String> {
        let source = PluginSource::parse(&self.path, base, s3)
            .map_err(|err| format!("plugin {number}: {err}"))?;
        if let Some(sha) = &self.sha256
            && (sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(format!(
                "plugin {number} ({}): sha256 must be 64 hex digits",
                self.path
            ));
        }
        let config = self.config.unwrap_or_default();
        let config_json = serde_json::to_string(&config)
            .map_err(|err| format!("plugin {number}: config cannot be passed on: {err}"))?;
        Ok(PluginSpec {
            source,
            sha256: self.sha256,
            config_json,
            origin: String::new(),
        })
    }
}

/// The lake location `text` given as `key`, resolved against `base`. A lake
/// is never beside a pipeline file read from S3 (that is where plugins go):
/// it must be named in full.
fn resolve_lake(key: &str, text: &str, base: &Location) -> Result<Location, String> {
    if base.is_s3() && !text.starts_with("s3://") {
        return Err(format!(
            "{key} {text:?}: in a pipeline file read from S3 it must be s3://bucket/prefix"
        ));
    }
    Location::resolve(text, base).map_err(|err| format!("{key}: {err}"))
}
