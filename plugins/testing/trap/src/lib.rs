//! Test plugin: panics (a WebAssembly trap) on any event whose `user_id` is
//! `boom`, and keeps the rest. Proves the host survives a trap, reports its
//! cause and accounts for the batch.

use weir_plugin::{Config, Event, Outcome, Plugin};

struct Trap;

impl Plugin for Trap {
    const NAME: &'static str = "test-trap";
    const VERSION: &'static str = "0.1.0";

    fn init(_config: Config) -> Result<Self, String> {
        Ok(Trap)
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        if event.str("user_id") == Some("boom") {
            panic!(
                "test-trap was told to fail at position {}",
                event.position()
            );
        }
        Outcome::keep()
    }
}

weir_plugin::export_plugin!(Trap);
