//! Which folder of the table a kept event goes to: the partition a plugin
//! gave it, when those are the table's keys in order, or its own date when
//! no plugin partitioned it and the table is partitioned by date. Anything
//! else would put the event where the table does not look for it, so it is
//! refused with the code `bad-partition`.

use std::fmt::Write as _;
use std::sync::Arc;

use weir_plugin::layout::{PackedFields, Span, Value};
use weir_plugin::time::Timestamp;

use crate::lake::columns::ConvertError;
use crate::pipeline::decode::Arena;
use crate::pipeline::encode::span_str;

/// Routes kept events to partition folders (`year=2026/month=02/day=19`).
#[derive(Clone, Debug)]
pub struct Router {
    /// The table's partition keys, in folder order.
    keys: Arc<[String]>,
    /// The field that dates an event no plugin partitioned.
    time_field: String,
    /// Are the keys a date's (`year/month/day`, perhaps `/hour`)?
    by_date: bool,
}

impl Router {
    /// A router for a table partitioned by `keys`, dating events by their
    /// `time_field` when no plugin partitioned them.
    pub fn new(keys: Arc<[String]>, time_field: &str) -> Router {
        let by_date = (keys.len() == 3 || keys.len() == 4 && keys[3] == "hour")
            && keys[..3]
                .iter()
                .zip(["year", "month", "day"])
                .all(|(key, want)| key == want);
        Router {
            keys,
            time_field: time_field.to_string(),
            by_date,
        }
    }

    /// Put the folder, relative to the table, of a kept event with `fields`
    /// and the plugins' `partition` (names and text in `arena`) in `folder`.
    pub fn folder(
        &self,
        arena: &Arena,
        fields: &PackedFields,
        partition: &[(u32, Span)],
        folder: &mut String,
    ) -> Result<(), ConvertError> {
        folder.clear();
        if partition.is_empty() && !self.keys.is_empty() {
            return self.date_folder(arena, fields, folder);
        }
        let names = &arena.names;
        let matches = partition.len() == self.keys.len()
            && partition
                .iter()
                .zip(self.keys.iter())
                .all(|((key, _), want)| names[*key as usize] == *want);
        if !matches {
            let got: Vec<&str> = partition
                .iter()
                .map(|(key, _)| names[*key as usize].as_str())
                .collect();
            return Err(bad_partition(format!(
                "the plugins partitioned the event by {:?}, and the table is partitioned by {:?}",
                got.join("/"),
                self.keys.join("/")
            )));
        }
        for (key, value) in partition {
            if !folder.is_empty() {
                folder.push('/');
            }
            folder.push_str(&names[*key as usize]);
            folder.push('=');
            folder.push_str(span_str(&arena.text, *value));
        }
        Ok(())
    }

    /// The folder of an event no plugin partitioned: its own date.
    fn date_folder(
        &self,
        arena: &Arena,
        fields: &PackedFields,
        folder: &mut String,
    ) -> Result<(), ConvertError> {
        if !self.by_date {
            return Err(bad_partition(format!(
                "no plugin partitioned the event, and the table is partitioned by {}",
                self.keys.join("/")
            )));
        }
        let time = arena
            .lookup(&self.time_field)
            .and_then(|name| fields.iter().find(|field| field.name == name))
            .and_then(|field| match field.value {
                Value::Text(span) => Timestamp::parse(span_str(&arena.text, span)).ok(),
                _ => None,
            })
            .ok_or_else(|| {
                bad_partition(format!(
                    "no plugin partitioned the event, and its `{}` is missing or not an ISO-8601 date-time",
                    self.time_field
                ))
            })?;
        let _ = write!(
            folder,
            "year={:04}/month={:02}/day={:02}",
            time.year, time.month, time.day
        );
        if self.keys.len() == 4 {
            let _ = write!(folder, "/hour={:02}", time.hour);
        }
        Ok(())
    }
}

