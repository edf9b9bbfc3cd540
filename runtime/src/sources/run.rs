//! `weir run`: a file or standard input through the pipeline into a lake
//! (a folder or S3), with a summary that accounts for every record.

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::config::PipelineConfig;
use crate::config::build::{batch_bytes, file_options};
use crate::lake::LakeWriter;
use crate::lake::filled::Unfilled;
use crate::lake::ledger::{InputIdentity, Ledger};
use crate::pipeline::batch::Batch;
use crate::pipeline::summary::Summary;
use crate::pipeline::{Pipeline, PluginFailed};
use crate::sources::file::LineSource;
use crate::storage::{Location, Storage};

/// Why a run stopped.
#[derive(Debug, Error)]
pub enum RunError {
    /// The input could not be read.
    #[error("cannot read {path}")]
    Input {
        /// The input.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The lake could not be written.
    #[error("cannot write the lake under {path}")]
    Output {
        /// The lake.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A plugin failed under `on_plugin_error = "fail"`.
    #[error(transparent)]
    PluginFailed(#[from] PluginFailed),
}

/// Where a run writes.
#[derive(Clone, Debug)]
pub struct RunTarget {
    /// The lake.
    pub location: Location,
    /// The dead-letter zone.
    pub dead_letter: Location,
}

/// The input's identity in object names: the name given, else the file's
/// own, else (standard input) a new one each run.
fn identity_of(input: &str, source_name: Option<&str>) -> Result<InputIdentity, RunError> {
    Ok(match (source_name, input) {
        (Some(name), _) => InputIdentity::named(name),
        (None, "-") => InputIdentity::unique_stdin(),
        (None, path) => {
            InputIdentity::of_file(Path::new(path)).map_err(|source| RunError::Input {
                path: input.to_string(),
                source,
            })?
        }
    })
}

/// Run `input` (a path, or `-` for standard input) through the pipeline into
/// the lake. `source_name`, when given, is the input's identity instead of
/// the file's (see [`crate::lake::ledger`]): runs with the same name replace each
/// other's output. `progress` is told of the bytes read after each batch.
pub fn run(
    config: &PipelineConfig,
    pipeline: &mut Pipeline,
    input: &str,
    source_name: Option<&str>,
    target: &RunTarget,
    progress: &mut dyn FnMut(u64, Option<u64>, &Summary),
) -> Result<Summary, RunError> {
    let started = Instant::now();
    let now_micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let mut source = LineSource::open(input, now_micros).map_err(|source| RunError::Input {
        path: input.to_string(),
        source,
    })?;
    let output_error = |source| RunError::Output {
        path: target.location.to_string(),
        source,
    };
    let identity = identity_of(input, source_name)?;
    let data = Storage::open(&target.location, &config.s3).map_err(output_error)?;
    let errors = data
        .sibling(&target.dead_letter, &config.s3)
        .map_err(output_error)?;
    let ledger = identity
        .repeatable
        .then(|| Ledger::new(&data, &errors, &config.table, &identity));
    let previous = match &ledger {
        Some(ledger) => ledger.begin().map_err(output_error)?,
        None => Vec::new(),
    };
    let mut writer = LakeWriter::new(
        &data,
        &errors,
        &config.table,
        &identity.tag(),
        file_options(config),
    );
    let mut summary = Summary::default();
    let mut unfilled = Unfilled::new(&config.columns);
    let mut batch = Batch::new(&source.name).with_max_record_bytes(config.max_record_bytes);
    loop {
        batch.clear();
        let read = source
            .fill(&mut batch, config.batch_size, batch_bytes(config))
            .map_err(|err| RunError::Input {
                path: input.to_string(),
                source: err,
            })?;
        if read == 0 {
            break;
        }
        pipeline.run(&mut batch)?;
        unfilled.observe(&batch);
        writer.write(&mut batch).map_err(output_error)?;
        summary.count(&batch);
        progress(source.bytes_read, source.total_bytes, &summary);
    }
    let (written, published) = writer.finish_listed().map_err(output_error)?;
    summary.written = written;
    if let Some(ledger) = &ledger {
        summary.withdrawn = ledger.commit(previous, published).map_err(output_error)? as u64;
    }
    summary.take_plugins(pipeline);
    summary.elapsed = started.elapsed();
    if summary.kept > 0 {
        summary.unfilled_columns = unfilled.names().to_vec();
    }
    Ok(summary)
}
