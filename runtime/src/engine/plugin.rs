//! One plugin: a compiled component with its configuration, and the live
//! instance that runs batches and is recreated after a failure.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use thiserror::Error;
use wasmtime::Store;
use wasmtime::component::{Component, HasSelf, Linker};

use crate::engine::bindings::{Plugin as PluginBindings, PluginPre, wit};
use crate::engine::cache::Obtained;
use crate::engine::state::{PluginState, new_store};
use crate::engine::{Limits, PluginEngine};

mod failure;
pub use failure::{CallFailure, FailureKind};
use failure::{describe_failure, failure_kind};

/// Where a plugin's component comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginSource {
    /// A plugin embedded in the `weir` binary (`bundled:<name>`).
    Bundled(String),
    /// A component file.
    File(PathBuf),
    /// A component object on S3, read with these settings.
    S3(crate::storage::Location, crate::storage::S3Options),
}

impl PluginSource {
    /// Where a pipeline file's `path` points: `bundled:<name>`,
    /// `s3://bucket/key` (read with `s3`), or a file or object relative to
    /// `base`, where the pipeline file is (see [`Location::resolve`]).
    ///
    /// [`Location::resolve`]: crate::storage::Location::resolve
    pub fn parse(
        text: &str,
        base: &crate::storage::Location,
        s3: &crate::storage::S3Options,
    ) -> Result<PluginSource, String> {
        if let Some(name) = text.strip_prefix("bundled:") {
            return Ok(PluginSource::Bundled(name.to_string()));
        }
        if text.is_empty() {
            return Err("path is empty".into());
        }
        Ok(match crate::storage::Location::resolve(text, base)? {
            crate::storage::Location::Local(path) => PluginSource::File(path),
            location => PluginSource::S3(location, s3.clone()),
        })
    }
}

impl std::fmt::Display for PluginSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginSource::Bundled(name) => write!(f, "bundled:{name}"),
            PluginSource::File(path) => write!(f, "{}", path.display()),
            PluginSource::S3(location, _) => write!(f, "{location}"),
        }
    }
}

/// Why a plugin could not be loaded. Each message is one line naming the
/// plugin and the cause.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The component's bytes could not be had: no bundled plugin of that
    /// name, or the file or S3 object could not be read.
    #[error("plugin {source_name}: {message}")]
    Missing {
        /// Where the plugin was to come from, as written (`bundled:<name>`,
        /// a path or an `s3://` URL).
        source_name: String,
        /// Why it could not be read.
        message: String,
    },
    /// The component's sha256 is not the one the pipeline file gives
    /// (compared ignoring case).
    #[error(
        "plugin {source_name}: sha256 mismatch: the pipeline says {expected}, the file is {actual}"
    )]
    Checksum {
        /// Where the plugin came from.
        source_name: String,
        /// The hex digest the pipeline file asks for.
        expected: String,
        /// The hex digest of the bytes read.
        actual: String,
    },
    /// The component exports another version of the `weir:plugin` contract
    /// than this host implements.
    #[error(
        "plugin {source_name}: built against contract weir:plugin@{found}, and this host speaks weir:plugin@{expected}: rebuild it with the weir-plugin SDK for {expected}"
    )]
    Contract {
        /// Where the plugin came from.
        source_name: String,
        /// The contract version the component exports.
        found: String,
        /// This host's contract version, [`crate::CONTRACT_VERSION`].
        expected: &'static str,
    },
    /// The bytes are not a component this host can use: they do not compile,
    /// export no `weir:plugin/transform`, or do not link against the host.
    #[error("plugin {source_name}: not a Weir plugin component: {message}")]
    Invalid {
        /// Where the plugin came from.
        source_name: String,
        /// The compiler's or linker's error, on one line.
        message: String,
    },
    /// The plugin's `init` returned an error for its configuration.
    #[error("plugin {name} ({source_name}) refused its config: {message}")]
    ConfigRefused {
        /// The plugin's own name, from `describe`.
        name: String,
        /// Where the plugin came from.
        source_name: String,
        /// The plugin's own message.
        message: String,
    },
    /// Instantiating the component, or its `describe` or `init`, trapped or
    /// ran out of memory or time.
    #[error("plugin {source_name} failed to start: {message}")]
    Failed {
        /// Where the plugin came from.
        source_name: String,
        /// The trap, exceeded limit or error, and the tail of the plugin's
        /// standard error if it wrote any.
        message: String,
    },
}

/// The first line of an error chain and its causes, for one-line messages.
fn one_line(err: &wasmtime::Error) -> String {
    format!("{err:#}").replace('\n', " ")
}

/// The bytes of an `s3://bucket/key` object.
fn read_object(
    location: &crate::storage::Location,
    options: &crate::storage::S3Options,
) -> std::io::Result<Vec<u8>> {
    match location {
        crate::storage::Location::S3 { bucket, prefix } => {
            crate::storage::S3Store::connect(bucket, "", options)?.read(prefix)
        }
        crate::storage::Location::Local(path) => std::fs::read(path),
    }
}

