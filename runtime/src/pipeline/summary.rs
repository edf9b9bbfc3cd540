//! What a run did, in numbers: every record read counted once as kept,
//! dropped or rejected, per plugin and per reject code, with the files
//! written. The CLI prints it as a table or, with `--json`, as JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde::ser::Serializer;

use crate::pipeline::batch::{Batch, Fate, Record};
use crate::pipeline::{Pipeline, PluginStats};

/// Files and bytes a writer produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WriteStats {
    /// Data files completed.
    pub files: u64,
    /// Dead-letter files completed.
    pub error_files: u64,
    /// Bytes in completed files, both kinds.
    pub bytes: u64,
}

impl WriteStats {
    /// Count a data file of `bytes` completed.
    pub fn data_file(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }

    /// Count a dead-letter file of `bytes` completed.
    pub fn error_file(&mut self, bytes: u64) {
        self.error_files += 1;
        self.bytes += bytes;
    }
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
    /// Declared columns no kept event filled (a misspelt name writes a
    /// column of nulls); filled in by runs that watch for it.
    pub unfilled_columns: Vec<String>,
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

/// One plugin's line of a summary, as JSON.
#[derive(Serialize)]
struct PluginJson<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(rename = "in")]
    events_in: u64,
    kept: u64,
    dropped: u64,
    rejected: u64,
    failures: u64,
    time_ms: f64,
}

/// One (stage, code) count of a summary, as JSON.
#[derive(Serialize)]
struct RejectJson<'a> {
    stage: &'a str,
    code: &'a str,
    count: u64,
}

/// A summary as JSON (`--json`): flat counts, then plugins and reject codes
/// as lists.
#[derive(Serialize)]
struct SummaryJson<'a> {
    read: u64,
    kept: u64,
    dropped: u64,
    rejected: u64,
    host_dropped: u64,
    host_rejected: u64,
    plugins: Vec<PluginJson<'a>>,
    rejects_by_code: Vec<RejectJson<'a>>,
    #[serde(flatten)]
    written: &'a WriteStats,
    withdrawn: u64,
    elapsed_ms: f64,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    unfilled_columns: &'a [String],
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SummaryJson {
            read: self.read,
            kept: self.kept,
            dropped: self.dropped,
            rejected: self.rejected,
            host_dropped: self.host_dropped,
            host_rejected: self.host_rejected,
            plugins: self
                .plugins
                .iter()
                .map(|(name, version, stats)| PluginJson {
                    name,
                    version,
                    events_in: stats.events_in,
                    kept: stats.kept,
                    dropped: stats.dropped,
                    rejected: stats.rejected,
                    failures: stats.failures,
                    time_ms: stats.time.as_secs_f64() * 1000.0,
                })
                .collect(),
            rejects_by_code: self
                .rejects_by_code
                .iter()
                .map(|((stage, code), count)| RejectJson {
                    stage,
                    code,
                    count: *count,
                })
                .collect(),
            written: &self.written,
            withdrawn: self.withdrawn,
            elapsed_ms: self.elapsed.as_secs_f64() * 1000.0,
            unfilled_columns: &self.unfilled_columns,
        }
        .serialize(serializer)
    }
}
