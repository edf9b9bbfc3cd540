//! Sources: where records come from. Here, lines of a file or of standard
//! input, each line one record, read into batches.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::pipeline::batch::Batch;

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
    /// Whether the line in `line` ended in a newline, and in `\r\n`.
    ended_in_newline: bool,
    ended_in_cr: bool,
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
            ended_in_newline: false,
            ended_in_cr: false,
            arrival_micros,
        })
    }

    /// Fill `batch` with up to `max` lines. Returns the number read; 0 at
    /// the end of input. A final line without a newline is a record too.
    /// A line longer than the batch's record limit is never held whole: its
    /// start is kept (for the dead letter) and the rest skipped as it is
    /// read, so a 300 MB line costs about the limit in memory.
    ///
    /// The batch also ends once its records hold `max_bytes` (after at least
    /// one record): a thousand large events must not outgrow a plugin's
    /// memory.
    pub fn fill(&mut self, batch: &mut Batch, max: usize, max_bytes: usize) -> io::Result<usize> {
        let mut count = 0;
        let mut position = itoa::Buffer::new();
        let limit = batch.max_record_bytes();
        while count < max && (count == 0 || batch.payload_bytes() < max_bytes) {
            let Some(read) = self.read_line(limit)? else {
                break;
            };
            self.bytes_read += read;
            self.line_number += 1;
            let start = if self.line_number == 1 {
                self.line.len() - strip_bom(&self.line).len()
            } else {
                0
            };
            // The record's length in the input, without its line end, and
            // (when it was kept whole) where it ends in `line`.
            let ending = u64::from(self.ended_in_newline) + u64::from(self.ended_in_cr);
            let length = read - start as u64 - ending;
            let end = start + length.min(self.line.len() as u64 - start as u64) as usize;
            let position = position.format(self.line_number);
            if length > limit as u64 {
                let kept = utf8_prefix(&self.line[start..(start + limit).min(self.line.len())]);
                batch.push_too_large(kept, length, position, self.arrival_micros);
            } else {
                batch.push(&self.line[start..end], position, self.arrival_micros);
            }
            count += 1;
        }
        Ok(count)
    }

    /// Read one line into `self.line`, keeping at most `limit` + 2 bytes of
    /// it (the record, a carriage return and the newline; a byte-order mark
    /// of the first line counts toward it too). Returns the bytes the line
    /// took in the input, or `None` at the end.
    fn read_line(&mut self, limit: usize) -> io::Result<Option<u64>> {
        self.line.clear();
        self.ended_in_newline = false;
        self.ended_in_cr = false;
        let keep = limit.saturating_add(2 + BOM.len());
        let mut total = 0u64;
        let mut last = 0u8;
        loop {
            let buffer = self.reader.fill_buf()?;
            if buffer.is_empty() {
                break;
            }
            let (chunk, done) = match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => (&buffer[..=at], true),
                None => (buffer, false),
            };
            let room = keep.saturating_sub(self.line.len());
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if chunk.len() >= 2 {
                self.ended_in_cr = chunk[chunk.len() - 2] == b'\r';
            } else if chunk.len() == 1 {
                self.ended_in_cr = last == b'\r' && chunk[0] == b'\n';
            }
            last = *chunk.last().expect("not empty");
            let taken = chunk.len();
            total += taken as u64;
            self.reader.consume(taken);
            if done {
                self.ended_in_newline = true;
                break;
            }
        }
        if !self.ended_in_newline {
            self.ended_in_cr = false;
        }
        Ok((total > 0).then_some(total))
    }
}

/// The longest start of `bytes` that does not end inside a UTF-8 character
/// (a cut record's start stays text in its dead letter when it was text).
fn utf8_prefix(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes,
        Err(err) if err.error_len().is_none() => &bytes[..err.valid_up_to()],
        Err(_) => bytes,
    }
}

/// The UTF-8 byte-order mark some editors and Windows tools put before the
/// first line of a text file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `text` without a UTF-8 byte-order mark at its start: a file's first
/// record is not malformed because an editor marked the file as UTF-8.
pub fn strip_bom(text: &[u8]) -> &[u8] {
    text.strip_prefix(BOM).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::batch::Fate;

    fn read_all(bytes: &[u8], limit: usize) -> (Batch, LineSource) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.jsonl");
        std::fs::write(&path, bytes).unwrap();
        let mut source = LineSource::open(path.to_str().unwrap(), 0).unwrap();
        let mut batch = Batch::new("test").with_max_record_bytes(limit);
        source.fill(&mut batch, 1000, usize::MAX).unwrap();
        (batch, source)
    }

    fn payloads(batch: &Batch) -> Vec<Vec<u8>> {
        (0..batch.len())
            .map(|i| batch.payload(i).to_vec())
            .collect()
    }

    #[test]
    fn line_ends_and_a_byte_order_mark() {
        let (batch, source) = read_all(b"\xEF\xBB\xBF{\"a\":1}\r\n{\"b\":2}\n\r\n{\"c\":3}", 100);
        assert_eq!(
            payloads(&batch),
            [&b"{\"a\":1}"[..], b"{\"b\":2}", b"", b"{\"c\":3}"]
        );
        assert_eq!(source.bytes_read, 29);
    }

    #[test]
    fn an_oversize_line_is_refused_while_read_keeping_its_start() {
        let mut input = b"{\"a\":1}\n".to_vec();
        let huge = format!("{{\"blob\":\"{}\"}}", "é".repeat(5_000_000));
        input.extend_from_slice(huge.as_bytes());
        input.extend_from_slice(b"\r\n{\"b\":2}\n");
        let (batch, source) = read_all(&input, 1001);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.payload(0), b"{\"a\":1}");
        assert_eq!(batch.payload(2), b"{\"b\":2}");
        let Fate::Rejected(rejection) = &batch.records()[1].fate else {
            panic!("the huge line is rejected");
        };
        assert_eq!(rejection.code, "too-large");
        assert!(
            rejection
                .reason
                .contains(&format!("record of {} bytes", huge.len())),
            "{}",
            rejection.reason
        );
        // Its start, cut at a character's edge: text, at most the limit.
        let kept = batch.payload(1);
        assert!(kept.len() <= 1001 && kept.len() > 990, "{}", kept.len());
        assert!(std::str::from_utf8(kept).is_ok());
        assert!(huge.as_bytes().starts_with(kept));
        // Never held whole.
        assert!(
            source.line.capacity() < 64 * 1024,
            "{}",
            source.line.capacity()
        );
        assert_eq!(source.bytes_read, input.len() as u64);
    }

    #[test]
    fn a_batch_ends_at_its_bytes_as_well_as_its_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.jsonl");
        let line = format!("{{\"blob\":\"{}\"}}\n", "x".repeat(990));
        std::fs::write(&path, line.repeat(100)).unwrap();
        let mut source = LineSource::open(path.to_str().unwrap(), 0).unwrap();
        let mut sizes = Vec::new();
        loop {
            let mut batch = Batch::new("test");
            let read = source.fill(&mut batch, 1000, 10_000).unwrap();
            if read == 0 {
                break;
            }
            sizes.push(read);
        }
        // 1,000-byte records, 10,000 bytes a batch: ten a batch.
        assert_eq!(sizes, vec![10; 10]);
    }
}
