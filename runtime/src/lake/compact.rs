//! `weir compact`: merge a partition's small Parquet files into large ones.
//!
//! Streaming input leaves many small files per partition (one per batch of
//! records that reached it), and Athena reads few large files far faster than
//! many small ones. Compaction reads a partition's small files in name order
//! and writes their rows, unchanged, into files of about the target size:
//!
//! 1. A journal naming the files read and the files to be written goes to
//!    `<lake>/_compaction/<table>/<partition>/<id>.json`.
//! 2. The new files are written and published.
//! 3. Only then are the old files removed, and last the journal.
//!
//! A run that stops part way is finished (or undone) by the next one from its
//! journal, so no row is ever lost, and the row count is checked before
//! anything is removed. The new files are named after the set of files they
//! replace, so the same work done again writes the same names. A partition
//! with at most one small file is left alone, so compacting again changes
//! nothing.
//!
//! No store can swap many files at once: between steps 2 and 3 (the time it
//! takes to delete a few objects) a reader listing the partition can see
//! both the old and the new files.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::storage::{Body, Storage, join_key};

/// Why a compaction stopped.
#[derive(Debug, Error)]
pub enum CompactError {
    /// The lake could not be read or written.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A file that is not Parquet, or not of the partition's schema.
    #[error("{file}: not a Parquet file Weir can compact")]
    BadFile {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The lake holds no table of that name.
    #[error("the lake holds no table `{table}` (tables there: {tables}): check --table")]
    NoTable {
        /// The table asked for.
        table: String,
        /// The tables there are, comma-separated, or `none`.
        tables: String,
    },
    /// The merged files would not hold the rows the small ones did.
    #[error(
        "partition {partition}: rows read ({read}) and written ({written}) differ; the old files were kept"
    )]
    RowsDiffer {
        /// The partition.
        partition: String,
        /// Rows in the small files.
        read: u64,
        /// Rows in the merged ones.
        written: u64,
    },
    /// An unfinished compaction's journal that cannot be read.
    #[error("journal {key}: not a compaction journal")]
    BadJournal {
        /// The journal's key.
        key: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// What to compact.
#[derive(Clone, Debug)]
pub struct CompactOptions {
    /// The table (its folder under the lake).
    pub table: String,
    /// Only partitions of these days (inclusive, `YYYY-MM-DD`); all when
    /// `None`.
    pub days: Option<(String, String)>,
    /// Size the merged files aim for; files under half of it are small.
    pub target_bytes: u64,
}

/// What a compaction did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CompactReport {
    /// Partitions looked at.
    pub partitions: u64,
    /// Partitions whose files were merged.
    pub compacted: u64,
    /// Files removed (merged into new ones).
    pub files_before: u64,
    /// Files written.
    pub files_after: u64,
    /// Rows in the files removed, and so in the files written.
    pub rows: u64,
    /// Bytes removed and written.
    pub bytes_before: u64,
    /// Bytes written.
    pub bytes_after: u64,
    /// Interrupted compactions found in journals and completed or undone.
    pub recovered: u64,
}

/// A compaction under way: what it read and what it writes.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    partition: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    rows: u64,
}

/// Compact `options.table` in the lake at `lake`.
pub fn compact(lake: &Storage, options: &CompactOptions) -> Result<CompactReport, CompactError> {
    compact_with_progress(lake, options, &mut |_, _| {})
}

/// [`compact`], telling `progress` each partition as it is done, with the
/// number of partitions to look at.
pub fn compact_with_progress(
    lake: &Storage,
    options: &CompactOptions,
    progress: &mut dyn FnMut(&CompactReport, usize),
) -> Result<CompactReport, CompactError> {
    let mut report = CompactReport::default();
    let journals = format!("_compaction/{}", options.table);
    let table = lake.child(&options.table);
    for (key, _) in lake.list(&journals)? {
        recover(lake, &table, &key)?;
        report.recovered += 1;
    }
    let objects = table.list("")?;
    if objects.is_empty() && report.recovered == 0 {
        return Err(no_such_table(lake, &options.table)?);
    }
    let mut partitions: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for (key, size) in objects {
        let (folder, name) = key.rsplit_once('/').unwrap_or(("", key.as_str()));
        // Folders and files beginning with `_` are not data (Hive's rule).
        if name.ends_with(".parquet") && !key.split('/').any(|part| part.starts_with('_')) {
            partitions
                .entry(folder.to_string())
                .or_default()
                .push((name.to_string(), size));
        }
    }
    let count = partitions.len();
    for (partition, files) in partitions {
        progress(&report, count);
        if !in_days(&partition, options.days.as_ref()) {
            continue;
        }
        report.partitions += 1;
        let small: Vec<(String, u64)> = files
            .into_iter()
            .filter(|(_, size)| *size < options.target_bytes / 2)
            .collect();
        if small.len() < 2 {
            continue;
        }
        merge(
            lake,
            &table,
            &journals,
            &partition,
            &small,
            options,
            &mut report,
        )?;
    }
    Ok(report)
}

