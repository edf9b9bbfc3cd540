//! `weir etl`: raw zone to processed zone, without Glue, through the pipeline.

use std::path::PathBuf;

use anyhow::{Result, bail};
use indicatif::ProgressBar;
use weir::config::PipelineFile;
use weir::config::build::load_pipeline;

use super::{engine, json_line, location_arg, redirect_output};

#[derive(clap::Args)]
pub struct Args {
    /// The raw zone: a folder or `s3://bucket/raw`, holding
    /// `year=YYYY/month=MM/day=DD/` (or `YYYY/MM/DD/`) folders.
    #[arg(long)]
    input: String,
    /// The processed zone, instead of the pipeline's `output.location`.
    #[arg(long)]
    output: Option<String>,
    /// The pipeline file (TOML).
    #[arg(long)]
    pipeline: PathBuf,
    /// One day, YYYY-MM-DD (default: yesterday, UTC).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    date: Option<String>,
    /// First day of a range.
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Last day of a range.
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        input,
        output,
        pipeline,
        date,
        from,
        to,
        json,
    } = args;
    let (from, to) = match (date, from, to) {
        (Some(day), _, _) => (day.clone(), day),
        (None, Some(from), Some(to)) => (from, to),
        _ => {
            let day = weir::sources::etl::yesterday();
            (day.clone(), day)
        }
    };
    let days = weir::sources::etl::days(&from, &to)?;
    let mut config = PipelineFile::load(&pipeline)?;
    redirect_output(&mut config, output)?;
    let input = location_arg("--input", &input)?;
    let engine = engine()?;
    let mut pipeline = load_pipeline(&engine, &config)?;
    let bar = ProgressBar::new_spinner();
    let report =
        weir::sources::etl::etl(&config, &mut pipeline, &input, &days, &mut |key, report| {
            bar.set_message(format!(
                "{} objects, {} events: {} kept, {} dropped, {} rejected ({key})",
                report.objects,
                report.summary.read,
                report.summary.kept,
                report.summary.dropped,
                report.summary.rejected
            ));
            bar.tick();
        })?;
    bar.finish_and_clear();
    eprintln!("{}", report.summary);
    eprintln!(
        "read {} raw objects ({} bytes) for {} day(s) from {input}; lake: {}  dead letters: {}",
        report.objects,
        report.raw_bytes,
        report.days.len(),
        config.location.join(&config.table),
        config.dead_letter.join(&config.table)
    );
    if json {
        println!("{}", json_line(&report)?);
    }
    if !report.summary.balanced() {
        bail!("events unaccounted for: {:?}", report.summary);
    }
    Ok(())
}
