//! Sources: where records come from. Here, lines of a file or of standard
//! input, each line one record, read into batches.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::batch::Batch;

/// Reads lines into batches.
pub struct LineSource {
    reader: Box<dyn BufRead>,
    /// Name of the source: the file's path or `stdin`.
    pub name: String,
    /// Total bytes, when known (a file), for progress.
    pub total_bytes: Option<u64>,
    /// Bytes read so far.
    pub bytes_read: u64,
    line_number: u64,
    line: Vec<u8>,
    arrival_micros: i64,
}

impl LineSource {
    /// Open `path`, or standard input for `-`. The records of a file arrive
    /// when it was last modified, so reading the same file again gives the
    /// same arrival times (and the same dead-letter folders); those of
    /// standard input arrive at `now_micros`.
    pub fn open(path: &str, now_micros: i64) -> io::Result<LineSource> {
        let (reader, name, total_bytes, arrival_micros): (Box<dyn Read>, String, Option<u64>, i64) =
            if path == "-" {
                (Box::new(io::stdin()), "stdin".to_string(), None, now_micros)
            } else {
                let file = File::open(Path::new(path))?;
                let meta = file.metadata()?;
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                    .map_or(now_micros, |since| since.as_micros() as i64);
                (Box::new(file), path.to_string(), Some(meta.len()), modified)
            };
        Ok(LineSource {
            reader: Box::new(BufReader::with_capacity(1024 * 1024, reader)),
            name,
            total_bytes,
            bytes_read: 0,
            line_number: 0,
            line: Vec::new(),
            arrival_micros,
        })
    }

    /// Fill `batch` with up to `max` lines. Returns the number read; 0 at
    /// the end of input. A final line without a newline is a record too.
    pub fn fill(&mut self, batch: &mut Batch, max: usize) -> io::Result<usize> {
        let mut count = 0;
        let mut position = itoa::Buffer::new();
        while count < max {
            self.line.clear();
            let read = self.reader.read_until(b'\n', &mut self.line)?;
            if read == 0 {
                break;
            }
            self.bytes_read += read as u64;
            self.line_number += 1;
            let mut end = self.line.len();
            if self.line[..end].ends_with(b"\n") {
                end -= 1;
            }
            if self.line[..end].ends_with(b"\r") {
                end -= 1;
            }
            batch.push(
                &self.line[..end],
                position.format(self.line_number),
                self.arrival_micros,
            );
            count += 1;
        }
        Ok(count)
    }
}
