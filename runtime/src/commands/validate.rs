//! `weir validate`: load a pipeline and everything it names, run nothing.

use std::path::PathBuf;

use anyhow::Result;
use weir::config::PipelineFile;
use weir::config::build::load_pipeline;

use super::{AwsArgs, engine, print_json};

#[derive(clap::Args)]
pub struct Args {
    /// The pipeline file (TOML).
    pipeline: PathBuf,
    #[command(flatten)]
    aws: AwsArgs,
    /// Print what was loaded as JSON on standard output.
    #[arg(long)]
    json: bool,
}

/// What a valid pipeline holds, for `--json`.
#[derive(serde::Serialize)]
struct Validated {
    pipeline: String,
    plugins: Vec<Loaded>,
    lake: String,
    dead_letters: String,
    format: String,
}

/// One plugin as loaded.
#[derive(serde::Serialize)]
struct Loaded {
    name: String,
    version: String,
    source: String,
    sha256: String,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        pipeline,
        aws,
        json,
    } = args;
    let mut config = PipelineFile::load(&pipeline)?;
    aws.apply_to(&mut config.s3);
    // Loading a plugin compiles it, instantiates it and calls its `init`
    // with its config: everything a run does before its first event.
    let engine = engine()?;
    let loaded = load_pipeline(&engine, &config)?;
    let plugins: Vec<Loaded> = loaded
        .steps()
        .iter()
        .filter_map(|step| step.plugin())
        .map(|plugin| Loaded {
            name: plugin.name.clone(),
            version: plugin.version.clone(),
            source: plugin.source.to_string(),
            sha256: plugin.sha256.clone(),
        })
        .collect();
    let report = Validated {
        pipeline: config.name.clone(),
        lake: config.location.join(&config.table).to_string(),
        dead_letters: super::dead_letters_of(&config),
        format: format!("{:?} {:?}", config.format, config.compression).to_lowercase(),
        plugins,
    };
    if json {
        return print_json(&report);
    }
    println!(
        "pipeline {}: valid ({} plugins)",
        report.pipeline,
        report.plugins.len()
    );
    for plugin in &report.plugins {
        println!("  {} {} ({})", plugin.name, plugin.version, plugin.source);
    }
    println!("  lake          {} ({})", report.lake, report.format);
    println!("  dead letters  {}", report.dead_letters);
    Ok(())
}
