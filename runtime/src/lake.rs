//! The lake, in a local folder or on S3 (see [`crate::storage`]): kept events as Parquet or JSON lines under
//! Hive-style partition folders, rejected events in the dead-letter zone.
//!
//! ```text
//! <location>/<table>/year=2026/month=02/day=19/part-<source>-<first>-<last>.parquet
//! <dead letters>/<table>/dt=2026-02-19/part-<source>-<first>-<last>.jsonl
//! ```
//!
//! Names come from the input's identity (source, first and last position of
//! the rows in the file), so writing the same input again replaces the same
//! files instead of adding to them. A file is published only when complete:
//! readers never see half a file. A partition's file
//! is closed and a new one begun past a row count or a size.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use base64::Engine as _;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::batch::{Batch, Fate, Rejection, Stage};
use crate::columns::{ColumnSpec, Columns};
use crate::config::{Compression, Format};
use crate::encode::{ObjectWriter, write_json_string};
use crate::storage::{Body, Location, Storage};

/// Rows gathered in Arrow columns before they go to the Parquet writer: one
/// row group's worth, so a partition holds at most this many rows in memory.
pub(crate) const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Bytes of gathered rows after which they go to the Parquet writer even
/// short of [`ROW_GROUP_ROWS`]: wide rows must not pile up in memory, and an
/// Arrow string column cannot pass 2 GiB.
const ROW_GROUP_BYTES: usize = 64 << 20;

/// Most partitions with a file open at once. A backfill over years of days
/// would otherwise hold a file (and, on S3, its body in memory) per day:
/// past this, the partition used longest ago is closed and published, and a
/// new file begins if it gets more rows.
pub(crate) const MAX_OPEN_FILES: usize = 128;

/// Most bytes the open files may hold before the largest are closed: on S3
/// each open file's body is in memory until it is published.
const MAX_HELD_BYTES: u64 = 512 << 20;

/// Files and bytes a writer produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Data files completed.
    pub files: u64,
    /// Dead-letter files completed.
    pub error_files: u64,
    /// Bytes in completed files, both kinds.
    pub bytes: u64,
}

impl WriteStats {
    fn data_file(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }

    fn error_file(&mut self, bytes: u64) {
        self.error_files += 1;
        self.bytes += bytes;
    }
}

/// How data files are written.
#[derive(Clone, Debug)]
pub struct FileOptions {
    /// JSON lines or Parquet.
    pub format: Format,
    /// Parquet compression.
    pub compression: Compression,
    /// The table's columns (Parquet).
    pub columns: Arc<[ColumnSpec]>,
    /// Rows per file before a new one is begun.
    pub max_rows: u64,
    /// Bytes per file before a new one is begun.
    pub max_bytes: u64,
    /// Partition keys every kept event must carry, in folder order.
    pub partitions: Arc<[String]>,
    /// The field that dates an event no plugin partitioned.
    pub time_field: String,
}

impl FileOptions {
    /// The options of a pipeline's output.
    pub fn of(config: &crate::config::PipelineConfig) -> Self {
        FileOptions {
            format: config.format,
            compression: config.compression,
            columns: config.columns.clone(),
            max_rows: config.max_rows_per_file,
            max_bytes: config.max_bytes_per_file,
            partitions: config.partitions.clone(),
            time_field: config.time_field.clone(),
        }
    }

    /// Are the partition keys a date's, so an event can be partitioned by
    /// its own time?
    fn date_partitioned(&self) -> bool {
        let keys = &self.partitions;
        (keys.len() == 3 || keys.len() == 4 && keys[3] == "hour")
            && keys[..3]
                .iter()
                .zip(["year", "month", "day"])
                .all(|(k, want)| k == want)
    }

