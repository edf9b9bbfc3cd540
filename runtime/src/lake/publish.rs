//! Files a writer completed but kept back (the writer of one Kinesis
//! batch), published together, and what became of each: the commit of a
//! stream batch decides from that what is durable.

use std::io;

use crate::storage::{Body, Location, Storage};

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
    pub(crate) body: Body,
    pub(crate) content_type: &'static str,
}

/// The files of a holding writer, to publish.
pub struct HeldFiles {
    /// The files, in the order they were completed.
    pub files: Vec<HeldFile>,
    pub(crate) data: Storage,
    pub(crate) errors: Storage,
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::lake::LakeWriter;
    use crate::lake::format::{Compression, FileOptions, Format};
    use crate::pipeline::batch::{Batch, Fate};
    use crate::storage::Storage;

    fn by_date() -> FileOptions {
        FileOptions {
            format: Format::Jsonl,
            compression: Compression::None,
            columns: Arc::from(Vec::new()),
            max_rows: 1_000,
            max_bytes: 1 << 20,
            partitions: ["year", "month", "day"].map(String::from).into(),
            time_field: "timestamp".into(),
        }
    }

    fn visible_files(dir: &std::path::Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut folders = vec![dir.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                    found.push(path.strip_prefix(dir).unwrap().display().to_string());
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn a_holding_writer_publishes_only_when_told_and_says_what_landed() {
        let lake = tempfile::tempdir().unwrap();
        let data = Storage::Local(lake.path().join("data"));
        let errors = Storage::Local(lake.path().join("errors"));
        let mut batch = Batch::new("shard-1");
        for (position, line) in [
            ("10", r#"{"timestamp":"2026-02-19T10:00:00Z","n":1}"#),
            ("11", r#"{"timestamp":"2026-02-20T10:00:00Z","n":2}"#),
            ("12", r#"{"timestamp":"2026-02-19T11:00:00Z","n":3}"#),
            ("13", r#"{"n":4}"#),
        ] {
            batch.push(line.as_bytes(), position, 0);
        }
        let mut writer = LakeWriter::new(&data, &errors, "events", "shard-1", by_date()).holding();
        writer.write(&mut batch).unwrap();
        // The undatable event became a reject of the host's.
        assert!(matches!(&batch.records()[3].fate, Fate::Rejected(r) if r.code == "bad-partition"));
        let held = writer.finish_held().unwrap();
        assert!(
            visible_files(lake.path()).is_empty(),
            "nothing is visible before publishing"
        );
        let mut records: Vec<_> = held.files.iter().map(|file| file.record.clone()).collect();
        records.sort_by(|a, b| a.key.cmp(&b.key));
        let keys: Vec<(Zone, &str, u64)> = records
            .iter()
            .map(|record| (record.zone, record.key.as_str(), record.rows))
            .collect();
        assert_eq!(
            keys,
            [
                (
                    Zone::DeadLetters,
                    "dt=1970-01-01/part-shard-1-000000000013-000000000013.jsonl",
                    1
                ),
                (
                    Zone::Data,
                    "year=2026/month=02/day=19/part-shard-1-000000000010-000000000012.jsonl",
                    2
                ),
                (
                    Zone::Data,
                    "year=2026/month=02/day=20/part-shard-1-000000000011-000000000011.jsonl",
                    1
                ),
            ]
        );
        let published = held.publish(None);
        assert!(
            published.files.iter().all(|(_, result)| result.is_ok()),
            "{:?}",
            published.files
        );
        assert_eq!(visible_files(lake.path()).len(), 3);
        let (day_19, _) = published
            .files
            .iter()
            .find(|(record, _)| record.key.contains("day=19"))
            .unwrap();
        assert_eq!((day_19.first_index, day_19.last_index), (0, 2));
        published.delete(day_19).unwrap();
        assert_eq!(visible_files(lake.path()).len(), 2);
        assert!(
            published
                .location(day_19)
                .to_string()
                .ends_with(&day_19.key)
        );
    }
}
