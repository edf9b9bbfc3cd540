//! One batch of a stream shard's records into the lake, and how far its
//! output is durable: what the Lambda host reports as `batchItemFailures`
//! and what a stream consumer may checkpoint.
//!
//! The batch's files are written together. When some cannot be written, the
//! batch is durable up to the first *unit* (a stream record: one Kinesis
//! record, which may hold many aggregated user records) that has output in
//! a file that failed, or that shares a file with a later unit that will be
//! retried. Files written that hold retried units are removed again, so the
//! retry, which writes them anew, cannot duplicate their rows; so are the
//! files that failed, in case a write reported as failed did land. File
//! names come from the first and last positions of their rows, so a retry
//! of exactly the same records replaces any file that could not be removed;
//! a retry of other records (Lambda splitting a failed batch) does not.

use crate::lake::LakeWriter;
use crate::lake::publish::{FileRecord, Zone};

/// What writing one batch achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// The first unit whose output is not durable: it and every unit after
    /// it must be processed again. `None` when the whole batch is durable.
    pub retry_from: Option<usize>,
    /// Data files written and kept.
    pub files: u64,
    /// Dead-letter files written and kept.
    pub error_files: u64,
    /// Bytes in the files kept.
    pub bytes: u64,
    /// Each file that could not be written, with why; or why none could.
    pub failures: Vec<String>,
    /// Files written and then removed because they hold retried units.
    pub withdrawn: u64,
    /// Files that should have been removed and could not be, with why.
    pub not_withdrawn: Vec<String>,
}

/// Finish `writer` (a [`holding`](LakeWriter::holding) writer given one
/// batch), publish its files, and find how far they are durable. `unit_of`
/// gives the unit of each record of the batch, in order; a file not written
/// by `deadline` counts as failed.
pub fn commit(
    writer: LakeWriter,
    unit_of: &[usize],
    deadline: Option<std::time::Instant>,
) -> Committed {
    let held = match writer.finish_held() {
        Ok(held) => held,
        Err(err) => {
            return Committed {
                retry_from: (!unit_of.is_empty()).then_some(0),
                failures: vec![format!("could not build the batch's files: {err}")],
                ..Committed::default()
            };
        }
    };
    let published = held.publish(deadline);
    let spans: Vec<FileSpan> = published
        .files
        .iter()
        .map(|(record, result)| FileSpan {
            first: unit_of.get(record.first_index).copied().unwrap_or(0),
            last: unit_of
                .get(record.last_index)
                .copied()
                .unwrap_or(usize::MAX),
            written: result.is_ok(),
        })
        .collect();
    let retry_from = retry_point(&spans);
    let mut committed = Committed {
        retry_from,
        ..Committed::default()
    };
    for ((record, result), span) in published.files.iter().zip(&spans) {
        let retried = retry_from.is_some_and(|point| span.last >= point);
        match result {
            Ok(bytes) if !retried => {
                count(&mut committed, record, *bytes);
                continue;
            }
            Ok(_) => {}
            // A write reported as failed may still have landed (its answer
            // lost after the server stored it): it is removed too.
            Err(err) => committed.failures.push(err.clone()),
        }
        // Withdrawing stops at the deadline too, so the answer reaches
        // Lambda in time; what is left is overwritten by the retry (names
        // carry the file's first record alone) and reported here.
        if deadline.is_some_and(|deadline| std::time::Instant::now() >= deadline) {
            if result.is_ok() {
                committed.not_withdrawn.push(format!(
                    "{}: not withdrawn before the deadline",
                    published.location(record)
                ));
            }
            continue;
        }
        match published.delete(record) {
            Ok(()) => committed.withdrawn += u64::from(result.is_ok()),
            Err(err) if result.is_ok() => committed
                .not_withdrawn
                .push(format!("{}: {err}", published.location(record))),
            Err(_) => {}
        }
    }
    committed
}

fn count(committed: &mut Committed, record: &FileRecord, bytes: u64) {
    match record.zone {
        Zone::Data => committed.files += 1,
        Zone::DeadLetters => committed.error_files += 1,
    }
    committed.bytes += bytes;
}

/// The units a file holds rows of, and whether it was written.
#[derive(Clone, Copy, Debug)]
pub struct FileSpan {
    /// The unit of its first row.
    pub first: usize,
    /// The unit of its last row.
    pub last: usize,
    /// Whether it is durable.
    pub written: bool,
}

/// The first unit to retry, or `None` when every file was written.
///
/// It starts at the first unit of the earliest failed file. A written file
/// that holds rows of units both before and from that point cannot stay
/// (its later rows would be written twice) nor go (its earlier rows would
/// be lost), so the point moves back to its first unit; and so on until no
/// written file straddles it.
pub fn retry_point(files: &[FileSpan]) -> Option<usize> {
    let mut point = files
        .iter()
        .filter(|file| !file.written)
        .map(|file| file.first)
        .min()?;
    while let Some(earlier) = files
        .iter()
        .filter(|file| file.written && file.first < point && file.last >= point)
        .map(|file| file.first)
        .min()
    {
        point = earlier;
    }
    Some(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(first: usize, last: usize, written: bool) -> FileSpan {
        FileSpan {
            first,
            last,
            written,
        }
    }

    #[test]
    fn all_written_means_nothing_to_retry() {
        assert_eq!(retry_point(&[span(0, 9, true), span(3, 4, true)]), None);
        assert_eq!(retry_point(&[]), None);
    }

    #[test]
    fn the_retry_starts_at_the_first_failed_file() {
        // Two days, in order: the first day's file stands.
        assert_eq!(retry_point(&[span(0, 4, true), span(5, 9, false)]), Some(5));
        assert_eq!(
            retry_point(&[span(0, 4, false), span(5, 9, false)]),
            Some(0)
        );
        assert_eq!(retry_point(&[span(0, 4, false), span(5, 9, true)]), Some(0));
    }

    #[test]
    fn a_written_file_that_straddles_the_point_moves_it_back() {
        // Interleaved partitions: the file of units 0..8 holds units past 5.
        assert_eq!(retry_point(&[span(0, 8, true), span(5, 9, false)]), Some(0));
        // And again: 7..9 fails, 3..8 straddles, 1..4 straddles 3.
        assert_eq!(
            retry_point(&[
                span(0, 0, true),
                span(1, 4, true),
                span(3, 8, true),
                span(7, 9, false)
            ]),
            Some(1)
        );
        // A written file wholly after the point does not move it.
        assert_eq!(retry_point(&[span(2, 3, false), span(5, 9, true)]), Some(2));
    }
}
