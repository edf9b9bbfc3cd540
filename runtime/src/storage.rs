//! Where the lake lives: a local folder or an S3 bucket, behind one small
//! interface the lake writer uses.
//!
//! A file is built in a [`Body`] and then published under its final key:
//! locally the body is a hidden temporary file renamed into place, on S3 an
//! in-memory buffer uploaded as one object (by multipart upload past the
//! part size). Either way a reader never sees half a file. Uploads run in
//! the background, a few at a time, while the pipeline goes on; [`Storage::
//! finish`] waits for them and reports every object that could not be
//! written, so a failed write is always an error the caller sees.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

pub mod aws;
#[cfg(feature = "sql")]
mod reader;
mod s3;

#[cfg(feature = "sql")]
pub use reader::S3Reader;
pub use s3::{BadS3Option, S3Options, S3Store};

/// An `s3://` location without a bucket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` names no bucket: write s3://bucket/prefix")]
pub struct NoBucket(pub String);

/// A lake location: a folder, or `s3://bucket/prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A local folder.
    Local(PathBuf),
    /// A bucket and a key prefix (no leading or trailing `/`; may be empty).
    S3 {
        /// The bucket.
        bucket: String,
        /// The prefix keys begin with.
        prefix: String,
    },
}

impl Location {
    /// Parse `s3://bucket/prefix`, or take anything else as a folder,
    /// relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Location, NoBucket> {
        Location::resolve(text, &Location::Local(base.to_path_buf()))
    }

    /// Parse `text` as written in a file found at `base`: `s3://bucket/key`
    /// as it is; an absolute path as a local one; anything else relative to
    /// `base`, a folder or an S3 prefix (a pipeline file on S3 names its
    /// plugins beside it).
    pub fn resolve(text: &str, base: &Location) -> Result<Location, NoBucket> {
        match text.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(NoBucket(text.to_string()));
                }
                Ok(Location::S3 {
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_matches('/').to_string(),
                })
            }
            None => Ok(match base {
                Location::Local(dir) => Location::Local(dir.join(text)),
                Location::S3 { .. } if Path::new(text).is_absolute() => {
                    Location::Local(PathBuf::from(text))
                }
                Location::S3 { .. } => base.join(text),
            }),
        }
    }

    /// The location of `name` (one or more `/`-separated parts) inside this one.
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(path) => Location::Local(path.join(name)),
            Location::S3 { bucket, prefix } => Location::S3 {
                bucket: bucket.clone(),
                prefix: join_key(prefix, name),
            },
        }
    }

    /// Is this an S3 location?
    pub fn is_s3(&self) -> bool {
        matches!(self, Location::S3 { .. })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// `a/b` from `a` and `b`, either of which may be empty.
pub(crate) fn join_key(prefix: &str, name: &str) -> String {
    let name = name.trim_matches('/');
    match (prefix.is_empty(), name.is_empty()) {
        (true, _) => name.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}/{name}"),
    }
}

/// Where a file is built before it is published.
pub enum Body {
    /// A hidden file beside its final name.
    File {
        /// The open file.
        file: io::BufWriter<File>,
        /// Its hidden name.
        temp: PathBuf,
    },
    /// Bytes bound for an object store.
    Memory(Vec<u8>),
}

impl Write for Body {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Body::File { file, .. } => file.write(buf),
            Body::Memory(bytes) => {
                bytes.extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Body::File { file, .. } => file.write_all(buf),
            Body::Memory(bytes) => {
                bytes.extend_from_slice(buf);
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Body::File { file, .. } => file.flush(),
            Body::Memory(_) => Ok(()),
        }
    }
}

/// A lake location opened for writing.
#[derive(Clone)]
pub enum Storage {
    /// A local folder.
    Local(PathBuf),
    /// A bucket, through the S3 client.
    S3(Arc<S3Store>),
}

