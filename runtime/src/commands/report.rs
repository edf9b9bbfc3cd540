//! `weir report`: one self-contained HTML page answering the seed questions from the lake.

use std::path::PathBuf;

use anyhow::Result;

use super::{location_arg, write_report};

#[derive(clap::Args)]
pub struct Args {
    /// The lake: a folder or `s3://bucket/prefix`.
    #[arg(long, default_value = "lake")]
    lake: String,
    /// The page to write.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
    /// First event date to include, YYYY-MM-DD.
    #[arg(long)]
    from: Option<String>,
    /// Last event date to include, YYYY-MM-DD.
    #[arg(long)]
    to: Option<String>,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        lake,
        out,
        from,
        to,
    } = args;
    let range = weir::lake::report::DateRange {
        from: from
            .map(|day| weir::lake::report::check_day("--from", &day))
            .transpose()?,
        to: to
            .map(|day| weir::lake::report::check_day("--to", &day))
            .transpose()?,
    };
    let lake = location_arg("--lake", &lake)?;
    write_report(&lake, &out, &range)?;
    println!("{}", out.display());
    Ok(())
}