    /// Parquet writer properties.
    pub fn parquet_properties(&self) -> WriterProperties {
        let compression = match self.compression {
            Compression::Snappy => ParquetCompression::SNAPPY,
            // Level 3: zstd's own default, the usual balance.
            Compression::Zstd => {
                ParquetCompression::ZSTD(ZstdLevel::try_new(3).expect("valid level"))
            }
            Compression::None | Compression::Gzip => ParquetCompression::UNCOMPRESSED,
        };
        let mut builder = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("weir {}", env!("CARGO_PKG_VERSION")));
        // Event times are nearly all distinct: a dictionary of them costs a
        // hash per value and is dropped for plain encoding once it fills.
        for column in self.columns.iter() {
            if column.kind == crate::columns::ColumnType::Timestamp {
                builder = builder.set_column_dictionary_enabled(
                    parquet::schema::types::ColumnPath::from(column.name.as_str()),
                    false,
                );
            }
        }
        builder.build()
    }
}

/// Writes batches into a lake.
pub struct LakeWriter {
    data: Storage,
    errors: Storage,
    source_tag: String,
    options: FileOptions,
    /// Open data files by folder, with when each last took a row.
    open_data: HashMap<String, (DataFile, u64)>,
    /// Rows written so far: the clock of `open_data`'s last use.
    rows_written: u64,
    open_errors: HashMap<String, JsonFile>,
    /// JSON lines of declared columns: the converter, shared by all files.
    json_columns: Option<JsonColumns>,
    line: Vec<u8>,
    key: String,
    /// Counts batches, so a Parquet file maps a new batch's names once.
    batch_number: u64,
    /// Records of the batches written before this one: a file's rows are
    /// indexed among the records of every batch the writer was given.
    records_before: usize,
    stats: WriteStats,
    /// Completed files kept back, when holding.
    held: Option<Vec<HeldFile>>,
    /// Keys of the files published, by zone, relative to the table.
    published: Vec<(Zone, String)>,
    /// Files are named after their first row alone.
    first_row_names: bool,
}

/// The two zones of a lake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// The table's data files.
    Data,
    /// The dead letters.
    DeadLetters,
}

/// A completed file a holding writer kept back.
pub struct HeldFile {
    /// What it is and where it goes.
    pub record: FileRecord,
    body: Body,
    content_type: &'static str,
}

/// The files of a holding writer, to publish.
pub struct HeldFiles {
    /// The files, in the order they were completed.
    pub files: Vec<HeldFile>,
    data: Storage,
    errors: Storage,
}

impl HeldFiles {
    /// Publish every file, several at once on S3, and wait for each (on S3,
    /// until `deadline` at most: a write still under way then is failed).
    pub fn publish(self, deadline: Option<std::time::Instant>) -> Published {
        let mut records = Vec::with_capacity(self.files.len());
        let mut data = Vec::new();
        let mut errors = Vec::new();
        for file in self.files {
            let item = (file.body, file.record.key.clone(), file.content_type);
            match file.record.zone {
                Zone::Data => data.push(item),
                Zone::DeadLetters => errors.push(item),
            }
            records.push(file.record);
        }
        let mut data_results = self.data.publish_each(data, deadline).into_iter();
        let mut error_results = self.errors.publish_each(errors, deadline).into_iter();
        let files = records
            .into_iter()
            .map(|record| {
                let result = match record.zone {
                    Zone::Data => data_results.next(),
                    Zone::DeadLetters => error_results.next(),
                };
                let result = result
                    .unwrap_or_else(|| Err(io::Error::other("no result for a file")))
                    .map_err(|err| err.to_string());
                (record, result)
            })
            .collect();
        Published {
            files,
            data: self.data,
            errors: self.errors,
        }
    }
}

/// Held files after publishing: each with its size, or why it could not be
/// written.
pub struct Published {
    /// Every file, with the bytes written or the error.
    pub files: Vec<(FileRecord, Result<u64, String>)>,
    data: Storage,
    errors: Storage,
}

impl Published {
    /// Remove a published file again.
    pub fn delete(&self, record: &FileRecord) -> io::Result<()> {
        match record.zone {
            Zone::Data => self.data.delete(&record.key),
            Zone::DeadLetters => self.errors.delete(&record.key),
        }
    }