/// The contract version a component exports `weir:plugin/transform` at,
/// if it exports it at all.
pub fn contract_of(component: &Component, engine: &wasmtime::Engine) -> Option<String> {
    component
        .component_type()
        .exports(engine)
        .find_map(|(name, _)| {
            name.strip_prefix("weir:plugin/transform@")
                .map(str::to_string)
        })
}

/// Compile a component (or load it compiled, see [`crate::engine::cache`]), check
/// it speaks this host's contract, and link it.
fn prepare(
    engine: &PluginEngine,
    source_name: &str,
    bytes: &[u8],
    sha256: &str,
    beside: Option<&std::path::Path>,
) -> Result<(Component, PluginPre<PluginState>, Obtained), LoadError> {
    let invalid = |err: wasmtime::Error| LoadError::Invalid {
        source_name: source_name.to_string(),
        message: one_line(&err),
    };
    let (component, obtained) = engine
        .cache()
        .component(engine.engine(), bytes, sha256, beside)
        .map_err(invalid)?;
    match contract_of(&component, engine.engine()) {
        Some(found) if found == crate::CONTRACT_VERSION => {}
        Some(found) => {
            return Err(LoadError::Contract {
                source_name: source_name.to_string(),
                found,
                expected: crate::CONTRACT_VERSION,
            });
        }
        None => {
            return Err(LoadError::Invalid {
                source_name: source_name.to_string(),
                message: "it exports no weir:plugin/transform interface".into(),
            });
        }
    }
    let mut linker: Linker<PluginState> = Linker::new(engine.engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(invalid)?;
    crate::engine::clock::shadow_monotonic_clock(&mut linker, PluginState::clock_view)
        .map_err(invalid)?;
    PluginBindings::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state).map_err(invalid)?;
    let instance_pre = linker.instantiate_pre(&component).map_err(invalid)?;
    let pre = PluginPre::new(instance_pre).map_err(|err| LoadError::Invalid {
        source_name: source_name.to_string(),
        message: format!(
            "{} (is it built against weir:plugin@{}?)",
            one_line(&err),
            crate::CONTRACT_VERSION
        ),
    })?;
    Ok((component, pre, obtained))
}

/// A first instance of a linked component, and what it says of itself.
fn start(
    engine: &PluginEngine,
    pre: &PluginPre<PluginState>,
    source_name: &str,
    limits: &Limits,
) -> Result<(Store<PluginState>, PluginBindings, wit::Description), LoadError> {
    let mut store = new_store(engine.engine(), source_name, limits);
    let failed = |err: wasmtime::Error, store: &Store<PluginState>| LoadError::Failed {
        source_name: source_name.to_string(),
        message: describe_failure(&err, store.data(), limits),
    };
    let bindings = pre
        .instantiate(&mut store)
        .map_err(|err| failed(err, &store))?;
    let description = bindings
        .weir_plugin_transform()
        .call_describe(&mut store)
        .map_err(|err| failed(err, &store))?;
    Ok((store, bindings, description))
}

/// What `weir plugin inspect` tells of a component file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PluginInfo {
    /// The plugin's name, from `describe`.
    pub name: String,
    /// The plugin's version, from `describe`.
    pub version: String,
    /// The contract version it was built against.
    pub contract: String,
    /// Everything it imports: `weir:plugin/log` and the WASI interfaces its
    /// language's standard library asks for (the host grants them nothing).
    pub imports: Vec<String>,
    /// Everything it exports.
    pub exports: Vec<String>,
    /// Bytes of the file.
    pub size: u64,
    /// sha256 of the file, hex: the value for `sha256 =` in a pipeline file.
    pub sha256: String,
}

