//! **The pipeline** (layer 2, above [`crate::engine`]): a [`batch::Batch`]
//! of records, each [`decode`]d once into typed columns (and [`encode`]d
//! back to JSON), lent to every plugin in turn; each record leaves kept,
//! dropped or rejected exactly once, and a [`summary::Summary`] counts
//! them.
//!
//! This module itself holds the chain: [`Pipeline`] runs a batch through its
//! [`Step`]s in order and applies each one's outcomes.

pub mod batch;
pub mod decode;
pub mod encode;
pub mod json;
pub mod summary;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use thiserror::Error;

use crate::engine::bindings::wit;
use crate::engine::plugin::{CallFailure, LoadedPlugin, PluginInstance};
use crate::pipeline::batch::{Batch, Fate, Stage};

/// A plugin that runs in the host's process, without a sandbox.
pub trait NativePlugin: Send {
    /// Its name.
    fn name(&self) -> &str;
    /// Its version.
    fn version(&self) -> &str;
    /// Process one batch, one outcome per event.
    fn process(&self, batch: &wit::Batch) -> wit::Results;
}

/// What happens to a batch when a plugin traps, times out, runs out of memory
/// or breaks the contract.
///
/// Under `reject`, a batch the plugin trapped or ran out of memory on is run
/// again in halves (up to a bound of calls), so only the events it fails on
/// alone, or in the smallest batch tried, are rejected.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OnPluginError {
    /// Reject the events the plugin failed on, with code `plugin-failed` and
    /// the cause, and go on with the next batch. The default.
    #[default]
    Reject,
    /// Fail the batch (and the run) with the cause.
    Fail,
}

/// A plugin failed and the policy is [`OnPluginError::Fail`].
#[derive(Clone, Debug, Error)]
#[error("plugin {plugin} failed: {cause}")]
pub struct PluginFailed {
    /// The plugin's name.
    pub plugin: String,
    /// The cause, in one line.
    pub cause: String,
}

/// Counters of one plugin.
#[derive(Clone, Debug, Default)]
pub struct PluginStats {
    /// Events lent to the plugin.
    pub events_in: u64,
    /// Events it kept.
    pub kept: u64,
    /// Events it dropped.
    pub dropped: u64,
    /// Events it rejected (including `plugin-failed`).
    pub rejected: u64,
    /// Calls that failed (trap, deadline, memory, contract).
    pub failures: u64,
    /// Time spent in its calls, lending and taking back included.
    pub time: Duration,
}

/// How a step runs its plugin.
enum Runner {
    /// A WebAssembly component, with its live instance (none after a failure,
    /// until the next batch recreates it).
    Wasm {
        plugin: Arc<LoadedPlugin>,
        instance: Option<PluginInstance>,
    },
    /// The same rules compiled into the host, for the native baseline.
    Native(Box<dyn NativePlugin>),
}

/// One plugin of the pipeline.
pub struct Step {
    runner: Runner,
    stage: Stage,
    /// The plugin's counters.
    pub stats: PluginStats,
}

impl Step {
    /// A step that runs a WebAssembly plugin, starting with `instance`.
    pub fn wasm(plugin: LoadedPlugin, instance: PluginInstance) -> Step {
        Step {
            stage: Stage {
                name: Arc::from(plugin.name.as_str()),
                version: Arc::from(plugin.version.as_str()),
                plugin: None,
            },
            runner: Runner::Wasm {
                plugin: Arc::new(plugin),
                instance: Some(instance),
            },
            stats: PluginStats::default(),
        }
    }

    /// A step that runs a plugin compiled natively into the host.
    pub fn native(plugin: Box<dyn NativePlugin>) -> Step {
        Step {
            stage: Stage {
                name: Arc::from(plugin.name()),
                version: Arc::from(plugin.version()),
                plugin: None,
            },
            runner: Runner::Native(plugin),
            stats: PluginStats::default(),
        }
    }

