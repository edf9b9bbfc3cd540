//! The `weir` subcommands, one module each, and the helpers several of them share.

/// `eprintln!` unless `-q` asked for errors only: summaries and notes.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::commands::quiet() {
            eprintln!($($arg)*);
        }
    };
}

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
pub mod validate;

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

/// Set by `-q`: only errors on standard error.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Print only errors from now on (`-q`).
pub fn be_quiet() {
    QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `-q` was given.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// A progress bar on standard error: drawn only at a terminal, never
/// with `-q`.
pub fn progress_bar() -> ProgressBar {
    if quiet() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    }
}

/// A spinner with a message, as [`progress_bar`] is drawn.
pub fn spinner() -> ProgressBar {
    if quiet() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    }
}

/// Where AWS requests go, as the AWS CLI names it: on every command that
/// talks to AWS. Each beats its environment variable and the pipeline
/// file's `[s3]` table.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct AwsArgs {
    /// The named profile to use, from ~/.aws/config (as AWS_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The AWS region (as AWS_REGION).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// An endpoint instead of AWS's own, such as a local server (as
    /// AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Deprecated spelling of --endpoint-url.
    #[arg(long = "endpoint", hide = true, conflicts_with = "endpoint_url")]
    pub endpoint_old: Option<String>,
}

impl AwsArgs {
    /// Put the settings where every AWS client of this process finds them
    /// (the standard chain's environment variables), and return the
    /// endpoint, if one is set.
    pub fn apply(&self) -> Option<String> {
        let endpoint = renamed(
            self.endpoint_url.clone(),
            self.endpoint_old.clone(),
            "--endpoint-url",
            "--endpoint",
        );
        // The flag beats the service-specific variables too, as it beats
        // the general one.
        for (name, value) in [
            ("AWS_PROFILE", &self.profile),
            ("AWS_REGION", &self.region),
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_ENDPOINT_URL_S3", &endpoint),
            ("AWS_ENDPOINT_URL_KINESIS", &endpoint),
        ] {
            if let Some(value) = value {
                // SAFETY: called once per command, before the command
                // starts any thread (the AWS clients' runtimes included).
                unsafe { std::env::set_var(name, value) };
            }
        }
        endpoint
    }

    /// Apply the settings, and let them beat a pipeline file's `[s3]`;
    /// returns the endpoint given on the command line, if any.
    pub fn apply_to(&self, s3: &mut weir::storage::S3Options) -> Option<String> {
        let endpoint = self.apply();
        if let Some(endpoint) = &endpoint {
            s3.endpoint_url = Some(endpoint.clone());
        }
        if let Some(region) = &self.region {
            s3.region = Some(region.clone());
        }
        endpoint
    }
}

/// The command did its work, and what it found fails a check the user set
/// (`--max-reject-ratio`): exit status 3,
/// apart from errors (1) and bad usage (2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CheckFailed(pub String);

/// The share of rejected events a run may have before it fails.
#[derive(clap::Args, Clone, Debug)]
pub struct RejectArgs {
    /// Exit with status 3 (after writing everything) when more than this
    /// share of the events read was rejected; 1 never does.
    #[arg(long, value_name = "RATIO", default_value_t = 0.5)]
    pub max_reject_ratio: f64,
}

impl RejectArgs {
    /// Refuse a ratio outside 0 to 1, before any work.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.max_reject_ratio) {
            bail!(
                "--max-reject-ratio {} must be between 0 and 1",
                self.max_reject_ratio
            );
        }
        Ok(())
    }

    /// Fail a run whose rejects are over the ratio, pointing at its dead
    /// letters.
    pub fn check(&self, summary: &Summary, dead_letters: &str) -> Result<()> {
        if summary.read == 0 {
            return Ok(());
        }
        let ratio = summary.rejected as f64 / summary.read as f64;
        if ratio > self.max_reject_ratio {
            return Err(CheckFailed(format!(
                "{} of the {} events read ({:.1}%) were rejected, more than --max-reject-ratio {} allows: their reasons are in the dead letters at {dead_letters}",
                summary.rejected,
                summary.read,
                ratio * 100.0,
                self.max_reject_ratio
            ))
            .into());
        }
        Ok(())
    }
}

/// A value given under a flag's name or, for one release, under its old
/// name, with a line on standard error saying so.
pub fn renamed<T>(value: Option<T>, old: Option<T>, name: &str, old_name: &str) -> Option<T> {
    if old.is_some() {
        eprintln!("warning: {old_name} is deprecated and will be removed; use {name}");
    }
    value.or(old)
}

/// Build the report of `table` in `lake` into `out`.
pub fn write_report(
    lake: &Location,
    table: &str,
    out: &std::path::Path,
    range: &weir::lake::report::DateRange,
) -> Result<()> {
    let runtime = query_runtime()?;
    let page = runtime.block_on(weir::lake::report::build(
        lake,
        &Default::default(),
        table,
        range,
    ))?;
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
    let bar = progress_bar();
    bar.set_length(options.events);
    let mut written = 0u64;
    generate(options, |line| {
        written += 1;
        if written.is_multiple_of(10_000) {
            bar.set_position(written);
        }
        if failed.is_none()
            && let Err(err) = sink.write_all(line).and_then(|()| sink.write_all(b"\n"))
        {
            failed = Some(err);
        }
    });
    bar.finish_and_clear();
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
/// Point the pipeline at the lake given as `--lake`, if one is: its dead
/// letters follow, unless the pipeline file names their place.
pub fn redirect_output(
    config: &mut weir::config::PipelineConfig,
    lake: Option<String>,
) -> Result<()> {
    if let Some(out) = lake {
        let out = location_arg("--lake", &out)?;
        if config.dead_letter == config.location.join("_errors") {
            config.dead_letter = out.join("_errors");
        }
        config.location = out;
    }
    Ok(())
}

/// Run `config`'s pipeline over `input` (a file, or `-`) with a progress
/// bar, and print the summary.
pub fn run_pipeline(
    config: &weir::config::PipelineConfig,
    input: &str,
    source_name: Option<&str>,
) -> Result<Summary> {
    let engine = engine()?;
    let mut pipeline = load_pipeline(&engine, config)?;
    let bar = progress_bar();
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
        config,
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
    note!("{summary}");
    note!(
        "lake: {}  dead letters: {}",
        config.location.join(&config.table),
        dead_letters_of(config)
    );
    if !summary.balanced() {
        bail!("events unaccounted for: {summary:?}");
    }
    warn_unfilled(&summary);
    if summary.read == 0 {
        eprintln!("warning: the input {input} held no events");
    }
    Ok(summary)
}

/// Name the declared columns no kept event filled.
pub fn warn_unfilled(summary: &Summary) {
    if !summary.unfilled_columns.is_empty() {
        eprintln!(
            "warning: no kept event has a value for the declared column(s) {}: check the [[output.column]] names against the events' fields",
            summary.unfilled_columns.join(", ")
        );
    }
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

/// Print a report as one line of JSON on standard output (`--json`).
pub fn print_json<T: serde::Serialize>(report: &T) -> Result<()> {
    let line = json_line(report)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|err| stdout_error(err, true))
}

/// Where a pipeline's dead letters are, for messages.
pub fn dead_letters_of(config: &weir::config::PipelineConfig) -> String {
    config.dead_letter.join(&config.table).to_string()
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
