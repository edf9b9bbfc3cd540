//! `weir query`: SQL over the lake with DataFusion.

use std::path::PathBuf;

use std::io::Write;

use anyhow::{Context, Result, bail};

use super::{AwsArgs, location_arg, query_runtime};

#[derive(clap::Args)]
pub struct Args {
    /// The SQL statement (`SHOW TABLES` lists the lake's tables); or give
    /// --file.
    sql: Option<String>,
    /// A file holding the SQL statement (such as one of `athena/queries`).
    #[arg(long, conflicts_with = "sql")]
    file: Option<PathBuf>,
    /// The lake: a folder or `s3://bucket/prefix`.
    #[arg(long, default_value = "lake")]
    lake: String,
    /// How to print the answer.
    #[arg(long, value_enum, default_value = "table")]
    format: weir::lake::query::OutputFormat,
    /// Print the answer as JSON lines on standard output, one object per
    /// row (the same as --format json).
    #[arg(long, conflicts_with = "format")]
    json: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        sql,
        file,
        lake,
        format,
        json,
        aws,
    } = args;
    aws.apply();
    let format = if json {
        weir::lake::query::OutputFormat::Json
    } else {
        format
    };
    let sql = match (sql, file) {
        (Some(sql), None) => sql,
        (None, Some(file)) => std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?,
        _ => bail!("give the SQL as an argument or with --file"),
    };
    let runtime = query_runtime()?;
    let lake = location_arg("--lake", &lake)?;
    let batches = runtime.block_on(weir::lake::query::run_sql(&lake, &Default::default(), &sql))?;
    let mut answer = weir::lake::query::render(&batches, format)?;
    if format == weir::lake::query::OutputFormat::Table {
        answer.push('\n');
    }
    // A reader that stops early (`| head`) is the reader's choice: main
    // ends quietly instead of panicking in print!.
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(answer.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|err| super::stdout_error(err, true))
        .context("cannot write the answer")
}
