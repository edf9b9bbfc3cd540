//! `weir athena ddl`: the Athena DDL of the pipeline's tables.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use weir::config::PipelineFile;

use super::renamed;

#[derive(Subcommand)]
pub enum AthenaCommand {
    /// Print `CREATE EXTERNAL TABLE` statements for the pipeline's table and
    /// its dead letters, with partition projection, from the pipeline file.
    Ddl {
        /// The pipeline file (TOML).
        #[arg(long)]
        pipeline: PathBuf,
        /// Where the lake lives: `s3://bucket/prefix`; default the
        /// pipeline's `output.location`.
        #[arg(long, value_name = "LOCATION")]
        lake: Option<String>,
        /// Deprecated spelling of --lake.
        #[arg(long = "location", hide = true, conflicts_with = "lake")]
        location_old: Option<String>,
        /// Where the dead letters live; default the pipeline's, else
        /// `<lake>/_errors`.
        #[arg(long, value_name = "LOCATION")]
        dead_letter: Option<String>,
        /// Deprecated spelling of --dead-letter.
        #[arg(long = "errors-location", hide = true, conflicts_with = "dead_letter")]
        errors_location_old: Option<String>,
        /// The format of the files, instead of the pipeline's (for the JSON
        /// table of a pipeline run with `--format` changed).
        #[arg(long, value_enum)]
        format: Option<DdlFormat>,
        /// The table's name, instead of the pipeline's.
        #[arg(long)]
        table: Option<String>,
    },
}

/// The formats `weir athena ddl --format` takes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DdlFormat {
    Jsonl,
    Parquet,
}

pub fn execute(command: AthenaCommand) -> Result<()> {
    let AthenaCommand::Ddl {
        pipeline,
        lake,
        location_old,
        dead_letter,
        errors_location_old,
        format,
        table,
    } = command;
    let mut config = PipelineFile::load(&pipeline)?;
    let lake = renamed(lake, location_old, "--lake", "--location");
    let dead_letter = renamed(
        dead_letter,
        errors_location_old,
        "--dead-letter",
        "--errors-location",
    );
    // The pipeline's own places, when it names S3 ones and no flag does.
    let (lake, dead_letter) = match lake {
        Some(lake) => (lake, dead_letter),
        None => (
            config.location.to_string(),
            dead_letter.or_else(|| Some(config.dead_letter.to_string())),
        ),
    };
    match format {
        Some(DdlFormat::Jsonl) => {
            config.format = weir::config::Format::Jsonl;
            config.compression = weir::config::Compression::None;
        }
        Some(DdlFormat::Parquet) => {
            config.format = weir::config::Format::Parquet;
            config.compression = weir::config::Compression::Snappy;
        }
        None => {}
    }
    if let Some(table) = table {
        if table.is_empty()
            || !table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            bail!("--table {table:?} must be letters, digits and _");
        }
        config.table = table;
    }
    let ddl = weir::config::athena::ddl(&config, &lake, dead_letter.as_deref())
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("pipeline file {}", pipeline.display()))?;
    print!("{ddl}");
    Ok(())
}
