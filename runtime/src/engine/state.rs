//! The data of every plugin's `Store`, the one place stores are built, and the
//! host's side of the contract's imports (`log`).
//!
//! A plugin's WASI context grants nothing: no environment, no arguments, no
//! preopened directories, no sockets (wasmtime denies every address and name
//! lookup unless told otherwise), a wall clock frozen at the Unix epoch and a
//! virtual monotonic clock on which waiting never waits ([`crate::engine::clock`]).
//! Its standard error goes to an in-memory pipe that keeps the call's last
//! bytes ([`crate::engine::tail_pipe`]), so that a panic message can be reported as
//! the cause of a trap. It does grant random numbers, from the host's
//! generator: Rust's `HashMap` seeds its hash keys from them, and a plugin
//! hashing event fields under fixed keys could be made slow by crafted
//! events. A plugin that samples should hash a field of the event instead,
//! so that a replay takes the same sample.

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::engine::Limits;
use crate::engine::bindings::weir::plugin::log;
use crate::engine::clock::{ClockView, FrozenMonotonicClock, FrozenWallClock, VirtualClock};
use crate::engine::limiter::PluginLimiter;
use crate::engine::tail_pipe::TailPipe;

/// How much of a call's standard error is kept: enough for a panic message
/// and its location (older bytes are dropped, never refused).
const STDERR_CAPACITY: usize = 16 * 1024;

/// The `T` of every plugin's `Store<T>`.
pub struct PluginState {
    /// The plugin's name, to tag its log lines.
    pub plugin: String,
    /// The WASI context that grants nothing.
    wasi: WasiCtx,
    /// Resources WASI hands out (streams, for the standard error pipe).
    table: ResourceTable,
    /// Memory, table and instance caps, for the whole store.
    limits: PluginLimiter,
    /// Where the plugin's standard error goes.
    pub stderr: TailPipe,
    /// The monotonic clock the plugin reads and waits on.
    clock: VirtualClock,
    /// Log messages written during the current call.
    pub logged: u32,
    /// Log messages dropped during the current call, over the limit.
    pub log_dropped: u32,
    /// Most log messages per call.
    log_limit: u32,
}

/// Build a store for one plugin instance, with its memory cap and a deadline.
pub fn new_store(engine: &Engine, plugin: &str, limits: &Limits) -> Store<PluginState> {
    let stderr = TailPipe::new(STDERR_CAPACITY);
    let wasi = WasiCtx::builder()
        .stderr(stderr.clone())
        .wall_clock(FrozenWallClock)
        .monotonic_clock(FrozenMonotonicClock)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let state = PluginState {
        plugin: plugin.to_string(),
        wasi,
        table: ResourceTable::new(),
        // One budget for every memory and table of the store; going past it
        // traps with `LimitExceeded`, reported as out of memory.
        limits: PluginLimiter::new(limits.memory_mib),
        stderr,
        clock: VirtualClock::default(),
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

    /// Start counting log messages, and keeping standard error, for a new
    /// call.
    pub fn begin_call(&mut self) {
        self.logged = 0;
        self.log_dropped = 0;
        self.stderr.clear();
    }

    /// What the linker's `monotonic-clock` functions reach.
    pub fn clock_view(&mut self) -> ClockView<'_> {
        ClockView {
            clock: &mut self.clock,
            table: &mut self.table,
        }
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

/// The `types` interface declares no functions; its host side is empty.
impl crate::engine::bindings::weir::plugin::types::Host for PluginState {}
