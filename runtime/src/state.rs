//! The data of every plugin's `Store`, the one place stores are built, and the
//! host's side of the contract's imports (`log`).
//!
//! A plugin's WASI context grants nothing: no environment, no arguments, no
//! preopened directories, no sockets (wasmtime denies every address and name
//! lookup unless told otherwise), and a clock frozen at the Unix epoch. Its
//! standard error goes to a small in-memory pipe so that a panic message can
//! be reported as the cause of a trap.

use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::bindings::weir::plugin::log;
use crate::engine::Limits;

/// How much of a plugin's standard error is kept: enough for a panic message
/// and its location.
const STDERR_CAPACITY: usize = 16 * 1024;

/// The `T` of every plugin's `Store<T>`.
pub struct PluginState {
    /// The plugin's name, to tag its log lines.
    pub plugin: String,
    /// The WASI context that grants nothing.
    wasi: WasiCtx,
    /// Resources WASI hands out (streams, for the standard error pipe).
    table: ResourceTable,
    /// Memory and instance caps.
    limits: StoreLimits,
    /// Where the plugin's standard error goes.
    pub stderr: MemoryOutputPipe,
    /// Log messages written during the current call.
    pub logged: u32,
    /// Log messages dropped during the current call, over the limit.
    pub log_dropped: u32,
    /// Most log messages per call.
    log_limit: u32,
}

/// Build a store for one plugin instance, with its memory cap and a deadline.
pub fn new_store(engine: &Engine, plugin: &str, limits: &Limits) -> Store<PluginState> {
    let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
    let wasi = WasiCtx::builder()
        .stderr(stderr.clone())
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let state = PluginState {
        plugin: plugin.to_string(),
        wasi,
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes())
            // Fail a memory.grow past the cap with a trap rather than -1, so
            // the cause is reported as out-of-memory instead of a guest abort.
            .trap_on_grow_failure(true)
            .instances(16)
            .build(),
        stderr,
        logged: 0,
        log_dropped: 0,
        log_limit: limits.log_messages_per_call,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limits);
    // Epoch interruption is on for the engine, so every store needs a
    // deadline, or the first tick would interrupt it. Each call resets it
    // (`PluginInstance::call`); this one covers instantiation and `init`.
    store.set_epoch_deadline(limits.deadline_ticks());
    store.epoch_deadline_trap();
    store
}

impl PluginState {
    /// The last lines the plugin wrote to standard error, for a failure report.
    pub fn stderr_tail(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            return None;
        }
        let tail = lines[lines.len().saturating_sub(2)..].join(" ");
        Some(tail.chars().take(500).collect())
    }

    /// Start counting log messages for a new call.
    pub fn begin_call(&mut self) {
        self.logged = 0;
        self.log_dropped = 0;
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl log::Host for PluginState {
    fn log(&mut self, level: log::Level, message: String) {
        if self.logged >= self.log_limit {
            self.log_dropped += 1;
            return;
        }
        self.logged += 1;
        let plugin = self.plugin.as_str();
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

/// A clock that always reads the Unix epoch: plugins get time from events and
/// from the arrival time the host lends, never from the machine.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// The `types` interface declares no functions; its host side is empty.
impl crate::bindings::weir::plugin::types::Host for PluginState {}
