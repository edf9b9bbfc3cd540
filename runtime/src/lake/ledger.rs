//! Which objects each input wrote into a lake, so that running an input
//! again replaces everything it wrote before, whatever the rules now keep.
//!
//! Object names carry the input's identity (a readable stem and a short
//! hash of the whole identity), so two inputs never write the same name:
//! `h10/events.jsonl` and `h11/events.jsonl` are two inputs. A file's
//! identity is its full path, size and modification time: the same file run
//! again is the same input, and a file that changed is a new one (its
//! earlier output stays). Standard input has no identity of its own: each
//! run is a new input unless the user names it (`--source-name`).
//!
//! Deterministic names alone cannot make a rerun replace: with a rule
//! changed, the rerun writes other partitions and other row ranges, and
//! the first run's files would stay beside the new ones. So each input's
//! objects are recorded in the lake, under
//! `_weir/inputs/<table>/<id>.json` (a `_` folder: no query engine reads
//! it):
//!
//! 1. before writing, the entry is read (what the last run wrote) and
//!    marked `writing`;
//! 2. the new objects are written and made durable;
//! 3. what the earlier run wrote and this one did not is deleted;
//! 4. the entry is rewritten as `done` with this run's objects.
//!
//! A run that stops between 1 and 4 leaves the entry `writing`; the next run
//! of the input then finds its objects by listing the table for the
//! identity's hash, so nothing of a half-finished run survives a rerun.
//! Until that rerun, the lake may hold both runs' rows for the input: the
//! failed run says so.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lake::publish::Zone;
use crate::storage::Storage;

/// Hex digits of the identity's hash in names: 48 bits, so two inputs of
/// one lake share it with odds of about n²/2⁴⁹ (one in 560 million for
/// ten thousand inputs).
const ID_HEX: usize = 12;

/// Who an input is, for naming what it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputIdentity {
    /// Readable part of names: the file's stem, or the given name.
    pub stem: String,
    /// Hash of the whole identity, 12 hex digits.
    pub id: String,
    /// The identity in words, recorded in the ledger.
    pub described: String,
    /// Whether a later run can be the same input (false for an unnamed
    /// standard input), so that recording what it wrote is worth it.
    pub repeatable: bool,
}

impl InputIdentity {
    /// A file: its canonical path, size and modification time.
    pub fn of_file(path: &Path) -> io::Result<InputIdentity> {
        let canonical = std::fs::canonicalize(path)?;
        let meta = std::fs::metadata(&canonical)?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_nanos());
        let described = format!(
            "file {} ({} bytes, modified {modified} ns after the epoch)",
            canonical.display(),
            meta.len()
        );
        let last = canonical
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = last.split_once('.').map_or(last.as_str(), |(stem, _)| stem);
        Ok(InputIdentity::new(stem, described, true))
    }

    /// A stored object (a raw zone's object, by its full location): raw
    /// objects are written once under names of their own, so the location
    /// is the whole identity.
    pub fn object(location: &str) -> InputIdentity {
        let last = location.rsplit('/').next().unwrap_or(location);
        InputIdentity::new(last, format!("object {location}"), true)
    }

    /// An input the user named: runs with the same name are the same input.
    pub fn named(name: &str) -> InputIdentity {
        InputIdentity::new(name, format!("named {name:?}"), true)
    }

    /// Standard input without a name: this run alone.
    pub fn unique_stdin() -> InputIdentity {
        let described = format!("standard input, run {}", crate::storage::unique_suffix());
        InputIdentity::new("stdin", described, false)
    }

    fn new(stem: &str, described: String, repeatable: bool) -> InputIdentity {
        let digest = Sha256::digest(described.as_bytes());
        let id = hex::encode(digest)[..ID_HEX].to_string();
        let stem: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let stem = if stem.is_empty() {
            "input".to_string()
        } else {
            stem
        };
        InputIdentity {
            stem,
            id,
            described,
            repeatable,
        }
    }

    /// What object names carry: `<stem>-<id>`.
    pub fn tag(&self) -> String {
        format!("{}-{}", self.stem, self.id)
    }
}

