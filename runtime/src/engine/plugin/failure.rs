//! How a call into a plugin failed: its kind, matched by type, and the
//! cause in one line for dead letters and logs.

use thiserror::Error;
use wasmtime::Trap;

use crate::engine::Limits;
use crate::engine::state::PluginState;

/// An error chain on one line.
fn one_line(err: &wasmtime::Error) -> String {
    format!("{err:#}").replace('\n', " ")
}

/// How a call into a plugin failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The plugin trapped: a panic, an abort, a bad memory access.
    Trap,
    /// The plugin grew past its memory cap.
    OutOfMemory,
    /// The call ran past its deadline.
    Deadline,
    /// The plugin could not be started, or broke the contract.
    Other,
}

impl FailureKind {
    /// Whether the same events in smaller batches may well succeed: a trap
    /// or an out-of-memory usually comes from some events, or from how many
    /// there are. (A deadline costs its whole length each try, so batches
    /// that time out are not tried again.)
    pub fn worth_splitting(self) -> bool {
        matches!(self, FailureKind::Trap | FailureKind::OutOfMemory)
    }
}

/// Why a call into a plugin failed: its kind, and the cause in one line.
#[derive(Clone, Debug, Error)]
#[error("{cause}")]
pub struct CallFailure {
    /// How it failed.
    pub kind: FailureKind,
    /// Why, in one line (with the tail of the plugin's standard error).
    pub cause: String,
}

impl CallFailure {
    /// What `err`, from a call into a plugin running in `state` under
    /// `limits`, says: its kind and the cause in one line.
    pub(crate) fn of(err: &wasmtime::Error, state: &PluginState, limits: &Limits) -> Self {
        CallFailure {
            kind: failure_kind(err),
            cause: describe_failure(err, state, limits),
        }
    }

    /// A failure of kind [`FailureKind::Other`].
    pub fn other(cause: String) -> Self {
        CallFailure {
            kind: FailureKind::Other,
            cause,
        }
    }
}

/// What kind of failure `err`, from a call into a plugin, is.
fn failure_kind(err: &wasmtime::Error) -> FailureKind {
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => FailureKind::Deadline,
        Some(_) => FailureKind::Trap,
        None if err
            .downcast_ref::<crate::engine::limiter::LimitExceeded>()
            .is_some() =>
        {
            FailureKind::OutOfMemory
        }
        None => FailureKind::Other,
    }
}

/// Say in one line why a call into a plugin failed.
fn describe_failure(err: &wasmtime::Error, state: &PluginState, limits: &Limits) -> String {
    let message = one_line(err);
    let mut cause = match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => format!(
            "deadline exceeded: the call ran longer than {} ms",
            limits.call_timeout_ms
        ),
        Some(Trap::UnreachableCodeReached) => "trapped (unreachable: a panic or abort)".to_string(),
        Some(trap) => format!("trapped: {trap}"),
        None if err
            .downcast_ref::<crate::engine::limiter::LimitExceeded>()
            .is_some() =>
        {
            format!(
                "out of memory: the plugin grew past its {} MiB cap",
                limits.memory_mib
            )
        }
        None => format!("failed: {message}"),
    };
    if let Some(stderr) = state.stderr_tail() {
        cause.push_str(": ");
        cause.push_str(&stderr);
    }
    cause
}
