//! `weir query`: SQL over the lake with Apache DataFusion, as Athena runs it
//! over S3.
//!
//! Every folder of the lake is a table of its name (`ecommerce_events`),
//! its Hive partition keys columns of it (`year`, `month`, `day` as integers,
//! others as text); the dead letters of a table are `<table>_errors`, with
//! their `dt` partition. So the queries in `athena/` run here unchanged.

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{JsonReadOptions, ParquetReadOptions, SessionContext};
use thiserror::Error;

/// Why a query did not run.
#[derive(Debug, Error)]
pub enum QueryError {
    #[error("cannot read the lake at {path}: {source}")]
    Lake {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error("cannot format the answer: {0}")]
    Format(#[from] datafusion::arrow::error::ArrowError),
}

/// A table found in the lake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LakeTable {
    /// Its SQL name.
    pub name: String,
    /// Its folder.
    pub path: PathBuf,
    /// Parquet (or else JSON lines).
    pub parquet: bool,
    /// JSON lines compressed with gzip.
    pub gzip: bool,
    /// Its partition keys, in folder order.
    pub partitions: Vec<String>,
}

/// The tables of a lake folder.
pub fn discover(lake: &Path) -> Result<Vec<LakeTable>, QueryError> {
    let mut tables = Vec::new();
    for (folder, name) in subfolders(lake)? {
        if name == "_errors" {
            for (errors, table) in subfolders(&folder)? {
                if let Some(found) = describe(&errors, format!("{table}_errors")) {
                    tables.push(found);
                }
            }
        } else if !name.starts_with(['_', '.'])
            && let Some(found) = describe(&folder, name)
        {
            tables.push(found);
        }
    }
    Ok(tables)
}

/// The folders directly under `path`, with their names, in name order.
fn subfolders(path: &Path) -> Result<Vec<(PathBuf, String)>, QueryError> {
    let entries = std::fs::read_dir(path).map_err(|source| QueryError::Lake {
        path: path.display().to_string(),
        source,
    })?;
    let mut folders: Vec<(PathBuf, String)> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir())
        .map(|path| {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (path, name)
        })
        .collect();
    folders.sort();
    Ok(folders)
}

/// A table's format and partition keys, from its first data file's path.
fn describe(folder: &Path, name: String) -> Option<LakeTable> {
    let file = first_file(folder)?;
    let relative = file.strip_prefix(folder).ok()?;
    let partitions = relative
        .parent()
        .into_iter()
        .flat_map(|parent| parent.components())
        .filter_map(|part| {
            part.as_os_str()
                .to_str()?
                .split_once('=')
                .map(|(key, _)| key.to_string())
        })
        .collect();
    Some(LakeTable {
        name,
        path: folder.to_path_buf(),
        parquet: file.extension().is_some_and(|ext| ext == "parquet"),
        gzip: file.extension().is_some_and(|ext| ext == "gz"),
        partitions,
    })
}

/// The first published data file under `folder`, depth first, in name order.
fn first_file(folder: &Path) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            !path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .starts_with('.')
        })
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            if let Some(found) = first_file(&entry) {
                return Some(found);
            }
        } else if entry
            .extension()
            .is_some_and(|ext| ext == "parquet" || ext == "jsonl" || ext == "gz")
        {
            return Some(entry);
        }
    }
    None
}

/// Date keys are integers in Athena's DDL; others are text.
fn partition_type(key: &str) -> DataType {
    match key {
        "year" | "month" | "day" | "hour" => DataType::Int32,
        _ => DataType::Utf8,
    }
}

/// A session with every table of the lake registered.
pub async fn session(lake: &Path) -> Result<SessionContext, QueryError> {
    let context = SessionContext::new();
    for table in discover(lake)? {
        let partitions: Vec<(String, DataType)> = table
            .partitions
            .iter()
            .map(|key| (key.clone(), partition_type(key)))
            .collect();
        let path = format!("{}/", table.path.display());
        if table.parquet {
            let options = ParquetReadOptions::default().table_partition_cols(partitions);
            context
                .register_parquet(&table.name, &path, options)
                .await?;
        } else if table.gzip {
            // DataFusion reads gzip only with its `compression` feature, which
            // builds two more C libraries; Athena reads these tables as they are.
            eprintln!(
                "warning: table {} is gzip JSON lines, which weir query does not read yet",
                table.name
            );
            continue;
        } else {
            let options = JsonReadOptions::default()
                .file_extension(".jsonl")
                .table_partition_cols(partitions);
            context.register_json(&table.name, &path, options).await?;
        }
    }
    Ok(context)
}

/// Run one SQL statement over the lake.
pub async fn run_sql(lake: &Path, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
    let context = session(lake).await?;
    let frame = context.sql(sql).await?;
    Ok(frame.collect().await?)
}

/// How to print an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    Table,
    /// CSV with a header.
    Csv,
    /// JSON lines, one object per row.
    Json,
}

/// Render an answer.
pub fn render(batches: &[RecordBatch], format: OutputFormat) -> Result<String, QueryError> {
    Ok(match format {
        OutputFormat::Table => {
            datafusion::arrow::util::pretty::pretty_format_batches(batches)?.to_string()
        }
        OutputFormat::Csv => {
            let mut out = Vec::new();
            {
                let mut writer = datafusion::arrow::csv::Writer::new(&mut out);
                for batch in batches {
                    writer.write(batch)?;
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        OutputFormat::Json => {
            let mut out = Vec::new();
            {
                let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(&mut out);
                for batch in batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
            }
            String::from_utf8_lossy(&out).into_owned()
        }
    })
}