/// One object an input wrote.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WrittenObject {
    /// `data` or `dead-letters`.
    pub zone: ZoneName,
    /// Its key, relative to the table in its zone.
    pub key: String,
}

/// A zone, as the ledger names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneName {
    /// The table's data.
    Data,
    /// The table's dead letters.
    DeadLetters,
}

impl From<Zone> for ZoneName {
    fn from(zone: Zone) -> ZoneName {
        match zone {
            Zone::Data => ZoneName::Data,
            Zone::DeadLetters => ZoneName::DeadLetters,
        }
    }
}

/// A run's state in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum State {
    /// A run began and has not finished: its objects are not recorded.
    Writing,
    /// The last run finished; `objects` is what it wrote.
    Done,
}

/// The ledger's entry for one input.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    input: String,
    state: State,
    objects: Vec<WrittenObject>,
}

/// One input's entry in a lake's ledger, with the table's two zones.
pub struct Ledger {
    lake: Storage,
    key: String,
    identity: InputIdentity,
    data: Storage,
    errors: Storage,
}

impl Ledger {
    /// The entry of `identity` for `table`, in the `lake` whose dead
    /// letters are in `errors` (the two storages a
    /// [`crate::lake::LakeWriter`] is given).
    pub fn new(lake: &Storage, errors: &Storage, table: &str, identity: &InputIdentity) -> Ledger {
        Ledger {
            lake: lake.clone(),
            key: format!("_weir/inputs/{table}/{}.json", identity.id),
            identity: identity.clone(),
            data: lake.child(table),
            errors: errors.child(table),
        }
    }

    /// Before a run writes anything: what earlier runs of the input left
    /// in the lake, and the entry marked `writing`.
    pub fn begin(&self) -> io::Result<Vec<WrittenObject>> {
        let previous = match self.read()? {
            None => Vec::new(),
            Some(entry) if entry.state == State::Done => entry.objects,
            Some(_) => self.find_by_listing()?,
        };
        self.write(State::Writing, Vec::new())?;
        Ok(previous)
    }

    /// After every object of the run is durable: delete what `previous`
    /// holds that the run did not write again, then record `written` (each
    /// object's zone and key relative to the table, as
    /// [`crate::lake::LakeWriter::finish_listed`] names them). Returns how
    /// many objects were withdrawn.
    pub fn commit(
        &self,
        previous: Vec<WrittenObject>,
        written: Vec<(Zone, String)>,
    ) -> io::Result<usize> {
        let mut written: Vec<WrittenObject> = written
            .into_iter()
            .map(|(zone, key)| WrittenObject {
                zone: zone.into(),
                key,
            })
            .collect();
        written.sort();
        let mut withdrawn = 0;
        for object in previous {
            if written.binary_search(&object).is_err() {
                self.zone(object.zone).delete(&object.key).map_err(|err| {
                    io::Error::new(
                        err.kind(),
                        format!("withdrawing {} of an earlier run: {err}", object.key),
                    )
                })?;
                withdrawn += 1;
            }
        }
        self.write(State::Done, written)?;
        Ok(withdrawn)
    }

    fn zone(&self, zone: ZoneName) -> &Storage {
        match zone {
            ZoneName::Data => &self.data,
            ZoneName::DeadLetters => &self.errors,
        }
    }

