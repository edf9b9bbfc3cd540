//! How the lake names its files: `part-<source>-<first>-<last>.<ext>`
//! under the partition's folder, after the input and the positions of the
//! rows inside, so writing the same input again replaces the same files.
//! Files are built under a hidden temporary name until published.

use std::io;

use crate::storage::{Body, Storage};

/// Where a file goes and which rows it holds.
pub(crate) struct FileName {
    /// Its folder, relative to the table.
    pub(crate) dir: String,
    pub(crate) first: String,
    pub(crate) last: String,
    pub(crate) rows: u64,
    /// Indices of the first and last rows among the records of every batch
    /// the writer was given: what a holding writer reports.
    pub(crate) first_index: usize,
    pub(crate) last_index: usize,
}

impl FileName {
    /// The name of a file and the body it is built in, hidden until published.
    pub(crate) fn create(
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

    pub(crate) fn row(&mut self, position: &str, index: usize) {
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
    /// last rows, or its first alone (see [`LakeWriter::named_by_first_row`](super::LakeWriter::named_by_first_row)).
    pub(crate) fn key(&self, source_tag: &str, extension: &str, first_only: bool) -> String {
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

/// A source name as it appears in file names: the stem of its last path
/// component (`events.jsonl` names files `part-events-…`), made safe.
pub(crate) fn file_tag(source: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_positions_sort_as_numbers_and_others_are_made_safe() {
        assert_eq!(pad("42"), "000000000042");
        assert_eq!(pad("123456789012"), "123456789012");
        assert_eq!(pad("1234567890123"), "1234567890123");
        // A Kinesis sequence number or a key with a slash stays whole, safe.
        assert_eq!(pad("shard-0/7"), "shard-0_7");
        assert_eq!(pad(""), "");
        let mut names = ["9", "10", "100"].map(pad);
        names.sort();
        assert_eq!(names, ["000000000009", "000000000010", "000000000100"]);
    }

    #[test]
    fn a_source_is_tagged_by_its_file_stem() {
        assert_eq!(file_tag("data/events.jsonl"), "events");
        assert_eq!(file_tag(r"C:\in\day one.json.gz"), "day_one");
        assert_eq!(file_tag("s3://bucket/raw/2026/02/19/obj-1"), "obj-1");
        assert_eq!(file_tag("-"), "-");
        assert_eq!(file_tag(".hidden"), "input");
        assert_eq!(file_tag("dir/"), "input");
    }

    #[test]
    fn a_file_is_named_after_the_rows_it_holds() {
        let lake = tempfile::tempdir().unwrap();
        let storage = Storage::Local(lake.path().to_path_buf());
        let (mut name, body) =
            FileName::create(&storage, "day=01", "events", "7", "jsonl").unwrap();
        // The record that opened the file did not fit: the name comes from
        // the rows written.
        name.row("8", 3);
        name.row("11", 6);
        assert_eq!(name.rows, 2);
        assert_eq!((name.first_index, name.last_index), (3, 6));
        assert_eq!(
            name.key("events", "jsonl", false),
            "day=01/part-events-000000000008-000000000011.jsonl"
        );
        assert_eq!(
            name.key("events", "jsonl", true),
            "day=01/part-events-000000000008.jsonl"
        );
        storage.discard(body).unwrap();
    }

    #[test]
    fn two_files_for_the_same_rows_build_in_different_temporary_files() {
        let lake = tempfile::tempdir().unwrap();
        let storage = Storage::Local(lake.path().to_path_buf());
        let (_, first) = FileName::create(&storage, "d", "events", "1", "jsonl").unwrap();
        let (_, second) = FileName::create(&storage, "d", "events", "1", "jsonl").unwrap();
        let temps: Vec<_> = std::fs::read_dir(lake.path().join("d"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(temps.len(), 2, "{temps:?}");
        storage.discard(first).unwrap();
        storage.discard(second).unwrap();
    }
}