/// Is a partition folder (`year=2026/month=02/day=19/…`) within `days`?
fn in_days(partition: &str, days: Option<&(String, String)>) -> bool {
    let Some((from, to)) = days else {
        return true;
    };
    let keys: BTreeMap<&str, &str> = partition
        .split('/')
        .filter_map(|part| part.split_once('='))
        .collect();
    match (keys.get("year"), keys.get("month"), keys.get("day")) {
        (Some(year), Some(month), Some(day)) => {
            let date = format!("{year}-{month}-{day}");
            *from <= date && date <= *to
        }
        _ => false,
    }
}

/// Merge one partition's small files.
fn merge(
    lake: &Storage,
    table: &Storage,
    journals: &str,
    partition: &str,
    small: &[(String, u64)],
    options: &CompactOptions,
    report: &mut CompactReport,
) -> Result<(), CompactError> {
    let id = {
        let mut hash = Sha256::new();
        for (name, _) in small {
            hash.update(name.as_bytes());
            hash.update(b"\n");
        }
        hex::encode(&hash.finalize()[..8])
    };
    let journal_key = join_key(journals, &format!("{partition}/{id}.json"));
    let mut outputs: Vec<(Body, String)> = Vec::new();
    let rows = write_merged(
        table,
        partition,
        &id,
        small,
        options.target_bytes,
        &mut outputs,
    );
    let (rows_read, rows_written) = match rows {
        Ok(rows) => rows,
        Err(err) => {
            // Nothing of a failed merge stays behind, not even hidden.
            for (body, _) in outputs {
                let _ = table.discard(body);
            }
            return Err(err);
        }
    };
    if rows_read != rows_written {
        for (body, _) in outputs {
            table.discard(body)?;
        }
        return Err(CompactError::RowsDiffer {
            partition: partition.to_string(),
            read: rows_read,
            written: rows_written,
        });
    }
    let journal = Journal {
        partition: partition.to_string(),
        inputs: small.iter().map(|(name, _)| name.clone()).collect(),
        outputs: outputs.iter().map(|(_, name)| name.clone()).collect(),
        rows: rows_read,
    };
    let text = serde_json::to_vec_pretty(&journal).map_err(io::Error::other)?;
    lake.write_now(&journal_key, &text, "application/json")?;
    let mut written = 0;
    for (body, name) in outputs {
        written += table.publish(
            body,
            &join_key(partition, &name),
            "application/vnd.apache.parquet",
        )?;
    }
    table.finish()?;
    for (name, _) in small {
        table.delete(&join_key(partition, name))?;
    }
    lake.delete(&journal_key)?;
    report.compacted += 1;
    report.files_before += small.len() as u64;
    report.files_after += journal.outputs.len() as u64;
    report.rows += rows_read;
    report.bytes_before += small.iter().map(|(_, size)| size).sum::<u64>();
    report.bytes_after += written;
    Ok(())
}

