//! What one plugin instance may allocate: every linear memory and every
//! table of its store together, against one cap (`limits.memory_mib`).
//!
//! wasmtime's stock `StoreLimits` caps each memory on its own, so a
//! component with several memories (multi-memory is on by default, and a
//! component may hold several core modules) could hold the cap many times
//! over, and tables were not capped at all. Here memories count their bytes
//! and tables their elements at [`TABLE_ELEMENT_BYTES`] each, all into the
//! same budget; going past it is a trap carrying [`LimitExceeded`], which
//! the failure report names as out of memory.

use wasmtime::ResourceLimiter;

/// What a table element is counted as: a function reference's host-side
/// size, rounded up.
pub const TABLE_ELEMENT_BYTES: usize = 16;

/// Most instances, tables and memories in one store: a Rust plugin has one
/// core instance with one memory and one table; components built by
/// componentize-py or ComponentizeJS hold a few more.
const MAX_PER_STORE: usize = 32;

/// A plugin tried to hold more than its cap.
#[derive(Debug, thiserror::Error)]
#[error(
    "out of memory: the plugin would hold {wanted} bytes of memories and tables, past its {cap_mib} MiB cap"
)]
pub struct LimitExceeded {
    /// Bytes it would have held.
    pub wanted: usize,
    /// The cap, in MiB.
    pub cap_mib: u64,
}

/// The store's memory budget, and what is used of it.
#[derive(Debug)]
pub struct PluginLimiter {
    cap: usize,
    cap_mib: u64,
    used: usize,
}

impl PluginLimiter {
    /// A budget of `cap_mib` MiB.
    pub fn new(cap_mib: u64) -> PluginLimiter {
        PluginLimiter {
            cap: usize::try_from(cap_mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
            cap_mib,
            used: 0,
        }
    }

    /// Bytes held by the store's memories and tables.
    pub fn used(&self) -> usize {
        self.used
    }

    fn grow(&mut self, from: usize, to: usize) -> wasmtime::Result<bool> {
        let wanted = self.used.saturating_sub(from).saturating_add(to);
        if wanted > self.cap {
            return Err(LimitExceeded {
                wanted,
                cap_mib: self.cap_mib,
            }
            .into());
        }
        self.used = wanted;
        Ok(true)
    }
}

impl ResourceLimiter for PluginLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(
            current.saturating_mul(TABLE_ELEMENT_BYTES),
            desired.saturating_mul(TABLE_ELEMENT_BYTES),
        )
    }

    fn instances(&self) -> usize {
        MAX_PER_STORE
    }

    fn tables(&self) -> usize {
        MAX_PER_STORE
    }

    fn memories(&self) -> usize {
        MAX_PER_STORE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_and_tables_share_one_budget() {
        let mut limiter = PluginLimiter::new(1);
        let mib = 1024 * 1024;
        assert!(limiter.memory_growing(0, mib / 2, None).unwrap());
        // A second memory of the same size would pass a per-memory cap.
        let err = limiter.memory_growing(0, mib / 2 + 1, None).unwrap_err();
        assert!(err.downcast_ref::<LimitExceeded>().is_some(), "{err}");
        assert!(limiter.memory_growing(0, mib / 4, None).unwrap());
        // Growing the first memory counts only the growth.
        assert!(
            limiter
                .memory_growing(mib / 2, mib / 2 + 1024, None)
                .unwrap()
        );
        // Tables count too: what is left fits 16,320 elements at 16 bytes.
        let left = mib - limiter.used();
        assert!(
            limiter
                .table_growing(0, left / TABLE_ELEMENT_BYTES, None)
                .unwrap()
        );
        assert!(limiter.table_growing(0, 1, None).is_err());
        assert_eq!(limiter.used(), mib);
    }
}
