//! The AWS Lambda host: Kinesis batches from an event source mapping through
//! the pipeline into the lake on S3.
//!
//! - The pipeline file is named by `WEIR_PIPELINE`: `s3://bucket/key`, or a
//!   path in the deployment package. Plugins other than bundled ones must be
//!   pinned by sha256, checked before they are compiled.
//! - Every `WEIR_RELOAD_SECONDS` (default 30) the host checks whether the
//!   file changed (its ETag on S3, its checksum in a folder) and, between
//!   batches, swaps to the new pipeline once it has loaded completely. One
//!   that fails to load leaves the old one running; the failure is logged
//!   once per version.
//! - Each batch is run by [`crate::sources::kinesis::shard`] and written by [`crate::lake::commit`]: objects named after the
//!   shard and the first and last sequence numbers in them, and
//!   `batchItemFailures` naming the first record whose output is not
//!   durable.
//! - One JSON log line and [`metrics`] in Embedded Metric Format per batch.

use std::time::{Duration, Instant};

use thiserror::Error;

use crate::config::ConfigError;
use crate::engine::PluginEngine;
use crate::engine::cache::Obtained;
use crate::engine::plugin::LoadError;
use crate::lake::commit::Committed;
use crate::pipeline::PluginStats;
use crate::sources::kinesis::shard::{self, LakeTarget, Outcome};

pub mod event;
pub mod firehose;
pub mod invocation;
mod loading;
pub mod metrics;

use event::{BatchResponse, ItemFailure, KinesisEvent};
use invocation::{EtlRequest, EtlResponse, HandleError, Invocation, Response};
pub use loading::Settings;
use loading::{Active, PipelineSource, RETRY_REFUSED};
use metrics::BatchMetrics;

