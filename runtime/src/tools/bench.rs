//! `weir bench`: the four bundled plugins as WebAssembly against the same
//! plugins compiled natively, on the same generated events, in one process.
//!
//! Each variant runs decode → four plugins → JSON encoding over batches held
//! in memory, with no I/O. One thread does all the work, so events per second
//! is events per second per core. Both variants must write byte-identical
//! output; the report says so.

use std::time::{Duration, Instant};

use crate::pipeline::batch::{Batch, Fate};
use std::sync::Arc;

use parquet::arrow::ArrowWriter;

use crate::config::{Compression, ConfigError, Format, PipelineFile};
use crate::engine::plugin::{LoadError, LoadedPlugin, PluginSource};
use crate::engine::{Limits, PluginEngine};
use crate::lake::columns::{ColumnSpec, Columns};
use crate::lake::format::FileOptions;
use crate::pipeline::encode::ObjectWriter;
use crate::pipeline::{OnPluginError, Pipeline, PluginFailed, Step};
use crate::tools::generate::{GenerateOptions, generate};
use crate::tools::native::native;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The WebAssembly engine could not be built.
    #[error("cannot start the WebAssembly engine")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The example pipeline file does not resolve.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A bundled plugin could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A native plugin refused its config.
    #[error("a native plugin refused its config: {0}")]
    NativeConfig(String),
    /// A plugin failed.
    #[error(transparent)]
    Plugin(#[from] PluginFailed),
    /// The output could not be encoded.
    #[error("cannot encode the output")]
    Encode(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Settings of a benchmark run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Events generated and pushed through each variant per round.
    pub events: u64,
    /// Events per batch.
    pub batch_size: usize,
    /// Timed rounds per variant; the fastest counts (the others absorb noise
    /// from other work on a shared machine).
    pub rounds: usize,
    /// Share of deliberately bad events, so the reject path is exercised.
    pub bad_fraction: f64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            events: 200_000,
            batch_size: 1_000,
            rounds: 5,
            bad_fraction: 0.02,
        }
    }
}

/// One variant's result.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// What was measured.
    pub name: &'static str,
    /// Fastest round.
    pub best: Duration,
    /// Events per round.
    pub events: u64,
    /// Records kept in a round.
    pub kept: u64,
    /// Records dropped in a round.
    pub dropped: u64,
    /// Records rejected in a round.
    pub rejected: u64,
    /// Hash of the output bytes, to compare variants.
    pub output_hash: u64,
}

impl Measurement {
    /// Events per second in the fastest round, on one core.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.best.as_secs_f64()
    }
}

/// The benchmark's findings.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// Decode and encode only, no plugins: the host's own cost.
    pub host_only: Measurement,
    /// The four plugins compiled natively.
    pub native: Measurement,
    /// The four plugins as WebAssembly components.
    pub wasm: Measurement,
    /// The same, encoding Parquet instead of JSON.
    pub wasm_parquet: Measurement,
}

impl BenchReport {
    /// WebAssembly speed as a share of native speed.
    pub fn ratio(&self) -> f64 {
        self.wasm.events_per_second() / self.native.events_per_second()
    }
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<40} {:>14} {:>12}",
            "variant (1 core, no I/O)", "events/s", "best round"
        )?;
        for m in [
            &self.host_only,
            &self.native,
            &self.wasm,
            &self.wasm_parquet,
        ] {
            writeln!(
                f,
                "{:<40} {:>14.0} {:>10.1}ms",
                m.name,
                m.events_per_second(),
                m.best.as_secs_f64() * 1000.0
            )?;
        }
        writeln!(
            f,
            "wasm / native: {:.2}x   (targets: wasm >= 500000 events/s, ratio >= 0.60; \
             with Parquet >= 400000)",
            self.ratio()
        )?;
        write!(
            f,
            "per round: {} events, kept {}, dropped {}, rejected {}; outputs identical: {}",
            self.wasm.events,
            self.wasm.kept,
            self.wasm.dropped,
            self.wasm.rejected,
            self.wasm.output_hash == self.native.output_hash
        )
    }
}

