//! `weir query`: SQL over the lake with Apache DataFusion, as Athena runs it
//! over S3.
//!
//! Every folder of the lake is a table of its name (`ecommerce_events`),
//! its Hive partition keys columns of it (`year`, `month`, `day` as integers,
//! others as text); the dead letters of a table are `<table>_errors`, with
//! their `dt` partition. So the queries in `athena/` run here unchanged.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::prelude::{JsonReadOptions, ParquetReadOptions, SessionContext};
use thiserror::Error;

use crate::storage::{Location, S3Options, S3Reader, Storage};

/// Why a query did not run.
#[derive(Debug, Error)]
pub enum QueryError {
    /// The lake could not be opened or listed.
    #[error("cannot read the lake at {path}: {source}")]
    Lake {
        /// The lake's location: a folder or `s3://bucket/prefix`.
        path: String,
        /// The storage error.
        source: std::io::Error,
    },
    /// DataFusion refused the SQL or failed while running it.
    #[error("{0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// The answer could not be turned into text or JSON.
    #[error("cannot format the answer: {0}")]
    Format(#[from] datafusion::arrow::error::ArrowError),
}

/// A table found in the lake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LakeTable {
    /// Its SQL name.
    pub name: String,
    /// Its folder, as DataFusion reads it (a path, or `s3://…/`).
    pub url: String,
    /// Parquet (or else JSON lines).
    pub parquet: bool,
    /// JSON lines compressed with gzip.
    pub gzip: bool,
    /// Its partition keys, in folder order.
    pub partitions: Vec<String>,
}

/// The tables of a lake: every folder holding data files, and under
/// `_errors/` every table's dead letters. Hidden files and folders (`.`,
/// `_`) are not data.
pub fn discover(lake: &Storage) -> Result<Vec<LakeTable>, QueryError> {
    let objects = lake.list("").map_err(|source| QueryError::Lake {
        path: lake.location().to_string(),
        source,
    })?;
    let base = match lake.location() {
        Location::Local(path) => format!("{}/", path.display()),
        location => format!("{location}/"),
    };
    let mut tables: Vec<LakeTable> = Vec::new();
    for (key, _) in objects {
        let parts: Vec<&str> = key.split('/').collect();
        let (name, folder, rest) = match parts.as_slice() {
            ["_errors", table, rest @ ..] if !rest.is_empty() => {
                (format!("{table}_errors"), format!("_errors/{table}"), rest)
            }
            [table, rest @ ..] if !rest.is_empty() && !table.starts_with(['_', '.']) => {
                (table.to_string(), table.to_string(), rest)
            }
            _ => continue,
        };
        let (file, dirs) = rest.split_last().expect("not empty");
        let data = [".parquet", ".jsonl", ".jsonl.gz"]
            .iter()
            .any(|ext| file.ends_with(ext));
        if !data
            || file.starts_with(['.', '_'])
            || dirs.iter().any(|dir| dir.starts_with(['.', '_']))
            || tables.last().is_some_and(|last| last.name == name)
        {
            continue;
        }
        tables.push(LakeTable {
            name,
            url: format!("{base}{folder}/"),
            parquet: file.ends_with(".parquet"),
            gzip: file.ends_with(".gz"),
            partitions: dirs
                .iter()
                .filter_map(|dir| dir.split_once('=').map(|(key, _)| key.to_string()))
                .collect(),
        });
    }
    Ok(tables)
}

/// Date keys are integers in Athena's DDL; others are text.
fn partition_type(key: &str) -> DataType {
    match key {
        "year" | "month" | "day" | "hour" => DataType::Int32,
        _ => DataType::Utf8,
    }
}

/// A session with every table of the lake (a folder or `s3://…`)
/// registered.
pub async fn session(lake: &Location, s3: &S3Options) -> Result<SessionContext, QueryError> {
    let context = SessionContext::new();
    let storage = Storage::open(lake, s3).map_err(|source| QueryError::Lake {
        path: lake.to_string(),
        source,
    })?;
    if let Storage::S3(store) = &storage {
        let bucket = url::Url::parse(&format!("s3://{}", store.bucket())).map_err(|err| {
            QueryError::Lake {
                path: lake.to_string(),
                source: std::io::Error::other(err),
            }
        })?;
        context.register_object_store(&bucket, Arc::new(S3Reader::new(store.clone())));
    }
    for table in discover(&storage)? {
        let partitions: Vec<(String, DataType)> = table
            .partitions
            .iter()
            .map(|key| (key.clone(), partition_type(key)))
            .collect();
        let path = &table.url;
        if table.parquet {
            let options = ParquetReadOptions::default().table_partition_cols(partitions);
            context.register_parquet(&table.name, path, options).await?;
        } else {
            let (extension, compression) = if table.gzip {
                (".jsonl.gz", FileCompressionType::GZIP)
            } else {
                (".jsonl", FileCompressionType::UNCOMPRESSED)
            };
            let options = JsonReadOptions::default()
                .file_extension(extension)
                .file_compression_type(compression)
                .table_partition_cols(partitions);
            context.register_json(&table.name, path, options).await?;
        }
    }
    Ok(context)
}

/// Run one SQL statement over the lake.
pub async fn run_sql(
    lake: &Location,
    s3: &S3Options,
    sql: &str,
) -> Result<Vec<RecordBatch>, QueryError> {
    let context = session(lake, s3).await?;
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