    /// Where a file is, for messages.
    pub fn location(&self, record: &FileRecord) -> Location {
        match record.zone {
            Zone::Data => self.data.location().join(&record.key),
            Zone::DeadLetters => self.errors.location().join(&record.key),
        }
    }
}

/// What a held file was, after it went to be published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    /// Which zone.
    pub zone: Zone,
    /// Its key, relative to the table in its zone.
    pub key: String,
    /// Rows in it.
    pub rows: u64,
    /// Index of its first row among the records of every batch the writer
    /// was given, in order.
    pub first_index: usize,
    /// Index of its last row, counted as `first_index` is.
    pub last_index: usize,
}

/// The columns JSON lines are converted by, and the batch they last mapped.
struct JsonColumns {
    columns: Columns,
    batch_number: u64,
}

/// Where a file goes and which rows it holds.
struct FileName {
    /// Its folder, relative to the table.
    dir: String,
    first: String,
    last: String,
    rows: u64,
    /// Indices of the first and last rows among the records of every batch
    /// the writer was given: what a holding writer reports.
    first_index: usize,
    last_index: usize,
}

impl FileName {
    /// The name of a file and the body it is built in, hidden until published.
    fn create(
        storage: &Storage,
        dir: &str,
        source_tag: &str,
        first: &str,
        extension: &str,
    ) -> io::Result<(Self, Body)> {
        // Unique to this process and file: two runs writing into one lake at
        // once never build in the same temporary file.
        let temp = format!(
            ".part-{source_tag}-{}.{extension}.{}.tmp",
            pad(first),
            crate::storage::unique_suffix()
        );
        let body = storage.create(dir, &temp)?;
        let name = FileName {
            dir: dir.to_string(),
            first: first.to_string(),
            last: first.to_string(),
            rows: 0,
            first_index: 0,
            last_index: 0,
        };
        Ok((name, body))
    }

    fn row(&mut self, position: &str, index: usize) {
        // Named after the rows it holds, not the record that opened it
        // (which may not have fit the columns).
        if self.rows == 0 {
            self.first.clear();
            self.first.push_str(position);
            self.first_index = index;
        }
        self.rows += 1;
        self.last.clear();
        self.last.push_str(position);
        self.last_index = index;
    }

    /// The final key, relative to the table: named after its first and
    /// last rows, or its first alone (see [`LakeWriter::named_by_first_row`]).
    fn key(&self, source_tag: &str, extension: &str, first_only: bool) -> String {
        let name = if first_only {
            format!("part-{source_tag}-{}.{extension}", pad(&self.first))
        } else {
            format!(
                "part-{source_tag}-{}-{}.{extension}",
                pad(&self.first),
                pad(&self.last)
            )
        };
        crate::storage::join_key(&self.dir, &name)
    }
}

/// A file complete but not yet published.
struct Closed {
    name: FileName,
    body: Body,
    extension: &'static str,
}

/// The media type an object of a kind is stored with.
fn content_type(extension: &str) -> &'static str {
    match extension {
        "parquet" => "application/vnd.apache.parquet",
        "jsonl" => "application/x-ndjson",
        _ => "application/gzip",
    }
}

struct JsonFile {
    name: FileName,
    writer: JsonSink,
    /// Bytes of JSON written (before any compression).
    bytes: u64,
}

/// Where JSON lines go: straight to the body, or through gzip.
enum JsonSink {
    Plain(Body),
    Gzip(Box<flate2::write::GzEncoder<Body>>),
}

impl JsonFile {
    fn create(
        storage: &Storage,
        dir: &str,
        source_tag: &str,
        first: &str,
        gzip: bool,
    ) -> io::Result<Self> {
        let extension = if gzip { "jsonl.gz" } else { "jsonl" };
        let (name, body) = FileName::create(storage, dir, source_tag, first, extension)?;
        let writer = if gzip {
            JsonSink::Gzip(Box::new(flate2::write::GzEncoder::new(
                body,
                flate2::Compression::default(),
            )))
        } else {
            JsonSink::Plain(body)
        };
        Ok(JsonFile {
            name,
            writer,
            bytes: 0,
        })
    }