    fn read(&self) -> io::Result<Option<Entry>> {
        let bytes = match self.lake.read(&self.key) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the lake's record {} is damaged ({err}); remove it to start that input afresh",
                    self.key
                ),
            )
        })
    }

    fn write(&self, state: State, objects: Vec<WrittenObject>) -> io::Result<()> {
        let entry = Entry {
            input: self.identity.described.clone(),
            state,
            objects,
        };
        let bytes = serde_json::to_vec_pretty(&entry).map_err(io::Error::other)?;
        self.lake.write_now(&self.key, &bytes, "application/json")
    }

    /// Every object of either zone whose name carries the identity's hash.
    fn find_by_listing(&self) -> io::Result<Vec<WrittenObject>> {
        let marker = format!("-{}-", self.identity.id);
        let mut found = Vec::new();
        for (zone, storage) in [
            (ZoneName::Data, &self.data),
            (ZoneName::DeadLetters, &self.errors),
        ] {
            for (key, _) in storage.list("")? {
                let name = key.rsplit('/').next().unwrap_or(&key);
                if name.starts_with("part-") && name.contains(&marker) {
                    found.push(WrittenObject { zone, key });
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_the_same_name_in_two_folders_are_two_inputs() {
        let dir = tempfile::tempdir().unwrap();
        for hour in ["h10", "h11"] {
            std::fs::create_dir(dir.path().join(hour)).unwrap();
            std::fs::write(dir.path().join(hour).join("events.jsonl"), "{}\n").unwrap();
        }
        let a = InputIdentity::of_file(&dir.path().join("h10/events.jsonl")).unwrap();
        let b = InputIdentity::of_file(&dir.path().join("h11/events.jsonl")).unwrap();
        assert_eq!(a.stem, "events");
        assert_ne!(a.tag(), b.tag());
        // The same file reached another way is the same input.
        let again = InputIdentity::of_file(&dir.path().join("h10/../h10/./events.jsonl")).unwrap();
        assert_eq!(a, again);
        // Standard input is a new input each run, unless named.
        assert_ne!(
            InputIdentity::unique_stdin().id,
            InputIdentity::unique_stdin().id
        );
        assert_eq!(InputIdentity::named("x").id, InputIdentity::named("x").id);
        assert_eq!(InputIdentity::named("a/b c").stem, "a_b_c");
    }

    #[test]
    fn a_file_that_changed_is_a_new_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "{}\n").unwrap();
        let before = InputIdentity::of_file(&path).unwrap();
        std::fs::write(&path, "{}\n{}\n").unwrap();
        let after = InputIdentity::of_file(&path).unwrap();
        assert_ne!(before.id, after.id);
    }

    #[test]
    fn a_rerun_withdraws_what_only_the_earlier_run_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Storage::Local(dir.path().to_path_buf());
        let data = lake.child("t");
        let errors = lake.child("_errors").child("t");
        let identity = InputIdentity::named("feed");
        let ledger = Ledger::new(&lake, &lake.child("_errors"), "t", &identity);
        let object = |zone, key: &str| WrittenObject {
            zone,
            key: key.to_string(),
        };
        let first_keys = [
            format!("day=1/part-{}-1-5.jsonl", identity.tag()),
            format!("day=2/part-{}-2-9.jsonl", identity.tag()),
        ];
        for key in &first_keys {
            data.write_now(key, b"{}\n", "application/x-ndjson")
                .unwrap();
        }
        assert!(ledger.begin().unwrap().is_empty());
        let first: Vec<WrittenObject> = first_keys
            .iter()
            .map(|key| object(ZoneName::Data, key))
            .collect();
        let published: Vec<(Zone, String)> = first_keys
            .iter()
            .map(|key| (Zone::Data, key.clone()))
            .collect();
        assert_eq!(ledger.commit(Vec::new(), published.clone()).unwrap(), 0);

        // The second run keeps only day 1's file.
        let previous = ledger.begin().unwrap();
        assert_eq!(previous, first);
        let withdrawn = ledger.commit(previous, published[..1].to_vec()).unwrap();
        assert_eq!(withdrawn, 1);
        assert!(data.read(&first_keys[0]).is_ok());
        assert!(data.read(&first_keys[1]).is_err());

        // A run that never finished: its objects are found by their names.
        let stray = format!("dt=x/part-{}-7-7.jsonl", identity.tag());
        errors
            .write_now(&stray, b"{}\n", "application/x-ndjson")
            .unwrap();
        let other = "day=3/part-other-000000000000-1-1.jsonl";
        data.write_now(other, b"{}\n", "application/x-ndjson")
            .unwrap();
        ledger.begin().unwrap();
        let found = ledger.begin().unwrap();
        assert_eq!(
            found,
            vec![
                object(ZoneName::Data, &first_keys[0]),
                object(ZoneName::DeadLetters, &stray)
            ]
        );
        ledger.commit(found, Vec::new()).unwrap();
        assert!(errors.read(&stray).is_err());
        assert!(data.read(other).is_ok(), "another input's file stays");
    }
}
