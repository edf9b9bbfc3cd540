//! `weir compact`: each partition's small Parquet files merged into large ones.

use anyhow::{Context, Result, bail};

use super::{AwsArgs, location_arg, print_json};

#[derive(clap::Args)]
pub struct Args {
    /// The lake: a folder or `s3://bucket/prefix`.
    #[arg(long)]
    lake: String,
    /// The table (its folder under the lake).
    #[arg(long)]
    table: String,
    /// Only this day's partition (YYYY-MM-DD).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    date: Option<String>,
    /// Only partitions from this day on (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Only partitions up to this day (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// Size the merged files aim for, in MiB; files under half of it
    /// are merged.
    #[arg(long, default_value_t = 128)]
    target_mib: u64,
    #[command(flatten)]
    aws: AwsArgs,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        lake,
        table,
        date,
        from,
        to,
        target_mib,
        aws,
        json,
    } = args;
    aws.apply();
    let days = match (date, from, to) {
        (Some(date), _, _) => Some((check_day(&date)?, date)),
        (None, None, None) => None,
        (None, from, to) => Some((
            check_day(from.as_deref().unwrap_or("0000-01-01"))?,
            check_day(to.as_deref().unwrap_or("9999-12-31"))?,
        )),
    };
    if target_mib == 0 {
        bail!("--target-mib must be at least 1");
    }
    let location = location_arg("--lake", &lake)?;
    let storage = weir::storage::Storage::open(&location, &Default::default())
        .with_context(|| format!("cannot open {location}"))?;
    let options = weir::lake::compact::CompactOptions {
        table,
        days,
        target_bytes: target_mib * 1024 * 1024,
    };
    let bar = super::progress_bar();
    let report =
        weir::lake::compact::compact_with_progress(&storage, &options, &mut |report, count| {
            bar.set_length(count as u64);
            bar.inc(1);
            bar.set_message(format!(
                "{} partitions, {} compacted",
                report.partitions, report.compacted
            ));
        })?;
    bar.finish_and_clear();
    if json {
        print_json(&report)?;
    } else {
        note!("{report}");
    }
    Ok(())
}

/// A `YYYY-MM-DD` day, checked.
fn check_day(text: &str) -> Result<String> {
    match weir_plugin::time::parse_date(text) {
        Ok(_) if text.len() == 10 => Ok(text.to_string()),
        _ => bail!("`{text}` is not a day: write YYYY-MM-DD"),
    }
}
