//! The clocks a plugin sees, and why no plugin can wait on the real one.
//!
//! A call's deadline is enforced by epoch interruption, which only fires
//! while guest code runs. WASI's own `monotonic-clock.subscribe-*` sleep on
//! the machine's clock inside the host, where no epoch can interrupt them:
//! a filter calling `std::thread::sleep(30 s)` under a 200 ms deadline held
//! the run for 30 s. So plugins get a virtual monotonic clock instead:
//! it starts at zero, and waiting on it does not wait, it moves the clock
//! forward to the moment waited for. A sleep returns at once, having
//! "taken" its time; a plugin that loops on sleeps spins in guest code,
//! where the deadline stops it. The wall clock stays frozen at the Unix
//! epoch: plugins take time from the events and the arrival time the host
//! lends, never from the machine, so a replay gives the same results.

use std::time::Duration;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// The virtual monotonic clock of one plugin instance, in nanoseconds.
#[derive(Debug, Default)]
pub struct VirtualClock {
    now: u64,
}

impl VirtualClock {
    /// The clock's reading.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Move the clock forward to `when` (never back).
    fn advance_to(&mut self, when: u64) {
        self.now = self.now.max(when);
    }
}

/// What `monotonic-clock`'s host functions reach: the clock, and the table
/// the pollables they return live in.
pub struct ClockView<'a> {
    /// The instance's virtual clock.
    pub clock: &'a mut VirtualClock,
    /// The store's WASI resource table.
    pub table: &'a mut ResourceTable,
}

/// [`HasData`] for the linker: `monotonic-clock` is served by a [`ClockView`].
pub struct VirtualClocks;

impl HasData for VirtualClocks {
    type Data<'a> = ClockView<'a>;
}

/// Replace wasmtime-wasi's `wasi:clocks/monotonic-clock` in `linker` (which
/// already holds the rest of WASI) with the virtual one.
pub fn shadow_monotonic_clock<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> ClockView<'_>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    monotonic_clock::add_to_linker::<T, VirtualClocks>(linker, view)?;
    linker.allow_shadowing(false);
    Ok(())
}

impl monotonic_clock::Host for ClockView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(self.clock.now())
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1)
    }

    fn subscribe_instant(
        &mut self,
        when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.clock.advance_to(when);
        ready(self.table)
    }

    fn subscribe_duration(
        &mut self,
        duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        let when = self.clock.now().saturating_add(duration);
        self.clock.advance_to(when);
        ready(self.table)
    }
}

/// A pollable that is ready at once: the time it stands for has passed on
/// the virtual clock.
struct Ready;

#[wasmtime_wasi::async_trait]
impl Pollable for Ready {
    async fn ready(&mut self) {}
}

fn ready(table: &mut ResourceTable) -> wasmtime::Result<Resource<DynPollable>> {
    let pollable = table.push(Ready)?;
    subscribe(table, pollable)
}

/// The wall clock: always the Unix epoch.
pub struct FrozenWallClock;

impl HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// The monotonic clock the WASI context itself holds. The linker serves
/// `monotonic-clock` from [`VirtualClock`] instead; this one only backs what
/// wasmtime-wasi reads internally, and reads zero.
pub struct FrozenMonotonicClock;

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_moves_the_clock_instead_of_waiting() {
        let mut clock = VirtualClock::default();
        let mut table = ResourceTable::new();
        let started = std::time::Instant::now();
        let mut view = ClockView {
            clock: &mut clock,
            table: &mut table,
        };
        use monotonic_clock::Host;
        view.subscribe_duration(30_000_000_000).unwrap();
        assert_eq!(view.now().unwrap(), 30_000_000_000);
        // An instant in the past does not move it back.
        view.subscribe_instant(5).unwrap();
        assert_eq!(view.now().unwrap(), 30_000_000_000);
        view.subscribe_instant(31_000_000_000).unwrap();
        assert_eq!(view.now().unwrap(), 31_000_000_000);
        // A sleep of "forever" saturates rather than wrapping.
        view.subscribe_duration(u64::MAX).unwrap();
        assert_eq!(view.now().unwrap(), u64::MAX);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