    fn append(&mut self, line: &[u8], position: &str, index: usize) -> io::Result<()> {
        match &mut self.writer {
            JsonSink::Plain(writer) => writer.write_all(line)?,
            JsonSink::Gzip(writer) => writer.write_all(line)?,
        }
        self.bytes += line.len() as u64;
        self.name.row(position, index);
        Ok(())
    }

    fn close(self) -> io::Result<Closed> {
        let (body, extension) = match self.writer {
            JsonSink::Plain(body) => (body, "jsonl"),
            JsonSink::Gzip(writer) => (writer.finish()?, "jsonl.gz"),
        };
        Ok(Closed {
            name: self.name,
            body,
            extension,
        })
    }
}

struct ParquetFile {
    name: FileName,
    writer: ArrowWriter<Body>,
    columns: Columns,
    batch_number: u64,
}

fn parquet_error(err: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(err)
}

impl ParquetFile {
    fn create(
        storage: &Storage,
        dir: &str,
        source_tag: &str,
        first: &str,
        options: &FileOptions,
    ) -> io::Result<Self> {
        let (name, body) = FileName::create(storage, dir, source_tag, first, "parquet")?;
        let columns = Columns::new(options.columns.clone());
        let writer = ArrowWriter::try_new(
            body,
            columns.schema().clone(),
            Some(options.parquet_properties()),
        )
        .map_err(parquet_error)?;
        Ok(ParquetFile {
            name,
            writer,
            columns,
            batch_number: 0,
        })
    }

    /// Move the gathered rows into the Parquet writer.
    fn flush_rows(&mut self) -> io::Result<()> {
        if self.columns.rows() > 0 {
            let batch = self.columns.finish();
            self.writer.write(&batch).map_err(parquet_error)?;
        }
        Ok(())
    }

    fn bytes(&self) -> u64 {
        (self.writer.bytes_written() + self.writer.in_progress_size()) as u64
    }

    fn close(mut self) -> io::Result<Closed> {
        self.flush_rows()?;
        // Writes the footer and hands back the body.
        let body = self.writer.into_inner().map_err(parquet_error)?;
        Ok(Closed {
            name: self.name,
            body,
            extension: "parquet",
        })
    }
}

enum DataFile {
    Json(JsonFile),
    Parquet(Box<ParquetFile>),
}

impl DataFile {
    /// Bytes the file holds: written so far, and rows gathered for Parquet.
    fn held(&self) -> u64 {
        match self {
            DataFile::Json(file) => file.bytes,
            DataFile::Parquet(file) => file.bytes() + file.columns.bytes() as u64,
        }
    }

    fn full(&self, options: &FileOptions) -> bool {
        let (rows, bytes) = match self {
            DataFile::Json(file) => (file.name.rows, file.bytes),
            DataFile::Parquet(file) => (file.name.rows, file.bytes()),
        };
        rows >= options.max_rows || bytes >= options.max_bytes
    }

    fn close(self) -> io::Result<Closed> {
        match self {
            DataFile::Json(file) => file.close(),
            DataFile::Parquet(file) => file.close(),
        }
    }
}

impl LakeWriter {
    /// A writer for `table` in the `data` storage, dead letters under
    /// `<table>` in the `errors` storage, naming files after `source`.
    pub fn new(
        data: &Storage,
        errors: &Storage,
        table: &str,
        source: &str,
        options: FileOptions,
    ) -> Self {
        let json_columns =
            (options.format == Format::Jsonl && !options.columns.is_empty()).then(|| JsonColumns {
                columns: Columns::new(options.columns.clone()),
                batch_number: 0,
            });
        LakeWriter {
            data: data.child(table),
            errors: errors.child(table),
            source_tag: file_tag(source),
            options,
            open_data: HashMap::new(),
            rows_written: 0,
            open_errors: HashMap::new(),
            json_columns,
            line: Vec::with_capacity(1024),
            key: String::new(),
            batch_number: 0,
            records_before: 0,
            stats: WriteStats::default(),
            held: None,
            published: Vec::new(),
            first_row_names: false,
        }
    }

