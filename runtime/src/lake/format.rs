//! The file formats of the lake: JSON lines (plain or gzip) and Parquet
//! for kept events (dead letters are in [`super::dead_letter`]).
//! Each open file knows its rows, its bytes and when it is full; closing
//! one hands back its body, ready to publish.

use std::io::{self, Write};
use std::sync::Arc;

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::Deserialize;
use weir_plugin::layout::PackedFields;

use crate::lake::columns::{ColumnSpec, ColumnType, Columns, ConvertError};
use crate::lake::naming::FileName;
use crate::pipeline::decode::Arena;
use crate::pipeline::encode::ObjectWriter;
use crate::storage::{Body, Storage};

/// Output format of kept events.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON lines, one event per line, every field of the event.
    #[default]
    Jsonl,
    /// Parquet with the declared columns.
    Parquet,
}

/// Compression of the data files.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Parquet: Snappy, fast, what Athena and most engines expect. The
    /// Parquet default.
    Snappy,
    /// Parquet: Zstandard, level 3: smaller files, a little more CPU.
    Zstd,
    /// JSON lines: gzip (`.jsonl.gz`), which Athena reads as it is.
    Gzip,
    /// None. The JSON-lines default.
    None,
}

/// Rows gathered in Arrow columns before they go to the Parquet writer: one
/// row group's worth, so a partition holds at most this many rows in memory.
pub(crate) const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Bytes of gathered rows after which they go to the Parquet writer even
/// short of [`ROW_GROUP_ROWS`]: wide rows must not pile up in memory, and an
/// Arrow string column cannot pass 2 GiB.
pub(crate) const ROW_GROUP_BYTES: usize = 64 << 20;

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
            if column.kind == ColumnType::Timestamp {
                builder = builder.set_column_dictionary_enabled(
                    parquet::schema::types::ColumnPath::from(column.name.as_str()),
                    false,
                );
            }
        }
        builder.build()
    }
}

/// A file complete but not yet published.
pub(crate) struct Closed {
    pub(crate) name: FileName,
    pub(crate) body: Body,
    pub(crate) extension: &'static str,
}

/// The media type an object of a kind is stored with.
pub(crate) fn content_type(extension: &str) -> &'static str {
    match extension {
        "parquet" => "application/vnd.apache.parquet",
        "jsonl" => "application/x-ndjson",
        _ => "application/gzip",
    }
}

pub(crate) struct JsonFile {
    pub(crate) name: FileName,
    writer: JsonSink,
    /// Bytes of JSON written (before any compression).
    pub(crate) bytes: u64,
}

/// Where JSON lines go: straight to the body, or through gzip.
enum JsonSink {
    Plain(Body),
    Gzip(Box<flate2::write::GzEncoder<Body>>),
}

