//! `weir report`: one self-contained HTML page answering the seed questions from the lake.

use std::path::PathBuf;

use anyhow::Result;

use super::{AwsArgs, location_arg, print_json, renamed, write_report};

#[derive(clap::Args)]
pub struct Args {
    /// The lake: a folder or `s3://bucket/prefix`.
    #[arg(long, default_value = "lake")]
    lake: String,
    /// The page to write.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "report.html")]
    output: PathBuf,
    /// Deprecated spelling of --output.
    #[arg(long = "out", hide = true)]
    out_old: Option<PathBuf>,
    /// The table to report on (its dead letters are `<table>_errors`).
    #[arg(long, default_value = "ecommerce_events")]
    table: String,
    /// First event date to include, YYYY-MM-DD.
    #[arg(long)]
    from: Option<String>,
    /// Last event date to include, YYYY-MM-DD.
    #[arg(long)]
    to: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
    /// Print what was written as JSON on standard output.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        lake,
        output,
        out_old,
        table,
        from,
        to,
        aws,
        json,
    } = args;
    aws.apply();
    let out = renamed(Some(output), out_old, "--output", "--out").unwrap_or_default();
    let range = weir::lake::report::DateRange {
        from: from
            .map(|day| weir::lake::report::check_day("--from", &day))
            .transpose()?,
        to: to
            .map(|day| weir::lake::report::check_day("--to", &day))
            .transpose()?,
    };
    let lake = location_arg("--lake", &lake)?;
    write_report(&lake, &table, &out, &range)?;
    if json {
        return print_json(&serde_json::json!({
            "output": out.display().to_string(),
            "lake": lake.to_string(),
            "table": table,
        }));
    }
    println!("{}", out.display());
    Ok(())
}