    /// Write the kept and rejected records of a batch that went through the
    /// pipeline. A kept record that does not fit the table's columns becomes
    /// a reject here (stage `weir`), so count the batch after writing it.
    /// Dropped records are only counted, by the caller.
    pub fn write(&mut self, batch: &mut Batch) -> io::Result<()> {
        self.batch_number += 1;
        let misfits = self.write_kept(batch)?;
        let stage = Stage::host();
        for (index, error) in misfits {
            batch.reject(index, &stage, error.code, &error.reason);
        }
        self.write_rejected(batch)?;
        self.records_before += batch.len();
        Ok(())
    }

    fn write_kept(
        &mut self,
        batch: &Batch,
    ) -> io::Result<Vec<(usize, crate::columns::ConvertError)>> {
        let mut misfits = Vec::new();
        let arena = batch.arena();
        let json = ObjectWriter::new(arena);
        for (index, record) in batch.records().iter().enumerate() {
            let Fate::Alive { fields, partition } = &record.fate else {
                continue;
            };
            let position = batch.position(index);
            if let Err(error) = self.folder(batch, fields, partition) {
                misfits.push((index, error));
                continue;
            }
            self.rows_written += 1;
            if !self.open_data.contains_key(&self.key) && self.open_data.len() >= MAX_OPEN_FILES {
                self.close_least_recent()?;
            }
            let (file, last_used) = match self.open_data.get_mut(&self.key) {
                Some(open) => open,
                None => {
                    let dir = &self.key;
                    let file = match self.options.format {
                        Format::Jsonl => DataFile::Json(JsonFile::create(
                            &self.data,
                            dir,
                            &self.source_tag,
                            position,
                            self.options.compression == Compression::Gzip,
                        )?),
                        Format::Parquet => DataFile::Parquet(Box::new(ParquetFile::create(
                            &self.data,
                            dir,
                            &self.source_tag,
                            position,
                            &self.options,
                        )?)),
                    };
                    self.open_data.entry(self.key.clone()).or_insert((file, 0))
                }
            };
            *last_used = self.rows_written;
            match file {
                DataFile::Json(file) => {
                    self.line.clear();
                    match &mut self.json_columns {
                        // Declared columns: only those, converted to their types.
                        Some(columns) => {
                            if columns.batch_number != self.batch_number {
                                columns.columns.begin_batch(arena);
                                columns.batch_number = self.batch_number;
                            }
                            if let Err(error) =
                                columns.columns.write_json(arena, fields, &mut self.line)
                            {
                                misfits.push((index, error));
                                continue;
                            }
                        }
                        None => json.write(&mut self.line, fields),
                    }
                    self.line.push(b'\n');
                    file.append(&self.line, position, self.records_before + index)?;
                }
                DataFile::Parquet(file) => {
                    if file.batch_number != self.batch_number {
                        file.columns.begin_batch(arena);
                        file.batch_number = self.batch_number;
                    }
                    if let Err(error) = file.columns.append(arena, fields) {
                        misfits.push((index, error));
                        continue;
                    }
                    file.name.row(position, self.records_before + index);
                    if file.columns.rows() >= ROW_GROUP_ROWS
                        || file.columns.bytes() >= ROW_GROUP_BYTES
                    {
                        file.flush_rows()?;
                    }
                }
            }
            if file.full(&self.options) {
                let (file, _) = self.open_data.remove(&self.key).expect("present");
                self.complete(Zone::Data, file.close()?)?;
            }
        }
        self.close_largest_past(MAX_HELD_BYTES)?;
        Ok(misfits)
    }

    /// Close and publish the open data file that took a row longest ago.
    fn close_least_recent(&mut self) -> io::Result<()> {
        let oldest = self
            .open_data
            .iter()
            .min_by_key(|(_, (_, last_used))| *last_used)
            .map(|(key, _)| key.clone());
        if let Some(key) = oldest {
            let (file, _) = self.open_data.remove(&key).expect("present");
            self.complete(Zone::Data, file.close()?)?;
        }
        Ok(())
    }

