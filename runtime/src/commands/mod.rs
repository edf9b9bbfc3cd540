//! The `weir` subcommands, one module each, and the helpers several of them share.

pub mod athena;
pub mod bench;
pub mod compact;
pub mod consume;
pub mod demo;
pub mod etl;
pub mod r#gen;
pub mod plugin;
pub mod query;
pub mod report;
pub mod run;
pub mod send;
pub mod test;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use weir::config::build::load_pipeline;
use weir::engine::PluginEngine;
use weir::pipeline::summary::Summary;
use weir::sources::run::{RunTarget, run};
use weir::storage::Location;
use weir::tools::generate::{GenerateOptions, generate};

/// Build the report of `lake` into `out`.
pub fn write_report(
    lake: &Location,
    out: &std::path::Path,
    range: &weir::lake::report::DateRange,
) -> Result<()> {
    let runtime = query_runtime()?;
    let page = runtime.block_on(weir::lake::report::build(lake, &Default::default(), range))?;
    std::fs::write(out, page).with_context(|| format!("cannot write {}", out.display()))
}

/// The WebAssembly engine, started.
pub fn engine() -> Result<PluginEngine> {
    PluginEngine::new().map_err(|err| anyhow::anyhow!("{err:#}"))
}

/// A folder or `s3://bucket/prefix` given on the command line as `flag`.
pub fn location_arg(flag: &str, text: &str) -> Result<Location> {
    Location::parse(text, std::path::Path::new(".")).map_err(|err| anyhow::anyhow!("{flag}: {err}"))
}

pub fn write_events(options: &GenerateOptions, out: Option<&PathBuf>) -> Result<()> {
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = std::io::BufWriter::new(sink);
    let mut failed = None;
    generate(options, |line| {
        if failed.is_none()
            && let Err(err) = sink.write_all(line).and_then(|()| sink.write_all(b"\n"))
        {
            failed = Some(err);
        }
    });
    if let Some(err) = failed {
        return Err(stdout_error(err, out.is_none())).context("write events");
    }
    sink.flush()
        .map_err(|err| stdout_error(err, out.is_none()))
        .context("write events")
}

/// Standard output's reader went away (`weir … | head`): what it read is
/// what it wanted, so `main` ends quietly. Only writes to standard output
/// are taken this way; a broken pipe anywhere else is an error.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed by its reader")]
pub struct ReaderGone;

/// `err` from writing standard output (when `to_stdout`), as [`ReaderGone`]
/// when it is a broken pipe.
pub fn stdout_error(err: std::io::Error, to_stdout: bool) -> anyhow::Error {
    if to_stdout && err.kind() == std::io::ErrorKind::BrokenPipe {
        anyhow::Error::new(ReaderGone)
    } else {
        anyhow::Error::new(err)
    }
}

/// `--out`: the lake elsewhere than the pipeline says, with its dead letters
/// unless the pipeline names their place.
pub fn redirect_output(
    config: &mut weir::config::PipelineConfig,
    out: Option<String>,
) -> Result<()> {
    if let Some(out) = out {
        let out = location_arg("--out", &out)?;
        if config.dead_letter == config.location.join("_errors") {
            config.dead_letter = out.join("_errors");
        }
        config.location = out;
    }
    Ok(())
}

pub fn run_pipeline(
    mut config: weir::config::PipelineConfig,
    input: &str,
    source_name: Option<&str>,
    out: Option<String>,
) -> Result<Summary> {
    redirect_output(&mut config, out)?;
    let engine = engine()?;
    let mut pipeline = load_pipeline(&engine, &config)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} [{bar:30}] {msg} ({elapsed}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let target = RunTarget {
        location: config.location.clone(),
        dead_letter: config.dead_letter.clone(),
    };
    let summary = run(
        &config,
        &mut pipeline,
        input,
        source_name,
        &target,
        &mut |read, total, summary| {
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(read);
            bar.set_message(format!(
                "{} events: {} kept, {} dropped, {} rejected",
                summary.read, summary.kept, summary.dropped, summary.rejected
            ));
        },
    )?;
    bar.finish_and_clear();
    eprintln!("{summary}");
    eprintln!(
        "lake: {}  dead letters: {}",
        config.location.join(&config.table),
        config.dead_letter.join(&config.table)
    );
    if !summary.balanced() {
        bail!("events unaccounted for: {summary:?}");
    }
    Ok(summary)
}

/// The runtime DataFusion's queries run on (`weir query`, the report, the
/// demo's answer).
pub fn query_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the query runtime")
}

/// A report as one line of JSON (`--json`).
pub fn json_line<T: serde::Serialize>(report: &T) -> Result<String> {
    serde_json::to_string(report).context("cannot write the report as JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_broken_pipe_on_standard_output_ends_quietly() {
        let broken = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(stdout_error(broken(), true).is::<ReaderGone>());
        // A broken pipe writing a file, a socket or a child is a failure.
        assert!(!stdout_error(broken(), false).is::<ReaderGone>());
        let full = std::io::Error::other("no space left on device");
        assert!(!stdout_error(full, true).is::<ReaderGone>());
    }
}
