//! The set of files a writer has open, one per partition folder, and the
//! rules that close them early: past [`MAX_OPEN_FILES`] partitions the one
//! that took a row longest ago is closed, and past [`MAX_HELD_BYTES`] the
//! largest are, so a backfill over years of days holds bounded memory.

use std::collections::HashMap;

/// Most partitions with a file open at once. A backfill over years of days
/// would otherwise hold a file (and, on S3, its body in memory) per day:
/// past this, the partition used longest ago is closed and published, and a
/// new file begins if it gets more rows.
pub const MAX_OPEN_FILES: usize = 128;

/// Most bytes the open files may hold before the largest are closed: on S3
/// each open file's body is in memory until it is published.
pub const MAX_HELD_BYTES: u64 = 512 << 20;

/// What the set needs to know of an open file.
pub trait Held {
    /// Bytes the file holds in memory or on its way out.
    fn held(&self) -> u64;
}

/// Open files by folder, each with when it last took a row.
pub struct OpenFiles<F> {
    files: HashMap<String, (F, u64)>,
    /// Rows taken so far: the clock of `files`' last use.
    clock: u64,
    /// Most files open at once.
    max_open: usize,
}

impl<F: Held> OpenFiles<F> {
    /// An empty set that keeps at most `max_open` files open.
    pub fn new(max_open: usize) -> Self {
        OpenFiles {
            files: HashMap::new(),
            clock: 0,
            max_open: max_open.max(1),
        }
    }

    /// Make room for a row of `folder`: when it has no open file and the
    /// set is full, the file that took a row longest ago is taken out, to
    /// be closed by the caller.
    pub fn make_room_for(&mut self, folder: &str) -> Option<F> {
        if self.files.contains_key(folder) || self.files.len() < self.max_open {
            return None;
        }
        let oldest = self
            .files
            .iter()
            .min_by_key(|(_, (_, last_used))| *last_used)
            .map(|(key, _)| key.clone())?;
        self.remove(&oldest)
    }

    /// The file of `folder`, opened with `open` if it has none, marked as
    /// used now. Call [`OpenFiles::make_room_for`] first to keep the bound.
    pub fn take_row<E>(
        &mut self,
        folder: &str,
        open: impl FnOnce() -> Result<F, E>,
    ) -> Result<&mut F, E> {
        self.clock += 1;
        if !self.files.contains_key(folder) {
            let file = open()?;
            self.files.insert(folder.to_string(), (file, 0));
        }
        let (file, last_used) = self.files.get_mut(folder).expect("inserted above");
        *last_used = self.clock;
        Ok(file)
    }

    /// Take the file of `folder` out of the set.
    pub fn remove(&mut self, folder: &str) -> Option<F> {
        self.files.remove(folder).map(|(file, _)| file)
    }

    /// Take out the largest files until those left hold at most `limit`
    /// bytes together; of equal ones, the first folder by name goes first.
    pub fn take_largest_past(&mut self, limit: u64) -> Vec<F> {
        let mut held: u64 = self.files.values().map(|(file, _)| file.held()).sum();
        let mut taken = Vec::new();
        while held > limit {
            let Some((key, bytes)) = self
                .files
                .iter()
                .map(|(key, (file, _))| (key, file.held()))
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(key, bytes)| (key.clone(), bytes))
            else {
                break;
            };
            taken.extend(self.remove(&key));
            held -= bytes;
        }
        taken
    }

    /// Take every file out.
    pub fn drain(&mut self) -> Vec<F> {
        self.files.drain().map(|(_, (file, _))| file).collect()
    }

    /// Files open.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file is open.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that is only its size and its folder.
    #[derive(Debug, PartialEq)]
    struct Fake(&'static str, u64);

    impl Held for Fake {
        fn held(&self) -> u64 {
            self.1
        }
    }

    fn row(files: &mut OpenFiles<Fake>, folder: &'static str, evicted: &mut Vec<&'static str>) {
        evicted.extend(files.make_room_for(folder).map(|file| file.0));
        files
            .take_row(folder, || Ok::<_, ()>(Fake(folder, 0)))
            .unwrap()
            .1 += 10;
    }

    #[test]
    fn past_the_bound_the_least_recently_used_file_is_closed() {
        let mut files = OpenFiles::new(2);
        let mut evicted = Vec::new();
        row(&mut files, "day=01", &mut evicted);
        row(&mut files, "day=02", &mut evicted);
        row(&mut files, "day=01", &mut evicted);
        assert!(evicted.is_empty());
        row(&mut files, "day=03", &mut evicted);
        assert_eq!(evicted, ["day=02"], "day=01 took a row after day=02");
        row(&mut files, "day=01", &mut evicted);
        row(&mut files, "day=04", &mut evicted);
        assert_eq!(evicted, ["day=02", "day=03"]);
        assert_eq!(files.len(), 2);
        let mut left: Vec<_> = files.drain().into_iter().map(|f| f.0).collect();
        left.sort();
        assert_eq!(left, ["day=01", "day=04"]);
        assert!(files.is_empty());
    }

    #[test]
    fn a_file_already_open_never_evicts_another() {
        let mut files = OpenFiles::new(1);
        let mut evicted = Vec::new();
        for _ in 0..5 {
            row(&mut files, "only", &mut evicted);
        }
        assert!(evicted.is_empty());
        assert_eq!(files.remove("only"), Some(Fake("only", 50)));
    }

    #[test]
    fn a_failed_open_leaves_the_set_as_it_was() {
        let mut files: OpenFiles<Fake> = OpenFiles::new(4);
        let failed = files.take_row("x", || Err("disk full"));
        assert_eq!(failed.err(), Some("disk full"));
        assert!(files.is_empty());
    }

    #[test]
    fn past_the_byte_limit_the_largest_files_close_first() {
        let mut files = OpenFiles::new(10);
        let mut evicted = Vec::new();
        for (folder, rows) in [("a", 3), ("b", 1), ("c", 3), ("d", 2)] {
            for _ in 0..rows {
                row(&mut files, folder, &mut evicted);
            }
        }
        // 30 + 10 + 30 + 20 = 90 bytes held.
        assert!(files.take_largest_past(90).is_empty());
        let taken: Vec<_> = files
            .take_largest_past(40)
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(taken, ["a", "c"], "largest first, ties by folder name");
        assert_eq!(files.len(), 2);
        let taken: Vec<_> = files
            .take_largest_past(0)
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(taken, ["d", "b"]);
    }
}