    /// Close the largest open data files until they hold at most `limit`
    /// bytes together.
    fn close_largest_past(&mut self, limit: u64) -> io::Result<()> {
        let mut held: u64 = self.open_data.values().map(|(file, _)| file.held()).sum();
        while held > limit {
            let Some((key, bytes)) = self
                .open_data
                .iter()
                .map(|(key, (file, _))| (key, file.held()))
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(key, bytes)| (key.clone(), bytes))
            else {
                break;
            };
            let (file, _) = self.open_data.remove(&key).expect("present");
            self.complete(Zone::Data, file.close()?)?;
            held -= bytes;
        }
        Ok(())
    }

    /// Put a kept event's folder in `self.key`: its partition values when
    /// they are the table's keys in order, its own date when no plugin
    /// partitioned it and the keys are a date's. Anything else would put the
    /// event where the table does not look for it, so it is refused.
    fn folder(
        &mut self,
        batch: &Batch,
        fields: &weir_plugin::layout::PackedFields,
        partition: &[(u32, weir_plugin::layout::Span)],
    ) -> Result<(), crate::columns::ConvertError> {
        let keys = &self.options.partitions;
        let names = &batch.arena().names;
        if partition.is_empty() && !keys.is_empty() {
            if !self.options.date_partitioned() {
                return Err(crate::columns::ConvertError {
                    code: "bad-partition",
                    reason: format!(
                        "no plugin partitioned the event, and the table is partitioned by {}",
                        keys.join("/")
                    ),
                });
            }
            let time = batch
                .arena()
                .lookup(&self.options.time_field)
                .and_then(|name| fields.iter().find(|field| field.name == name))
                .and_then(|field| match field.value {
                    weir_plugin::layout::Value::Text(span) => {
                        weir_plugin::time::Timestamp::parse(crate::encode::span_str(&batch.arena().text, span)).ok()
                    }
                    _ => None,
                })
                .ok_or_else(|| crate::columns::ConvertError {
                    code: "bad-partition",
                    reason: format!(
                        "no plugin partitioned the event, and its `{}` is missing or not an ISO-8601 date-time",
                        self.options.time_field
                    ),
                })?;
            self.key.clear();
            use std::fmt::Write as _;
            let _ = write!(
                self.key,
                "year={:04}/month={:02}/day={:02}",
                time.year, time.month, time.day
            );
            if keys.len() == 4 {
                let _ = write!(self.key, "/hour={:02}", time.hour);
            }
            return Ok(());
        }
        let matches = partition.len() == keys.len()
            && partition
                .iter()
                .zip(keys.iter())
                .all(|((key, _), want)| names[*key as usize] == *want);
        if !matches {
            let got: Vec<&str> = partition
                .iter()
                .map(|(key, _)| names[*key as usize].as_str())
                .collect();
            return Err(crate::columns::ConvertError {
                code: "bad-partition",
                reason: format!(
                    "the plugins partitioned the event by {:?}, and the table is partitioned by {:?}",
                    got.join("/"),
                    keys.join("/")
                ),
            });
        }
        batch.partition_path(partition, &mut self.key);
        Ok(())
    }

    fn write_rejected(&mut self, batch: &Batch) -> io::Result<()> {
        for (index, record) in batch.records().iter().enumerate() {
            let Fate::Rejected(rejection) = &record.fate else {
                continue;
            };
            let position = batch.position(index);
            let dt = weir_plugin::time::Timestamp::from_unix_micros(record.arrival_micros);
            self.line.clear();
            write_dead_letter(
                &mut self.line,
                batch.payload(index),
                rejection,
                &batch.source,
                position,
                &dt.to_rfc3339(),
            );
            self.line.push(b'\n');
            let key = format!("dt={}", dt.date_string());
            let file = match self.open_errors.get_mut(&key) {
                Some(file) => file,
                None => {
                    let file =
                        JsonFile::create(&self.errors, &key, &self.source_tag, position, false)?;
                    self.open_errors.entry(key.clone()).or_insert(file)
                }
            };
            file.append(&self.line, position, self.records_before + index)?;
            if file.name.rows >= self.options.max_rows || file.bytes >= self.options.max_bytes {
                let file = self.open_errors.remove(&key).expect("present");
                self.complete(Zone::DeadLetters, file.close()?)?;
            }
        }
        Ok(())
    }

    /// Encode kept record `index` of a batch as the lake would file it, for
    /// a host that hands records on instead of writing files (Firehose):
    /// its JSON line into `line` (the table's columns, typed, when it
    /// declares them; else every field) and its partition, as `(key,
    /// value)` pairs. A record that does not fit is an error with its code.
    pub fn encode_kept(
        &mut self,
        batch: &Batch,
        index: usize,
        line: &mut Vec<u8>,
    ) -> Result<Vec<(String, String)>, crate::columns::ConvertError> {
        let Fate::Alive { fields, partition } = &batch.records()[index].fate else {
            return Err(crate::columns::ConvertError {
                code: "not-kept",
                reason: "the record was not kept".into(),
            });
        };
        self.folder(batch, fields, partition)?;
        line.clear();
        let arena = batch.arena();
        if self.options.columns.is_empty() {
            ObjectWriter::new(arena).write(line, fields);
        } else {
            let columns = self.json_columns.get_or_insert_with(|| JsonColumns {
                columns: Columns::new(self.options.columns.clone()),
                batch_number: 0,
            });
            if columns.batch_number != self.batch_number + 1 {
                columns.columns.begin_batch(arena);
                columns.batch_number = self.batch_number + 1;
            }
            columns.columns.write_json(arena, fields, line)?;
        }
        line.push(b'\n');
        Ok(self
            .key
            .split('/')
            .filter_map(|part| part.split_once('='))
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect())
    }

    /// Name files after their first row alone, for a Kinesis shard's
    /// batches. A retry starts at the first record not durable (Lambda's
    /// `batchItemFailures`, or a bisected batch's first half), so the first
    /// row of each partition's file at or after that point is the same in
    /// every attempt that reaches it: an object of a failed attempt that
    /// could not be withdrawn is overwritten by the retry, whatever range
    /// the retry covers, instead of staying beside it.
    pub fn named_by_first_row(mut self) -> Self {
        self.first_row_names = true;
        self
    }

    /// Keep completed files back instead of publishing them, for
    /// [`LakeWriter::finish_held`]: the writer of one Kinesis batch, which
    /// must know which of its objects were written.
    pub fn holding(mut self) -> Self {
        self.held = Some(Vec::new());
        self
    }

    /// Publish a completed file (or hold it back); one that received no row
    /// (every event bound for it was refused) is thrown away.
    fn complete(&mut self, zone: Zone, closed: Closed) -> io::Result<()> {
        let storage = match zone {
            Zone::Data => &self.data,
            Zone::DeadLetters => &self.errors,
        };
        if closed.name.rows == 0 {
            return storage.discard(closed.body);
        }
        let key = closed
            .name
            .key(&self.source_tag, closed.extension, self.first_row_names);
        let content_type = content_type(closed.extension);
        match &mut self.held {
            Some(held) => held.push(HeldFile {
                record: FileRecord {
                    zone,
                    key,
                    rows: closed.name.rows,
                    first_index: closed.name.first_index,
                    last_index: closed.name.last_index,
                },
                body: closed.body,
                content_type,
            }),
            None => {
                let bytes = storage.publish(closed.body, &key, content_type)?;
                match zone {
                    Zone::Data => self.stats.data_file(bytes),
                    Zone::DeadLetters => self.stats.error_file(bytes),
                }
                self.published.push((zone, key));
            }
        }
        Ok(())
    }

    /// Complete every open file.
    fn close_all(&mut self) -> io::Result<()> {
        let data: Vec<DataFile> = self.open_data.drain().map(|(_, (file, _))| file).collect();
        for file in data {
            self.complete(Zone::Data, file.close()?)?;
        }
        let errors: Vec<JsonFile> = self.open_errors.drain().map(|(_, file)| file).collect();
        for file in errors {
            self.complete(Zone::DeadLetters, file.close()?)?;
        }
        Ok(())
    }

    /// Complete every open file, wait until all are durable, and say what
    /// was written.
    pub fn finish(self) -> io::Result<WriteStats> {
        self.finish_listed().map(|(stats, _)| stats)
    }

    /// [`LakeWriter::finish`], also naming every file published (zone and
    /// key relative to the table), once all are durable.
    pub fn finish_listed(mut self) -> io::Result<(WriteStats, Vec<(Zone, String)>)> {
        self.close_all()?;
        self.data.finish()?;
        self.errors.finish()?;
        Ok((
            std::mem::take(&mut self.stats),
            std::mem::take(&mut self.published),
        ))
    }

    /// Complete every open file of a [`holding`](LakeWriter::holding)
    /// writer and hand them over, unpublished, in the order they were
    /// completed.
    pub fn finish_held(mut self) -> io::Result<HeldFiles> {
        self.close_all()?;
        Ok(HeldFiles {
            files: self.held.take().unwrap_or_default(),
            data: self.data.clone(),
            errors: self.errors.clone(),
        })
    }
}

