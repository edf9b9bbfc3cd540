//! What the Lambda host loads: its settings from the environment, the
//! pipeline file (from S3 or the package, with a version to notice a
//! change by) and the pipeline built from it, with its lake opened.

use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::HostError;
use crate::config::build::load_pipeline;
use crate::config::{PipelineConfig, PipelineFile};
use crate::engine::PluginEngine;
use crate::engine::cache::ModuleCache;
use crate::engine::plugin::PluginSource;
use crate::pipeline::Pipeline;
use crate::storage::{Location, S3Options, S3Store, Storage};

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
pub(super) struct PipelineSource {
    location: Location,
    store: Option<S3Store>,
}

impl PipelineSource {
    pub(super) fn open(text: &str) -> Result<PipelineSource, HostError> {
        let location =
            Location::parse(text, std::path::Path::new(".")).map_err(HostError::PipelineName)?;
        let store = match &location {
            Location::Local(_) => None,
            Location::S3 { bucket, .. } => Some(
                S3Store::connect(bucket, "", &S3Options::default()).map_err(|source| {
                    HostError::Fetch {
                        path: text.to_string(),
                        source,
                    }
                })?,
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
    pub(super) fn fetch(&self) -> Result<(String, String), HostError> {
        let fail = |source: std::io::Error| HostError::Fetch {
            path: self.shown(),
            source,
        };
        let (bytes, version) = match (&self.location, &self.store) {
            (Location::S3 { prefix, .. }, Some(store)) => {
                store.read_versioned(prefix).map_err(fail)?
            }
            (location, _) => {
                let Location::Local(path) = location else {
                    return Err(fail(std::io::Error::other("no S3 client")));
                };
                let bytes = std::fs::read(path).map_err(fail)?;
                let version = checksum(&bytes);
                (bytes, version)
            }
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            fail(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "it is not UTF-8 text",
            ))
        })?;
        Ok((text, version))
    }

    /// The file's current version, cheaply: a HEAD request on S3.
    pub(super) fn version(&self) -> Result<String, HostError> {
        match (&self.location, &self.store) {
            (Location::S3 { prefix, .. }, Some(store)) => {
                store.etag(prefix).map_err(|source| HostError::Fetch {
                    path: self.shown(),
                    source,
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
pub(super) struct Active {
    pub(super) config: PipelineConfig,
    pub(super) pipeline: Pipeline,
    pub(super) version: String,
    pub(super) data: Storage,
    pub(super) errors: Storage,
}

impl Active {
    /// Fetch the pipeline file and load it.
    pub(super) fn load(
        engine: &PluginEngine,
        source: &PipelineSource,
    ) -> Result<Active, HostError> {
        let (text, version) = source.fetch()?;
        Active::from_text(engine, source, &text, version)
    }

    /// Load the pipeline `text` of `version`: its plugins fetched, checked
    /// against their sha256, compiled and initialised; its lake opened.
    pub(super) fn from_text(
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
            move |source: std::io::Error| HostError::Lake { location, source }
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
pub(super) const RETRY_REFUSED: Duration = Duration::from_secs(300);
