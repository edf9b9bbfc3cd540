//! Records aggregated by the Kinesis Producer Library: many user records in
//! one Kinesis record, so producers pay per 25 KB rather than per event.
//!
//! An aggregated record is the 4 magic bytes `F3 89 9A C2`, a protobuf
//! `AggregatedRecord`, and the MD5 digest of that protobuf:
//!
//! ```text
//! message AggregatedRecord {
//!   repeated string partition_key_table     = 1;
//!   repeated string explicit_hash_key_table = 2;
//!   repeated Record records                 = 3;
//! }
//! message Record {
//!   required uint64 partition_key_index     = 1;
//!   optional uint64 explicit_hash_key_index = 2;
//!   required bytes  data                    = 3;
//!   repeated Tag    tags                    = 4;
//! }
//! ```
//!
//! As the KPL's own consumers do, a record that begins with the magic bytes
//! but whose digest or protobuf does not check out is taken as one plain
//! record, never dropped.

use md5::{Digest, Md5};

/// The bytes every aggregated record begins with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

const DIGEST_BYTES: usize = 16;

/// The user records in `data`: several for an aggregated record, else
/// `data` itself as the only one.
pub fn user_records(data: &[u8]) -> Vec<&[u8]> {
    match aggregated(data) {
        Some(records) => records,
        None => vec![data],
    }
}

/// The user records of an aggregated record, or `None` when `data` is not
/// one (or is a damaged one).
fn aggregated(data: &[u8]) -> Option<Vec<&[u8]>> {
    let body = data.strip_prefix(&MAGIC)?;
    if body.len() < DIGEST_BYTES {
        return None;
    }
    let (message, digest) = body.split_at(body.len() - DIGEST_BYTES);
    if Md5::digest(message).as_slice() != digest {
        return None;
    }
    let mut records = Vec::new();
    let mut reader = Reader(message);
    while !reader.0.is_empty() {
        let (field, wire) = reader.key()?;
        match (field, wire) {
            (3, LENGTH_DELIMITED) => records.push(record_data(reader.bytes()?)?),
            _ => reader.skip(wire)?,
        }
    }
    // An aggregate of nothing is no KPL's: taken whole, so the record is
    // still accounted for (rejected), never silently gone.
    (!records.is_empty()).then_some(records)
}

/// The `data` field of one protobuf `Record`.
fn record_data(message: &[u8]) -> Option<&[u8]> {
    let mut reader = Reader(message);
    let mut data = None;
    while !reader.0.is_empty() {
        let (field, wire) = reader.key()?;
        match (field, wire) {
            (3, LENGTH_DELIMITED) => data = Some(reader.bytes()?),
            _ => reader.skip(wire)?,
        }
    }
    data
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LENGTH_DELIMITED: u8 = 2;
const FIXED32: u8 = 5;

/// Reads protobuf wire format; every method returns `None` on damage.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.0.split_first()?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// A field number and its wire type.
    fn key(&mut self) -> Option<(u64, u8)> {
        let key = self.varint()?;
        Some((key >> 3, (key & 7) as u8))
    }

    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.0.len() < count {
            return None;
        }
        let (taken, rest) = self.0.split_at(count);
        self.0 = rest;
        Some(taken)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let length = usize::try_from(self.varint()?).ok()?;
        self.take(length)
    }

    fn skip(&mut self, wire: u8) -> Option<()> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            LENGTH_DELIMITED => self.bytes().map(drop),
            FIXED32 => self.take(4).map(drop),
            _ => None,
        }
    }
}

fn push_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn push_field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
    push_varint(number << 3 | 2, out);
    push_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// An aggregated record of `records`, as the KPL writes one (one partition
/// key, and a tag on each record, which consumers ignore): for tests and
/// the fuzz targets, which check that reading it gives `records` back.
pub fn aggregate(records: &[&[u8]]) -> Vec<u8> {
    let mut message = Vec::new();
    push_field(1, b"user-1", &mut message);
    for data in records {
        let mut record = Vec::new();
        push_varint(1 << 3, &mut record);
        push_varint(0, &mut record);
        push_field(3, data, &mut record);
        let mut tag = Vec::new();
        push_field(1, b"k", &mut tag);
        push_field(4, &tag, &mut record);
        push_field(3, &record, &mut message);
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&message);
    out.extend_from_slice(&Md5::digest(&message));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) use super::aggregate;

    #[test]
    fn an_aggregated_record_gives_its_user_records_in_order() {
        let data = aggregate(&[b"{\"a\":1}", b"", b"{\"a\":3}"]);
        assert_eq!(
            user_records(&data),
            vec![&b"{\"a\":1}"[..], &b""[..], &b"{\"a\":3}"[..]]
        );
    }

    #[test]
    fn a_plain_record_is_its_own_user_record() {
        assert_eq!(user_records(b"{\"a\":1}"), vec![&b"{\"a\":1}"[..]]);
        assert_eq!(user_records(b""), vec![&b""[..]]);
    }

    #[test]
    fn a_damaged_aggregate_is_kept_whole() {
        let mut data = aggregate(&[b"one", b"two"]);
        let last = data.len() - 1;
        data[last] ^= 1;
        assert_eq!(user_records(&data), vec![&data[..]]);
        // Digest right, protobuf truncated.
        let mut message = Vec::new();
        push_field(3, b"\x1a\x05ab", &mut message);
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&message);
        data.extend_from_slice(&Md5::digest(&message));
        assert_eq!(user_records(&data), vec![&data[..]]);
        // Only the magic.
        assert_eq!(user_records(&MAGIC), vec![&MAGIC[..]]);
        // An aggregate of no records.
        let empty = aggregate(&[]);
        assert_eq!(user_records(&empty), vec![&empty[..]]);
    }
}
