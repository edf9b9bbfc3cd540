//! `weir bench`: the bundled plugins as WebAssembly against the same plugins built natively.

use anyhow::Result;
use weir::tools::bench::{BenchOptions, run_bench};

#[derive(clap::Args)]
pub struct Args {
    /// Events per round.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Events per batch.
    #[arg(long, default_value_t = 1_000)]
    batch_size: usize,
    /// Timed rounds per variant (the fastest counts).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        events,
        batch_size,
        rounds,
    } = args;
    let options = BenchOptions {
        events,
        batch_size,
        rounds,
        ..BenchOptions::default()
    };
    let report = run_bench(&options)?;
    println!("{report}");
    Ok(())
}