impl Drop for LakeWriter {
    /// A writer dropped before it finished (its run failed) removes the
    /// temporary files of what it had open or held back, so a failed run
    /// leaves nothing behind in a local lake, not even hidden.
    fn drop(&mut self) {
        let open: Vec<DataFile> = self.open_data.drain().map(|(_, (file, _))| file).collect();
        for file in open {
            if let Ok(closed) = file.close() {
                let _ = self.data.discard(closed.body);
            }
        }
        let open: Vec<JsonFile> = self.open_errors.drain().map(|(_, file)| file).collect();
        for file in open {
            if let Ok(closed) = file.close() {
                let _ = self.errors.discard(closed.body);
            }
        }
        for held in self.held.take().unwrap_or_default() {
            let storage = match held.record.zone {
                Zone::Data => &self.data,
                Zone::DeadLetters => &self.errors,
            };
            let _ = storage.discard(held.body);
        }
    }
}

/// A dead letter: the original payload (as text when it is UTF-8, else as
/// base64), who rejected it, why, and where it came from.
fn write_dead_letter(
    out: &mut Vec<u8>,
    payload: &[u8],
    rejection: &Rejection,
    source: &str,
    position: &str,
    arrival: &str,
) {
    out.push(b'{');
    match std::str::from_utf8(payload) {
        Ok(text) => {
            out.extend_from_slice(b"\"payload\":");
            write_json_string(out, text);
            out.extend_from_slice(b",\"payload_base64\":null");
        }
        Err(_) => {
            out.extend_from_slice(b"\"payload\":null,\"payload_base64\":");
            let encoded = base64::engine::general_purpose::STANDARD.encode(payload);
            write_json_string(out, &encoded);
        }
    }
    for (key, value) in [
        ("plugin", &*rejection.stage.name),
        ("plugin_version", &*rejection.stage.version),
        ("code", &rejection.code),
        ("reason", &rejection.reason),
        ("source", source),
        ("position", position),
        ("arrival_time", arrival),
    ] {
        out.push(b',');
        write_json_string(out, key);
        out.push(b':');
        write_json_string(out, value);
    }
    out.push(b'}');
}

/// A source name as it appears in file names: the stem of its last path
/// component (`events.jsonl` names files `part-events-…`), made safe.
fn file_tag(source: &str) -> String {
    let last = source.rsplit(['/', '\\']).next().unwrap_or(source);
    let stem = last.split_once('.').map_or(last, |(stem, _)| stem);
    let tag = safe_name(stem);
    if tag.is_empty() {
        "input".to_string()
    } else {
        tag
    }
}

/// Anything but letters, digits, `-`, `_` and `.` made `_`.
fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Numeric positions zero-padded to 12 digits so names sort in input order.
fn pad(position: &str) -> String {
    if !position.is_empty() && position.len() < 12 && position.bytes().all(|b| b.is_ascii_digit()) {
        format!("{position:0>12}")
    } else {
        safe_name(position)
    }
}
