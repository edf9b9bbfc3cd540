//! What the layers below are given from a pipeline file: the loaded plugin
//! chain, the lake's file options, the size of a batch. Every entry point
//! (`weir run`, `consume`, `etl`, the Lambda handlers) builds them here, so
//! none repeats a rule.

use crate::config::PipelineConfig;
use crate::engine::PluginEngine;
use crate::engine::plugin::{LoadError, LoadedPlugin};
use crate::lake::format::FileOptions;
use crate::pipeline::{Pipeline, Step};

/// Load every plugin of a pipeline, in order. The first that fails stops the
/// load with its one-line error.
pub fn load_pipeline(
    engine: &PluginEngine,
    config: &PipelineConfig,
) -> Result<Pipeline, LoadError> {
    let mut plugins = Vec::with_capacity(config.plugins.len());
    for spec in &config.plugins {
        let started = std::time::Instant::now();
        let (plugin, instance) = LoadedPlugin::load(
            engine,
            &spec.source,
            spec.sha256.as_deref(),
            &spec.config_json,
            &config.limits,
        )
        .map_err(|err| point_into_file(err, &spec.origin))?;
        tracing::info!(
            plugin = %plugin.name,
            version = %plugin.version,
            source = %spec.source,
            code = ?plugin.obtained,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "plugin loaded"
        );
        plugins.push(Step::wasm(plugin, instance));
    }
    Ok(Pipeline::new(plugins, config.on_plugin_error))
}

/// A plugin's refusal of its config, pointed at the pipeline file: the
/// position serde gives is inside the JSON the host made of the
/// `[plugin.config]` table, which the user never saw.
fn point_into_file(err: LoadError, origin: &str) -> LoadError {
    match err {
        LoadError::ConfigRefused {
            name,
            source_name,
            message,
        } if !origin.is_empty() => {
            let message = strip_json_position(&message);
            LoadError::ConfigRefused {
                name,
                source_name,
                message: format!("{message} (in the [plugin.config] of {origin})"),
            }
        }
        other => other,
    }
}

/// `text` without serde_json's ` at line L column C` ending.
fn strip_json_position(text: &str) -> &str {
    let Some(at) = text.rfind(" at line ") else {
        return text;
    };
    let rest = &text[at + " at line ".len()..];
    let words: Vec<&str> = rest.split(' ').collect();
    let numeric = |word: &str| !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit());
    if words.len() == 3 && numeric(words[0]) && words[1] == "column" && numeric(words[2]) {
        &text[..at]
    } else {
        text
    }
}

/// Most bytes of records in one batch: a quarter of a plugin's memory cap,
/// which leaves room for the lent copy, the plugin's own work and its
/// results (at least one record's limit, so any accepted record fits).
pub fn batch_bytes(config: &PipelineConfig) -> usize {
    let quarter = config.limits.memory_mib.saturating_mul(1024 * 1024) / 4;
    usize::try_from(quarter)
        .unwrap_or(usize::MAX)
        .max(config.max_record_bytes)
}

/// How the lake's data files are written, from the `[output]` table.
pub fn file_options(config: &PipelineConfig) -> FileOptions {
    FileOptions {
        format: config.format,
        compression: config.compression,
        columns: config.columns.clone(),
        max_rows: config.max_rows_per_file,
        max_bytes: config.max_bytes_per_file,
        partitions: config.partitions.clone(),
        time_field: config.time_field.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_json_position;

    #[test]
    fn serde_positions_inside_the_made_json_are_dropped() {
        assert_eq!(
            strip_json_position("invalid type: string \"lots\", expected f64 at line 1 column 28"),
            "invalid type: string \"lots\", expected f64"
        );
        assert_eq!(strip_json_position("no such key"), "no such key");
        assert_eq!(
            strip_json_position("meet at line 5 please"),
            "meet at line 5 please"
        );
    }
}