    /// The WebAssembly plugin the step runs (none for a native one).
    pub fn plugin(&self) -> Option<&LoadedPlugin> {
        match &self.runner {
            Runner::Wasm { plugin, .. } => Some(plugin),
            Runner::Native(_) => None,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.stage.name
    }

    /// The plugin's version.
    pub fn version(&self) -> &str {
        &self.stage.version
    }

    /// Run one lent batch. On a failure the instance is dropped, to be
    /// recreated for the next batch.
    fn call(&mut self, batch: &wit::Batch, events: usize) -> Result<wit::Results, CallFailure> {
        let result = match &mut self.runner {
            Runner::Native(plugin) => Ok(plugin.process(batch)),
            Runner::Wasm { plugin, instance } => {
                let live = match instance {
                    Some(live) => live,
                    None => instance.insert(plugin.instantiate()?),
                };
                let result = live.process(batch, plugin.limits());
                if result.is_err() {
                    // After a trap the instance may be in any state.
                    *instance = None;
                }
                result
            }
        };
        let results = result?;
        let answered = results.outcomes.len() / weir_plugin::layout::OUTCOME_BYTES;
        if answered != events || results.outcomes.len() % weir_plugin::layout::OUTCOME_BYTES != 0 {
            if let Runner::Wasm { instance, .. } = &mut self.runner {
                *instance = None;
            }
            return Err(CallFailure::other(format!(
                "broke the contract: returned {} bytes of outcomes for {events} events",
                results.outcomes.len()
            )));
        }
        Ok(results)
    }

    /// Apply the results of a call to the records lent for it, counting
    /// their fates.
    fn take(&mut self, batch: &mut Batch, results: &wit::Results) {
        batch.apply(results, &self.stage);
        for &index in batch.lent() {
            match &batch.records()[index].fate {
                Fate::Alive { .. } => self.stats.kept += 1,
                Fate::Dropped { .. } => self.stats.dropped += 1,
                Fate::Rejected(_) => self.stats.rejected += 1,
            }
        }
    }

    /// After a call on `events` failed with `failure` (under the reject
    /// policy): when the failure is worth it and `retries` allow, run each
    /// half again, so the events the plugin fails on are found and the
    /// others go on; otherwise reject `events` with the cause.
    fn split_or_reject(
        &mut self,
        batch: &mut Batch,
        events: &[usize],
        failure: CallFailure,
        retries: &mut usize,
    ) {
        if failure.kind.worth_splitting() && events.len() > 1 && *retries > 0 {
            let (left, right) = events.split_at(events.len() / 2);
            for half in [left, right] {
                if *retries == 0 {
                    // Out of calls: what is left still fails, whole.
                    self.reject_all(batch, half, &failure.cause);
                    continue;
                }
                *retries -= 1;
                let lent = batch.lend_only(half);
                let result = self.call(&lent, batch.lent().len());
                batch.restore(lent);
                match result {
                    Ok(results) => self.take(batch, &results),
                    Err(failure) => {
                        self.stats.failures += 1;
                        let half = batch.lent().to_vec();
                        self.split_or_reject(batch, &half, failure, retries);
                    }
                }
            }
            return;
        }
        self.reject_all(batch, events, &failure.cause);
    }

    /// Reject `events` as `plugin-failed` with `cause`.
    fn reject_all(&mut self, batch: &mut Batch, events: &[usize], cause: &str) {
        tracing::warn!(plugin = %self.name(), events = events.len(), %cause, "plugin failed; its events are rejected");
        for &index in events {
            batch.reject(index, &self.stage, "plugin-failed", cause);
        }
        self.stats.rejected += events.len() as u64;
    }
}

/// Most calls a batch may make again, in halves, after a plugin failed on
/// it: enough to split any batch of up to 64 events down to single events,
/// and to find a few events a plugin fails on in the largest batch (each
/// costs about two calls per halving); few enough that a plugin that fails
/// on everything costs a bounded number of restarts.
const MAX_SPLIT_CALLS: usize = 128;

/// Plugins in order, and the failure policy.
pub struct Pipeline {
    steps: Vec<Step>,
    on_plugin_error: OnPluginError,
}

impl Pipeline {
    /// A pipeline of steps, in order.
    pub fn new(mut steps: Vec<Step>, on_plugin_error: OnPluginError) -> Self {
        for (index, step) in steps.iter_mut().enumerate() {
            step.stage.plugin = Some(index);
        }
        Pipeline {
            steps,
            on_plugin_error,
        }
    }

    /// The plugins, in order, with their counters.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Run `batch` through every plugin. Afterwards each record is kept
    /// (`Fate::Alive`), dropped or rejected. `Err` only under the `fail`
    /// policy; the batch is then unusable.
    pub fn run(&mut self, batch: &mut Batch) -> Result<(), PluginFailed> {
        for step in &mut self.steps {
            let lent = batch.lend();
            let count = batch.lent().len();
            if count == 0 {
                batch.restore(lent);
                break;
            }
            let started = Instant::now();
            let result = step.call(&lent, count);
            batch.restore(lent);
            step.stats.events_in += count as u64;
            match result {
                Ok(results) => step.take(batch, &results),
                Err(failure) => {
                    step.stats.failures += 1;
                    if self.on_plugin_error == OnPluginError::Fail {
                        step.stats.time += started.elapsed();
                        return Err(PluginFailed {
                            plugin: step.name().to_string(),
                            cause: failure.cause,
                        });
                    }
                    let events = batch.lent().to_vec();
                    let mut retries = MAX_SPLIT_CALLS;
                    step.split_or_reject(batch, &events, failure, &mut retries);
                }
            }
            step.stats.time += started.elapsed();
        }
        Ok(())
    }
}
