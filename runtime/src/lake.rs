//! The lake in a local folder: kept events as JSON lines under Hive-style
//! partition folders, rejected events in the dead-letter zone.
//!
//! ```text
//! <location>/<table>/year=2026/month=02/day=19/part-<source>-<first>-<last>.jsonl
//! <dead letters>/<table>/dt=2026-02-19/part-<source>-<first>-<last>.jsonl
//! ```
//!
//! Names come from the input's identity (source, first and last position of
//! the rows in the file), so writing the same input again replaces the same
//! files instead of adding to them. A file is written under a hidden name and
//! renamed when complete: readers never see half a file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::batch::{Batch, Fate, Rejection};
use crate::encode::{ObjectWriter, write_json_string};

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

/// Writes batches into a lake folder.
pub struct LakeWriter {
    table_dir: PathBuf,
    errors_dir: PathBuf,
    source_tag: String,
    max_rows: u64,
    data: HashMap<String, OpenFile>,
    errors: HashMap<String, OpenFile>,
    line: Vec<u8>,
    stats: WriteStats,
}

struct OpenFile {
    dir: PathBuf,
    temp: PathBuf,
    writer: BufWriter<File>,
    first: String,
    last: String,
    rows: u64,
    bytes: u64,
}

impl LakeWriter {
    /// A writer for `table` under `location`, dead letters under
    /// `dead_letter/<table>`, naming files after `source`.
    pub fn new(
        location: &Path,
        dead_letter: &Path,
        table: &str,
        source: &str,
        max_rows: u64,
    ) -> Self {
        LakeWriter {
            table_dir: location.join(table),
            errors_dir: dead_letter.join(table),
            source_tag: file_tag(source),
            max_rows,
            data: HashMap::new(),
            errors: HashMap::new(),
            line: Vec::with_capacity(1024),
            stats: WriteStats::default(),
        }
    }

    /// Write the kept and rejected records of a batch that went through the
    /// pipeline. Dropped records are only counted, by the caller.
    pub fn write(&mut self, batch: &Batch) -> io::Result<()> {
        let writer = ObjectWriter::new(batch.arena());
        for (index, record) in batch.records().iter().enumerate() {
            let position = batch.position(index);
            self.line.clear();
            let (files, dir, key) = match &record.fate {
                Fate::Alive { fields, partition } => {
                    writer.write(&mut self.line, fields);
                    let mut key = String::new();
                    batch.partition_path(partition, &mut key);
                    (&mut self.data, &self.table_dir, key)
                }
                Fate::Rejected(rejection) => {
                    let dt = weir_plugin::time::Timestamp::from_unix_micros(record.arrival_micros);
                    write_dead_letter(
                        &mut self.line,
                        batch.payload(index),
                        rejection,
                        &batch.source,
                        position,
                        &dt.to_rfc3339(),
                    );
                    (
                        &mut self.errors,
                        &self.errors_dir,
                        format!("dt={}", dt.date_string()),
                    )
                }
                Fate::Dropped { .. } => continue,
            };
            self.line.push(b'\n');
            let file = match files.get_mut(&key) {
                Some(file) => file,
                None => {
                    let dir = if key.is_empty() {
                        dir.clone()
                    } else {
                        dir.join(&key)
                    };
                    let file = OpenFile::create(dir, &self.source_tag, position)?;
                    files.entry(key.clone()).or_insert(file)
                }
            };
            file.writer.write_all(&self.line)?;
            file.rows += 1;
            file.bytes += self.line.len() as u64;
            file.last.clear();
            file.last.push_str(position);
            if file.rows >= self.max_rows {
                let file = files.remove(&key).expect("present");
                let bytes = file.finish(&self.source_tag)?;
                self.stats.bytes += bytes;
                if matches!(record.fate, Fate::Alive { .. }) {
                    self.stats.files += 1;
                } else {
                    self.stats.error_files += 1;
                }
            }
        }
        Ok(())
    }

    /// Complete every open file and say what was written.
    pub fn finish(mut self) -> io::Result<WriteStats> {
        for (_, file) in self.data.drain() {
            self.stats.bytes += file.finish(&self.source_tag)?;
            self.stats.files += 1;
        }
        for (_, file) in self.errors.drain() {
            self.stats.bytes += file.finish(&self.source_tag)?;
            self.stats.error_files += 1;
        }
        Ok(self.stats)
    }
}

impl OpenFile {
    fn create(dir: PathBuf, source_tag: &str, first: &str) -> io::Result<OpenFile> {
        std::fs::create_dir_all(&dir)?;
        let temp = dir.join(format!(".part-{source_tag}-{}.jsonl.tmp", pad(first)));
        let writer = BufWriter::with_capacity(256 * 1024, File::create(&temp)?);
        Ok(OpenFile {
            dir,
            temp,
            writer,
            first: first.to_string(),
            last: first.to_string(),
            rows: 0,
            bytes: 0,
        })
    }

    /// Flush, sync and rename to the final name. Returns the bytes written.
    fn finish(self, source_tag: &str) -> io::Result<u64> {
        let file = self.writer.into_inner().map_err(|err| err.into_error())?;
        file.sync_all()?;
        let name = format!(
            "part-{source_tag}-{}-{}.jsonl",
            pad(&self.first),
            pad(&self.last)
        );
        std::fs::rename(&self.temp, self.dir.join(name))?;
        Ok(self.bytes)
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
