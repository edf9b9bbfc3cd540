//! `weir athena ddl`: the Athena DDL of the pipeline's tables.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use weir::config::PipelineFile;

#[derive(Subcommand)]
pub enum AthenaCommand {
    /// Print `CREATE EXTERNAL TABLE` statements for the pipeline's table and
    /// its dead letters, with partition projection, from the pipeline file.
    Ddl {
        /// The pipeline file (TOML).
        #[arg(long)]
        pipeline: PathBuf,
        /// Where the lake lives: `s3://bucket/prefix`.
        #[arg(long)]
        location: String,
        /// Where the dead letters live; default `<location>/_errors`.
        #[arg(long)]
        errors_location: Option<String>,
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
        location,
        errors_location,
        format,
        table,
    } = command;
    let mut config = PipelineFile::load(&pipeline)?;
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
    let ddl = weir::config::athena::ddl(&config, &location, errors_location.as_deref())
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("pipeline file {}", pipeline.display()))?;
    print!("{ddl}");
    Ok(())
}
