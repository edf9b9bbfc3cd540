//! `weir run`: a file or standard input through the pipeline into a lake
//! (a folder or S3), with a summary that accounts for every record.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::batch::{Batch, Fate, Record};
use crate::config::PipelineConfig;
use crate::engine::PluginEngine;
use crate::lake::{FileOptions, LakeWriter, WriteStats};
use crate::ledger::{InputIdentity, Ledger};
use crate::pipeline::{Pipeline, PluginFailed, PluginStats, Step};
use crate::plugin::{LoadError, LoadedPlugin};
use crate::source::LineSource;
use crate::storage::{Location, Storage};

/// Why a run stopped.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
    #[error("cannot read {path}: {source}")]
    Input {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the lake under {path}: {source}")]
    Output {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    PluginFailed(#[from] PluginFailed),
}

/// Load every plugin of a pipeline, in order. The first that fails stops the
/// load with its one-line error.
pub fn load_pipeline(
    engine: &PluginEngine,
    config: &PipelineConfig,
) -> Result<Pipeline, LoadError> {
    let mut plugins = Vec::with_capacity(config.plugins.len());
    for spec in &config.plugins {
        let (plugin, instance) = LoadedPlugin::load(
            engine,
            &spec.source,
            spec.sha256.as_deref(),
            &spec.config_json,
            &config.limits,
        )?;
        plugins.push(Step::wasm(plugin, instance));
    }
    Ok(Pipeline::new(plugins, config.on_plugin_error))
}

/// What a run did: every record read is counted once as kept, dropped or
/// rejected.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Records read.
    pub read: u64,
    /// Records written to the lake.
    pub kept: u64,
    /// Records filtered out (by a plugin, or blank lines by the host).
    pub dropped: u64,
    /// Records written to the dead letters.
    pub rejected: u64,
    /// Rejected records by (stage, code).
    pub rejects_by_code: BTreeMap<(String, String), u64>,
    /// Records the host rejected while decoding.
    pub host_rejected: u64,
    /// Blank lines the host dropped.
    pub host_dropped: u64,
    /// Per plugin, in pipeline order: name, version and counters.
    pub plugins: Vec<(String, String, PluginStats)>,
    /// Files and bytes written.
    pub written: WriteStats,
    /// Files an earlier run of the same input wrote and this run did not
    /// write again, removed.
    pub withdrawn: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Summary {
    /// Count a batch that went through the pipeline.
    pub fn count(&mut self, batch: &Batch) {
        for record in batch.records() {
            self.count_record(record);
        }
    }

    /// Count one record that went through the pipeline.
    pub fn count_record(&mut self, record: &Record) {
        self.read += 1;
        match &record.fate {
            Fate::Alive { .. } => self.kept += 1,
            Fate::Dropped { stage, .. } => {
                self.dropped += 1;
                if stage.plugin.is_none() {
                    self.host_dropped += 1;
                }
            }
            Fate::Rejected(rejection) => {
                self.rejected += 1;
                if rejection.stage.plugin.is_none() {
                    self.host_rejected += 1;
                }
                *self
                    .rejects_by_code
                    .entry((rejection.stage.name.to_string(), rejection.code.clone()))
                    .or_default() += 1;
            }
        }
    }

    /// Take each plugin's name, version and counters from `pipeline`.
    pub fn take_plugins(&mut self, pipeline: &Pipeline) {
        self.plugins = pipeline
            .steps()
            .iter()
            .map(|step| {
                (
                    step.name().to_string(),
                    step.version().to_string(),
                    step.stats.clone(),
                )
            })
            .collect();
    }

    /// Add another summary's counts (not its plugins, files or time).
    pub fn add(&mut self, other: &Summary) {
        self.read += other.read;
        self.kept += other.kept;
        self.dropped += other.dropped;
        self.rejected += other.rejected;
        self.host_rejected += other.host_rejected;
        self.host_dropped += other.host_dropped;
        for (key, count) in &other.rejects_by_code {
            *self.rejects_by_code.entry(key.clone()).or_default() += count;
        }
        self.written.files += other.written.files;
        self.written.error_files += other.written.error_files;
        self.written.bytes += other.written.bytes;
        self.withdrawn += other.withdrawn;
    }

    /// True when every record read is accounted for exactly once.
    pub fn balanced(&self) -> bool {
        self.read == self.kept + self.dropped + self.rejected
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.read as f64 / secs
        } else {
            0.0
        };
        writeln!(
            f,
            "read {}  kept {}  dropped {}  rejected {}  in {:.2}s ({:.0} events/s)",
            self.read, self.kept, self.dropped, self.rejected, secs, rate
        )?;
        writeln!(
            f,
            "  {:<28} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "stage", "in", "kept", "dropped", "rejected", "time"
        )?;
        let host_in = self.read;
        writeln!(
            f,
            "  {:<28} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "weir (decode)",
            host_in,
            host_in - self.host_dropped - self.host_rejected,
            self.host_dropped,
            self.host_rejected,
            "-"
        )?;
        for (name, version, stats) in &self.plugins {
            let label = format!("{name} {version}");
            let failures = if stats.failures > 0 {
                format!("  ({} failed calls)", stats.failures)
            } else {
                String::new()
            };
            writeln!(
                f,
                "  {:<28} {:>10} {:>10} {:>10} {:>10} {:>8.1}ms{failures}",
                label,
                stats.events_in,
                stats.kept,
                stats.dropped,
                stats.rejected,
                stats.time.as_secs_f64() * 1000.0
            )?;
        }
        if !self.rejects_by_code.is_empty() {
            writeln!(f, "  rejects by code:")?;
            for ((stage, code), count) in &self.rejects_by_code {
                writeln!(f, "    {stage:<26} {code:<24} {count:>10}")?;
            }
        }
        write!(
            f,
            "  wrote {} data files, {} dead-letter files, {} bytes",
            self.written.files, self.written.error_files, self.written.bytes
        )?;
        if self.withdrawn > 0 {
            write!(
                f,
                "; removed {} files an earlier run of this input wrote",
                self.withdrawn
            )?;
        }
        Ok(())
    }
}

/// Where a run writes.
#[derive(Clone, Debug)]
pub struct RunTarget {
    /// The lake.
    pub location: Location,
    /// The dead-letter zone.
    pub dead_letter: Location,
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

/// Run `input` (a path, or `-` for standard input) through the pipeline into
/// the lake. `source_name`, when given, is the input's identity instead of
/// the file's (see [`crate::ledger`]): runs with the same name replace each
/// other's output. `progress` is told of the bytes read after each batch.
pub fn run(
    config: &PipelineConfig,
    pipeline: &mut Pipeline,
    input: &str,
    source_name: Option<&str>,
    target: &RunTarget,
    progress: &mut dyn FnMut(u64, Option<u64>, &Summary),
) -> Result<Summary, RunError> {
    let started = Instant::now();
    let now_micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let mut source = LineSource::open(input, now_micros).map_err(|source| RunError::Input {
        path: input.to_string(),
        source,
    })?;
    let output_error = |source| RunError::Output {
        path: target.location.to_string(),
        source,
    };
    let identity = match (source_name, input) {
        (Some(name), _) => InputIdentity::named(name),
        (None, "-") => InputIdentity::unique_stdin(),
        (None, path) => {
            InputIdentity::of_file(Path::new(path)).map_err(|source| RunError::Input {
                path: input.to_string(),
                source,
            })?
        }
    };
    let data = Storage::open(&target.location, &config.s3).map_err(output_error)?;
    let errors = data
        .sibling(&target.dead_letter, &config.s3)
        .map_err(output_error)?;
    let ledger = identity
        .repeatable
        .then(|| Ledger::new(&data, &errors, &config.table, &identity));
    let previous = match &ledger {
        Some(ledger) => ledger.begin().map_err(output_error)?,
        None => Vec::new(),
    };
    let mut writer = LakeWriter::new(
        &data,
        &errors,
        &config.table,
        &identity.tag(),
        FileOptions::of(config),
    );
    let mut summary = Summary::default();
    let mut batch = Batch::new(&source.name).with_max_record_bytes(config.max_record_bytes);
    loop {
        batch.clear();
        let read = source
            .fill(&mut batch, config.batch_size, batch_bytes(config))
            .map_err(|err| RunError::Input {
                path: input.to_string(),
                source: err,
            })?;
        if read == 0 {
            break;
        }
        pipeline.run(&mut batch)?;
        writer.write(&mut batch).map_err(output_error)?;
        summary.count(&batch);
        progress(source.bytes_read, source.total_bytes, &summary);
    }
    let (written, published) = writer.finish_listed().map_err(output_error)?;
    summary.written = written;
    if let Some(ledger) = &ledger {
        summary.withdrawn = ledger.commit(previous, published).map_err(output_error)? as u64;
    }
    summary.take_plugins(pipeline);
    summary.elapsed = started.elapsed();
    Ok(summary)
}
