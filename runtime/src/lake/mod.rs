//! **The lake** (layer 3, above [`crate::pipeline`]): where kept events and
//! dead letters land, in a local folder or on S3 (see [`crate::storage`]):
//!
//! ```text
//! <location>/<table>/year=2026/month=02/day=19/part-<source>-<first>-<last>.parquet
//! <dead letters>/<table>/dt=2026-02-19/part-<source>-<first>-<last>.jsonl
//! ```
//!
//! [`LakeWriter`] puts a batch's kept and rejected events there, from
//! parts that each do one thing: [`routing`] picks an event's partition
//! folder, [`format`](mod@format) encodes files (JSON lines, Parquet, dead letters),
//! [`files`] bounds the set of open files, [`naming`] names them after the
//! input and the positions of their rows (so writing the same input again
//! replaces the same files), and [`publish`] hands over the files a stream
//! batch kept back. A file is published only when complete: readers never
//! see half a file.
//!
//! Beside the writer: the [`ledger`] of what each input wrote, the
//! [`commit`] of a stream batch, [`compact`]ion, and SQL ([`query`]) and
//! the [`report`] over what is there.

pub mod columns;
pub mod commit;
pub mod compact;
pub mod dead_letter;
pub mod files;
pub mod filled;
pub mod format;
pub mod ledger;
pub mod naming;
pub mod publish;
#[cfg(feature = "sql")]
pub mod query;
#[cfg(feature = "sql")]
pub mod report;
pub mod routing;

use std::collections::HashMap;
use std::io;

use weir_plugin::layout::{PackedFields, Span};

use crate::lake::columns::ConvertError;
use crate::lake::dead_letter::write_dead_letter;
use crate::lake::files::{Held, MAX_HELD_BYTES, MAX_OPEN_FILES, OpenFiles};
use crate::lake::format::{
    AppendError, Closed, Compression, DataFile, FileOptions, Format, JsonEncoder, JsonFile,
    ParquetFile, content_type,
};
use crate::lake::naming::file_tag;
use crate::lake::publish::{FileRecord, HeldFile, HeldFiles, Zone};
use crate::lake::routing::{Router, partition_values};
use crate::pipeline::batch::{Batch, Fate, Stage};
use crate::pipeline::encode::ObjectWriter;
use crate::pipeline::summary::WriteStats;
use crate::storage::Storage;

impl Held for DataFile {
    fn held(&self) -> u64 {
        DataFile::held(self)
    }
}

/// Writes batches into a lake.
pub struct LakeWriter {
    data: Storage,
    errors: Storage,
    source_tag: String,
    options: FileOptions,
    router: Router,
    /// Open data files by folder.
    open_data: OpenFiles<DataFile>,
    /// Open dead-letter files by folder (one per day: few, never bounded).
    open_errors: HashMap<String, JsonFile>,
    /// Encodes JSON lines.
    json: JsonEncoder,
    line: Vec<u8>,
    folder: String,
    /// Counts batches, so a file maps a new batch's names once.
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
        LakeWriter {
            data: data.child(table),
            errors: errors.child(table),
            source_tag: file_tag(source),
            router: Router::new(options.partitions.clone(), &options.time_field),
            json: JsonEncoder::new(&options.columns),
            options,
            open_data: OpenFiles::new(MAX_OPEN_FILES),
            open_errors: HashMap::new(),
            line: Vec::with_capacity(1024),
            folder: String::new(),
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

    /// Write the kept records of a batch; those that do not fit the table
    /// are returned, by index, with why.
    fn write_kept(&mut self, batch: &Batch) -> io::Result<Vec<(usize, ConvertError)>> {
        let mut misfits = Vec::new();
        let every_field = ObjectWriter::new(batch.arena());
        for (index, record) in batch.records().iter().enumerate() {
            let Fate::Alive { fields, partition } = &record.fate else {
                continue;
            };
            if let Err(error) = self.write_row(batch, index, fields, partition, &every_field)? {
                misfits.push((index, error));
            }
        }
        for file in self.open_data.take_largest_past(MAX_HELD_BYTES) {
            self.complete(Zone::Data, file.close()?)?;
        }
        Ok(misfits)
    }

    /// Write one kept record into its partition's file, closing the file
    /// when full. The inner error is a record that does not fit.
    fn write_row(
        &mut self,
        batch: &Batch,
        index: usize,
        fields: &PackedFields,
        partition: &[(u32, Span)],
        every_field: &ObjectWriter,
    ) -> io::Result<Result<(), ConvertError>> {
        let arena = batch.arena();
        let position = batch.position(index);
        let row_index = self.records_before + index;
        if let Err(error) = self
            .router
            .folder(arena, fields, partition, &mut self.folder)
        {
            return Ok(Err(error));
        }
        if let Some(oldest) = self.open_data.make_room_for(&self.folder) {
            self.complete(Zone::Data, oldest.close()?)?;
        }
        let file = self.open_data.take_row(&self.folder, || {
            open_data_file(
                &self.data,
                &self.folder,
                &self.source_tag,
                position,
                &self.options,
            )
        })?;
        let appended = match file {
            DataFile::Json(file) => {
                self.line.clear();
                match self.json.encode(
                    arena,
                    fields,
                    self.batch_number,
                    every_field,
                    &mut self.line,
                ) {
                    Ok(()) => {
                        self.line.push(b'\n');
                        file.append(&self.line, position, row_index)
                            .map_err(AppendError::Io)
                    }
                    Err(error) => Err(AppendError::Misfit(error)),
                }
            }
            DataFile::Parquet(file) => {
                file.append(arena, fields, self.batch_number, position, row_index)
            }
        };
        let full = file.full(&self.options);
        match appended {
            Ok(()) => {}
            Err(AppendError::Misfit(error)) => return Ok(Err(error)),
            Err(AppendError::Io(error)) => return Err(error),
        }
        if full && let Some(file) = self.open_data.remove(&self.folder) {
            self.complete(Zone::Data, file.close()?)?;
        }
        Ok(Ok(()))
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
    ) -> Result<Vec<(String, String)>, ConvertError> {
        let Fate::Alive { fields, partition } = &batch.records()[index].fate else {
            return Err(ConvertError {
                code: "not-kept",
                reason: "the record was not kept".into(),
            });
        };
        let arena = batch.arena();
        self.router
            .folder(arena, fields, partition, &mut self.folder)?;
        line.clear();
        let every_field = ObjectWriter::new(arena);
        self.json
            .encode(arena, fields, self.batch_number + 1, &every_field, line)?;
        line.push(b'\n');
        Ok(partition_values(&self.folder))
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
        for file in self.open_data.drain() {
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

/// A new data file of the table's format in `folder`.
fn open_data_file(
    data: &Storage,
    folder: &str,
    source_tag: &str,
    first: &str,
    options: &FileOptions,
) -> io::Result<DataFile> {
    Ok(match options.format {
        Format::Jsonl => DataFile::Json(JsonFile::create(
            data,
            folder,
            source_tag,
            first,
            options.compression == Compression::Gzip,
        )?),
        Format::Parquet => DataFile::Parquet(Box::new(ParquetFile::create(
            data, folder, source_tag, first, options,
        )?)),
    })
}

impl Drop for LakeWriter {
    /// A writer dropped before it finished (its run failed) removes the
    /// temporary files of what it had open or held back, so a failed run
    /// leaves nothing behind in a local lake, not even hidden.
    fn drop(&mut self) {
        for file in self.open_data.drain() {
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