/// Read the small files in order and write their rows into new files of
/// about `target_bytes`, pushed to `outputs` (also on failure, so the caller
/// can throw them away). Returns the rows the inputs' footers count and the
/// rows written.
fn write_merged(
    table: &Storage,
    partition: &str,
    id: &str,
    small: &[(String, u64)],
    target_bytes: u64,
    outputs: &mut Vec<(Body, String)>,
) -> Result<(u64, u64), CompactError> {
    let mut writer: Option<(ArrowWriter<Body>, String)> = None;
    let mut properties: Option<WriterProperties> = None;
    let mut first_schema = None;
    let (mut rows_read, mut rows_written) = (0u64, 0u64);
    // `into_inner` writes the footer and hands back the body.
    let finish = |writer: ArrowWriter<Body>| {
        writer.into_inner().map_err(|err| CompactError::BadFile {
            file: format!("{}/{partition}", table.location()),
            source: err.into(),
        })
    };
    let mut merge = || -> Result<(), CompactError> {
        for (name, _) in small {
            let key = join_key(partition, name);
            let bad = |source: Box<dyn std::error::Error + Send + Sync>| CompactError::BadFile {
                file: format!("{}/{key}", table.location()),
                source,
            };
            let bytes = Bytes::from(table.read(&key)?);
            let builder =
                ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|err| bad(err.into()))?;
            rows_read += builder.metadata().file_metadata().num_rows().max(0) as u64;
            let properties = properties
                .get_or_insert_with(|| writer_properties(builder.metadata()))
                .clone();
            let schema = builder.schema().clone();
            let first = first_schema.get_or_insert_with(|| schema.clone());
            if *first != schema {
                return Err(bad(format!(
                    "its columns differ from those of {}; compact files of one schema",
                    small[0].0
                )
                .into()));
            }
            let reader = builder.build().map_err(|err| bad(err.into()))?;
            for batch in reader {
                let batch = batch.map_err(|err| bad(err.into()))?;
                if writer.is_none() {
                    let name = format!("part-compacted-{id}-{:04}.parquet", outputs.len() + 1);
                    let body = table.create(
                        partition,
                        &format!(".{name}.{}.tmp", crate::storage::unique_suffix()),
                    )?;
                    let arrow =
                        ArrowWriter::try_new(body, schema.clone(), Some(properties.clone()))
                            .map_err(|err| bad(err.into()))?;
                    writer = Some((arrow, name));
                }
                let (arrow, _) = writer.as_mut().expect("just opened");
                arrow.write(&batch).map_err(|err| bad(err.into()))?;
                rows_written += batch.num_rows() as u64;
                if (arrow.bytes_written() + arrow.in_progress_size()) as u64 >= target_bytes {
                    let (arrow, name) = writer.take().expect("open");
                    outputs.push((finish(arrow)?, name));
                }
            }
        }
        Ok(())
    };
    let merged = merge();
    if let Some((arrow, name)) = writer.take() {
        match (finish(arrow), &merged) {
            (Ok(body), _) => outputs.push((body, name)),
            (Err(err), Ok(())) => return Err(err),
            (Err(_), Err(_)) => {}
        }
    }
    merged.map(|()| (rows_read, rows_written))
}

/// The properties of the merged files: the inputs' compression, Weir's row
/// groups.
fn writer_properties(metadata: &parquet::file::metadata::ParquetMetaData) -> WriterProperties {
    let compression = metadata
        .row_groups()
        .first()
        .and_then(|group| group.columns().first())
        .map(|column| column.compression())
        .unwrap_or(parquet::basic::Compression::SNAPPY);
    WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(crate::lake::format::ROW_GROUP_ROWS))
        .set_created_by(format!("weir {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Finish or undo the compaction a journal describes: if every new file was
/// published, remove the old ones still there; otherwise remove the new ones
/// (the old ones were not touched yet).
fn recover(lake: &Storage, table: &Storage, key: &str) -> Result<(), CompactError> {
    let journal: Journal =
        serde_json::from_slice(&lake.read(key)?).map_err(|source| CompactError::BadJournal {
            key: format!("{}/{key}", lake.location()),
            source,
        })?;
    let present: BTreeSet<String> = table
        .list(&journal.partition)?
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let all_written = journal
        .outputs
        .iter()
        .all(|name| present.contains(&join_key(&journal.partition, name)));
    let remove = if all_written {
        &journal.inputs
    } else {
        &journal.outputs
    };
    for name in remove {
        table.delete(&join_key(&journal.partition, name))?;
    }
    lake.delete(key)?;
    Ok(())
}

impl std::fmt::Display for CompactReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.recovered > 0 {
            writeln!(
                f,
                "completed or undone {} interrupted compaction(s)",
                self.recovered
            )?;
        }
        write!(
            f,
            "{} partitions, {} compacted: {} files ({} bytes) merged into {} ({} bytes), {} rows",
            self.partitions,
            self.compacted,
            self.files_before,
            self.bytes_before,
            self.files_after,
            self.bytes_after,
            self.rows
        )
    }
}

/// The error for a table whose folder holds nothing (a mistyped
/// `--table`), naming the lake's tables: its folders, found by one
/// delimited listing rather than a listing of the whole lake.
fn no_such_table(lake: &Storage, table: &str) -> Result<CompactError, CompactError> {
    let mut tables = lake.folders("")?;
    tables.retain(|name| !name.starts_with('_'));
    Ok(CompactError::NoTable {
        table: table.to_string(),
        tables: if tables.is_empty() {
            "none".to_string()
        } else {
            tables.join(", ")
        },
    })
}
