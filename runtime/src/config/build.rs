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
        )?;
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
