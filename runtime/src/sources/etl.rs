//! `weir etl`: the raw zone into the processed zone, without Glue. Raw
//! JSON-lines objects (gzip or not), as Firehose lays them out — under
//! `year=YYYY/month=MM/day=DD/` (a Hive-style prefix) or `YYYY/MM/DD/HH/`
//! (Firehose's default) — go through the pipeline into partitioned files
//! in the processed zone, one object at a time.
//!
//! Output names come from the raw object and the lines in each file, so
//! running a day again replaces its files instead of adding to them. Dead
//! letters are filed under the raw day, the day the events arrived.

use std::io::Read;
use std::time::Instant;

use thiserror::Error;

use crate::config::PipelineConfig;
use crate::config::build::file_options;
use crate::lake::LakeWriter;
use crate::lake::ledger::{InputIdentity, Ledger};
use crate::pipeline::batch::Batch;
use crate::pipeline::summary::Summary;
use crate::pipeline::{Pipeline, PluginFailed};
use crate::storage::{Location, Storage};

/// Why an ETL run stopped.
#[derive(Debug, Error)]
pub enum EtlError {
    /// The raw zone could not be opened, listed or read, or an object that
    /// starts like gzip did not decompress.
    #[error("cannot read the raw zone at {location}: {message}")]
    Input {
        /// The raw zone's location.
        location: String,
        /// What failed, naming the object where there is one.
        message: String,
    },
    /// The processed zone or its dead letters could not be opened or
    /// written.
    #[error("cannot write the processed zone at {location}: {message}")]
    Output {
        /// The processed zone's location (`config.location`).
        location: String,
        /// The storage error.
        message: String,
    },
    /// A plugin failed and the pipeline's policy is to fail the run.
    #[error(transparent)]
    PluginFailed(#[from] PluginFailed),
    /// The days asked for are not `YYYY-MM-DD`, are in the wrong order or
    /// span more than ten years; holds the whole message.
    #[error("{0}")]
    Days(String),
}

/// What a run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EtlReport {
    /// Every record read, counted once.
    #[serde(flatten)]
    pub summary: Summary,
    /// Raw objects read.
    pub objects: u64,
    /// Their bytes, as stored (compressed or not).
    pub raw_bytes: u64,
    /// Days processed.
    pub days: Vec<String>,
}

/// The day an ETL run takes when none is named: yesterday, UTC, the last
/// whole day (`weir etl` and the scheduled Lambda both).
pub fn yesterday() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_micros() as i64);
    weir_plugin::time::Timestamp::from_unix_micros(now - 86_400_000_000).date_string()
}

/// The days from `from` to `to`, both included, as `YYYY-MM-DD`.
pub fn days(from: &str, to: &str) -> Result<Vec<String>, EtlError> {
    let parse = |text: &str| {
        weir_plugin::time::Timestamp::parse(&format!("{text}T00:00:00Z"))
            .ok()
            .filter(|_| text.len() == 10)
            .ok_or_else(|| EtlError::Days(format!("{text:?} is not a day: write YYYY-MM-DD")))
    };
    let (mut day, last) = (parse(from)?.unix_micros, parse(to)?.unix_micros);
    if day > last {
        return Err(EtlError::Days(format!("--from {from} is after --to {to}")));
    }
    let mut out = Vec::new();
    while day <= last {
        out.push(weir_plugin::time::Timestamp::from_unix_micros(day).date_string());
        day += 86_400_000_000;
        if out.len() > 3660 {
            return Err(EtlError::Days("more than ten years of days at once".into()));
        }
    }
    Ok(out)
}

/// The JSON values of one line. Firehose writes records back to back as
/// producers sent them, so a producer that sends no newline leaves several
/// events on one line: `{…}{…}`. A line that does not parse to the end is
/// one record from the first bad value on (and is rejected as such).
fn json_values(line: &[u8]) -> Vec<&[u8]> {
    let mut values = Vec::new();
    let mut stream =
        serde_json::Deserializer::from_slice(line).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    while let Some(Ok(_)) = stream.next() {
        let end = stream.byte_offset();
        values.push(line[start..end].trim_ascii());
        start = end;
    }
    let rest = line[start..].trim_ascii();
    if !rest.is_empty() || values.is_empty() {
        values.push(if values.is_empty() { line } else { rest });
    }
    values
}

/// The raw objects of `day` (`YYYY-MM-DD`) in `raw`, in key order.
fn objects_of_day(raw: &Storage, day: &str) -> std::io::Result<Vec<(String, u64)>> {
    let (year, rest) = day.split_at(4);
    let (month, dd) = (&rest[1..3], &rest[4..6]);
    let mut objects = raw.list(&format!("year={year}/month={month}/day={dd}"))?;
    objects.extend(raw.list(&format!("{year}/{month}/{dd}"))?);
    objects.sort();
    Ok(objects)
}