impl Storage {
    /// Open `location`. An S3 location builds a client from the standard
    /// credential chain and `options`.
    pub fn open(location: &Location, options: &S3Options) -> io::Result<Storage> {
        match location {
            Location::Local(path) => Ok(Storage::Local(path.clone())),
            Location::S3 { bucket, prefix } => Ok(Storage::S3(Arc::new(S3Store::connect(
                bucket, prefix, options,
            )?))),
        }
    }

    /// The same storage, rooted at `name` inside it (shares the S3 client).
    pub fn child(&self, name: &str) -> Storage {
        match self {
            Storage::Local(path) => Storage::Local(path.join(name)),
            Storage::S3(store) => Storage::S3(Arc::new(store.child(name))),
        }
    }

    /// The same kind of storage at another location, sharing the S3 client
    /// when both are on S3.
    pub fn sibling(&self, location: &Location, options: &S3Options) -> io::Result<Storage> {
        match (self, location) {
            (Storage::S3(store), Location::S3 { bucket, prefix }) => {
                Ok(Storage::S3(Arc::new(store.elsewhere(bucket, prefix))))
            }
            _ => Storage::open(location, options),
        }
    }

    /// Where this storage is.
    pub fn location(&self) -> Location {
        match self {
            Storage::Local(path) => Location::Local(path.clone()),
            Storage::S3(store) => store.location(),
        }
    }

    /// Begin a file that will be published in folder `dir` (a key prefix
    /// relative to this storage); `temp_name` names it while it is built.
    pub fn create(&self, dir: &str, temp_name: &str) -> io::Result<Body> {
        match self {
            Storage::Local(root) => {
                let dir = root.join(dir);
                std::fs::create_dir_all(&dir)?;
                let temp = dir.join(temp_name);
                let file = io::BufWriter::with_capacity(256 * 1024, File::create(&temp)?);
                Ok(Body::File { file, temp })
            }
            Storage::S3(_) => Ok(Body::Memory(Vec::with_capacity(64 * 1024))),
        }
    }

    /// Publish a finished body under `key` (relative to this storage).
    /// Locally the file is synced and renamed; on S3 the upload starts in the
    /// background (an earlier upload's failure is returned here, the rest by
    /// [`Storage::finish`]). Returns the body's size in bytes.
    pub fn publish(&self, body: Body, key: &str, content_type: &str) -> io::Result<u64> {
        match (self, body) {
            (Storage::Local(root), Body::File { file, temp }) => {
                let file = file.into_inner().map_err(|err| err.into_error())?;
                file.sync_all()?;
                let bytes = file.metadata()?.len();
                let target = root.join(key);
                std::fs::rename(&temp, &target)?;
                // The rename is durable only once its folder is: without
                // this, a power cut can leave the folder without the file.
                if let Some(folder) = target.parent() {
                    File::open(folder)?.sync_all()?;
                }
                Ok(bytes)
            }
            (Storage::S3(store), Body::Memory(bytes)) => {
                let size = bytes.len() as u64;
                store.upload(key, bytes, content_type)?;
                Ok(size)
            }
            _ => Err(io::Error::other(
                "a body published to storage of another kind",
            )),
        }
    }

