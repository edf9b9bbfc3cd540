//! The `weir` command: run a pipeline over a file, generate events, query and
//! compact the lake, test and inspect plugins, benchmark.
//! It only wires the library's parts together.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::Digest as _;

use weir::bench::{BenchOptions, run_bench};
use weir::config::PipelineFile;
use weir::engine::PluginEngine;
use weir::generate::{GenerateOptions, generate};
use weir::run::{RunTarget, Summary, load_pipeline, run};
use weir::storage::Location;

/// Weir: clickstream events through WebAssembly plugins into a data lake.
#[derive(Parser)]
#[command(name = "weir", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline over a file of JSON lines (or standard input) into a
    /// lake folder, and print what became of every event.
    Run {
        /// The pipeline file (TOML).
        #[arg(long)]
        pipeline: PathBuf,
        /// Input file of JSON lines, or `-` for standard input.
        #[arg(long)]
        input: String,
        /// Lake folder or `s3://bucket/prefix`; overrides the pipeline's
        /// `output.location`. Dead letters go to `<out>/_errors` unless the
        /// pipeline names their location.
        #[arg(long)]
        out: Option<String>,
        /// The input's identity in object names, instead of the file's path,
        /// size and modification time: runs with the same name replace what
        /// the last one wrote. Without it, each run of standard input is a
        /// new input that replaces nothing.
        #[arg(long)]
        source_name: Option<String>,
        /// Print the summary as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Write synthetic clickstream events as JSON lines.
    Gen {
        /// Number of events.
        #[arg(long, default_value_t = 10_000)]
        events: u64,
        /// Seed: the same seed writes the same events.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Share of deliberately bad events (0.0 to 1.0).
        #[arg(long, default_value_t = 0.0)]
        bad_fraction: f64,
        /// Time of the first event (RFC 3339, UTC).
        #[arg(long, default_value = "2026-02-16T00:00:00Z")]
        start: String,
        /// Days the events are spread over (fractions allowed: 0.5 is 12 hours).
        #[arg(long, default_value_t = 7.0)]
        days: f64,
        /// Distinct users.
        #[arg(long, default_value_t = 5_000)]
        users: u64,
        /// Output file; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Send JSON lines to a Kinesis stream (PutRecords, within the service's
    /// limits), retrying the records it refuses. Exits non-zero, naming the
    /// lines, if any record could not be sent.
    Send {
        /// The stream's name.
        #[arg(long)]
        stream: String,
        /// A Kinesis-compatible endpoint instead of AWS's (for example a
        /// local server); `AWS_ENDPOINT_URL_KINESIS` works too.
        #[arg(long)]
        endpoint: Option<String>,
        /// The field whose value is the partition key.
        #[arg(long, default_value = "user_id")]
        partition_key: String,
        /// Most records per second.
        #[arg(long)]
        rate: Option<f64>,
        /// Tries per record before it counts as not sent.
        #[arg(long, default_value_t = 8)]
        max_attempts: u32,
        /// Print the report as JSON on standard output.
        #[arg(long)]
        json: bool,
        /// JSON lines to send, or `-` for standard input.
        input: String,
    },
    /// Read every shard of a Kinesis stream through the pipeline into the
    /// lake, as the Lambda host does, checkpointing each shard once its
    /// output is durable. Ctrl-C stops after the batch in hand is written.
    Consume {
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
    },
    /// Generate events and run the bundled clickstream pipeline over them:
    /// the whole job, end to end, in one command.
    Demo {
        /// Folder for the events and the lake.
        #[arg(long, default_value = "weir-demo")]
        dir: PathBuf,
        /// Number of events.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
    },
    /// Run SQL over the lake with DataFusion: every folder is a table (its
    /// partition keys columns), `<table>_errors` its dead letters.
    Query {
        /// The SQL statement; or give --file.
        sql: Option<String>,
        /// A file holding the SQL statement (such as one of `athena/queries`).
        #[arg(long, conflicts_with = "sql")]
        file: Option<PathBuf>,
        /// The lake: a folder or `s3://bucket/prefix`.
        #[arg(long, default_value = "lake")]
        lake: String,
        /// How to print the answer.
        #[arg(long, value_enum, default_value = "table")]
        format: weir::query::OutputFormat,
    },
    /// Raw zone to processed zone, without Glue: raw JSON-lines objects
    /// (gzip or not) of the given days, as Firehose lays them out, through
    /// the pipeline into partitioned files. Running a day again replaces
    /// its files.
    Etl {
        /// The raw zone: a folder or `s3://bucket/raw`, holding
        /// `year=YYYY/month=MM/day=DD/` (or `YYYY/MM/DD/`) folders.
        #[arg(long)]
        input: String,
        /// The processed zone, instead of the pipeline's `output.location`.
        #[arg(long)]
        output: Option<String>,
        /// The pipeline file (TOML).
        #[arg(long)]
        pipeline: PathBuf,
        /// One day, YYYY-MM-DD (default: yesterday, UTC).
        #[arg(long, conflicts_with_all = ["from", "to"])]
        date: Option<String>,
        /// First day of a range.
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// Last day of a range.
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// Print the summary as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Write one self-contained HTML page answering the seed questions from
    /// the lake (the queries of `athena/queries`), charts and tables, to
    /// open in any browser without a network.
    Report {
        /// The lake: a folder or `s3://bucket/prefix`.
        #[arg(long, default_value = "lake")]
        lake: String,
        /// The page to write.
        #[arg(long, default_value = "report.html")]
        out: PathBuf,
        /// First event date to include, YYYY-MM-DD.
        #[arg(long)]
        from: Option<String>,
        /// Last event date to include, YYYY-MM-DD.
        #[arg(long)]
        to: Option<String>,
    },
    /// Merge each partition's small Parquet files into large ones. Rows are
    /// counted before and after; a run that stops part way is finished by
    /// the next.
    Compact {
        /// The lake: a folder or `s3://bucket/prefix`.
        #[arg(long)]
        lake: String,
        /// The table (its folder under the lake).
        #[arg(long)]
        table: String,
        /// Only this day's partition (YYYY-MM-DD).
        #[arg(long, conflicts_with_all = ["from", "to"])]
        date: Option<String>,
        /// Only partitions from this day on (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Only partitions up to this day (YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        /// Size the merged files aim for, in MiB; files under half of it
        /// are merged.
        #[arg(long, default_value_t = 128)]
        target_mib: u64,
        /// Print the report as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Check a plugin, or a whole pipeline, against fixture files: JSON
    /// lines of {"input": event, "expect": outcome}. Prints each case that
    /// differs; exits non-zero if any does.
    Test {
        /// Fixture files.
        #[arg(required = true)]
        fixtures: Vec<PathBuf>,
        /// Test this pipeline: all its plugins, in order.
        #[arg(long, conflicts_with_all = ["plugin", "config"])]
        pipeline: Option<PathBuf>,
        /// Test one plugin: `bundled:<name>` or a `.wasm` file.
        #[arg(long, required_unless_present = "pipeline")]
        plugin: Option<String>,
        /// The plugin's config, as a JSON object (default `{}`).
        #[arg(long)]
        config: Option<String>,
    },
    /// Plugins: what a component file is and asks for.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Athena: the DDL of the pipeline's tables.
    Athena {
        #[command(subcommand)]
        command: AthenaCommand,
    },
    /// Measure the four bundled plugins as WebAssembly against the same
    /// plugins compiled natively, in events per second on one core.
    Bench {
        /// Events per round.
        #[arg(long, default_value_t = 200_000)]
        events: u64,
        /// Events per batch.
        #[arg(long, default_value_t = 1_000)]
        batch_size: usize,
        /// Timed rounds per variant (the fastest counts).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Create a plugin crate that builds to a component with one command and
    /// passes its own tests: a working example of its kind.
    New {
        /// The plugin's name: lowercase letters, digits and `-`.
        name: String,
        /// What the example does.
        #[arg(long, value_enum, default_value = "filter")]
        kind: weir::scaffold::Kind,
        /// The folder to create it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Build the plugin crate in a folder to a `wasm32-wasip2` component and
    /// print its path, name, contract and sha256.
    Build {
        /// The crate's folder.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Also copy the component here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Upload a component to S3 under a name that carries its version and
    /// hash (`<name>-<version>-<sha256 prefix>.wasm`), and print the
    /// `[[plugin]]` entry that pins it (on standard output, ready to append
    /// to a pipeline file).
    Push {
        /// The component (`.wasm`).
        file: PathBuf,
        /// Where plugins live: `s3://bucket/prefix/`.
        to: String,
    },
    /// Compile plugins ahead of time, for a host to load at start-up in a
    /// millisecond instead of compiling them: writes `<sha256>.cwasm` per
    /// plugin into the folder. Ship the folder in the Lambda package as
    /// `precompiled/` (or name it with `WEIR_PRECOMPILED_DIR`).
    Precompile {
        /// Components: `.wasm` files or `bundled:<name>`.
        #[arg(required = true)]
        plugins: Vec<String>,
        /// The folder to write into.
        #[arg(long)]
        out: PathBuf,
        /// The target triple of the host that will run them, e.g.
        /// `aarch64-unknown-linux-gnu` for Lambda on arm64; default this
        /// machine's.
        #[arg(long)]
        target: Option<String>,
    },
    /// Name, version, contract version, imports, size and sha256 of a
    /// plugin component, without configuring or running it. A component
    /// built against another contract version is refused, saying so.
    Inspect {
        /// The component (`.wasm`).
        file: PathBuf,
        /// Print as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AthenaCommand {
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
enum DdlFormat {
    Jsonl,
    Parquet,
}

/// The demo's pipeline: the example pipeline, shipped in the binary.
const DEMO_PIPELINE: &str = include_str!("../../examples/clickstream.toml");
/// The question the demo answers on screen.
const DEMO_QUESTION: &str = include_str!("../../athena/queries/top_cart_categories.sql");

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WEIR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match execute(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line naming the cause, whatever the depth of the chain.
            let message = format!("{err:#}").replace('\n', " ");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command) -> Result<()> {
    match command {
        Command::Run {
            pipeline,
            input,
            out,
            source_name,
            json,
        } => {
            let config = PipelineFile::load(&pipeline)?;
            let summary = run_pipeline(config, &input, source_name.as_deref(), out)?;
            if json {
                println!("{}", summary_json(&summary));
            }
            Ok(())
        }
        Command::Gen {
            events,
            seed,
            bad_fraction,
            start,
            days,
            users,
            out,
        } => {
            if !(0.0..=1.0).contains(&bad_fraction) {
                bail!("--bad-fraction must be between 0 and 1, not {bad_fraction}");
            }
            let start_micros = weir_plugin::time::Timestamp::parse(&start)
                .map_err(|_| anyhow::anyhow!("--start {start:?} is not an RFC 3339 date-time"))?
                .unix_micros;
            if days.is_nan() || days <= 0.0 || days > 3660.0 {
                bail!("--days must be above 0 and at most 3660, not {days}");
            }
            if users == 0 {
                bail!("--users must be at least 1");
            }
            let options = GenerateOptions {
                events,
                seed,
                bad_fraction,
                start_micros,
                window_seconds: (days * 86_400.0).round().max(1.0) as i64,
                users,
            };
            write_events(&options, out.as_ref())
        }
        Command::Send {
            stream,
            endpoint,
            partition_key,
            rate,
            max_attempts,
            json,
            input,
        } => send_command(
            weir::kinesis::send::SendOptions {
                stream,
                key_field: partition_key,
                rate,
                max_attempts,
            },
            endpoint.as_deref(),
            &input,
            json,
        ),
        Command::Consume {
            stream,
            pipeline,
            endpoint,
            out,
            checkpoint,
            batch_records,
            latest,
            until_drained,
            json,
        } => {
            if !(1..=10_000).contains(&batch_records) {
                bail!("--batch-records must be 1 to 10000, not {batch_records}");
            }
            let checkpoint =
                checkpoint.unwrap_or_else(|| format!("weir-checkpoints-{stream}.json"));
            let options = weir::kinesis::consume::ConsumeOptions {
                stream,
                batch_records,
                from_latest: latest,
                until_drained,
                poll: std::time::Duration::from_secs(1),
            };
            let config = PipelineFile::load(&pipeline)?;
            consume_command(config, options, endpoint.as_deref(), out, &checkpoint, json)
        }
        Command::Demo { dir, events } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
            let input = dir.join("events.jsonl");
            let options = GenerateOptions {
                events,
                bad_fraction: 0.01,
                ..GenerateOptions::default()
            };
            write_events(&options, Some(&input))?;
            eprintln!(
                "wrote {events} events (1% deliberately bad) to {}",
                input.display()
            );
            let config = PipelineFile::parse(DEMO_PIPELINE, "examples/clickstream.toml")?.resolve(
                &Location::Local(dir.clone()),
                "clickstream",
                "examples/clickstream.toml",
            )?;
            let lake = config.location.clone();
            run_pipeline(config, &input.display().to_string(), None, None)?;
            let page = dir.join("report.html");
            write_report(&lake, &page, &Default::default())?;
            // One answer of the seed's question on the screen, so a first run
            // ends with a result and not only with paths.
            let runtime = query_runtime()?;
            let top = runtime.block_on(weir::query::run_sql(
                &lake,
                &Default::default(),
                DEMO_QUESTION,
            ))?;
            println!(
                "\nWhich categories are added to cart most? (athena/queries/top_cart_categories.sql)"
            );
            println!(
                "{}",
                weir::query::render(&top, weir::query::OutputFormat::Table)?
            );
            println!("lake:   {lake}");
            println!("report: {}", page.display());
            println!("more:   weir query --lake {lake} --file athena/queries/device_behaviour.sql");
            Ok(())
        }
        Command::Test {
            fixtures,
            pipeline,
            plugin,
            config,
        } => test_fixtures(&fixtures, pipeline, plugin, config),
        Command::Plugin {
            command: PluginCommand::New { name, kind, dir },
        } => {
            let root = weir::scaffold::create(&dir, &name, kind)?;
            println!("created {}", root.display());
            println!("  cd {} && cargo test && weir plugin build", root.display());
            Ok(())
        }
        Command::Plugin {
            command: PluginCommand::Build { dir, out },
        } => build_plugin(&dir, out.as_deref()),
        Command::Plugin {
            command: PluginCommand::Push { file, to },
        } => push_plugin(&file, &to),
        Command::Plugin {
            command: PluginCommand::Inspect { file, json },
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let engine = engine()?;
            let info = weir::plugin::inspect(&engine, &file.display().to_string(), &bytes)?;
            if json {
                println!("{}", serde_json::to_string(&info)?);
                return Ok(());
            }
            println!("plugin    {} {}", info.name, info.version);
            println!("contract  weir:plugin@{}", info.contract);
            println!("size      {} bytes", info.size);
            println!("sha256    {}", info.sha256);
            println!("exports   {}", info.exports.join(", "));
            println!("imports   {}", info.imports.join("\n          "));
            Ok(())
        }
        Command::Plugin {
            command:
                PluginCommand::Precompile {
                    plugins,
                    out,
                    target,
                },
        } => {
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            for plugin in plugins {
                let bytes: Vec<u8> = match plugin.strip_prefix("bundled:") {
                    Some(name) => weir_bundled_plugins::bundled(name)
                        .with_context(|| format!("{plugin}: no bundled plugin of that name"))?
                        .bytes
                        .to_vec(),
                    None => {
                        std::fs::read(&plugin).with_context(|| format!("cannot read {plugin}"))?
                    }
                };
                let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
                let compiled = weir::cache::precompile(&bytes, target.as_deref())
                    .map_err(|err| anyhow::anyhow!("{plugin}: cannot compile: {err:#}"))?;
                let path = out.join(weir::cache::ModuleCache::file_name(&sha256));
                std::fs::write(&path, &compiled)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("{plugin} -> {}", path.display());
            }
            Ok(())
        }
        Command::Compact {
            lake,
            table,
            date,
            from,
            to,
            target_mib,
            json,
        } => {
            let days = match (date, from, to) {
                (Some(date), _, _) => Some((check_day(&date)?, date)),
                (None, None, None) => None,
                (None, from, to) => Some((
                    check_day(from.as_deref().unwrap_or("0000-01-01"))?,
                    check_day(to.as_deref().unwrap_or("9999-12-31"))?,
                )),
            };
            if target_mib == 0 {
                bail!("--target-mib must be at least 1");
            }
            let location = location_arg("--lake", &lake)?;
            let storage = weir::storage::Storage::open(&location, &Default::default())
                .with_context(|| format!("cannot open {location}"))?;
            let options = weir::compact::CompactOptions {
                table,
                days,
                target_bytes: target_mib * 1024 * 1024,
            };
            let report = weir::compact::compact(&storage, &options)?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                eprintln!("{report}");
            }
            Ok(())
        }
        Command::Query {
            sql,
            file,
            lake,
            format,
        } => {
            let sql = match (sql, file) {
                (Some(sql), None) => sql,
                (None, Some(file)) => std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?,
                _ => bail!("give the SQL as an argument or with --file"),
            };
            let runtime = query_runtime()?;
            let lake = location_arg("--lake", &lake)?;
            let batches =
                runtime.block_on(weir::query::run_sql(&lake, &Default::default(), &sql))?;
            print!("{}", weir::query::render(&batches, format)?);
            if format == weir::query::OutputFormat::Table {
                println!();
            }
            Ok(())
        }
        Command::Etl {
            input,
            output,
            pipeline,
            date,
            from,
            to,
            json,
        } => {
            let (from, to) = match (date, from, to) {
                (Some(day), _, _) => (day.clone(), day),
                (None, Some(from), Some(to)) => (from, to),
                _ => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)?
                        .as_micros() as i64;
                    let day = weir_plugin::time::Timestamp::from_unix_micros(now - 86_400_000_000)
                        .date_string();
                    (day.clone(), day)
                }
            };
            let days = weir::etl::days(&from, &to)?;
            let mut config = PipelineFile::load(&pipeline)?;
            redirect_output(&mut config, output)?;
            let input = location_arg("--input", &input)?;
            let engine = engine()?;
            let mut pipeline = load_pipeline(&engine, &config)?;
            let bar = ProgressBar::new_spinner();
            let report =
                weir::etl::etl(&config, &mut pipeline, &input, &days, &mut |key, report| {
                    bar.set_message(format!(
                        "{} objects, {} events: {} kept, {} dropped, {} rejected ({key})",
                        report.objects,
                        report.summary.read,
                        report.summary.kept,
                        report.summary.dropped,
                        report.summary.rejected
                    ));
                    bar.tick();
                })?;
            bar.finish_and_clear();
            eprintln!("{}", report.summary);
            eprintln!(
                "read {} raw objects ({} bytes) for {} day(s) from {input}; lake: {}  dead letters: {}",
                report.objects,
                report.raw_bytes,
                report.days.len(),
                config.location.join(&config.table),
                config.dead_letter.join(&config.table)
            );
            if json {
                let mut value: serde_json::Value =
                    serde_json::from_str(&summary_json(&report.summary))?;
                value["objects"] = report.objects.into();
                value["raw_bytes"] = report.raw_bytes.into();
                value["days"] = report.days.clone().into();
                println!("{value}");
            }
            if !report.summary.balanced() {
                bail!("events unaccounted for: {:?}", report.summary);
            }
            Ok(())
        }
        Command::Report {
            lake,
            out,
            from,
            to,
        } => {
            let range = weir::report::DateRange {
                from: from
                    .map(|day| weir::report::check_day("--from", &day))
                    .transpose()?,
                to: to
                    .map(|day| weir::report::check_day("--to", &day))
                    .transpose()?,
            };
            let lake = location_arg("--lake", &lake)?;
            write_report(&lake, &out, &range)?;
            println!("{}", out.display());
            Ok(())
        }
        Command::Athena {
            command:
                AthenaCommand::Ddl {
                    pipeline,
                    location,
                    errors_location,
                    format,
                    table,
                },
        } => {
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
            let ddl = weir::athena::ddl(&config, &location, errors_location.as_deref())
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("pipeline file {}", pipeline.display()))?;
            print!("{ddl}");
            Ok(())
        }
        Command::Bench {
            events,
            batch_size,
            rounds,
        } => {
            let options = BenchOptions {
                events,
                batch_size,
                rounds,
                ..BenchOptions::default()
            };
            let report = run_bench(&options).map_err(anyhow::Error::msg)?;
            println!("{report}");
            Ok(())
        }
    }
}

/// `weir plugin build`: cargo's release build for `wasm32-wasip2`, then what
/// the component is.
fn build_plugin(dir: &std::path::Path, out: Option<&std::path::Path>) -> Result<()> {
    use weir_bundled_plugins::wasm_target::{self, Ensured};
    // The toolchain the plugin's folder selects (its rust-toolchain.toml),
    // with the wasm target added through rustup if it lacks it.
    match wasm_target::ensure("rustc".as_ref(), "rustup".as_ref(), dir)? {
        Ensured::Present => {}
        Ensured::Added { toolchain } => eprintln!(
            "added the {} target to the {toolchain} toolchain with rustup",
            wasm_target::TARGET
        ),
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run cargo in {}", dir.display()))?;
    if !output.status.success() {
        bail!(
            "cargo build --release --target wasm32-wasip2 failed in {} (its output above says why)",
            dir.display()
        );
    }
    // The component: the last artifact cargo reports with a .wasm file.
    let wasm = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .flat_map(|message| message["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(PathBuf::from))
        .rfind(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cargo built no .wasm in {}: is the crate a cdylib?",
                dir.display()
            )
        })?;
    let bytes = std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let engine = engine()?;
    let info = weir::plugin::inspect(&engine, &wasm.display().to_string(), &bytes)?;
    println!("built   {}", wasm.display());
    if let Some(out) = out {
        std::fs::copy(&wasm, out)
            .with_context(|| format!("cannot copy it to {}", out.display()))?;
        println!("copied  {}", out.display());
    }
    println!(
        "plugin  {} {} (contract weir:plugin@{})",
        info.name, info.version, info.contract
    );
    println!("sha256  {}", info.sha256);
    Ok(())
}

/// `weir plugin push`: the component to S3 under a content-addressed name.
fn push_plugin(file: &std::path::Path, to: &str) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let engine = engine()?;
    let info = weir::plugin::inspect(&engine, &file.display().to_string(), &bytes)?;
    let location = location_arg("the destination", to)?;
    if !location.is_s3() {
        bail!("{to}: push uploads to S3: give s3://bucket/prefix/");
    }
    let storage = weir::storage::Storage::open(&location, &Default::default())
        .with_context(|| format!("cannot open {location}"))?;
    let name = format!("{}-{}-{}.wasm", info.name, info.version, &info.sha256[..12]);
    storage.write_now(&name, &bytes, "application/wasm")?;
    let url = location.join(&name);
    // The entry on standard output, so it can be appended to a pipeline file.
    eprintln!("pushed {url} ({} bytes)", bytes.len());
    println!("[[plugin]]");
    println!("path = \"{url}\"");
    println!("sha256 = \"{}\"", info.sha256);
    Ok(())
}

/// `weir test`: every fixture file through the pipeline or the plugin.
fn test_fixtures(
    fixtures: &[PathBuf],
    pipeline: Option<PathBuf>,
    plugin: Option<String>,
    config: Option<String>,
) -> Result<()> {
    let engine = engine()?;
    let mut pipeline = match (pipeline, plugin) {
        (Some(path), _) => load_pipeline(&engine, &PipelineFile::load(&path)?)?,
        (None, Some(plugin)) => {
            let config = config.unwrap_or_else(|| "{}".to_string());
            if !serde_json::from_str::<serde_json::Value>(&config).is_ok_and(|v| v.is_object()) {
                bail!(
                    "--config must be a JSON object, such as '{{\"drop_user_prefixes\": [\"bot-\"]}}'"
                );
            }
            let source = weir::plugin::PluginSource::parse(
                &plugin,
                &Location::Local(".".into()),
                &Default::default(),
            )
            .map_err(|err| anyhow::anyhow!("--plugin: {err}"))?;
            let (loaded, instance) = weir::plugin::LoadedPlugin::load(
                &engine,
                &source,
                None,
                &config,
                &weir::engine::Limits::default(),
            )?;
            weir::pipeline::Pipeline::new(
                vec![weir::pipeline::Step::wasm(loaded, instance)],
                weir::pipeline::OnPluginError::Reject,
            )
        }
        (None, None) => bail!("give --pipeline or --plugin"),
    };
    let (mut cases_run, mut failed) = (0, 0);
    for file in fixtures {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {name}"))?;
        let cases = weir::fixture::parse(&name, &text)?;
        let mismatches = weir::fixture::check(&mut pipeline, &cases)?;
        cases_run += cases.len();
        failed += mismatches.len();
        if mismatches.is_empty() {
            println!("ok    {name} ({} cases)", cases.len());
        } else {
            println!(
                "FAIL  {name}: {} of {} cases",
                mismatches.len(),
                cases.len()
            );
            for mismatch in mismatches {
                println!("  line {}: {}", mismatch.line, mismatch.explanation);
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {cases_run} cases did not go as expected");
    }
    println!(
        "{cases_run} cases in {} files, all as expected",
        fixtures.len()
    );
    Ok(())
}

/// The WebAssembly engine, started.
/// Build the report of `lake` into `out`.
fn write_report(
    lake: &Location,
    out: &std::path::Path,
    range: &weir::report::DateRange,
) -> Result<()> {
    let runtime = query_runtime()?;
    let page = runtime.block_on(weir::report::build(lake, &Default::default(), range))?;
    std::fs::write(out, page).with_context(|| format!("cannot write {}", out.display()))
}

fn engine() -> Result<PluginEngine> {
    PluginEngine::new().map_err(|err| anyhow::anyhow!("{err:#}"))
}

/// A folder or `s3://bucket/prefix` given on the command line as `flag`.
fn location_arg(flag: &str, text: &str) -> Result<Location> {
    Location::parse(text, std::path::Path::new(".")).map_err(|err| anyhow::anyhow!("{flag}: {err}"))
}

/// A `YYYY-MM-DD` day, checked.
fn check_day(text: &str) -> Result<String> {
    match weir_plugin::time::parse_date(text) {
        Ok(_) if text.len() == 10 => Ok(text.to_string()),
        _ => bail!("`{text}` is not a day: write YYYY-MM-DD"),
    }
}

fn write_events(options: &GenerateOptions, out: Option<&PathBuf>) -> Result<()> {
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
        return Err(err).context("write events");
    }
    sink.flush().context("write events")
}

/// `--out`: the lake elsewhere than the pipeline says, with its dead letters
/// unless the pipeline names their place.
fn redirect_output(config: &mut weir::config::PipelineConfig, out: Option<String>) -> Result<()> {
    if let Some(out) = out {
        let out = location_arg("--out", &out)?;
        if config.dead_letter == config.location.join("_errors") {
            config.dead_letter = out.join("_errors");
        }
        config.location = out;
    }
    Ok(())
}

/// `weir send`.
fn send_command(
    options: weir::kinesis::send::SendOptions,
    endpoint: Option<&str>,
    input: &str,
    json: bool,
) -> Result<()> {
    if options.max_attempts == 0 {
        bail!("--max-attempts must be at least 1");
    }
    if options
        .rate
        .is_some_and(|rate| rate.is_nan() || rate <= 0.0)
    {
        bail!("--rate must be above 0");
    }
    let mut reader: Box<dyn std::io::BufRead> = if input == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(input).with_context(|| format!("cannot read {input}"))?,
        ))
    };
    let kinesis =
        weir::kinesis::Kinesis::connect(endpoint).context("cannot start the Kinesis client")?;
    let bar = ProgressBar::new_spinner();
    let report = weir::kinesis::send::send(&kinesis, &options, &mut reader, &mut |report| {
        bar.set_message(format!(
            "{} sent, {} not sent, {} retried",
            report.sent,
            report.failed.len(),
            report.retried
        ));
        bar.tick();
    });
    bar.finish_and_clear();
    let report = match report {
        Ok(report) => report,
        Err(weir::kinesis::send::SendError::Read(err)) => {
            return Err(err).with_context(|| format!("cannot read {input}"));
        }
        Err(refused) => return Err(refused.into()),
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    }
    eprintln!(
        "sent {} records to {} in {:.2}s ({:.0} records/s); {} blank lines skipped, {} entries retried",
        report.sent,
        options.stream,
        report.seconds,
        report.sent as f64 / report.seconds.max(1e-9),
        report.blank,
        report.retried
    );
    if !report.failed.is_empty() {
        let lines: Vec<String> = report
            .failed
            .iter()
            .take(20)
            .map(|(line, _)| line.to_string())
            .collect();
        let more = if report.failed.len() > 20 {
            ", …"
        } else {
            ""
        };
        bail!(
            "could not send {} of {} lines (lines {}{more}); the first: {}",
            report.failed.len(),
            report.lines,
            lines.join(", "),
            report.failed[0].1
        );
    }
    Ok(())
}

/// `weir consume`.
fn consume_command(
    mut config: weir::config::PipelineConfig,
    options: weir::kinesis::consume::ConsumeOptions,
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
    let store =
        weir::kinesis::consume::CheckpointStore::open(&location_arg("--checkpoint", checkpoint)?)?;
    let kinesis =
        weir::kinesis::Kinesis::connect(endpoint).context("cannot start the Kinesis client")?;
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
    let target = weir::shard::LakeTarget {
        config: &config,
        data: &data,
        errors: &errors,
    };
    let bar = ProgressBar::new_spinner();
    let report = weir::kinesis::consume::consume(
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
    let mut summary = report.summary.clone();
    summary.elapsed = started.elapsed();
    summary.take_plugins(&pipeline);
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
        let mut value: serde_json::Value = serde_json::from_str(&summary_json(&summary))?;
        value["kinesis_records"] = report.kinesis_records.into();
        value["batches"] = report.batches.into();
        value["resumed"] = report.resumed.into();
        value["shards"] = report.shards.into();
        value["shards_finished"] = report.shards_finished.into();
        value["stopped"] = stop.load(std::sync::atomic::Ordering::SeqCst).into();
        println!("{value}");
    }
    if !summary.balanced() {
        bail!("events unaccounted for: {summary:?}");
    }
    Ok(())
}

fn run_pipeline(
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
fn query_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the query runtime")
}

fn summary_json(summary: &Summary) -> String {
    let plugins: Vec<serde_json::Value> = summary
        .plugins
        .iter()
        .map(|(name, version, stats)| {
            serde_json::json!({
                "name": name,
                "version": version,
                "in": stats.events_in,
                "kept": stats.kept,
                "dropped": stats.dropped,
                "rejected": stats.rejected,
                "failures": stats.failures,
                "time_ms": stats.time.as_secs_f64() * 1000.0,
            })
        })
        .collect();
    let rejects: Vec<serde_json::Value> = summary
        .rejects_by_code
        .iter()
        .map(|((stage, code), count)| serde_json::json!({"stage": stage, "code": code, "count": count}))
        .collect();
    serde_json::json!({
        "read": summary.read,
        "kept": summary.kept,
        "dropped": summary.dropped,
        "rejected": summary.rejected,
        "host_dropped": summary.host_dropped,
        "host_rejected": summary.host_rejected,
        "plugins": plugins,
        "rejects_by_code": rejects,
        "files": summary.written.files,
        "error_files": summary.written.error_files,
        "bytes": summary.written.bytes,
        "withdrawn": summary.withdrawn,
        "elapsed_ms": summary.elapsed.as_secs_f64() * 1000.0,
    })
    .to_string()
}
