//! The AWS Lambda bootstrap: Weir's host on a Kinesis event source mapping,
//! as a Firehose transform, or as the scheduled raw-to-processed ETL, by the
//! event it is given. Everything it does is in the `weir` library's
//! `sources::lambda`; this wires it to the runtime API.
//!
//! `weir-lambda --check` loads the pipeline named by `WEIR_PIPELINE` as a
//! cold start would, prints how long that took and how each plugin's code
//! was obtained, and exits: a test of a deployment's settings, and the
//! measure of its start-up time.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lambda_runtime::{LambdaEvent, service_fn};
use weir::sources::lambda::invocation::{HandleError, Invocation, Response};
use weir::sources::lambda::{Host, Settings};

/// When writes must be done: a margin (a fifth of the time left, at most
/// five seconds) before the invocation's deadline (milliseconds since the
/// epoch), so failures are reported before Lambda ends the invocation.
fn write_deadline(deadline_ms: u64) -> Option<Instant> {
    // No deadline header: nothing to bound by.
    if deadline_ms == 0 {
        return None;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    // Lambda sends milliseconds since the epoch; cargo-lambda's emulator
    // sends the time left instead (600000). A value before 2001 cannot be a
    // deadline of today's: it is read as the time left.
    const EPOCH_2001_MS: u64 = 978_307_200_000;
    let deadline_ms = if deadline_ms < EPOCH_2001_MS {
        now_ms.saturating_add(deadline_ms)
    } else {
        deadline_ms
    };
    // Past already: every write counts as failed at once, rather than
    // writing with no bound at all.
    if deadline_ms <= now_ms {
        tracing::warn!(
            deadline_ms,
            now_ms,
            "the invocation's deadline has passed: its writes count as failed"
        );
    }
    let left = deadline_ms.saturating_sub(now_ms);
    let margin = (left / 5).min(5_000);
    Some(Instant::now() + std::time::Duration::from_millis(left - margin))
}

fn main() -> ExitCode {
    let started = Instant::now();
    init_logging();
    let check = std::env::args().nth(1).is_some_and(|arg| arg == "--check");
    let host = match Settings::from_env().and_then(Host::start) {
        Ok(host) => host,
        Err(err) => {
            let err = weir::ErrorChain(&err);
            tracing::error!(error = %err, "cannot start");
            eprintln!("weir-lambda: {err}");
            return ExitCode::FAILURE;
        }
    };
    let ready = report_ready(&host, started);
    if check {
        println!("{ready}");
        return ExitCode::SUCCESS;
    }
    let host = Arc::new(Mutex::new(host));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("weir-lambda: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let handler = service_fn(move |event| answer(host.clone(), event));
    match runtime.block_on(lambda_runtime::run(handler)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("weir-lambda: {err}");
            ExitCode::FAILURE
        }
    }
}

/// JSON log lines on standard error, at the level `WEIR_LOG` names (default
/// `info`).
fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WEIR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .init();
}

/// Log that `host` is ready: its pipeline, version, the time since
/// `started` and how each plugin's code was obtained. Returns the same as
/// the JSON `--check` prints.
fn report_ready(host: &Host, started: Instant) -> serde_json::Value {
    let init_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (pipeline, version) = host.pipeline();
    let plugins = host.plugins();
    tracing::info!(
        pipeline,
        version,
        init_ms,
        plugins = %serde_json::to_string(&plugins).unwrap_or_default(),
        "ready"
    );
    serde_json::json!({
        "pipeline": pipeline,
        "version": version,
        "init_ms": init_ms,
        "plugins": plugins,
    })
}

/// Answer one invocation: run it on a blocking thread (the pipeline is
/// synchronous), and log an invocation that gets no answer.
async fn answer(
    host: Arc<Mutex<Host>>,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Response, lambda_runtime::Error> {
    let answer = tokio::task::spawn_blocking(move || handle(&host, event))
        .await
        .map_err(lambda_runtime::Error::from)?;
    answer.map_err(|err| {
        let err = weir::ErrorChain(&err).to_string();
        tracing::error!(error = %err, "no answer to the invocation");
        lambda_runtime::Error::from(err)
    })
}

/// Parse an invocation and let the host answer it, before the write
/// deadline. Exits the process if an earlier batch panicked.
fn handle(
    host: &Mutex<Host>,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Response, HandleError> {
    let Ok(mut host) = host.lock() else {
        // A batch panicked part way: plugin instances may be in
        // any state. A fresh process is the safe way on.
        eprintln!("weir-lambda: an earlier batch panicked; exiting for a fresh start");
        std::process::exit(1);
    };
    let invocation = Invocation::parse(event.payload)?;
    let deadline = write_deadline(event.context.deadline);
    host.handle(&invocation, deadline)
}
