//! Weir plugin `enrich`: adds fields computed from a clickstream event so
//! that queries need not compute them: the UTC `event_date`, `event_hour` and
//! `day_of_week` of its `timestamp`, a `price_band` and an `is_high_value`
//! flag from its `price`, and consistent casing of `product_category` and
//! `device`.
//!
//! An event without a parsable `timestamp` is rejected with `bad-timestamp`,
//! since enrich may run without the validator before it.

use std::iter::FusedIterator;

use serde::Deserialize;
use weir_plugin::{Config, Event, NewValue, Outcome, Plugin};

/// How to normalise the casing of a string field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Case {
    /// `home & kitchen`.
    #[default]
    Lower,
    /// `HOME & KITCHEN`.
    Upper,
    /// `Home & Kitchen`: each word (split at whitespace, `-` and `_`) starts
    /// upper case, the rest lower case.
    Title,
    /// Leave the field as it is.
    Keep,
}

/// One price band: prices below `below` (and at or above the previous band's
/// bound) fall in it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Band {
    /// The value written to `price_band`.
    name: String,
    /// The band's exclusive upper bound.
    below: f64,
}

/// The plugin's table in the pipeline file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Price bands, ascending by `below`.
    price_bands: Vec<Band>,
    /// The band of prices at or above the last band's `below`.
    top_band: String,
    /// Prices at or above this are `is_high_value`.
    high_value_threshold: f64,
    /// Casing of `product_category`.
    category_case: Case,
    /// Casing of `device`.
    device_case: Case,
}

impl Default for Settings {
    fn default() -> Self {
        let band = |name: &str, below| Band {
            name: name.to_string(),
            below,
        };
        Settings {
            price_bands: vec![
                band("low", 20.0),
                band("medium", 100.0),
                band("high", 500.0),
            ],
            top_band: "premium".to_string(),
            high_value_threshold: 500.0,
            category_case: Case::Lower,
            device_case: Case::Lower,
        }
    }
}

/// The enricher, configured.
///
/// Band names live for the whole life of the plugin instance, so they are
/// leaked once at init into `&'static str`: each event then names its band
/// without copying it.
pub struct Enrich {
    /// `(below, name)`, ascending.
    bands: Vec<(f64, &'static str)>,
    top_band: &'static str,
    high_value_threshold: f64,
    category_case: Case,
    device_case: Case,
}

impl Enrich {
    fn band(&self, price: f64) -> &'static str {
        self.bands
            .iter()
            .find(|(below, _)| price < *below)
            .map_or(self.top_band, |(_, name)| name)
    }
}

/// Refuse a threshold that is negative, NaN or infinite.
fn check_threshold(key: &str, value: f64) -> Result<(), String> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(format!(
            "`{key}` must be a finite, non-negative number, found {value}"
        ))
    }
}

impl Plugin for Enrich {
    const NAME: &'static str = "enrich";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn init(config: Config) -> Result<Self, String> {
        let settings = config.parse::<Settings>()?;
        for band in &settings.price_bands {
            if band.name.trim().is_empty() {
                return Err("`price_bands` holds a band with an empty `name`".to_string());
            }
            check_threshold("price_bands.below", band.below)?;
        }
        let bands = &settings.price_bands;
        if let Some(pair) = bands.windows(2).find(|pair| pair[1].below <= pair[0].below) {
            return Err(format!(
                "`price_bands` must be ascending by `below`: `{}` ({}) follows `{}` ({})",
                pair[1].name, pair[1].below, pair[0].name, pair[0].below
            ));
        }
        if settings.top_band.trim().is_empty() {
            return Err("`top_band` must not be empty".to_string());
        }
        check_threshold("high_value_threshold", settings.high_value_threshold)?;
        Ok(Enrich {
            bands: settings
                .price_bands
                .into_iter()
                .map(|band| (band.below, &*band.name.leak()))
                .collect(),
            top_band: settings.top_band.leak(),
            high_value_threshold: settings.high_value_threshold,
            category_case: settings.category_case,
            device_case: settings.device_case,
        })
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        let time = match event.timestamp("timestamp") {
            Ok(time) => time,
            Err(reason) => return Outcome::reject("bad-timestamp", reason),
        };
        let price = event.f64("price");
        let band = match price {
            Some(price) => NewValue::from(self.band(price)),
            None => NewValue::Null,
        };
        let mut outcome = Outcome::keep()
            .set("event_date", time.date_string())
            .set("event_hour", time.hour)
            .set("day_of_week", time.weekday())
            .set("price_band", band)
            .set(
                "is_high_value",
                price.is_some_and(|price| price >= self.high_value_threshold),
            );
        for (field, case) in [
            ("product_category", self.category_case),
            ("device", self.device_case),
        ] {
            if let Some(recased) = event.str(field).and_then(|text| recase(case, text)) {
                outcome = outcome.set(field, recased);
            }
        }
        outcome
    }
}