/// Inspect a component without configuring it: its contract, imports and
/// exports, and (when it speaks this host's contract) its name and version
/// from `describe`. A component of another contract is an error saying so.
pub fn inspect(
    engine: &PluginEngine,
    source_name: &str,
    bytes: &[u8],
) -> Result<PluginInfo, LoadError> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let (component, pre, _) = prepare(engine, source_name, bytes, &sha256, None)?;
    let kind = component.component_type();
    let imports = kind
        .imports(engine.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    let exports = kind
        .exports(engine.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    let (_, _, description) = start(engine, &pre, source_name, &Limits::default())?;
    Ok(PluginInfo {
        name: description.name,
        version: description.version,
        contract: crate::CONTRACT_VERSION.to_string(),
        imports,
        exports,
        size: bytes.len() as u64,
        sha256,
    })
}

/// A plugin ready to instantiate: compiled once, pre-linked, configured.
pub struct LoadedPlugin {
    /// The plugin's own name (from `describe`).
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// Where it came from.
    pub source: PluginSource,
    /// sha256 of the component bytes, hex.
    pub sha256: String,
    /// Its config as JSON, passed to `init` at every instantiation.
    config_json: String,
    pre: PluginPre<PluginState>,
    engine: PluginEngine,
    limits: Limits,
    /// Whether its code was compiled at load or found compiled.
    pub obtained: Obtained,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("source", &self.source)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// Read, verify, compile and pre-link a plugin, then instantiate it once
    /// to learn its name and check that it accepts `config_json`.
    pub fn load(
        engine: &PluginEngine,
        source: &PluginSource,
        expected_sha256: Option<&str>,
        config_json: &str,
        limits: &Limits,
    ) -> Result<(LoadedPlugin, PluginInstance), LoadError> {
        let source_name = source.to_string();
        let bytes: std::borrow::Cow<'static, [u8]> = match source {
            PluginSource::Bundled(name) => match weir_bundled_plugins::bundled(name) {
                Some(guest) => guest.bytes.into(),
                None => {
                    let known: Vec<&str> = weir_bundled_plugins::BUNDLED
                        .iter()
                        .map(|(name, _)| *name)
                        .collect();
                    return Err(LoadError::Missing {
                        source_name,
                        message: format!(
                            "no bundled plugin of that name (bundled: {})",
                            known.join(", ")
                        ),
                    });
                }
            },
            PluginSource::File(path) => std::fs::read(path)
                .map_err(|err| LoadError::Missing {
                    source_name: source_name.clone(),
                    message: format!("cannot read {}: {err}", path.display()),
                })?
                .into(),
            PluginSource::S3(location, options) => read_object(location, options)
                .map_err(|err| LoadError::Missing {
                    source_name: source_name.clone(),
                    message: err.to_string(),
                })?
                .into(),
        };
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(expected) = expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(LoadError::Checksum {
                source_name,
                expected: expected.to_string(),
                actual: sha256,
            });
        }
        let beside = match source {
            PluginSource::File(path) => path.parent(),
            _ => None,
        };
        let (_, pre, obtained) = prepare(engine, &source_name, &bytes, &sha256, beside)?;
        let mut loaded = LoadedPlugin {
            name: source_name.clone(),
            version: String::new(),
            source: source.clone(),
            sha256,
            config_json: config_json.to_string(),
            pre,
            engine: engine.clone(),
            limits: limits.clone(),
            obtained,
        };
        let (mut store, bindings, description) = start(engine, &loaded.pre, &source_name, limits)?;
        loaded.name = description.name;
        loaded.version = description.version;
        store.data_mut().plugin = loaded.name.clone();
        let accepted = bindings
            .weir_plugin_transform()
            .call_init(&mut store, &loaded.config_json)
            .map_err(|err| LoadError::Failed {
                source_name: source_name.clone(),
                message: describe_failure(&err, store.data(), limits),
            })?;
        if let Err(message) = accepted {
            return Err(LoadError::ConfigRefused {
                name: loaded.name,
                source_name,
                message,
            });
        }
        Ok((loaded, PluginInstance { store, bindings }))
    }

    /// A new instance, initialised with the plugin's config.
    pub fn instantiate(&self) -> Result<PluginInstance, String> {
        let mut store = new_store(self.engine.engine(), &self.name, &self.limits);
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|err| describe_failure(&err, store.data(), &self.limits))?;
        let accepted = bindings
            .weir_plugin_transform()
            .call_init(&mut store, &self.config_json)
            .map_err(|err| describe_failure(&err, store.data(), &self.limits))?;
        accepted.map_err(|message| format!("refused its config on restart: {message}"))?;
        Ok(PluginInstance { store, bindings })
    }

    /// The limits this plugin runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

/// A live plugin instance: its store and its bindings.
pub struct PluginInstance {
    store: Store<PluginState>,
    bindings: PluginBindings,
}

impl PluginInstance {
    /// Run one batch. On a trap, a deadline or an out-of-memory the error
    /// says which, with the cause in one line, and the instance must not be
    /// used again.
    pub fn process(
        &mut self,
        batch: &wit::Batch,
        limits: &Limits,
    ) -> Result<wit::Results, CallFailure> {
        self.store.data_mut().begin_call();
        self.store.set_epoch_deadline(limits.deadline_ticks());
        let result = self
            .bindings
            .weir_plugin_transform()
            .call_process(&mut self.store, batch)
            .map_err(|err| CallFailure {
                kind: failure_kind(&err),
                cause: describe_failure(&err, self.store.data(), limits),
            });
        let dropped = self.store.data().log_dropped;
        if dropped > 0 {
            tracing::warn!(
                plugin = %self.store.data().plugin,
                dropped,
                "log messages over the per-call limit were dropped"
            );
        }
        result
    }
}
