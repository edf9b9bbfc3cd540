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
