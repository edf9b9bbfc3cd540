//! `weir test`: a plugin, or a whole pipeline, checked against fixture files
//! and one-off cases given with `--text`; the result for people, as JSON
//! (`--json`) and as JUnit XML for CI (`--junit`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use weir::config::PipelineFile;
use weir::config::build::load_pipeline;
use weir::engine::PluginEngine;
use weir::engine::plugin::{LoadedPlugin, PluginSource};
use weir::pipeline::{OnPluginError, Pipeline, Step};
use weir::storage::Location;
use weir::tools::fixture::outcome::{Outcome, Suite, Verdict, check};
use weir::tools::fixture::{self, Case, OwnConfig, TEXT_SUITE, place};

use super::{engine, print_json};

#[derive(clap::Args)]
#[command(group(
    clap::ArgGroup::new("cases")
        .args(["fixtures", "text"])
        .required(true)
        .multiple(true)
))]
pub struct Args {
    /// Fixture files: JSON lines of cases, the first line optionally the
    /// file's own plugin config, {"config": {…}}.
    fixtures: Vec<PathBuf>,
    /// Test this pipeline: all its plugins, in order.
    #[arg(long, conflicts_with_all = ["plugin", "config"])]
    pipeline: Option<PathBuf>,
    /// Test one plugin: `bundled:<name>` or a `.wasm` file.
    #[arg(long, required_unless_present = "pipeline")]
    plugin: Option<String>,
    /// The plugin's config, as a JSON object (default `{}`), for the cases
    /// of files without a config of their own and for --text.
    #[arg(long)]
    config: Option<String>,
    /// A one-off case, {"input": …, "expect": …}, or an event alone to see
    /// what becomes of it; may be given again.
    #[arg(long, value_name = "JSON")]
    text: Vec<String>,
    /// Print the result as one JSON document on standard output; the lines
    /// for people go to standard error.
    #[arg(long)]
    json: bool,
    /// Also write the result as a JUnit XML report, as CI systems read.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// The result, for `--json`.
#[derive(serde::Serialize)]
struct Report {
    /// Fixture files read.
    files: usize,
    /// Cases with an `expect`, in the files and in --text.
    cases: usize,
    /// The cases not as expected.
    failures: Vec<Failure>,
    /// Every case as expected.
    passed: bool,
    /// What became of each event given alone with --text.
    tried: Vec<Tried>,
}

/// A case not as expected.
#[derive(serde::Serialize)]
struct Failure {
    /// The fixture file, or `--text`.
    file: String,
    /// Its line, or which --text value (from 1).
    line: usize,
    /// What was expected and what happened.
    explanation: String,
}

/// An event given alone with --text, and what became of it.
#[derive(serde::Serialize)]
struct Tried {
    /// Which --text value (from 1).
    text: usize,
    #[serde(flatten)]
    outcome: Outcome,
}

impl Report {
    /// The report of these suites, from `files` fixture files.
    fn of(files: usize, suites: &[Suite]) -> Report {
        let mut report = Report {
            files,
            cases: suites.iter().map(|suite| suite.checked().count()).sum(),
            failures: Vec::new(),
            passed: true,
            tried: Vec::new(),
        };
        for suite in suites {
            for (line, explanation) in suite.failures() {
                report.failures.push(Failure {
                    file: suite.name.clone(),
                    line,
                    explanation: explanation.to_string(),
                });
            }
            for case in &suite.cases {
                if case.verdict == Verdict::Reported {
                    report.tried.push(Tried {
                        text: case.line,
                        outcome: case.outcome.clone(),
                    });
                }
            }
        }
        report.passed = report.failures.is_empty();
        report
    }
}

/// Run the fixture files, then the `--text` cases; report them for people,
/// as JSON and as JUnit XML as asked; fail when a case is not as expected.
pub fn execute(args: Args) -> Result<()> {
    let texts = args
        .text
        .iter()
        .enumerate()
        .map(|(index, text)| fixture::parse_text(index + 1, text))
        .collect::<Result<Vec<Case>, _>>()?;
    let engine = engine()?;
    let mut subject = Subject::new(&engine, args.pipeline, args.plugin, args.config)?;
    let mut suites = Vec::new();
    for file in &args.fixtures {
        suites.push(test_file(&mut subject, file)?);
    }
    if !texts.is_empty() {
        suites.push(check(TEXT_SUITE, subject.shared()?, &texts)?);
    }
    let report = Report::of(args.fixtures.len(), &suites);
    if let Some(path) = &args.junit {
        let xml = fixture::junit::to_xml(&suites);
        std::fs::write(path, xml).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let say = |line: String| {
        if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    for suite in &suites {
        tell(suite, &say);
    }
    if args.json {
        print_json(&report)?;
    }
    if !report.passed {
        bail!(
            "{} of {} cases did not go as expected",
            report.failures.len(),
            report.cases
        );
    }
    let from_text = suites
        .iter()
        .any(|suite| suite.name == TEXT_SUITE && suite.checked().next().is_some());
    if report.files > 0 || from_text {
        let source = match (report.files, from_text) {
            (0, _) => "from --text".to_string(),
            (files, false) => format!("in {files} files"),
            (files, true) => format!("in {files} files and --text"),
        };
        say(format!("{} cases {source}, all as expected", report.cases));
    }
    Ok(())
}

/// How a suite went, for people, a line at a time through `say`.
fn tell(suite: &Suite, say: &impl Fn(String)) {
    let label = |line: usize| match suite.name.as_str() {
        TEXT_SUITE => place(TEXT_SUITE, line),
        _ => format!("line {line}"),
    };
    for case in suite.cases.iter() {
        if case.verdict == Verdict::Reported {
            say(format!("{}: {}", label(case.line), case.outcome));
        }
    }
    let (checked, failed) = (suite.checked().count(), suite.failures().count());
    if checked == 0 && suite.name == TEXT_SUITE {
        return;
    }
    if failed == 0 {
        say(format!("ok    {} ({checked} cases)", suite.name));
        return;
    }
    say(format!("FAIL  {}: {failed} of {checked} cases", suite.name));
    for (line, explanation) in suite.failures() {
        say(format!("  {}: {explanation}", label(line)));
    }
}

/// One fixture file through the pipeline, or through the plugin with the
/// file's own config when it has one.
fn test_file(subject: &mut Subject, file: &Path) -> Result<Suite> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {name}"))?;
    let fixture = fixture::parse(&name, &text)?;
    let suite = match &fixture.config {
        Some(own) => {
            let mut pipeline = subject.with_config(&name, own)?;
            check(&name, &mut pipeline, &fixture.cases)?
        }
        None => check(&name, subject.shared()?, &fixture.cases)?,
    };
    Ok(suite)
}

/// What is tested: a pipeline file's plugins, or one plugin whose config a
/// fixture file may give.
enum Subject<'a> {
    /// The plugins of a pipeline file, with their configs.
    Pipeline(Pipeline),
    /// One plugin.
    Plugin {
        engine: &'a PluginEngine,
        source: PluginSource,
        /// `--config`, or `{}`.
        config: String,
        /// The plugin with `config`, loaded when first needed: a plugin
        /// that refuses `{}` may be tested with files that all carry
        /// their own.
        shared: Option<Pipeline>,
    },
}

impl<'a> Subject<'a> {
    fn new(
        engine: &'a PluginEngine,
        pipeline: Option<PathBuf>,
        plugin: Option<String>,
        config: Option<String>,
    ) -> Result<Self> {
        match (pipeline, plugin) {
            (Some(path), _) => Ok(Subject::Pipeline(load_pipeline(
                engine,
                &PipelineFile::load(&path)?,
            )?)),
            (None, Some(plugin)) => {
                let config = config.unwrap_or_else(|| "{}".to_string());
                if !serde_json::from_str::<serde_json::Value>(&config).is_ok_and(|v| v.is_object())
                {
                    bail!(
                        "--config must be a JSON object, such as '{{\"drop_user_prefixes\": [\"bot-\"]}}'"
                    );
                }
                let source =
                    PluginSource::parse(&plugin, &Location::Local(".".into()), &Default::default())
                        .map_err(|err| anyhow::anyhow!("--plugin: {err}"))?;
                Ok(Subject::Plugin {
                    engine,
                    source,
                    config,
                    shared: None,
                })
            }
            (None, None) => bail!("give --pipeline or --plugin"),
        }
    }

