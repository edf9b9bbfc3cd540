//! Weir plugin `partition-by-date`: sets an event's Hive partition values
//! (`year=2026/month=02/day=19`, optionally `hour=07`) from the UTC date of
//! its own `timestamp`, and optionally one more partition from another field,
//! such as `product_category=books`.
//!
//! An event without a parsable `timestamp` is rejected with `bad-timestamp`.

use std::borrow::Cow;

use serde::Deserialize;
use weir_plugin::{Config, Event, Outcome, Plugin, Value};

/// Hive's folder for a partition whose value is absent.
const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The longest partition value, in bytes, taken from the extra field.
const MAX_VALUE_LEN: usize = 64;

/// The plugin's table in the pipeline file.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Also partition by the UTC hour, after the day.
    hour: bool,
    /// A field whose value becomes one more partition after the date's.
    extra_field: Option<String>,
    /// The partition key for `extra_field`; the field's name when absent.
    extra_key: Option<String>,
}

/// The partitioner, configured.
pub struct PartitionByDate {
    hour: bool,
    /// `(field, key)` of the extra partition.
    extra: Option<(String, &'static str)>,
}

/// Check the extra partition's settings and pair its field with its key.
fn extra_partition(settings: &Settings) -> Result<Option<(String, &'static str)>, String> {
    let Some(field) = &settings.extra_field else {
        if settings.extra_key.is_some() {
            return Err("`extra_key` is set but `extra_field` is not".to_string());
        }
        return Ok(None);
    };
    if field.is_empty() {
        return Err("`extra_field` must not be empty".to_string());
    }
    let (key, source) = match &settings.extra_key {
        Some(key) => (key, "`extra_key`"),
        None => (field, "`extra_field` (the key when `extra_key` is not set)"),
    };
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "{source} `{key}` is not a valid partition key: use letters, digits and `_`"
        ));
    }
    let taken: &[&str] = if settings.hour {
        &["year", "month", "day", "hour"]
    } else {
        &["year", "month", "day"]
    };
    if taken
        .iter()
        .any(|date_key| date_key.eq_ignore_ascii_case(key))
    {
        return Err(format!(
            "{source} `{key}` clashes with a date partition key; set another `extra_key`"
        ));
    }
    // The key is named on every event for the life of the instance: leaked
    // once here so no event copies it.
    Ok(Some((field.clone(), &*key.clone().leak())))
}

/// `00` to `31`: months, days and hours without formatting each event's.
const TWO_DIGITS: [&str; 32] = [
    "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
    "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
];

/// A field's value as a folder-safe partition value.
fn partition_value(value: Option<Value<'_>>) -> String {
    let text: Cow<'_, str> = match value {
        Some(Value::Text(text)) => text.into(),
        Some(Value::Int(n)) => n.to_string().into(),
        Some(Value::Float(x)) => x.to_string().into(),
        Some(Value::Bool(b)) => if b { "true" } else { "false" }.into(),
        // Nested values make no sense as a folder; treat them as absent.
        None | Some(Value::Null | Value::Json(_)) => "".into(),
    };
    sanitise(&text)
}

/// Lower-case ASCII with anything outside `[a-z0-9._-]` replaced by `_`, runs
/// of `_` collapsed, no `_` at either end, at most [`MAX_VALUE_LEN`] bytes;
/// [`DEFAULT_PARTITION`] when nothing is left.
fn sanitise(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_VALUE_LEN));
    for c in text.chars() {
        if out.len() == MAX_VALUE_LEN {
            break;
        }
        let c = match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '-') => c,
            _ => '_',
        };
        // Skipping `_` at the start or after `_` trims and collapses.
        if c != '_' || !(out.is_empty() || out.ends_with('_')) {
            out.push(c);
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        DEFAULT_PARTITION.to_string()
    } else {
        out
    }
}

impl Plugin for PartitionByDate {
    const NAME: &'static str = "partition-by-date";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn init(config: Config) -> Result<Self, String> {
        let settings = config.parse::<Settings>()?;
        Ok(PartitionByDate {
            extra: extra_partition(&settings)?,
            hour: settings.hour,
        })
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        let time = match event.timestamp("timestamp") {
            Ok(time) => time,
            Err(reason) => return Outcome::reject("bad-timestamp", reason),
        };
        let mut outcome = Outcome::keep()
            .partition("year", time.year_string())
            .partition("month", TWO_DIGITS[time.month as usize])
            .partition("day", TWO_DIGITS[time.day as usize]);
        if self.hour {
            outcome = outcome.partition("hour", TWO_DIGITS[time.hour as usize]);
        }
        if let Some((field, key)) = &self.extra {
            outcome = outcome.partition(*key, partition_value(event.get(field)));
        }
        outcome
    }
}

