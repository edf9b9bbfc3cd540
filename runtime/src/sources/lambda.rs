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

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::config::build::load_pipeline;
use crate::config::{ConfigError, PipelineConfig, PipelineFile};
use crate::engine::PluginEngine;
use crate::engine::cache::{ModuleCache, Obtained};
use crate::engine::plugin::{LoadError, PluginSource};
use crate::pipeline::{Pipeline, PluginStats};
use crate::sources::kinesis::shard::{self, LakeTarget, Outcome};
use crate::storage::{Location, S3Options, S3Store, Storage};

pub mod event;
pub mod firehose;
pub mod metrics;

use event::{BatchResponse, ItemFailure, KinesisEvent};
use metrics::{BatchMetrics, PluginMetrics};

/// Why the host cannot start, or cannot load a pipeline. One line each.
#[derive(Debug, Error)]
pub enum HostError {
    #[error("{0}")]
    Setting(String),
    #[error("cannot read the pipeline {path}: {message}")]
    Fetch { path: String, message: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot open the lake at {location}: {message}")]
    Lake { location: String, message: String },
}

/// The host's settings, from its environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `WEIR_PIPELINE`: `s3://bucket/key` or a path.
    pub pipeline: String,
    /// `WEIR_RELOAD_SECONDS`: how often to check the pipeline file for a
    /// change; 0 checks before every batch. Default 30.
    pub reload_every: Duration,
    /// `WEIR_PRECOMPILED_DIR` (default `$LAMBDA_TASK_ROOT/precompiled`) and
    /// `WEIR_CACHE_DIR` (default `/tmp/weir-cache`).
    pub cache: ModuleCache,
}

impl Settings {
    /// Read the settings from the environment.
    pub fn from_env() -> Result<Settings, HostError> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let pipeline = var("WEIR_PIPELINE").ok_or_else(|| {
            HostError::Setting(
                "WEIR_PIPELINE is not set: name the pipeline file, s3://bucket/key or a path in the package".into(),
            )
        })?;
        let reload_every = match var("WEIR_RELOAD_SECONDS") {
            None => Duration::from_secs(30),
            Some(text) => Duration::from_secs(text.parse().map_err(|_| {
                HostError::Setting(format!(
                    "WEIR_RELOAD_SECONDS must be a whole number of seconds, not {text:?}"
                ))
            })?),
        };
        let shipped = var("WEIR_PRECOMPILED_DIR").map(PathBuf::from).or_else(|| {
            var("LAMBDA_TASK_ROOT").map(|root| PathBuf::from(root).join("precompiled"))
        });
        let writable = var("WEIR_CACHE_DIR").unwrap_or_else(|| "/tmp/weir-cache".into());
        let package = var("LAMBDA_TASK_ROOT").map(PathBuf::from);
        Ok(Settings {
            pipeline,
            reload_every,
            cache: ModuleCache {
                shipped: shipped.into_iter().collect(),
                writable: Some(PathBuf::from(writable)),
                package,
            },
        })
    }
}

/// Where the pipeline file is read from: a file, or an object read with
/// its own S3 client.
struct PipelineSource {
    location: Location,
    store: Option<S3Store>,
}

impl PipelineSource {
    fn open(text: &str) -> Result<PipelineSource, HostError> {
        let fetch_error = |message: String| HostError::Fetch {
            path: text.to_string(),
            message,
        };
        let location = Location::parse(text, std::path::Path::new(".")).map_err(fetch_error)?;
        let store = match &location {
            Location::Local(_) => None,
            Location::S3 { bucket, .. } => Some(
                S3Store::connect(bucket, "", &S3Options::default())
                    .map_err(|err| fetch_error(err.to_string()))?,
            ),
        };
        Ok(PipelineSource { location, store })
    }

    fn shown(&self) -> String {
        self.location.to_string()
    }

    /// Where relative paths in the file are resolved: its folder or prefix.
    fn base(&self) -> Location {
        match &self.location {
            Location::Local(path) => Location::Local(
                path.parent()
                    .unwrap_or(std::path::Path::new("."))
                    .to_path_buf(),
            ),
            Location::S3 { bucket, prefix } => Location::S3 {
                bucket: bucket.clone(),
                prefix: prefix
                    .rsplit_once('/')
                    .map_or("", |(dir, _)| dir)
                    .to_string(),
            },
        }
    }

    /// The file's text and its version.
    fn fetch(&self) -> Result<(String, String), HostError> {
        let fail = |message: String| HostError::Fetch {
            path: self.shown(),
            message,
        };
        let (bytes, version) = match (&self.location, &self.store) {
            (Location::S3 { prefix, .. }, Some(store)) => store
                .read_versioned(prefix)
                .map_err(|err| fail(err.to_string()))?,
            (location, _) => {
                let Location::Local(path) = location else {
                    return Err(fail("no S3 client".into()));
                };
                let bytes = std::fs::read(path).map_err(|err| fail(err.to_string()))?;
                let version = checksum(&bytes);
                (bytes, version)
            }
        };
        let text = String::from_utf8(bytes).map_err(|_| fail("it is not UTF-8 text".into()))?;
        Ok((text, version))
    }

