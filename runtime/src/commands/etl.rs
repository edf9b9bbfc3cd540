//! `weir etl`: raw zone to processed zone, without Glue, through the pipeline.

use std::path::PathBuf;

use anyhow::{Result, bail};
use weir::config::PipelineFile;
use weir::config::build::load_pipeline;

use super::{
    AwsArgs, RejectArgs, dead_letters_of, engine, location_arg, print_json, redirect_output,
    renamed,
};

#[derive(clap::Args)]
pub struct Args {
    /// The raw zone: a folder or `s3://bucket/raw`, holding
    /// `year=YYYY/month=MM/day=DD/` (or `YYYY/MM/DD/`) folders.
    #[arg(long)]
    input: String,
    /// The lake (the processed zone), a folder or `s3://bucket/prefix`,
    /// instead of the pipeline's `output.location`.
    #[arg(long, value_name = "LOCATION")]
    lake: Option<String>,
    /// Deprecated spelling of --lake.
    #[arg(long = "output", hide = true, conflicts_with = "lake")]
    output_old: Option<String>,
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
    #[command(flatten)]
    rejects: RejectArgs,
    #[command(flatten)]
    aws: AwsArgs,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        input,
        lake,
        output_old,
        pipeline,
        date,
        from,
        to,
        rejects,
        aws,
        json,
    } = args;
    rejects.validate()?;
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
    aws.apply_to(&mut config.s3);
    redirect_output(&mut config, renamed(lake, output_old, "--lake", "--output"))?;
    let input = location_arg("--input", &input)?;
    let engine = engine()?;
    let mut pipeline = load_pipeline(&engine, &config)?;
    let bar = super::spinner();
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
    note!("{}", report.summary);
    note!(
        "read {} raw objects ({} bytes) for {} day(s) from {input}; lake: {}  dead letters: {}",
        report.objects,
        report.raw_bytes,
        report.days.len(),
        config.location.join(&config.table),
        config.dead_letter.join(&config.table)
    );
    if json {
        print_json(&report)?;
    }
    if !report.summary.balanced() {
        bail!("events unaccounted for: {:?}", report.summary);
    }
    super::warn_unfilled(&report.summary);
    if report.objects == 0 {
        nothing_read(&input, &config, &days)?;
    }
    rejects.check(&report.summary, &dead_letters_of(&config))
}

/// An ETL run that read nothing: an error when the raw zone holds no
/// objects at all (a mistyped `--input`), else a warning naming the days
/// and the prefixes looked under.
fn nothing_read(
    input: &weir::storage::Location,
    config: &weir::config::PipelineConfig,
    days: &[String],
) -> Result<()> {
    let raw = weir::storage::Storage::open(input, &config.s3)?;
    if !raw.holds_anything("")? {
        bail!("--input {input}: the raw zone holds no objects at all: check the location");
    }
    let first = days.first().map_or("", String::as_str);
    eprintln!(
        "warning: no raw objects for {} under {input} (looked under year=YYYY/month=MM/day=DD/ and YYYY/MM/DD/, e.g. {})",
        if days.len() == 1 {
            first.to_string()
        } else {
            format!("{} day(s) from {first}", days.len())
        },
        first.replace('-', "/"),
    );
    Ok(())
}