/// The plugin configs of the benchmark: those of `examples/clickstream.toml`.
pub const BENCH_CONFIGS: [(&str, &str); 4] = [
    ("validate-clickstream", "{}"),
    ("filter", r#"{"drop_user_prefixes":["bot-","test_"]}"#),
    ("enrich", "{}"),
    ("partition-by-date", "{}"),
];

/// Load the four bundled plugins as WebAssembly.
pub fn wasm_pipeline(engine: &PluginEngine) -> Result<Pipeline, BenchError> {
    let mut steps = Vec::new();
    for (name, config) in BENCH_CONFIGS {
        let (plugin, instance) = LoadedPlugin::load(
            engine,
            &PluginSource::Bundled(name.to_string()),
            None,
            config,
            &Limits::default(),
        )
        .map_err(|err| BenchError::Encode(err.into()))?;
        steps.push(Step::wasm(plugin, instance));
    }
    Ok(Pipeline::new(steps, OnPluginError::Fail))
}

/// The same four plugins, compiled natively.
pub fn native_pipeline() -> Result<Pipeline, BenchError> {
    let [validate, filter, enrich, partition] = BENCH_CONFIGS.map(|(_, config)| config);
    let steps = vec![
        Step::native(
            native::<validate_clickstream::ValidateClickstream>(validate)
                .map_err(BenchError::NativeConfig)?,
        ),
        Step::native(native::<filter::Filter>(filter).map_err(BenchError::NativeConfig)?),
        Step::native(native::<enrich::Enrich>(enrich).map_err(BenchError::NativeConfig)?),
        Step::native(
            native::<partition_by_date::PartitionByDate>(partition)
                .map_err(BenchError::NativeConfig)?,
        ),
    ];
    Ok(Pipeline::new(steps, OnPluginError::Fail))
}

/// Generated events as lines.
pub fn bench_events(options: &BenchOptions) -> Vec<Vec<u8>> {
    let mut lines = Vec::with_capacity(options.events as usize);
    let generate_options = GenerateOptions {
        events: options.events,
        bad_fraction: options.bad_fraction,
        ..GenerateOptions::default()
    };
    generate(&generate_options, |line| lines.push(line.to_vec()));
    lines
}

/// Push `lines` through `pipeline` (or only decode and encode when `None`)
/// once, returning the counts and, when asked, the output's hash.
pub fn drive(
    pipeline: Option<&mut Pipeline>,
    lines: &[Vec<u8>],
    batch_size: usize,
    hash_output: bool,
) -> Result<(u64, [u64; 3]), BenchError> {
    drive_into(pipeline, lines, batch_size, hash_output, &Encoding::Json)
}

/// What the benchmark encodes kept events into.
pub enum Encoding {
    /// JSON lines, after their partition folder.
    Json,
    /// One Parquet file of these columns, in memory.
    Parquet(Arc<[ColumnSpec]>),
}

/// [`drive`], encoding as asked.
pub fn drive_into(
    pipeline: Option<&mut Pipeline>,
    lines: &[Vec<u8>],
    batch_size: usize,
    hash_output: bool,
    encoding: &Encoding,
) -> Result<(u64, [u64; 3]), BenchError> {
    let mut parquet = match encoding {
        Encoding::Json => None,
        Encoding::Parquet(specs) => Some(ParquetSink::new(specs)?),
    };
    let mut pipeline = pipeline;
    let mut batch = Batch::new("bench");
    let mut out = Vec::with_capacity(batch_size * 512);
    let mut hash = Fnv::default();
    let mut counts = [0u64; 3];
    let mut position = itoa::Buffer::new();
    let mut path = String::new();
    for (chunk_index, chunk) in lines.chunks(batch_size).enumerate() {
        fill_batch(&mut batch, chunk, chunk_index * batch_size, &mut position);
        if let Some(pipeline) = pipeline.as_deref_mut() {
            pipeline.run(&mut batch)?;
        }
        out.clear();
        path.clear();
        if let Some(sink) = parquet.as_mut() {
            sink.append(&batch, &mut counts)?;
            continue;
        }
        encode_json(&batch, &mut out, &mut path, &mut counts);
        if hash_output {
            hash.write(&out);
        }
    }
    if let Some(sink) = parquet {
        let bytes = sink.finish()?;
        if hash_output {
            hash.write(&bytes);
        }
    }
    Ok((hash.0, counts))
}

/// Put `chunk` into `batch` as its only records, positioned by line number
/// (the first line of the chunk is line `first_index + 1`).
fn fill_batch(
    batch: &mut Batch,
    chunk: &[Vec<u8>],
    first_index: usize,
    position: &mut itoa::Buffer,
) {
    batch.clear();
    for (offset, line) in chunk.iter().enumerate() {
        batch.push(line, position.format(first_index + offset + 1), 0);
    }
}

/// Count each record of `batch` as kept, dropped or rejected (`counts` in
/// that order) and write the kept ones to `out` as the lake writer would:
/// each JSON line after its partition folder. `path` holds the folder.
fn encode_json(batch: &Batch, out: &mut Vec<u8>, path: &mut String, counts: &mut [u64; 3]) {
    let writer = ObjectWriter::new(batch.arena());
    let mut last_partition: &[(u32, weir_plugin::layout::Span)] = &[];
    for record in batch.records() {
        match &record.fate {
            Fate::Alive { fields, partition } => {
                counts[0] += 1;
                // As the lake writer does: a folder per run of records
                // with the same partition values.
                if path.is_empty() || !batch.same_partition(partition, last_partition) {
                    batch.partition_path(partition, path);
                    last_partition = partition;
                }
                out.extend_from_slice(path.as_bytes());
                out.push(b'/');
                writer.write(out, fields);
                out.push(b'\n');
            }
            Fate::Dropped { .. } => counts[1] += 1,
            Fate::Rejected(_) => counts[2] += 1,
        }
    }
}

/// One Parquet file, built in memory from every batch's kept events, in
/// row groups of [`PARQUET_ROW_GROUP`] rows as the lake writes them.
struct ParquetSink {
    columns: Columns,
    writer: ArrowWriter<Vec<u8>>,
}

impl ParquetSink {
    /// An empty file of the columns `specs`, compressed as the lake's
    /// default Parquet.
    fn new(specs: &Arc<[ColumnSpec]>) -> Result<ParquetSink, BenchError> {
        let columns = Columns::new(specs.clone());
        let properties = FileOptions {
            format: Format::Parquet,
            compression: Compression::Snappy,
            columns: specs.clone(),
            max_rows: u64::MAX,
            max_bytes: u64::MAX,
            partitions: Arc::from(Vec::new()),
            time_field: String::new(),
        }
        .parquet_properties();
        let writer = ArrowWriter::try_new(Vec::new(), columns.schema().clone(), Some(properties))
            .map_err(|err| BenchError::Encode(err.into()))?;
        Ok(ParquetSink { columns, writer })
    }

    /// Count each record of `batch` as kept, dropped or rejected (`counts`
    /// in that order), add the kept ones to the columns, and write a row
    /// group once the columns hold one.
    fn append(&mut self, batch: &Batch, counts: &mut [u64; 3]) -> Result<(), BenchError> {
        let columns = &mut self.columns;
        columns.begin_batch(batch.arena());
        for record in batch.records() {
            match &record.fate {
                Fate::Alive { fields, .. } => {
                    columns
                        .append(batch.arena(), fields)
                        .map_err(|err| BenchError::Encode(err.reason.into()))?;
                    counts[0] += 1;
                }
                Fate::Dropped { .. } => counts[1] += 1,
                Fate::Rejected(_) => counts[2] += 1,
            }
        }
        if columns.rows() >= PARQUET_ROW_GROUP {
            self.writer
                .write(&columns.finish())
                .map_err(|err| BenchError::Encode(err.into()))?;
        }
        Ok(())
    }

    /// Write the last row group and close the file: its bytes.
    fn finish(mut self) -> Result<Vec<u8>, BenchError> {
        self.writer
            .write(&self.columns.finish())
            .map_err(|err| BenchError::Encode(err.into()))?;
        self.writer
            .into_inner()
            .map_err(|err| BenchError::Encode(err.into()))
    }
}

/// Rows per Parquet row group in the benchmark, as the lake writes them.
const PARQUET_ROW_GROUP: usize = 128 * 1024;

fn measure(
    name: &'static str,
    mut pipeline: Option<Pipeline>,
    lines: &[Vec<u8>],
    options: &BenchOptions,
    encoding: &Encoding,
) -> Result<Measurement, BenchError> {
    // One untimed round warms caches and the plugins' allocators, and hashes
    // the output (hashing in the timed rounds would cost as much as encoding).
    let (output_hash, [kept, dropped, rejected]) =
        drive_into(pipeline.as_mut(), lines, options.batch_size, true, encoding)?;
    let mut best = Duration::MAX;
    for _ in 0..options.rounds.max(1) {
        let started = Instant::now();
        drive_into(
            pipeline.as_mut(),
            lines,
            options.batch_size,
            false,
            encoding,
        )?;
        best = best.min(started.elapsed());
    }
    Ok(Measurement {
        name,
        best,
        events: lines.len() as u64,
        kept,
        dropped,
        rejected,
        output_hash,
    })
}

/// Run the benchmark.
pub fn run_bench(options: &BenchOptions) -> Result<BenchReport, BenchError> {
    let lines = bench_events(options);
    let engine = PluginEngine::new().map_err(|err| BenchError::Engine(err.into()))?;
    let json = Encoding::Json;
    let host_only = measure("host only: decode + encode", None, &lines, options, &json)?;
    let native = measure(
        "native: 4 plugins",
        Some(native_pipeline()?),
        &lines,
        options,
        &json,
    )?;
    let wasm = measure(
        "wasm: 4 plugins",
        Some(wasm_pipeline(&engine)?),
        &lines,
        options,
        &json,
    )?;
    let parquet = Encoding::Parquet(example_columns()?);
    let wasm_parquet = measure(
        "wasm: 4 plugins, Parquet encode",
        Some(wasm_pipeline(&engine)?),
        &lines,
        options,
        &parquet,
    )?;
    Ok(BenchReport {
        host_only,
        native,
        wasm,
        wasm_parquet,
    })
}

/// The columns of `examples/clickstream.toml`, the table the bench writes.
pub fn example_columns() -> Result<Arc<[ColumnSpec]>, BenchError> {
    let example = include_str!("../../../examples/clickstream.toml");
    let config = PipelineFile::parse(example, "examples/clickstream.toml").and_then(|file| {
        file.resolve(
            &crate::storage::Location::Local(".".into()),
            "clickstream",
            "examples/clickstream.toml",
        )
    })?;
    Ok(config.columns)
}

/// FNV-1a, to compare outputs without keeping them.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
