//! `weir consume`: every shard of a Kinesis stream through the pipeline into the lake.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;
use weir::config::build::load_pipeline;
use weir::config::{PipelineConfig, PipelineFile};
use weir::sources::kinesis::checkpoint::CheckpointStore;
use weir::sources::kinesis::client::Kinesis;
use weir::sources::kinesis::consume::{ConsumeOptions, ConsumeReport, consume};
use weir::sources::kinesis::shard::LakeTarget;
use weir::storage::Storage;

use super::{
    AwsArgs, RejectArgs, dead_letters_of, engine, location_arg, print_json, redirect_output,
    renamed,
};
use weir::pipeline::summary::Summary;

#[derive(clap::Args)]
pub struct Args {
    /// The stream's name.
    #[arg(long)]
    stream: String,
    /// The pipeline file (TOML).
    #[arg(long)]
    pipeline: PathBuf,
    /// The lake, a folder or `s3://bucket/prefix`, instead of the
    /// pipeline's `output.location`.
    #[arg(long, value_name = "LOCATION")]
    lake: Option<String>,
    /// Deprecated spelling of --lake.
    #[arg(long = "out", hide = true, conflicts_with = "lake")]
    out_old: Option<String>,
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
        stream,
        pipeline,
        lake,
        out_old,
        checkpoint,
        batch_records,
        latest,
        until_drained,
        rejects,
        aws,
        json,
    } = args;
    rejects.validate()?;
    if !(1..=10_000).contains(&batch_records) {
        bail!("--batch-records must be 1 to 10000, not {batch_records}");
    }
    let checkpoint = checkpoint.unwrap_or_else(|| format!("weir-checkpoints-{stream}.json"));
    let options = ConsumeOptions {
        stream,
        batch_records,
        from_latest: latest,
        until_drained,
        poll: std::time::Duration::from_secs(1),
    };
    let mut config = PipelineFile::load(&pipeline)?;
    let endpoint = aws.apply_to(&mut config.s3);
    redirect_output(&mut config, renamed(lake, out_old, "--lake", "--out"))?;
    let summary = consume_command(&config, options, endpoint.as_deref(), &checkpoint, json)?;
    rejects.check(&summary, &dead_letters_of(&config))
}

/// `weir consume`.
fn consume_command(
    config: &PipelineConfig,
    options: ConsumeOptions,
    endpoint: Option<&str>,
    checkpoint: &str,
    json: bool,
) -> Result<Summary> {
    let engine = engine()?;
    let mut pipeline = load_pipeline(&engine, config)?;
    let (data, errors) = open_lake(config)?;
    let store = CheckpointStore::open(&location_arg("--checkpoint", checkpoint)?)?;
    // The standard chain's own order (AWS_ENDPOINT_URL_KINESIS before
    // AWS_ENDPOINT_URL) holds unless --endpoint-url names one.
    let kinesis = Kinesis::connect(endpoint).context("cannot start the Kinesis client")?;
    let stop = stop_on_signal(&kinesis);
    let started = std::time::Instant::now();
    let target = LakeTarget {
        config,
        data: &data,
        errors: &errors,
    };
    let bar = super::spinner();
    let mut report = consume(
        &kinesis,
        &options,
        &mut pipeline,
        &target,
        &store,
        &stop,
        &mut |report| show_progress(&bar, report),
    )?;
    bar.finish_and_clear();
    report.summary.elapsed = started.elapsed();
    report.summary.take_plugins(&pipeline);
    print_report(&report, &options.stream, checkpoint, config);
    if json {
        let stopped = stop.load(Ordering::SeqCst);
        print_json(&ConsumeJson {
            report: &report,
            stopped,
        })?;
    }
    let summary = report.summary;
    if !summary.balanced() {
        bail!("events unaccounted for: {summary:?}");
    }
    Ok(summary)
}

/// The lake and its dead letters, opened.
fn open_lake(config: &PipelineConfig) -> Result<(Storage, Storage)> {
    let data = Storage::open(&config.location, &config.s3)
        .with_context(|| format!("cannot open the lake at {}", config.location))?;
    let errors = data
        .sibling(&config.dead_letter, &config.s3)
        .with_context(|| format!("cannot open the dead letters at {}", config.dead_letter))?;
    Ok((data, errors))
}

/// A flag set on Ctrl-C or SIGTERM, watched for on the Kinesis client's
/// runtime: the consumer stops once the batch in hand is written.
fn stop_on_signal(kinesis: &Kinesis) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    kinesis.spawn(async move {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match terminate.as_mut() { Some(signal) => { signal.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        note!("stopping after the batch in hand is written");
        flag.store(true, Ordering::SeqCst);
    });
    stop
}

/// The spinner's line after a batch: the events so far and their fates.
fn show_progress(bar: &ProgressBar, report: &ConsumeReport) {
    bar.set_message(format!(
        "{} events: {} kept, {} dropped, {} rejected",
        report.summary.read, report.summary.kept, report.summary.dropped, report.summary.rejected
    ));
    bar.tick();
}

/// The summary on standard error: the events, the Kinesis side (records,
/// batches, shards, where the checkpoints are) and where the output went.
fn print_report(report: &ConsumeReport, stream: &str, checkpoint: &str, config: &PipelineConfig) {
    let summary = &report.summary;
    note!("{summary}");
    note!(
        "stream {}: {} Kinesis records in {} batches ({} resumed) from {} shards ({} finished); checkpoints: {checkpoint}",
        stream,
        report.kinesis_records,
        report.batches,
        report.resumed,
        report.shards,
        report.shards_finished
    );
    note!(
        "lake: {}  dead letters: {}",
        config.location.join(&config.table),
        config.dead_letter.join(&config.table)
    );
}

/// `weir consume --json`: the report, and whether a signal stopped it.
#[derive(serde::Serialize)]
struct ConsumeJson<'a> {
    #[serde(flatten)]
    report: &'a ConsumeReport,
    stopped: bool,
}
