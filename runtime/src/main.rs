//! The `weir` command: run a pipeline over a file, generate events, query and
//! compact the lake, test and inspect plugins, benchmark.
//! It only wires the library's parts together.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod commands;

/// Weir: clickstream events through WebAssembly plugins into a data lake.
#[derive(Parser)]
#[command(name = "weir", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only errors: no progress, no summaries on standard error.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more of what happens (-v: info, -vv: debug, -vvv: trace);
    /// `WEIR_LOG` beats it.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// What `weir`'s exit status means (docs/cli.md says the same).
const EXIT_CODES: &str = "Exit status: 0 done; 1 failed (the message says why); 2 bad command line; \
3 done, but more events were rejected than --max-reject-ratio allows.";

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline over a file of JSON lines (or standard input) into a
    /// lake folder, and print what became of every event.
    Run(commands::run::Args),
    /// Write synthetic clickstream events as JSON lines.
    Gen(commands::r#gen::Args),
    /// Send JSON lines to a Kinesis stream (PutRecords, within the service's
    /// limits), retrying the records it refuses. Exits non-zero, naming the
    /// lines, if any record could not be sent.
    Send(commands::send::Args),
    /// Read every shard of a Kinesis stream through the pipeline into the
    /// lake, as the Lambda host does, checkpointing each shard once its
    /// output is durable. Ctrl-C stops after the batch in hand is written.
    Consume(commands::consume::Args),
    /// Generate events and run the bundled clickstream pipeline over them:
    /// the whole job, end to end, in one command.
    Demo(commands::demo::Args),
    /// Run SQL over the lake with DataFusion: every folder is a table (its
    /// partition keys columns), `<table>_errors` its dead letters.
    Query(commands::query::Args),
    /// Raw zone to processed zone, without Glue: raw JSON-lines objects
    /// (gzip or not) of the given days, as Firehose lays them out, through
    /// the pipeline into partitioned files. Running a day again replaces
    /// its files.
    Etl(commands::etl::Args),
    /// Write one self-contained HTML page answering the seed questions from
    /// the lake (the queries of `athena/queries`), charts and tables, to
    /// open in any browser without a network.
    Report(commands::report::Args),
    /// Merge each partition's small Parquet files into large ones. Rows are
    /// counted before and after; a run that stops part way is finished by
    /// the next.
    Compact(commands::compact::Args),
    /// Check a plugin, or a whole pipeline, against fixture files (JSON
    /// lines of {"input": event, "expect": outcome}) and cases given with
    /// --text. Prints each case that differs; exits non-zero if any does.
    Test(commands::test::Args),
    /// Plugins: what a component file is and asks for.
    Plugin {
        #[command(subcommand)]
        command: commands::plugin::PluginCommand,
    },
    /// Athena: the DDL of the pipeline's tables.
    Athena {
        #[command(subcommand)]
        command: commands::athena::AthenaCommand,
    },
    /// Measure the four bundled plugins as WebAssembly against the same
    /// plugins compiled natively, in events per second on one core.
    Bench(commands::bench::Args),
    /// Load a pipeline file and everything it names (plugins, their
    /// configs, the lake's settings) and run nothing: exits 0 when a run
    /// would start.
    Validate(commands::validate::Args),
    /// Print a shell completion script: `weir completions bash >
    /// ~/.local/share/bash-completion/completions/weir` (or zsh, fish,
    /// elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    // Colour only for a person at a terminal: not in a log file, a pipe or
    // CI, and never with NO_COLOR set.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let cli = Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WEIR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .init();
    if cli.quiet {
        commands::be_quiet();
    }
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`weir query … | head`): what it read is
        // what it wanted, as with any Unix tool.
        Err(err) if err.chain().any(|cause| cause.is::<commands::ReaderGone>()) => {
            ExitCode::SUCCESS
        }
        Err(err) => {
            let cause: &(dyn std::error::Error + 'static) = err.as_ref();
            eprintln!("error: {}", weir::ErrorChain(cause));
            if err.chain().any(|cause| cause.is::<commands::CheckFailed>()) {
                ExitCode::from(3)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn execute(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => commands::run::execute(args),
        Command::Gen(args) => commands::r#gen::execute(args),
        Command::Send(args) => commands::send::execute(args),
        Command::Consume(args) => commands::consume::execute(args),
        Command::Demo(args) => commands::demo::execute(args),
        Command::Query(args) => commands::query::execute(args),
        Command::Etl(args) => commands::etl::execute(args),
        Command::Report(args) => commands::report::execute(args),
        Command::Compact(args) => commands::compact::execute(args),
        Command::Test(args) => commands::test::execute(args),
        Command::Plugin { command } => commands::plugin::execute(command),
        Command::Athena { command } => commands::athena::execute(command),
        Command::Bench(args) => commands::bench::execute(args),
        Command::Validate(args) => commands::validate::execute(args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "weir", &mut std::io::stdout());
            Ok(())
        }
    }
}
