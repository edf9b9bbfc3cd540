//! Test plugin: allocates memory without bound on any event whose `user_id`
//! is `hog`, and keeps the rest. Proves the host caps a plugin's memory and
//! survives the plugin running out of it.

use weir_plugin::{Config, Event, Outcome, Plugin};

/// The size of each allocation: 1 MiB.
const CHUNK: usize = 1 << 20;

/// The plugin: hoards memory on `user_id` `hog`.
pub struct Hog;

impl Plugin for Hog {
    const NAME: &'static str = "test-hog";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn init(_config: Config) -> Result<Self, String> {
        Ok(Hog)
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        if event.str("user_id") == Some("hog") {
            hog();
        }
        Outcome::keep()
    }
}

/// Hoard 1 MiB chunks forever. Filling them with a non-zero byte touches
/// every page, and `black_box` keeps the compiler from removing any of it.
fn hog() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(std::hint::black_box(vec![0xA5; CHUNK]));
        std::hint::black_box(&mut hoard);
    }
}

weir_plugin::export_plugin!(Hog);