    /// The file's current version, cheaply: a HEAD request on S3.
    fn version(&self) -> Result<String, HostError> {
        match (&self.location, &self.store) {
            (Location::S3 { prefix, .. }, Some(store)) => {
                store.etag(prefix).map_err(|err| HostError::Fetch {
                    path: self.shown(),
                    message: err.to_string(),
                })
            }
            _ => self.fetch().map(|(_, version)| version),
        }
    }
}

fn checksum(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

/// A pipeline loaded and ready, with its lake opened.
struct Active {
    config: PipelineConfig,
    pipeline: Pipeline,
    version: String,
    data: Storage,
    errors: Storage,
}

impl Active {
    /// Fetch the pipeline file and load it.
    fn load(engine: &PluginEngine, source: &PipelineSource) -> Result<Active, HostError> {
        let (text, version) = source.fetch()?;
        Active::from_text(engine, source, &text, version)
    }

    /// Load the pipeline `text` of `version`: its plugins fetched, checked
    /// against their sha256, compiled and initialised; its lake opened.
    fn from_text(
        engine: &PluginEngine,
        source: &PipelineSource,
        text: &str,
        version: String,
    ) -> Result<Active, HostError> {
        let shown = source.shown();
        let name = shown.rsplit('/').next().unwrap_or(&shown);
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        let config = PipelineFile::parse(text, &shown)?.resolve(&source.base(), stem, &shown)?;
        for spec in &config.plugins {
            if !matches!(spec.source, PluginSource::Bundled(_)) && spec.sha256.is_none() {
                return Err(HostError::Setting(format!(
                    "plugin {}: the Lambda host runs only plugins pinned by sha256: add sha256 = \"…\" to its entry (`weir plugin inspect` prints it)",
                    spec.source
                )));
            }
        }
        for (key, location) in [
            ("output.location", &config.location),
            ("dead_letter.location", &config.dead_letter),
        ] {
            if !location.is_s3() {
                return Err(HostError::Setting(format!(
                    "{key} is {location}: on Lambda the lake must be on S3 (s3://bucket/prefix); a local folder is lost with the sandbox"
                )));
            }
        }
        let pipeline = load_pipeline(engine, &config)?;
        let lake_error = |location: &Location| {
            let location = location.to_string();
            move |err: std::io::Error| HostError::Lake {
                location,
                message: err.to_string(),
            }
        };
        let data =
            Storage::open(&config.location, &config.s3).map_err(lake_error(&config.location))?;
        let errors = data
            .sibling(&config.dead_letter, &config.s3)
            .map_err(lake_error(&config.dead_letter))?;
        Ok(Active {
            config,
            pipeline,
            version,
            data,
            errors,
        })
    }
}

/// How long a version that failed to load is left before it is tried again
/// (its plugins may have been uploaded after it).
const RETRY_REFUSED: Duration = Duration::from_secs(300);

/// An `{"etl": …}` invocation: run the raw zone's day into the lake.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EtlRequest {
    /// The raw zone: `s3://bucket/raw`.
    pub input: String,
    /// The day; default the day before today (UTC).
    pub date: Option<String>,
}

