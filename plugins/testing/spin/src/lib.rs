//! Test plugin: loops forever on any event whose `user_id` is `spin`, and
//! keeps the rest. Proves the host interrupts a plugin that never returns
//! (fuel or epoch deadline) and accounts for the batch.

use weir_plugin::{Config, Event, Outcome, Plugin};

/// The plugin: spins on `user_id` `spin`.
pub struct Spin;

impl Plugin for Spin {
    const NAME: &'static str = "test-spin";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn init(_config: Config) -> Result<Self, String> {
        Ok(Spin)
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        if event.str("user_id") == Some("spin") {
            spin();
        }
        Outcome::keep()
    }
}

/// Busy-loop forever; `black_box` keeps the compiler from removing the loop.
fn spin() -> ! {
    let mut counter: u64 = 0;
    loop {
        std::hint::black_box(&mut counter);
        counter = counter.wrapping_add(1);
    }
}

weir_plugin::export_plugin!(Spin);
