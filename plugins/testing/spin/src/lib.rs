//! Test plugin: never returns, or tries to wait, or floods its standard
//! error, by the event's `user_id`; keeps every other event. Proves the host
//! interrupts a plugin whatever it does with its time, and that what it
//! writes cannot break it.
//!
//! - `spin`: a busy loop forever;
//! - `sleep`: `std::thread::sleep` for 30 seconds, then keeps the event;
//! - `nap-loop`: sleeps a millisecond at a time, forever;
//! - `chatter`: writes 64 KiB to standard error, then keeps the event.

use weir_plugin::{Config, Event, Outcome, Plugin};

/// The plugin.
pub struct Spin;

impl Plugin for Spin {
    const NAME: &'static str = "test-spin";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn init(_config: Config) -> Result<Self, String> {
        Ok(Spin)
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        match event.str("user_id") {
            Some("spin") => spin(),
            Some("sleep") => std::thread::sleep(std::time::Duration::from_secs(30)),
            Some("nap-loop") => loop {
                std::thread::sleep(std::time::Duration::from_millis(1));
            },
            Some("chatter") => {
                let line = "x".repeat(1023);
                for _ in 0..64 {
                    eprintln!("{line}");
                }
            }
            _ => {}
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