weir_plugin::export_plugin!(PartitionByDate);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin::testing::{init, one, run};

    const EVENT: &str = r#"{"timestamp":"2026-02-19T07:05:00Z","product_category":"Home & Kitchen",
        "price":12.5,"in_stock":true,"count":-3,"tags":["a"],"blank":" ","gone":null}"#;

    #[test]
    fn partitions_by_utc_date() {
        let outcome = run::<PartitionByDate>("{}", &[EVENT]).unwrap().remove(0);
        assert!(outcome.is_keep());
        assert_eq!(
            outcome.partitions(),
            [("year", "2026"), ("month", "02"), ("day", "19")]
        );
        let outcome = one(
            &init::<PartitionByDate>("{}").unwrap(),
            r#"{"timestamp":"2026-12-31T23:30:00-01:00"}"#,
        );
        assert_eq!(
            outcome.partitions(),
            [("year", "2027"), ("month", "01"), ("day", "01")]
        );
    }

    #[test]
    fn partitions_by_hour() {
        let outcome = run::<PartitionByDate>(r#"{"hour":true}"#, &[EVENT])
            .unwrap()
            .remove(0);
        assert_eq!(
            outcome.partitions(),
            [
                ("year", "2026"),
                ("month", "02"),
                ("day", "19"),
                ("hour", "07")
            ]
        );
    }

    #[test]
    fn extra_field_is_sanitised() {
        let config = r#"{"extra_field":"product_category"}"#;
        let outcome = run::<PartitionByDate>(config, &[EVENT]).unwrap().remove(0);
        assert_eq!(
            outcome.partitions(),
            [
                ("year", "2026"),
                ("month", "02"),
                ("day", "19"),
                ("product_category", "home_kitchen")
            ]
        );
    }

    #[test]
    fn extra_key_renames_the_partition() {
        let config = r#"{"hour":true,"extra_field":"product_category","extra_key":"cat"}"#;
        let outcome = run::<PartitionByDate>(config, &[EVENT]).unwrap().remove(0);
        assert_eq!(outcome.partitions()[4], ("cat", "home_kitchen"));
    }

    #[test]
    fn extra_values_of_every_kind() {
        for (field, value) in [
            ("price", "12.5"),
            ("in_stock", "true"),
            ("count", "-3"),
            ("tags", DEFAULT_PARTITION),
            ("blank", DEFAULT_PARTITION),
            ("gone", DEFAULT_PARTITION),
            ("absent", DEFAULT_PARTITION),
        ] {
            let config = format!(r#"{{"extra_field":"{field}"}}"#);
            let outcome = run::<PartitionByDate>(&config, &[EVENT]).unwrap().remove(0);
            assert_eq!(outcome.partitions()[3], (field, value));
        }
    }

    #[test]
    fn sanitising() {
        assert_eq!(sanitise("Home & Kitchen"), "home_kitchen");
        assert_eq!(sanitise("__Sports/Outdoors!__"), "sports_outdoors");
        assert_eq!(sanitise("a__b..c-d"), "a_b..c-d");
        assert_eq!(sanitise("Café au lait"), "caf_au_lait");
        assert_eq!(sanitise("&&&"), DEFAULT_PARTITION);
        assert_eq!(sanitise(""), DEFAULT_PARTITION);
        assert_eq!(sanitise(&"x".repeat(100)), "x".repeat(64));
        let cut_at_underscore = format!("{} tail", "y".repeat(63));
        assert_eq!(sanitise(&cut_at_underscore), "y".repeat(63));
    }

    #[test]
    fn rejects_bad_timestamps() {
        let plugin = init::<PartitionByDate>("{}").unwrap();
        for event in [
            r#"{"price":1}"#,
            r#"{"timestamp":"19/02/2026"}"#,
            r#"{"timestamp":null}"#,
        ] {
            let outcome = one(&plugin, event);
            assert_eq!(outcome.reject_code(), Some("bad-timestamp"), "{event}");
            assert!(outcome.reject_reason().unwrap().contains("`timestamp`"));
        }
    }

    #[test]
    fn refuses_unknown_keys() {
        let err = init::<PartitionByDate>(r#"{"hours":true}"#).err().unwrap();
        assert!(err.contains("`hours`"), "{err}");
    }

    #[test]
    fn refuses_bad_keys() {
        for (config, key) in [
            (r#"{"extra_field":"product-category"}"#, "extra_field"),
            (r#"{"extra_field":"x","extra_key":""}"#, "extra_key"),
            (r#"{"extra_field":"x","extra_key":"a/b"}"#, "extra_key"),
            (r#"{"extra_field":"x","extra_key":"Year"}"#, "extra_key"),
            (r#"{"extra_field":"hour","hour":true}"#, "extra_field"),
            (r#"{"extra_key":"cat"}"#, "extra_key"),
            (r#"{"extra_field":""}"#, "extra_field"),
        ] {
            let err = init::<PartitionByDate>(config).err().unwrap();
            assert!(err.contains(key), "{config}: {err}");
        }
        assert!(init::<PartitionByDate>(r#"{"extra_field":"hour"}"#).is_ok());
    }
}
