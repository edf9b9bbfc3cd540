//! `weir consume`: every shard of a Kinesis stream through the pipeline into the lake.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;
use weir::config::PipelineFile;
use weir::config::build::load_pipeline;

use super::{engine, json_line, location_arg, redirect_output};

#[derive(clap::Args)]
pub struct Args {
    /// The stream's name.
    #[arg(long)]
    stream: String,
    /// The pipeline file (TOML).
    #[arg(long)]
    pipeline: PathBuf,
    /// A Kinesis-compatible endpoint instead of AWS's.
    #[arg(long)]
    endpoint: Option<String>,
    /// Lake folder or `s3://bucket/prefix`, instead of the pipeline's.
    #[arg(long)]
    out: Option<String>,
    /// Where checkpoints are kept: a file or `s3://bucket/key`.
    /// Default `weir-checkpoints-<stream>.json`.
    #[arg(long)]
    checkpoint: Option<String>,
    /// Records per batch (and per GetRecords call), 1 to 10,000.
    #[arg(long, default_value_t = 1000)]
    batch_records: i32,
    /// A consumer with no checkpoints yet starts at records arriving from
    /// now on, not the oldest; shards born of a later split or merge are
    /// still read from their beginning.
    #[arg(long)]
    latest: bool,
    /// Stop once every shard is caught up (for tests and batch use).
    #[arg(long)]
    until_drained: bool,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        stream,
        pipeline,
        endpoint,
        out,
        checkpoint,
        batch_records,
        latest,
        until_drained,
        json,
    } = args;
    if !(1..=10_000).contains(&batch_records) {
        bail!("--batch-records must be 1 to 10000, not {batch_records}");
    }
    let checkpoint = checkpoint.unwrap_or_else(|| format!("weir-checkpoints-{stream}.json"));
    let options = weir::sources::kinesis::consume::ConsumeOptions {
        stream,
        batch_records,
        from_latest: latest,
        until_drained,
        poll: std::time::Duration::from_secs(1),
    };
    let config = PipelineFile::load(&pipeline)?;
    consume_command(config, options, endpoint.as_deref(), out, &checkpoint, json)
}

/// `weir consume`.
fn consume_command(
    mut config: weir::config::PipelineConfig,
    options: weir::sources::kinesis::consume::ConsumeOptions,
    endpoint: Option<&str>,
    out: Option<String>,
    checkpoint: &str,
    json: bool,
) -> Result<()> {
    redirect_output(&mut config, out)?;
    let engine = engine()?;
    let mut pipeline = load_pipeline(&engine, &config)?;
    let data = weir::storage::Storage::open(&config.location, &config.s3)
        .with_context(|| format!("cannot open the lake at {}", config.location))?;
    let errors = data
        .sibling(&config.dead_letter, &config.s3)
        .with_context(|| format!("cannot open the dead letters at {}", config.dead_letter))?;
    let store = weir::sources::kinesis::checkpoint::CheckpointStore::open(&location_arg(
        "--checkpoint",
        checkpoint,
    )?)?;
    let kinesis = weir::sources::kinesis::client::Kinesis::connect(endpoint)
        .context("cannot start the Kinesis client")?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        kinesis.spawn(async move {
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match terminate.as_mut() { Some(signal) => { signal.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            eprintln!("stopping after the batch in hand is written");
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    }
    let started = std::time::Instant::now();
    let target = weir::sources::kinesis::shard::LakeTarget {
        config: &config,
        data: &data,
        errors: &errors,
    };
    let bar = ProgressBar::new_spinner();
    let report = weir::sources::kinesis::consume::consume(
        &kinesis,
        &options,
        &mut pipeline,
        &target,
        &store,
        &stop,
        &mut |report| {
            bar.set_message(format!(
                "{} events: {} kept, {} dropped, {} rejected",
                report.summary.read,
                report.summary.kept,
                report.summary.dropped,
                report.summary.rejected
            ));
            bar.tick();
        },
    )?;
    bar.finish_and_clear();
    let mut report = report;
    report.summary.elapsed = started.elapsed();
    report.summary.take_plugins(&pipeline);
    let summary = &report.summary;
    eprintln!("{summary}");
    eprintln!(
        "stream {}: {} Kinesis records in {} batches ({} resumed) from {} shards ({} finished); checkpoints: {checkpoint}",
        options.stream,
        report.kinesis_records,
        report.batches,
        report.resumed,
        report.shards,
        report.shards_finished
    );
    eprintln!(
        "lake: {}  dead letters: {}",
        config.location.join(&config.table),
        config.dead_letter.join(&config.table)
    );
    if json {
        let stopped = stop.load(std::sync::atomic::Ordering::SeqCst);
        println!(
            "{}",
            json_line(&ConsumeJson {
                report: &report,
                stopped
            })?
        );
    }
    if !summary.balanced() {
        bail!("events unaccounted for: {summary:?}");
    }
    Ok(())
}

/// `weir consume --json`: the report, and whether a signal stopped it.
#[derive(serde::Serialize)]
struct ConsumeJson<'a> {
    #[serde(flatten)]
    report: &'a weir::sources::kinesis::consume::ConsumeReport,
    stopped: bool,
}
