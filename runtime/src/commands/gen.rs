//! `weir gen`: synthetic clickstream events as JSON lines.

use std::path::PathBuf;

use anyhow::{Result, bail};
use weir::tools::generate::GenerateOptions;

use super::{renamed, write_events};

#[derive(clap::Args)]
pub struct Args {
    /// Number of events.
    #[arg(long, default_value_t = 10_000)]
    events: u64,
    /// Seed: the same seed writes the same events.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Share of deliberately bad events (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    bad_fraction: f64,
    /// Time of the first event (RFC 3339, UTC).
    #[arg(long, default_value = "2026-02-16T00:00:00Z")]
    start: String,
    /// Days the events are spread over (fractions allowed: 0.5 is 12 hours).
    #[arg(long, default_value_t = 7.0)]
    days: f64,
    /// Distinct users.
    #[arg(long, default_value_t = 5_000)]
    users: u64,
    /// The file to write; standard output when absent.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Deprecated spelling of --output.
    #[arg(long = "out", hide = true, conflicts_with = "output")]
    out_old: Option<PathBuf>,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        events,
        seed,
        bad_fraction,
        start,
        days,
        users,
        output,
        out_old,
    } = args;
    let out = renamed(output, out_old, "--output", "--out");
    if !(0.0..=1.0).contains(&bad_fraction) {
        bail!("--bad-fraction must be between 0 and 1, not {bad_fraction}");
    }
    let start_micros = weir_plugin::time::Timestamp::parse(&start)
        .map_err(|_| anyhow::anyhow!("--start {start:?} is not an RFC 3339 date-time"))?
        .unix_micros;
    if days.is_nan() || days <= 0.0 || days > 3660.0 {
        bail!("--days must be above 0 and at most 3660, not {days}");
    }
    if users == 0 {
        bail!("--users must be at least 1");
    }
    let options = GenerateOptions {
        events,
        seed,
        bad_fraction,
        start_micros,
        window_seconds: (days * 86_400.0).round().max(1.0) as i64,
        users,
    };
    write_events(&options, out.as_ref())
}
