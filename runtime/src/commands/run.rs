//! `weir run`: a pipeline over a file of JSON lines (or standard input) into a lake folder.

use std::path::PathBuf;

use anyhow::Result;
use weir::config::PipelineFile;

use super::{
    AwsArgs, RejectArgs, dead_letters_of, print_json, redirect_output, renamed, run_pipeline,
};

#[derive(clap::Args)]
pub struct Args {
    /// The pipeline file (TOML).
    #[arg(long)]
    pipeline: PathBuf,
    /// Input file of JSON lines, or `-` for standard input.
    #[arg(long)]
    input: String,
    /// The lake, a folder or `s3://bucket/prefix`, instead of the
    /// pipeline's `output.location`. Dead letters go to `<lake>/_errors`
    /// unless the pipeline names their location.
    #[arg(long, value_name = "LOCATION")]
    lake: Option<String>,
    /// Deprecated spelling of --lake.
    #[arg(long = "out", hide = true, conflicts_with = "lake")]
    out_old: Option<String>,
    /// The input's identity in object names, instead of the file's path,
    /// size and modification time: runs with the same name replace what
    /// the last one wrote. Without it, each run of standard input is a
    /// new input that replaces nothing.
    #[arg(long)]
    source_name: Option<String>,
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
        pipeline,
        input,
        lake,
        out_old,
        source_name,
        rejects,
        aws,
        json,
    } = args;
    rejects.validate()?;
    let lake = renamed(lake, out_old, "--lake", "--out");
    let mut config = PipelineFile::load(&pipeline)?;
    aws.apply_to(&mut config.s3);
    redirect_output(&mut config, lake)?;
    let summary = run_pipeline(&config, &input, source_name.as_deref())?;
    if json {
        print_json(&summary)?;
    }
    rejects.check(&summary, &dead_letters_of(&config))
}