    /// Publish finished bodies as `(body, key, content type)`, several at
    /// once on S3, and wait until each is durable (on S3, until `deadline`
    /// at most): one result per body, in order. Unlike [`Storage::publish`],
    /// one failure stops nothing.
    pub fn publish_each(
        &self,
        files: Vec<(Body, String, &'static str)>,
        deadline: Option<std::time::Instant>,
    ) -> Vec<io::Result<u64>> {
        match self {
            Storage::S3(store) => {
                let mut sizes = Vec::with_capacity(files.len());
                let mut objects = Vec::with_capacity(files.len());
                for (body, key, content_type) in files {
                    match body {
                        Body::Memory(bytes) => {
                            sizes.push(Ok(bytes.len() as u64));
                            objects.push((key, bytes, content_type));
                        }
                        Body::File { .. } => sizes.push(Err(io::Error::other(
                            "a body published to storage of another kind",
                        ))),
                    }
                }
                let mut results = store.put_each(objects, deadline).into_iter();
                sizes
                    .into_iter()
                    .map(|size| {
                        size.and_then(|size| {
                            results
                                .next()
                                .unwrap_or_else(|| Err(io::Error::other("no result for an object")))
                                .map(|()| size)
                        })
                    })
                    .collect()
            }
            Storage::Local(_) => files
                .into_iter()
                .map(|(body, key, content_type)| self.publish(body, &key, content_type))
                .collect(),
        }
    }

    /// Throw away a body that will not be published.
    pub fn discard(&self, body: Body) -> io::Result<()> {
        match body {
            Body::File { file, temp } => {
                drop(file);
                std::fs::remove_file(temp)
            }
            Body::Memory(_) => Ok(()),
        }
    }

    /// Every object under `dir` (relative to this storage), with its key
    /// relative to this storage and its size, in key order. Hidden files
    /// (a name beginning with `.`) are left out; a missing folder is empty.
    pub fn list(&self, dir: &str) -> io::Result<Vec<(String, u64)>> {
        let mut objects = match self {
            Storage::Local(root) => {
                let mut objects = Vec::new();
                list_folder(root, &root.join(dir), &mut objects)?;
                objects
            }
            Storage::S3(store) => store.list(dir)?,
        };
        // A hidden folder hides what is in it too (a writer's or a
        // compaction's work in progress).
        objects.retain(|(key, _)| !key.split('/').any(|part| part.starts_with('.')));
        objects.sort();
        Ok(objects)
    }

    /// The folders directly under `dir`, by name, sorted; hidden ones (`.`)
    /// left out. On S3 one delimited listing, not a listing of every object.
    pub fn folders(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut folders = match self {
            Storage::Local(root) => match std::fs::read_dir(root.join(dir)) {
                Ok(entries) => {
                    let mut folders = Vec::new();
                    for entry in entries {
                        let entry = entry?;
                        if entry.file_type()?.is_dir() {
                            folders.push(entry.file_name().to_string_lossy().into_owned());
                        }
                    }
                    folders
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(err) => return Err(err),
            },
            Storage::S3(store) => store.folders(dir, false)?.0,
        };
        folders.retain(|name| !name.starts_with('.'));
        folders.sort();
        Ok(folders)
    }

    /// Whether anything at all is under `dir`, found without listing it
    /// whole (on S3 one request for one entry).
    pub fn holds_anything(&self, dir: &str) -> io::Result<bool> {
        match self {
            Storage::Local(root) => folder_holds_a_file(&root.join(dir)),
            Storage::S3(store) => {
                let (folders, objects) = store.folders(dir, true)?;
                Ok(objects || !folders.is_empty())
            }
        }
    }

    /// The bytes of object `key`.
    pub fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        match self {
            Storage::Local(root) => std::fs::read(root.join(key)),
            Storage::S3(store) => store.read(key),
        }
    }

    /// Remove object `key`; one already gone is fine.
    pub fn delete(&self, key: &str) -> io::Result<()> {
        match self {
            Storage::Local(root) => match std::fs::remove_file(root.join(key)) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            },
            Storage::S3(store) => store.delete(key),
        }
    }

    /// Write object `key` whole and wait until it is durable (published
    /// under a hidden name first, locally).
    pub fn write_now(&self, key: &str, bytes: &[u8], content_type: &str) -> io::Result<()> {
        match self {
            Storage::Local(_) => {
                let (dir, name) = key.rsplit_once('/').unwrap_or(("", key));
                let mut body = self.create(dir, &format!(".{name}.{}.tmp", unique_suffix()))?;
                body.write_all(bytes)?;
                self.publish(body, key, content_type).map(|_| ())
            }
            Storage::S3(store) => store.write_now(key, bytes.to_vec(), content_type),
        }
    }

