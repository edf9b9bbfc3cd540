//! `weir run`: a pipeline over a file of JSON lines (or standard input) into a lake folder.

use std::path::PathBuf;

use anyhow::Result;
use weir::config::PipelineFile;

use super::{json_line, run_pipeline};

#[derive(clap::Args)]
pub struct Args {
    /// The pipeline file (TOML).
    #[arg(long)]
    pipeline: PathBuf,
    /// Input file of JSON lines, or `-` for standard input.
    #[arg(long)]
    input: String,
    /// Lake folder or `s3://bucket/prefix`; overrides the pipeline's
    /// `output.location`. Dead letters go to `<out>/_errors` unless the
    /// pipeline names their location.
    #[arg(long)]
    out: Option<String>,
    /// The input's identity in object names, instead of the file's path,
    /// size and modification time: runs with the same name replace what
    /// the last one wrote. Without it, each run of standard input is a
    /// new input that replaces nothing.
    #[arg(long)]
    source_name: Option<String>,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        pipeline,
        input,
        out,
        source_name,
        json,
    } = args;
    let config = PipelineFile::load(&pipeline)?;
    let summary = run_pipeline(config, &input, source_name.as_deref(), out)?;
    if json {
        println!("{}", json_line(&summary)?);
    }
    Ok(())
}
