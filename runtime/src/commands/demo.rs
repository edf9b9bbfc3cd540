//! `weir demo`: generate events and run the bundled clickstream pipeline over them, end to end.

use std::path::PathBuf;

use anyhow::{Context, Result};
use weir::config::PipelineFile;
use weir::storage::Location;
use weir::tools::generate::GenerateOptions;

use super::{query_runtime, run_pipeline, write_events, write_report};

#[derive(clap::Args)]
pub struct Args {
    /// Folder for the events and the lake.
    #[arg(long, default_value = "weir-demo")]
    dir: PathBuf,
    /// Number of events.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
}

/// The demo's pipeline: the example pipeline, shipped in the binary.
const DEMO_PIPELINE: &str = include_str!("../../../examples/clickstream.toml");
/// The question the demo answers on screen.
const DEMO_QUESTION: &str = include_str!("../../../athena/queries/top_cart_categories.sql");

pub fn execute(args: Args) -> Result<()> {
    let Args { dir, events } = args;
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let input = dir.join("events.jsonl");
    let options = GenerateOptions {
        events,
        bad_fraction: 0.01,
        ..GenerateOptions::default()
    };
    write_events(&options, Some(&input))?;
    note!(
        "wrote {events} events (1% deliberately bad) to {}",
        input.display()
    );
    let config = PipelineFile::parse(DEMO_PIPELINE, "examples/clickstream.toml")?.resolve(
        &Location::Local(dir.clone()),
        "clickstream",
        "examples/clickstream.toml",
    )?;
    let lake = config.location.clone();
    run_pipeline(&config, &input.display().to_string(), None)?;
    let page = dir.join("report.html");
    write_report(&lake, &config.table, &page, &Default::default())?;
    // One answer of the seed's question on the screen, so a first run
    // ends with a result and not only with paths.
    let runtime = query_runtime()?;
    let top = runtime.block_on(weir::lake::query::run_sql(
        &lake,
        &Default::default(),
        DEMO_QUESTION,
    ))?;
    println!("\nWhich categories are added to cart most? (athena/queries/top_cart_categories.sql)");
    println!(
        "{}",
        weir::lake::query::render(&top, weir::lake::query::OutputFormat::Table)?
    );
    println!("lake:   {lake}");
    println!("report: {}", page.display());
    println!("more:   weir query --lake {lake} --file athena/queries/device_behaviour.sql");
    Ok(())
}