/// How one plugin was made ready, for the start-up report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PluginReady {
    /// Its name and version.
    pub name: String,
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
            .map_err(|err| {
                HostError::Setting(format!("cannot start the WebAssembly engine: {err}"))
            })?
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
                tracing::warn!(error = %err, "cannot check the pipeline for a change; keeping the one in use");
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
                tracing::warn!(error = %err, "cannot read the changed pipeline; keeping the one in use");
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
                    error = %err,
                    "the changed pipeline failed to load; keeping version {}",
                    self.active.version
                );
                self.refused = Some((fetched, Instant::now()));
            }
        }
    }

    /// Answer any invocation: a Kinesis batch (`Records`), a Firehose
    /// transformation (`records` and `deliveryStreamArn`) or an ETL run
    /// (`{"etl": {"input": "s3://…/raw", "date": "YYYY-MM-DD"}}`, the day
    /// before today, UTC, when no date is given).
    pub fn handle_any(
        &mut self,
        payload: serde_json::Value,
        deadline: Option<Instant>,
    ) -> Result<serde_json::Value, String> {
        let not_json =
            |err: serde_json::Error| format!("the event is not one this host answers: {err}");
        if payload.get("Records").is_some() {
            let event: KinesisEvent = serde_json::from_value(payload).map_err(not_json)?;
            let response = self.handle(&event, deadline)?;
            return serde_json::to_value(response).map_err(|err| err.to_string());
        }
        if payload.get("records").is_some() {
            let event: firehose::FirehoseEvent =
                serde_json::from_value(payload).map_err(not_json)?;
            let response = self.handle_firehose(&event)?;
            return serde_json::to_value(response).map_err(|err| err.to_string());
        }
        if let Some(request) = payload.get("etl") {
            let request: EtlRequest = serde_json::from_value(request.clone()).map_err(not_json)?;
            return self.handle_etl(&request);
        }
        Err("the event is neither a Kinesis batch (Records), a Firehose transformation (records) nor an ETL request (etl)".into())
    }

    /// Answer a Firehose transformation invocation.
    pub fn handle_firehose(
        &mut self,
        event: &firehose::FirehoseEvent,
    ) -> Result<firehose::FirehoseResponse, String> {
        let started = Instant::now();
        self.maybe_reload();
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
            pipeline: active.config.name.clone(),
            version: active.version.clone(),
            shard: event.stream().to_string(),
            kinesis_records: event.records.len() as u64,
            records_in: summary.read,
            kept: summary.kept,
            dropped: summary.dropped,
            rejected: summary.rejected,
            batch_ms: started.elapsed().as_secs_f64() * 1000.0,
            ..BatchMetrics::default()
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
        println!("{}", metrics.emf());
        Ok(transformed.response)
    }

    /// Run the ETL for the day an `etl` request names.
    pub fn handle_etl(&mut self, request: &EtlRequest) -> Result<serde_json::Value, String> {
        self.maybe_reload();
        let day = match &request.date {
            Some(day) => day.clone(),
            None => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |since| since.as_micros() as i64);
                weir_plugin::time::Timestamp::from_unix_micros(now - 86_400_000_000).date_string()
            }
        };
        let days = crate::sources::etl::days(&day, &day).map_err(|err| err.to_string())?;
        let input = Location::parse(&request.input, std::path::Path::new("."))?;
        let active = &mut self.active;
        let report = crate::sources::etl::etl(
            &active.config,
            &mut active.pipeline,
            &input,
            &days,
            &mut |key, _| {
                tracing::info!(object = %key, "raw object processed");
            },
        )
        .map_err(|err| err.to_string())?;
        let summary = &report.summary;
        tracing::info!(
            day = %day,
            objects = report.objects,
            records = summary.read,
            kept = summary.kept,
            dropped = summary.dropped,
            rejected = summary.rejected,
            files = report.summary.written.files,
            "etl"
        );
        Ok(serde_json::json!({
            "day": day,
            "objects": report.objects,
            "read": summary.read,
            "kept": summary.kept,
            "dropped": summary.dropped,
            "rejected": summary.rejected,
            "files": report.summary.written.files,
            "dead_letter_files": report.summary.written.error_files,
            "bytes": report.summary.written.bytes,
        }))
    }

    /// Run one Kinesis batch and say which records Lambda must retry; an
    /// error when a plugin failed under `on_plugin_error = "fail"`.
    /// Writes not finished by `deadline` (a margin before the invocation's
    /// own) count as failed, so the answer goes back in time.
    pub fn handle(
        &mut self,
        event: &KinesisEvent,
        deadline: Option<Instant>,
    ) -> Result<BatchResponse, String> {
        let started = Instant::now();
        self.maybe_reload();
        if event.records.is_empty() {
            return Ok(BatchResponse::default());
        }
        let (stream, shard) = event.shard();
        let active = &mut self.active;
        let before: Vec<PluginStats> = active
            .pipeline
            .steps()
            .iter()
            .map(|step| step.stats.clone())
            .collect();
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
            return Err(cause);
        }
        for failure in &committed.failures {
            tracing::error!(error = %failure, "part of the batch is not durable");
        }
        for failure in &committed.not_withdrawn {
            tracing::error!(error = %failure, "could not remove an object that holds retried records; a retry of the same records replaces it");
        }
        let response = match committed.retry_from {
            Some(unit) => BatchResponse {
                batch_item_failures: vec![ItemFailure {
                    item_identifier: event.records[unit].kinesis.sequence_number.clone(),
                }],
            },
            None => BatchResponse::default(),
        };
        let metrics = BatchMetrics {
            pipeline: active.config.name.clone(),
            version: active.version.clone(),
            shard: shard.to_string(),
            kinesis_records: event.records.len() as u64,
            records_in: summary.read,
            kept: summary.kept,
            dropped: summary.dropped,
            rejected: summary.rejected,
            retried,
            bytes_written: committed.bytes,
            objects_written: committed.files + committed.error_files,
            write_failures: committed.failures.len() as u64,
            batch_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
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
        println!("{}", metrics.emf());
        for (step, before) in active.pipeline.steps().iter().zip(&before) {
            let plugin = PluginMetrics {
                plugin: step.name().to_string(),
                version: step.version().to_string(),
                events_in: step.stats.events_in - before.events_in,
                kept: step.stats.kept - before.kept,
                dropped: step.stats.dropped - before.dropped,
                rejected: step.stats.rejected - before.rejected,
                failures: step.stats.failures - before.failures,
                time_ms: (step.stats.time - before.time).as_secs_f64() * 1000.0,
            };
            println!("{}", plugin.emf(&metrics.pipeline, &metrics.version));
        }
        Ok(response)
    }
}
