//! **The sandbox** (layer 1, above [`crate::storage`]): compiles plugins,
//! runs each instance in a store with its limits (memory, fuel, deadline,
//! logs), its virtual clock and its stderr tail, and caches compiled
//! modules. Nothing here knows about batches of events beyond the
//! contract's bindings.
//!
//! This module itself holds the engine's compilation settings, the limits
//! every plugin runs under, and the epoch ticker that enforces per-call
//! deadlines.

pub mod bindings;
pub mod cache;
pub mod clock;
pub mod limiter;
pub mod plugin;
pub mod state;
pub mod tail_pipe;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use wasmtime::{Config, Engine, EngineWeak};

use crate::engine::cache::ModuleCache;

/// How often the epoch ticker advances the engine's epoch. A call's deadline
/// is rounded up to a whole number of ticks, so this is the deadline's
/// resolution; 10 ms costs nothing measurable and is far below any sane
/// deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits each plugin instance runs under. Set in the pipeline file's
/// `[limits]` table.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most linear memory one plugin instance may hold, in MiB. Default 64:
    /// a batch of 10,000 events lent to a plugin takes a few MiB.
    pub memory_mib: u64,
    /// Longest one call into a plugin (one batch) may run, in milliseconds.
    /// Default 2,000: a plugin handles a 1,000-event batch in about a
    /// millisecond, so only a runaway plugin reaches it.
    pub call_timeout_ms: u64,
    /// Most log messages one call may write; further ones are counted and
    /// dropped. Default 100.
    pub log_messages_per_call: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mib: 64,
            call_timeout_ms: 2_000,
            log_messages_per_call: 100,
        }
    }
}

impl Limits {
    /// The memory cap in bytes.
    pub fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }

    /// The deadline in epoch ticks, at least one.
    pub fn deadline_ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_millis() as u64;
        self.call_timeout_ms.div_ceil(tick).max(1)
    }
}

/// The engine settings plugins are compiled with; code precompiled for a
/// host must be compiled with the same.
pub fn plugin_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Deadlines: every store must set one (see `state::new_store`).
    config.epoch_interruption(true);
    config
}

/// A wasmtime engine set up for plugins, with its epoch ticker running, and
/// where compiled plugins are cached.
#[derive(Clone)]
pub struct PluginEngine {
    engine: Engine,
    cache: Arc<ModuleCache>,
}

impl PluginEngine {
    /// Build the engine and start its epoch ticker.
    pub fn new() -> wasmtime::Result<Self> {
        let mut config = plugin_config();
        // `WEIR_PERF_MAP=1` writes /tmp/perf-<pid>.map so `perf report` can
        // name the functions of plugins, not just the host's.
        if std::env::var_os("WEIR_PERF_MAP").is_some_and(|v| v == "1") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)?;
        spawn_ticker(engine.weak());
        Ok(PluginEngine {
            engine,
            cache: Arc::default(),
        })
    }

    /// The same engine, keeping compiled plugins in `cache`.
    pub fn with_cache(mut self, cache: ModuleCache) -> Self {
        self.cache = Arc::new(cache);
        self
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Where compiled plugins are kept.
    pub fn cache(&self) -> &ModuleCache {
        &self.cache
    }
}

/// Advance the epoch every [`EPOCH_TICK`] until the engine is dropped. The
/// thread holds only a weak handle so it never keeps the engine alive.
fn spawn_ticker(engine: EngineWeak) {
    std::thread::Builder::new()
        .name("weir-epoch".to_string())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn the epoch ticker thread");
}

/// Compile a component for `target` (a target triple such as
/// `aarch64-unknown-linux-gnu`, or the host's when `None`) into the bytes of
/// a `.cwasm` file, for `weir plugin precompile`.
pub fn precompile(bytes: &[u8], target: Option<&str>) -> wasmtime::Result<Vec<u8>> {
    let mut config = plugin_config();
    if let Some(target) = target {
        config.target(target)?;
    }
    let engine = wasmtime::Engine::new(&config)?;
    engine.precompile_component(bytes)
}