/// `text` in `case`, or `None` when that changes nothing.
fn recase(case: Case, text: &str) -> Option<String> {
    // ASCII, the usual case, needs no per-character iterator.
    if text.is_ascii() {
        match case {
            Case::Lower if !text.bytes().any(|b| b.is_ascii_uppercase()) => return None,
            Case::Lower => return Some(text.to_ascii_lowercase()),
            Case::Upper if !text.bytes().any(|b| b.is_ascii_lowercase()) => return None,
            Case::Upper => return Some(text.to_ascii_uppercase()),
            Case::Title | Case::Keep => {}
        }
    }
    if case == Case::Keep || CaseChars::new(case, text).eq(text.chars()) {
        return None;
    }
    Some(CaseChars::new(case, text).collect())
}

/// The characters of a string converted to a case, without allocating.
struct CaseChars<'a> {
    case: Case,
    chars: std::str::Chars<'a>,
    /// Is the next character the first of a word?
    word_start: bool,
    /// What is left of the last character's conversion (some take several).
    pending: Pending,
}

enum Pending {
    Upper(std::char::ToUppercase),
    Lower(std::char::ToLowercase),
    None,
}

impl<'a> CaseChars<'a> {
    fn new(case: Case, text: &'a str) -> Self {
        CaseChars {
            case,
            chars: text.chars(),
            word_start: true,
            pending: Pending::None,
        }
    }
}

impl Iterator for CaseChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        loop {
            let next = match &mut self.pending {
                Pending::Upper(chars) => chars.next(),
                Pending::Lower(chars) => chars.next(),
                Pending::None => None,
            };
            if next.is_some() {
                return next;
            }
            let c = self.chars.next()?;
            let upper = match self.case {
                Case::Upper => true,
                Case::Title => self.word_start,
                Case::Lower | Case::Keep => false,
            };
            self.word_start = c.is_whitespace() || c == '-' || c == '_';
            self.pending = if upper {
                Pending::Upper(c.to_uppercase())
            } else {
                Pending::Lower(c.to_lowercase())
            };
        }
    }
}

impl FusedIterator for CaseChars<'_> {}

