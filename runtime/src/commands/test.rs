//! `weir test`: a plugin, or a whole pipeline, checked against fixture files.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use weir::config::PipelineFile;
use weir::config::build::load_pipeline;
use weir::storage::Location;

use super::engine;

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        fixtures,
        pipeline,
        plugin,
        config,
    } = args;
    test_fixtures(&fixtures, pipeline, plugin, config)
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
            let source = weir::engine::plugin::PluginSource::parse(
                &plugin,
                &Location::Local(".".into()),
                &Default::default(),
            )
            .map_err(|err| anyhow::anyhow!("--plugin: {err}"))?;
            let (loaded, instance) = weir::engine::plugin::LoadedPlugin::load(
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
        let cases = weir::tools::fixture::parse(&name, &text)?;
        let mismatches = weir::tools::fixture::check(&mut pipeline, &cases)?;
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