    /// The pipeline for cases without a config of their own.
    fn shared(&mut self) -> Result<&mut Pipeline> {
        match self {
            Subject::Pipeline(pipeline) => Ok(pipeline),
            Subject::Plugin {
                engine,
                source,
                config,
                shared,
            } => match shared {
                Some(pipeline) => Ok(pipeline),
                None => Ok(shared.insert(plugin_pipeline(engine, source, config)?)),
            },
        }
    }

    /// The plugin with a fixture file's own config.
    fn with_config(&self, file: &str, own: &OwnConfig) -> Result<Pipeline> {
        match self {
            Subject::Pipeline(_) => bail!(
                "{}: a fixture's own config is for testing one --plugin; with --pipeline each plugin's config is the pipeline file's",
                place(file, own.line)
            ),
            Subject::Plugin { engine, source, .. } => plugin_pipeline(engine, source, &own.json)
                .with_context(|| format!("{}: the file's own config", place(file, own.line))),
        }
    }
}

/// A pipeline of one plugin, given its config.
fn plugin_pipeline(engine: &PluginEngine, source: &PluginSource, config: &str) -> Result<Pipeline> {
    let (loaded, instance) = LoadedPlugin::load(
        engine,
        source,
        None,
        config,
        &weir::engine::Limits::default(),
    )?;
    Ok(Pipeline::new(
        vec![Step::wasm(loaded, instance)],
        OnPluginError::Reject,
    ))
}