/// A folder's partition values, as `(key, value)` pairs in order.
pub fn partition_values(folder: &str) -> Vec<(String, String)> {
    folder
        .split('/')
        .filter_map(|part| part.split_once('='))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn bad_partition(reason: String) -> ConvertError {
    ConvertError {
        code: "bad-partition",
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::decode::decode_object;

    fn router(keys: &[&str]) -> Router {
        let keys: Vec<String> = keys.iter().map(|key| key.to_string()).collect();
        Router::new(keys.into(), "event_time")
    }

    /// The folder of `event` with the plugins' `partition` (key, value).
    fn route(
        router: &Router,
        event: &str,
        partition: &[(&str, &str)],
    ) -> Result<String, ConvertError> {
        let mut arena = Arena::default();
        let fields = decode_object(event, &mut arena).expect("an object");
        let partition: Vec<(u32, Span)> = partition
            .iter()
            .map(|(key, value)| (arena.intern(key), arena.push_text(value)))
            .collect();
        let mut folder = String::from("left over");
        router
            .folder(&arena, &fields, &partition, &mut folder)
            .map(|()| folder)
    }

    #[test]
    fn an_event_no_plugin_partitioned_goes_to_its_own_date() {
        let event = r#"{"event_time":"2026-02-19T23:59:59.5+00:00","user_id":"u1"}"#;
        assert_eq!(
            route(&router(&["year", "month", "day"]), event, &[]).unwrap(),
            "year=2026/month=02/day=19"
        );
        assert_eq!(
            route(&router(&["year", "month", "day", "hour"]), event, &[]).unwrap(),
            "year=2026/month=02/day=19/hour=23"
        );
    }

    #[test]
    fn an_offset_time_is_filed_under_its_utc_date() {
        let event = r#"{"event_time":"2026-02-19T23:30:00-02:00"}"#;
        assert_eq!(
            route(&router(&["year", "month", "day"]), event, &[]).unwrap(),
            "year=2026/month=02/day=20"
        );
    }

    #[test]
    fn an_undatable_event_is_refused_with_the_field_named() {
        let keys = router(&["year", "month", "day"]);
        for event in [
            r#"{"user_id":"u1"}"#,
            r#"{"event_time":"yesterday"}"#,
            r#"{"event_time":1771545600}"#,
        ] {
            let error = route(&keys, event, &[]).unwrap_err();
            assert_eq!(error.code, "bad-partition");
            assert!(error.reason.contains("`event_time`"), "{}", error.reason);
        }
    }

    #[test]
    fn a_table_not_partitioned_by_date_needs_a_plugin_partition() {
        let error = route(
            &router(&["dt"]),
            r#"{"event_time":"2026-02-19T10:00:00Z"}"#,
            &[],
        )
        .unwrap_err();
        assert_eq!(error.code, "bad-partition");
        assert!(
            error.reason.contains("partitioned by dt"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn a_plugin_partition_is_used_when_it_is_the_tables_keys_in_order() {
        let keys = router(&["year", "month", "day"]);
        let event = r#"{"event_time":"2026-02-19T10:00:00Z"}"#;
        // The plugin's date wins over the event's own.
        let folder = route(
            &keys,
            event,
            &[("year", "2025"), ("month", "12"), ("day", "31")],
        );
        assert_eq!(folder.unwrap(), "year=2025/month=12/day=31");
        let error = route(
            &keys,
            event,
            &[("month", "12"), ("year", "2025"), ("day", "31")],
        )
        .unwrap_err();
        assert!(
            error.reason.contains("\"month/year/day\""),
            "{}",
            error.reason
        );
        let error = route(&keys, event, &[("year", "2025")]).unwrap_err();
        assert_eq!(error.code, "bad-partition");
    }

    #[test]
    fn an_unpartitioned_table_takes_every_event_at_its_root() {
        assert_eq!(route(&router(&[]), r#"{"a":1}"#, &[]).unwrap(), "");
    }

    #[test]
    fn partition_values_come_back_from_a_folder() {
        assert_eq!(
            partition_values("year=2026/month=02/day=19"),
            [("year", "2026"), ("month", "02"), ("day", "19")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert!(partition_values("").is_empty());
    }
}