/// Run the raw objects of each of `days` through the pipeline into the
/// lake the pipeline names (`config.location`, `config.dead_letter`).
/// `progress` is told each object as it is done.
pub fn etl(
    config: &PipelineConfig,
    pipeline: &mut Pipeline,
    input: &Location,
    days: &[String],
    progress: &mut dyn FnMut(&str, &EtlReport),
) -> Result<EtlReport, EtlError> {
    let input_error = |message: String| EtlError::Input {
        location: input.to_string(),
        message,
    };
    let output_error = |err: std::io::Error| EtlError::Output {
        location: config.location.to_string(),
        message: err.to_string(),
    };
    let raw = Storage::open(input, &config.s3).map_err(|err| input_error(err.to_string()))?;
    let data = Storage::open(&config.location, &config.s3).map_err(output_error)?;
    let errors = data
        .sibling(&config.dead_letter, &config.s3)
        .map_err(output_error)?;
    let started = Instant::now();
    let mut report = EtlReport::default();
    for day in days {
        let arrival = weir_plugin::time::Timestamp::parse(&format!("{day}T00:00:00Z"))
            .map_err(|_| EtlError::Days(format!("{day:?} is not a day")))?
            .unix_micros;
        let objects = objects_of_day(&raw, day).map_err(|err| input_error(err.to_string()))?;
        for (key, size) in objects {
            let stored = raw
                .read(&key)
                .map_err(|err| input_error(format!("{key}: {err}")))?;
            let text = if stored.starts_with(&[0x1f, 0x8b]) {
                let mut plain = Vec::new();
                flate2::read::MultiGzDecoder::new(stored.as_slice())
                    .read_to_end(&mut plain)
                    .map_err(|err| input_error(format!("{key}: not gzip: {err}")))?;
                plain
            } else {
                stored
            };
            // Named after the object, whole: Firehose's names are unique.
            // Its entry in the lake's ledger makes a rerun replace all it
            // wrote, whatever the rules now keep.
            let identity = InputIdentity::object(&format!("{input}/{key}"));
            let ledger = Ledger::new(&data, &errors, &config.table, &identity);
            let previous = ledger.begin().map_err(output_error)?;
            let mut writer = LakeWriter::new(
                &data,
                &errors,
                &config.table,
                &identity.tag(),
                file_options(config),
            );
            let mut batch = Batch::new(&format!("{input}/{key}"))
                .with_max_record_bytes(config.max_record_bytes);
            // The newline that ends the object begins no record.
            let body = crate::sources::file::strip_bom(&text);
            let body = body.strip_suffix(b"\n").unwrap_or(body);
            let mut lines = body.split(|&b| b == b'\n').filter(|_| !body.is_empty());
            let mut number = 0u64;
            let mut position = itoa::Buffer::new();
            loop {
                batch.clear();
                for line in lines.by_ref() {
                    number += 1;
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let values = json_values(line);
                    if values.len() == 1 {
                        batch.push(values[0], position.format(number), arrival);
                    } else {
                        for (index, value) in values.into_iter().enumerate() {
                            batch.push(value, &format!("{number}.{}", index + 1), arrival);
                        }
                    }
                    if batch.len() >= config.batch_size {
                        break;
                    }
                }
                if batch.is_empty() {
                    break;
                }
                pipeline.run(&mut batch)?;
                writer.write(&mut batch).map_err(output_error)?;
                report.summary.count(&batch);
            }
            let (written, published) = writer.finish_listed().map_err(output_error)?;
            report.summary.withdrawn +=
                ledger.commit(previous, published).map_err(output_error)? as u64;
            let total = &mut report.summary.written;
            total.files += written.files;
            total.error_files += written.error_files;
            total.bytes += written.bytes;
            report.objects += 1;
            report.raw_bytes += size;
            progress(&key, &report);
        }
        report.days.push(day.clone());
    }
    report.summary.take_plugins(pipeline);
    report.summary.elapsed = started.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_back_to_back_are_split() {
        assert_eq!(json_values(br#"{"a":1}"#), vec![&br#"{"a":1}"#[..]]);
        assert_eq!(
            json_values(br#"{"a":1}{"b":2} {"c":3}"#),
            vec![&br#"{"a":1}"#[..], br#"{"b":2}"#, br#"{"c":3}"#]
        );
        assert_eq!(
            json_values(br#"{"a":1}{"b":"#),
            vec![&br#"{"a":1}"#[..], br#"{"b":"#]
        );
        assert_eq!(json_values(b"{not json"), vec![&b"{not json"[..]]);
        assert_eq!(json_values(b""), vec![&b""[..]]);
    }

    #[test]
    fn days_run_from_first_to_last() {
        assert_eq!(
            days("2026-02-28", "2026-03-01").unwrap(),
            vec!["2026-02-28", "2026-03-01"]
        );
        assert!(days("2026-03-01", "2026-02-28").is_err());
        assert!(days("2026-2-1", "2026-02-28").is_err());
    }
}