weir_plugin::export_plugin!(Enrich);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin::testing::{init, one, run};

    fn text(value: &str) -> NewValue {
        NewValue::from(value.to_string())
    }

    fn event(price: &str) -> String {
        format!(
            r#"{{"timestamp":"2026-02-19T11:05:00Z","price":{price},
               "product_category":"Home & Kitchen","device":"Mobile"}}"#
        )
    }

    #[test]
    fn adds_date_hour_and_weekday() {
        let outcome = run::<Enrich>("{}", &[&event("10")]).unwrap().remove(0);
        assert!(outcome.is_keep());
        assert_eq!(outcome.set_value("event_date"), Some(&text("2026-02-19")));
        assert_eq!(
            outcome.set_value("event_hour"),
            Some(&NewValue::Integer(11))
        );
        assert_eq!(outcome.set_value("day_of_week"), Some(&text("Thursday")));
    }

    #[test]
    fn converts_to_utc() {
        let enrich = init::<Enrich>("{}").unwrap();
        let outcome = one(&enrich, r#"{"timestamp":"2026-02-22T23:30:00-02:00"}"#);
        assert_eq!(outcome.set_value("event_date"), Some(&text("2026-02-23")));
        assert_eq!(outcome.set_value("event_hour"), Some(&NewValue::Integer(1)));
        assert_eq!(outcome.set_value("day_of_week"), Some(&text("Monday")));
    }

    #[test]
    fn price_bands_at_their_boundaries() {
        let enrich = init::<Enrich>("{}").unwrap();
        for (price, band, high) in [
            ("0", "low", false),
            ("19.99", "low", false),
            ("20", "medium", false),
            ("20.0", "medium", false),
            ("99.99", "medium", false),
            ("100", "high", false),
            ("499.99", "high", false),
            ("500", "premium", true),
            ("12000.5", "premium", true),
        ] {
            let outcome = one(&enrich, &event(price));
            assert_eq!(
                outcome.set_value("price_band"),
                Some(&text(band)),
                "{price}"
            );
            assert_eq!(
                outcome.set_value("is_high_value"),
                Some(&NewValue::Boolean(high)),
                "{price}"
            );
        }
    }

    #[test]
    fn configured_bands_and_threshold() {
        let config = r#"{"price_bands":[{"name":"cheap","below":5}],"top_band":"dear",
            "high_value_threshold":50}"#;
        let enrich = init::<Enrich>(config).unwrap();
        let outcome = one(&enrich, &event("4.5"));
        assert_eq!(outcome.set_value("price_band"), Some(&text("cheap")));
        let outcome = one(&enrich, &event("50"));
        assert_eq!(outcome.set_value("price_band"), Some(&text("dear")));
        assert_eq!(
            outcome.set_value("is_high_value"),
            Some(&NewValue::Boolean(true))
        );
        let enrich = init::<Enrich>(r#"{"price_bands":[]}"#).unwrap();
        let outcome = one(&enrich, &event("1"));
        assert_eq!(outcome.set_value("price_band"), Some(&text("premium")));
    }

    #[test]
    fn missing_or_non_number_price() {
        let enrich = init::<Enrich>("{}").unwrap();
        for event in [
            r#"{"timestamp":"2026-02-19T11:05:00Z"}"#,
            r#"{"timestamp":"2026-02-19T11:05:00Z","price":"12"}"#,
        ] {
            let outcome = one(&enrich, event);
            assert_eq!(outcome.set_value("price_band"), Some(&NewValue::Null));
            assert_eq!(
                outcome.set_value("is_high_value"),
                Some(&NewValue::Boolean(false))
            );
        }
    }

    #[test]
    fn default_casing_is_lower() {
        let outcome = one(&init::<Enrich>("{}").unwrap(), &event("1"));
        assert_eq!(
            outcome.set_value("product_category"),
            Some(&text("home & kitchen"))
        );
        assert_eq!(outcome.set_value("device"), Some(&text("mobile")));
    }

    #[test]
    fn casing_modes() {
        let config = r#"{"category_case":"title","device_case":"upper"}"#;
        let enrich = init::<Enrich>(config).unwrap();
        let outcome = one(
            &enrich,
            r#"{"timestamp":"2026-02-19T11:05:00Z","product_category":"hOME & kitchen-tools_and  gARDEN",
                "device":"Mobile"}"#,
        );
        assert_eq!(
            outcome.set_value("product_category"),
            Some(&text("Home & Kitchen-Tools_And  Garden"))
        );
        assert_eq!(outcome.set_value("device"), Some(&text("MOBILE")));
        let config = r#"{"category_case":"keep","device_case":"keep"}"#;
        let outcome = one(&init::<Enrich>(config).unwrap(), &event("1"));
        assert_eq!(outcome.set_value("product_category"), None);
        assert_eq!(outcome.set_value("device"), None);
    }

    #[test]
    fn casing_sets_only_changed_strings() {
        let enrich = init::<Enrich>("{}").unwrap();
        let outcome = one(
            &enrich,
            r#"{"timestamp":"2026-02-19T11:05:00Z","product_category":"books","device":7}"#,
        );
        assert_eq!(outcome.set_value("product_category"), None);
        assert_eq!(outcome.set_value("device"), None);
        assert_eq!(recase(Case::Lower, "ÉCOLE"), Some("école".to_string()));
        assert_eq!(recase(Case::Title, "Books"), None);
    }

    #[test]
    fn rejects_bad_timestamps() {
        let enrich = init::<Enrich>("{}").unwrap();
        for event in [
            r#"{"price":1}"#,
            r#"{"timestamp":"yesterday"}"#,
            r#"{"timestamp":"2026–02–19T11:05:00"}"#,
            r#"{"timestamp":1771499100}"#,
        ] {
            let outcome = one(&enrich, event);
            assert_eq!(outcome.reject_code(), Some("bad-timestamp"), "{event}");
            assert!(outcome.reject_reason().unwrap().contains("`timestamp`"));
        }
    }

    #[test]
    fn refuses_unknown_keys() {
        let err = init::<Enrich>(r#"{"top_bnad":"x"}"#).err().unwrap();
        assert!(err.contains("`top_bnad`"), "{err}");
        let err = init::<Enrich>(r#"{"price_bands":[{"name":"a","below":1,"above":0}]}"#)
            .err()
            .unwrap();
        assert!(err.contains("`above`"), "{err}");
    }

    #[test]
    fn refuses_bad_values() {
        for (config, key) in [
            (
                r#"{"price_bands":[{"name":"a","below":10},{"name":"b","below":10}]}"#,
                "price_bands",
            ),
            (
                r#"{"price_bands":[{"name":"a","below":-1}]}"#,
                "price_bands",
            ),
            (r#"{"price_bands":[{"name":" ","below":1}]}"#, "price_bands"),
            (r#"{"high_value_threshold":-5}"#, "high_value_threshold"),
            (r#"{"top_band":""}"#, "top_band"),
            (r#"{"device_case":"camel"}"#, "camel"),
        ] {
            let err = init::<Enrich>(config).err().unwrap();
            assert!(err.contains(key), "{config}: {err}");
        }
    }
}