/// Why the host cannot start, or cannot load a pipeline. One line each.
#[derive(Debug, Error)]
pub enum HostError {
    /// A setting of the function (its environment) that cannot work.
    #[error("{0}")]
    Setting(String),
    /// The WebAssembly engine could not be built.
    #[error("cannot start the WebAssembly engine")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// `WEIR_PIPELINE` names no bucket.
    #[error("WEIR_PIPELINE: {0}")]
    PipelineName(crate::storage::NoBucket),
    /// The pipeline file could not be read.
    #[error("cannot read the pipeline {path}")]
    Fetch {
        /// The file or object.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The pipeline file is not one Weir can run.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A plugin of the pipeline could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The lake could not be opened.
    #[error("cannot open the lake at {location}")]
    Lake {
        /// The lake's location.
        location: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// How one plugin was made ready, for the start-up report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PluginReady {
    /// Its name, from `describe`.
    pub name: String,
    /// Its version, from `describe`.
    pub version: String,
    /// `compiled`, `shipped` (precompiled in the package) or `cached`.
    pub code: &'static str,
}

/// The Lambda host: the engine, the pipeline in use and where it comes from.
pub struct Host {
    engine: PluginEngine,
    source: PipelineSource,
    active: Active,
    reload_every: Duration,
    last_check: Instant,
    /// A version that failed to load, and when: not tried again until the
    /// file changes or [`RETRY_REFUSED`] has passed.
    refused: Option<(String, Instant)>,
}

impl Host {
    /// Load the pipeline and open the lake.
    pub fn start(settings: Settings) -> Result<Host, HostError> {
        let engine = PluginEngine::new()
            .map_err(|err| HostError::Engine(err.into()))?
            .with_cache(settings.cache);
        let source = PipelineSource::open(&settings.pipeline)?;
        let active = Active::load(&engine, &source)?;
        Ok(Host {
            engine,
            source,
            active,
            reload_every: settings.reload_every,
            last_check: Instant::now(),
            refused: None,
        })
    }

    /// The pipeline's name and version.
    pub fn pipeline(&self) -> (&str, &str) {
        (&self.active.config.name, &self.active.version)
    }

    /// The plugins in use and how their code was obtained.
    pub fn plugins(&self) -> Vec<PluginReady> {
        self.active
            .pipeline
            .steps()
            .iter()
            .filter_map(|step| step.plugin())
            .map(|plugin| PluginReady {
                name: plugin.name.clone(),
                version: plugin.version.clone(),
                code: match plugin.obtained {
                    Obtained::Compiled => "compiled",
                    Obtained::Shipped => "shipped",
                    Obtained::Cached => "cached",
                },
            })
            .collect()
    }

    /// Swap to a changed pipeline file, if it is time to look and it loads.
    fn maybe_reload(&mut self) {
        if self.last_check.elapsed() < self.reload_every {
            return;
        }
        self.last_check = Instant::now();
        let version = match self.source.version() {
            Ok(version) => version,
            Err(err) => {
                tracing::warn!(error = %crate::ErrorChain(&err), "cannot check the pipeline for a change; keeping the one in use");
                return;
            }
        };
        let refused_lately = self
            .refused
            .as_ref()
            .is_some_and(|(refused, when)| *refused == version && when.elapsed() < RETRY_REFUSED);
        if version == self.active.version || refused_lately {
            return;
        }
        // The version is the fetched file's own, whatever the check saw.
        let (text, fetched) = match self.source.fetch() {
            Ok(fetched) => fetched,
            Err(err) => {
                tracing::warn!(error = %crate::ErrorChain(&err), "cannot read the changed pipeline; keeping the one in use");
                return;
            }
        };
        if fetched == self.active.version {
            return;
        }
        match Active::from_text(&self.engine, &self.source, &text, fetched.clone()) {
            Ok(active) => {
                tracing::info!(
                    pipeline = %active.config.name,
                    from = %self.active.version,
                    to = %active.version,
                    "pipeline changed; swapped to the new version"
                );
                self.active = active;
                self.refused = None;
            }
            Err(err) => {
                tracing::error!(
                    version = %fetched,
                    error = %crate::ErrorChain(&err),
                    "the changed pipeline failed to load; keeping version {}",
                    self.active.version
                );
                self.refused = Some((fetched, Instant::now()));
            }
        }
    }

    /// Answer an invocation, in the shape its trigger expects. Writes not
    /// finished by `deadline` (a margin before the invocation's own) count
    /// as failed, so the answer goes back in time.
    pub fn handle(
        &mut self,
        invocation: &Invocation,
        deadline: Option<Instant>,
    ) -> Result<Response, HandleError> {
        self.maybe_reload();
        match invocation {
            Invocation::Kinesis(event) => {
                self.handle_kinesis(event, deadline).map(Response::Kinesis)
            }
            Invocation::Firehose(event) => self.handle_firehose(event).map(Response::Firehose),
            Invocation::Etl(request) => self.handle_etl(request).map(Response::Etl),
        }
    }

    /// Each plugin's counters now, to publish what an invocation added.
    fn plugin_stats(&self) -> Vec<PluginStats> {
        self.active
            .pipeline
            .steps()
            .iter()
            .map(|step| step.stats.clone())
            .collect()
    }

    /// Publish an invocation's metrics and its plugins' since `before`.
    fn publish(&self, batch: &BatchMetrics, before: &[PluginStats]) {
        metrics::publish(batch, self.active.pipeline.steps(), before);
    }

    /// Answer a Firehose transformation invocation.
    fn handle_firehose(
        &mut self,
        event: &firehose::FirehoseEvent,
    ) -> Result<firehose::FirehoseResponse, HandleError> {
        let started = Instant::now();
        let before = self.plugin_stats();
        let active = &mut self.active;
        let transformed = firehose::transform(
            event,
            &mut active.pipeline,
            &active.config,
            &active.data,
            &active.errors,
        )?;
        let summary = &transformed.summary;
        let metrics = BatchMetrics {
            kinesis_records: event.records.len() as u64,
            ..BatchMetrics::of(
                &active.config.name,
                &active.version,
                event.stream(),
                summary,
                started,
            )
        };
        tracing::info!(
            pipeline = %metrics.pipeline,
            version = %metrics.version,
            delivery_stream = %metrics.shard,
            records = metrics.records_in,
            ok = metrics.kept,
            dropped = metrics.dropped,
            failed = metrics.rejected,
            over_response_limit = transformed.over_limit,
            ms = metrics.batch_ms,
            "firehose batch"
        );
        if transformed.over_limit > 0 {
            tracing::warn!(
                records = transformed.over_limit,
                "records past Firehose's 6 MB response limit answered ProcessingFailed (they go to the error prefix); lower the processor's buffer size"
            );
        }
        self.publish(&metrics, &before);
        Ok(transformed.response)
    }

    /// Run the ETL for the day an `etl` request names (yesterday, UTC,
    /// when it names none).
    fn handle_etl(&mut self, request: &EtlRequest) -> Result<EtlResponse, HandleError> {
        let started = Instant::now();
        let before = self.plugin_stats();
        let day = request
            .date
            .clone()
            .unwrap_or_else(crate::sources::etl::yesterday);
        let days = crate::sources::etl::days(&day, &day)?;
        let input = crate::storage::Location::parse(&request.input, std::path::Path::new("."))
            .map_err(HandleError::EtlInput)?;
        let active = &mut self.active;
        let report = crate::sources::etl::etl(
            &active.config,
            &mut active.pipeline,
            &input,
            &days,
            &mut |key, _| {
                tracing::info!(object = %key, "raw object processed");
            },
        )?;
        let summary = &report.summary;
        tracing::info!(
            day = %day,
            objects = report.objects,
            records = summary.read,
            kept = summary.kept,
            dropped = summary.dropped,
            rejected = summary.rejected,
            files = summary.written.files,
            "etl"
        );
        let metrics = BatchMetrics {
            bytes_written: summary.written.bytes,
            objects_written: summary.written.files + summary.written.error_files,
            ..BatchMetrics::of(
                &active.config.name,
                &active.version,
                &format!("etl:{day}"),
                summary,
                started,
            )
        };
        self.publish(&metrics, &before);
        Ok(EtlResponse {
            day,
            objects: report.objects,
            read: summary.read,
            kept: summary.kept,
            dropped: summary.dropped,
            rejected: summary.rejected,
            files: summary.written.files,
            dead_letter_files: summary.written.error_files,
            bytes: summary.written.bytes,
        })
    }

    /// Run one Kinesis batch and say which records Lambda must retry; an
    /// error when a plugin failed under `on_plugin_error = "fail"`.
    fn handle_kinesis(
        &mut self,
        event: &KinesisEvent,
        deadline: Option<Instant>,
    ) -> Result<BatchResponse, HandleError> {
        let started = Instant::now();
        if event.records.is_empty() {
            return Ok(BatchResponse::default());
        }
        let (stream, shard) = event.shard();
        let before = self.plugin_stats();
        let active = &mut self.active;
        let decoded = event.decode();
        let target = LakeTarget {
            config: &active.config,
            data: &active.data,
            errors: &active.errors,
        };
        let Outcome {
            committed,
            summary,
            retried,
            plugin_failed,
        } = shard::process(
            &mut active.pipeline,
            &target,
            stream,
            shard,
            event.shard_records(&decoded),
            deadline,
        );
        if let Some(cause) = plugin_failed {
            // Nothing was written. An error (not a partial answer) lets
            // Lambda split the batch, when the mapping bisects on errors,
            // down to the record the plugin fails on.
            tracing::error!(error = %cause, "a plugin failed and on_plugin_error = \"fail\"; failing the invocation");
            return Err(HandleError::PluginFailed(cause));
        }
        log_commit_failures(&committed);
        let response = retry_response(event, &committed);
        let metrics = BatchMetrics {
            kinesis_records: event.records.len() as u64,
            retried,
            bytes_written: committed.bytes,
            objects_written: committed.files + committed.error_files,
            write_failures: committed.failures.len() as u64,
            ..BatchMetrics::of(
                &active.config.name,
                &active.version,
                shard,
                &summary,
                started,
            )
        };
        log_kinesis_batch(&metrics, stream, shard, &committed, &response);
        self.publish(&metrics, &before);
        Ok(response)
    }
}

/// Log each file of a Kinesis batch that is not durable, and each that
/// should have been withdrawn and was not.
fn log_commit_failures(committed: &Committed) {
    for failure in &committed.failures {
        tracing::error!(error = %failure, "part of the batch is not durable");
    }
    for failure in &committed.not_withdrawn {
        tracing::error!(error = %failure, "could not remove an object that holds retried records; a retry of the same records replaces it");
    }
}

/// The answer to Lambda: the first record whose output is not durable, by
/// its sequence number, for Lambda to retry from; none when all of it is.
fn retry_response(event: &KinesisEvent, committed: &Committed) -> BatchResponse {
    match committed.retry_from {
        Some(unit) => BatchResponse {
            batch_item_failures: vec![ItemFailure {
                item_identifier: event.records[unit].kinesis.sequence_number.clone(),
            }],
        },
        None => BatchResponse::default(),
    }
}

/// The one JSON log line of a Kinesis batch of `stream`'s `shard`.
fn log_kinesis_batch(
    metrics: &BatchMetrics,
    stream: &str,
    shard: &str,
    committed: &Committed,
    response: &BatchResponse,
) {
    tracing::info!(
        pipeline = %metrics.pipeline,
        version = %metrics.version,
        stream = %stream,
        shard = %shard,
        kinesis_records = metrics.kinesis_records,
        records = metrics.records_in,
        kept = metrics.kept,
        dropped = metrics.dropped,
        rejected = metrics.rejected,
        retried = metrics.retried,
        objects = metrics.objects_written,
        bytes = metrics.bytes_written,
        withdrawn = committed.withdrawn,
        retry_from = response.batch_item_failures.first().map(|failure| failure.item_identifier.as_str()),
        ms = metrics.batch_ms,
        "batch"
    );
}
