//! The pipeline: runs a batch through the plugins in order and accounts for
//! every record: each leaves kept, dropped or rejected, exactly once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use thiserror::Error;

use crate::batch::{Batch, Fate, Stage};
use crate::bindings::wit;
use crate::native::NativePlugin;
use crate::plugin::{LoadedPlugin, PluginInstance};

/// What happens to a batch when a plugin traps, times out, runs out of memory
/// or breaks the contract.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OnPluginError {
    /// Reject each event the plugin was given, with code `plugin-failed` and
    /// the cause, and go on with the next batch. The default.
    #[default]
    Reject,
    /// Fail the batch (and the run) with the cause.
    Fail,
}

/// A plugin failed and the policy is [`OnPluginError::Fail`].
#[derive(Debug, Error)]
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
    fn call(&mut self, batch: &wit::Batch, events: usize) -> Result<wit::Results, String> {
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
            return Err(format!(
                "broke the contract: returned {} bytes of outcomes for {events} events",
                results.outcomes.len()
            ));
        }
        Ok(results)
    }
}

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
                Ok(results) => {
                    batch.apply(&results, &step.stage);
                    for &index in batch.lent() {
                        match &batch.records()[index].fate {
                            Fate::Alive { .. } => step.stats.kept += 1,
                            Fate::Dropped { .. } => step.stats.dropped += 1,
                            Fate::Rejected(_) => step.stats.rejected += 1,
                        }
                    }
                }
                Err(cause) => {
                    step.stats.failures += 1;
                    if self.on_plugin_error == OnPluginError::Fail {
                        step.stats.time += started.elapsed();
                        return Err(PluginFailed {
                            plugin: step.name().to_string(),
                            cause,
                        });
                    }
                    tracing::warn!(plugin = %step.name(), events = count, %cause, "plugin failed; its events are rejected");
                    for index in batch.lent().to_vec() {
                        batch.reject(index, &step.stage, "plugin-failed", &cause);
                    }
                    step.stats.rejected += count as u64;
                }
            }
            step.stats.time += started.elapsed();
        }
        Ok(())
    }
}