impl JsonFile {
    pub(crate) fn create(
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

    pub(crate) fn append(&mut self, line: &[u8], position: &str, index: usize) -> io::Result<()> {
        match &mut self.writer {
            JsonSink::Plain(writer) => writer.write_all(line)?,
            JsonSink::Gzip(writer) => writer.write_all(line)?,
        }
        self.bytes += line.len() as u64;
        self.name.row(position, index);
        Ok(())
    }

    pub(crate) fn close(self) -> io::Result<Closed> {
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

pub(crate) struct ParquetFile {
    name: FileName,
    writer: ArrowWriter<Body>,
    columns: Columns,
    batch_number: u64,
}

fn parquet_error(err: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(err)
}

impl ParquetFile {
    pub(crate) fn create(
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

    /// Append a kept event's row, converted to the table's columns, from
    /// the batch numbered `batch_number` (its names are mapped once per
    /// batch). A row group's worth of rows goes on to the Parquet writer.
    pub(crate) fn append(
        &mut self,
        arena: &Arena,
        fields: &PackedFields,
        batch_number: u64,
        position: &str,
        index: usize,
    ) -> Result<(), AppendError> {
        if self.batch_number != batch_number {
            self.columns.begin_batch(arena);
            self.batch_number = batch_number;
        }
        self.columns
            .append(arena, fields)
            .map_err(AppendError::Misfit)?;
        self.name.row(position, index);
        if self.columns.rows() >= ROW_GROUP_ROWS || self.columns.bytes() >= ROW_GROUP_BYTES {
            self.flush_rows().map_err(AppendError::Io)?;
        }
        Ok(())
    }

    fn bytes(&self) -> u64 {
        (self.writer.bytes_written() + self.writer.in_progress_size()) as u64
    }

    pub(crate) fn close(mut self) -> io::Result<Closed> {
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

pub(crate) enum DataFile {
    Json(JsonFile),
    Parquet(Box<ParquetFile>),
}

impl DataFile {
    /// Bytes the file holds: written so far, and rows gathered for Parquet.
    pub(crate) fn held(&self) -> u64 {
        match self {
            DataFile::Json(file) => file.bytes,
            DataFile::Parquet(file) => file.bytes() + file.columns.bytes() as u64,
        }
    }

    pub(crate) fn full(&self, options: &FileOptions) -> bool {
        let (rows, bytes) = match self {
            DataFile::Json(file) => (file.name.rows, file.bytes),
            DataFile::Parquet(file) => (file.name.rows, file.bytes()),
        };
        rows >= options.max_rows || bytes >= options.max_bytes
    }

    pub(crate) fn close(self) -> io::Result<Closed> {
        match self {
            DataFile::Json(file) => file.close(),
            DataFile::Parquet(file) => file.close(),
        }
    }
}

/// Why a row was not appended to a file.
pub(crate) enum AppendError {
    /// The event does not fit the table's columns: it becomes a reject.
    Misfit(ConvertError),
    /// The file could not be written.
    Io(io::Error),
}

/// Encodes kept events as JSON lines: every field as it came, or only the
/// table's declared columns, converted to their types.
pub(crate) struct JsonEncoder {
    /// The declared columns' converter, and the batch whose names it last
    /// mapped; none when the table declares no columns.
    columns: Option<(Columns, u64)>,
}

impl JsonEncoder {
    pub(crate) fn new(columns: &Arc<[ColumnSpec]>) -> JsonEncoder {
        JsonEncoder {
            columns: (!columns.is_empty()).then(|| (Columns::new(columns.clone()), 0)),
        }
    }

    /// Append the line of a kept event of batch `batch_number` to `line`
    /// (without its newline); `every_field` writes events of that batch
    /// whole, when the table declares no columns.
    pub(crate) fn encode(
        &mut self,
        arena: &Arena,
        fields: &PackedFields,
        batch_number: u64,
        every_field: &ObjectWriter,
        line: &mut Vec<u8>,
    ) -> Result<(), ConvertError> {
        match &mut self.columns {
            Some((columns, mapped)) => {
                if *mapped != batch_number {
                    columns.begin_batch(arena);
                    *mapped = batch_number;
                }
                columns.write_json(arena, fields, line)
            }
            None => {
                every_field.write(line, fields);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::Arc;

    use super::*;

    fn options(format: Format, max_rows: u64, max_bytes: u64) -> FileOptions {
        FileOptions {
            format,
            compression: Compression::None,
            columns: Arc::from(Vec::new()),
            max_rows,
            max_bytes,
            partitions: Arc::from(Vec::new()),
            time_field: "timestamp".into(),
        }
    }

    #[test]
    fn a_gzip_file_holds_its_lines_and_counts_them_before_compression() {
        let lake = tempfile::tempdir().unwrap();
        let storage = Storage::Local(lake.path().to_path_buf());
        let mut file = JsonFile::create(&storage, "day=19", "events", "1", true).unwrap();
        file.append(b"{\"a\":1}\n", "1", 0).unwrap();
        file.append(b"{\"a\":2}\n", "2", 1).unwrap();
        assert_eq!((file.name.rows, file.bytes), (2, 16));
        let closed = file.close().unwrap();
        assert_eq!(closed.extension, "jsonl.gz");
        let key = closed.name.key("events", closed.extension, false);
        storage
            .publish(closed.body, &key, content_type(closed.extension))
            .unwrap();
        storage.finish().unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(lake.path().join(&key)).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(content_type("jsonl.gz"), "application/gzip");
    }

    #[test]
    fn a_file_is_full_past_its_rows_or_its_bytes() {
        let lake = tempfile::tempdir().unwrap();
        let storage = Storage::Local(lake.path().to_path_buf());
        let by_rows = options(Format::Jsonl, 2, u64::MAX);
        let by_bytes = options(Format::Jsonl, u64::MAX, 10);
        let mut file =
            DataFile::Json(JsonFile::create(&storage, "d", "events", "1", false).unwrap());
        let DataFile::Json(json) = &mut file else {
            unreachable!()
        };
        json.append(b"{\"n\":1}\n", "1", 0).unwrap();
        assert!(!file.full(&by_rows) && !file.full(&by_bytes));
        let DataFile::Json(json) = &mut file else {
            unreachable!()
        };
        json.append(b"{\"n\":2}\n", "2", 1).unwrap();
        assert!(file.full(&by_rows) && file.full(&by_bytes));
        assert_eq!(file.held(), 16);
        storage.discard(file.close().unwrap().body).unwrap();
    }

    #[test]
    fn parquet_compression_and_timestamp_dictionaries() {
        let specs: Vec<ColumnSpec> = serde_json::from_str(
            r#"[{"name": "timestamp", "type": "timestamp"}, {"name": "user_id", "type": "string"}]"#,
        )
        .unwrap();
        let mut zstd = options(Format::Parquet, 1, 1);
        zstd.compression = Compression::Zstd;
        zstd.columns = Arc::from(specs);
        let properties = zstd.parquet_properties();
        let timestamp = parquet::schema::types::ColumnPath::from("timestamp");
        let user = parquet::schema::types::ColumnPath::from("user_id");
        assert!(matches!(
            properties.compression(&user),
            ParquetCompression::ZSTD(_)
        ));
        assert!(
            !properties.dictionary_enabled(&timestamp),
            "event times are nearly all distinct"
        );
        assert!(properties.dictionary_enabled(&user));
        assert_eq!(properties.max_row_group_row_count(), Some(ROW_GROUP_ROWS));
    }
}
