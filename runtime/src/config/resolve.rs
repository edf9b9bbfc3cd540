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
        self.s3.check().map_err(|err| invalid(err.to_string()))?;
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