    /// Wait until everything published is durable. Any object that could not
    /// be written, after the retries, makes this an error naming it.
    pub fn finish(&self) -> io::Result<()> {
        match self {
            Storage::Local(_) => Ok(()),
            Storage::S3(store) => store.wait_all(),
        }
    }
}

/// Files under `dir`, recursively, with keys relative to `root`.
/// Whether a file is anywhere under `dir`; stops at the first.
fn folder_holds_a_file(dir: &Path) -> io::Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_file() || (kind.is_dir() && folder_holds_a_file(&entry.path())?) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn list_folder(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            list_folder(root, &path, out)?;
        } else if kind.is_file() {
            let key = path
                .strip_prefix(root)
                .map_err(io::Error::other)?
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((key, entry.metadata()?.len()));
        }
    }
    Ok(())
}

/// Uploads under way and the ones that failed: a counter guarded by a mutex,
/// with a condition to wait for room or for the end.
#[derive(Default)]
struct InFlight {
    state: Mutex<InFlightState>,
    changed: Condvar,
}

#[derive(Default)]
struct InFlightState {
    running: usize,
    failures: Vec<String>,
}

impl InFlight {
    /// Wait for room for one more upload, then count it. Refuses (with the
    /// first failure) once any upload has failed, so no more work is piled on.
    fn begin(&self, limit: usize) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.running >= limit && state.failures.is_empty() {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if let Some(first) = state.failures.first() {
            return Err(io::Error::other(first.clone()));
        }
        state.running += 1;
        Ok(())
    }

    fn end(&self, failure: Option<String>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.running -= 1;
        if let Some(failure) = failure {
            state.failures.push(failure);
        }
        self.changed.notify_all();
    }

    /// Wait until nothing is running; the failures, taken.
    fn wait_idle(&self) -> Vec<String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.running > 0 {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        std::mem::take(&mut state.failures)
    }
}

/// A suffix no other temporary file of this process, or of another process
/// on this machine, carries: the process id, a counter and the clock.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    format!(
        "{}-{}-{nanos:08x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_whether_anything_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Storage::Local(dir.path().to_path_buf());
        assert!(!lake.holds_anything("").unwrap());
        assert!(lake.folders("").unwrap().is_empty());
        for folder in ["events/year=2026", "clicks", ".hidden", "_errors/events"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        // Empty folders hold nothing.
        assert!(!lake.holds_anything("").unwrap());
        std::fs::write(dir.path().join("events/year=2026/a.parquet"), b"x").unwrap();
        assert!(lake.holds_anything("").unwrap());
        assert!(lake.holds_anything("events").unwrap());
        assert!(!lake.holds_anything("clicks").unwrap());
        assert_eq!(lake.folders("").unwrap(), ["_errors", "clicks", "events"]);
        assert_eq!(lake.folders("events").unwrap(), ["year=2026"]);
        assert!(lake.folders("missing").unwrap().is_empty());
    }

    #[test]
    fn parses_locations() {
        let base = Path::new("/pipes");
        assert_eq!(
            Location::parse("s3://lake/raw/events/", base).unwrap(),
            Location::S3 {
                bucket: "lake".into(),
                prefix: "raw/events".into()
            }
        );
        assert_eq!(
            Location::parse("s3://lake", base).unwrap().to_string(),
            "s3://lake"
        );
        assert_eq!(
            Location::parse("lake", base).unwrap(),
            Location::Local(PathBuf::from("/pipes/lake"))
        );
        assert!(Location::parse("s3:///x", base).is_err());
        let errors = Location::parse("s3://b", base).unwrap().join("_errors");
        assert_eq!(errors.to_string(), "s3://b/_errors");
        assert_eq!(errors.join("t/").to_string(), "s3://b/_errors/t");
    }
}
