//! Weir plugin `validate-clickstream`: checks that a clickstream event holds
//! the fields later stages rely on, with the right JSON types and sensible
//! values, and rejects it to the dead-letter output otherwise.
//!
//! Fields are checked in a fixed order and the first failure decides the
//! reject code: `missing-field`, `wrong-type`, `empty-field`,
//! `unknown-action`, `negative-price`, `bad-price` or `bad-timestamp`. A
//! timestamp written with typographic dashes is normalised to ASCII (or
//! rejected, as configured) so that later plugins can parse it.

use serde::Deserialize;
use weir_plugin::time::{Timestamp, normalise_dashes};
use weir_plugin::{Config, Event, Outcome, Plugin, Value};

/// How a field's value is checked beyond being present.
#[derive(Clone, Copy)]
enum Check {
    /// A non-blank string.
    Text,
    /// A non-blank string from the configured set of actions.
    Action,
    /// A finite, non-negative number.
    Price,
    /// A non-blank ISO-8601 date-time string.
    Timestamp,
}

/// The required fields, in the order they are checked.
const FIELDS: [(&str, Check); 7] = [
    ("user_id", Check::Text),
    ("product_id", Check::Text),
    ("product_category", Check::Text),
    ("action", Check::Action),
    ("price", Check::Price),
    ("device", Check::Text),
    ("timestamp", Check::Timestamp),
];

/// The actions accepted when the config names none.
const DEFAULT_ACTIONS: [&str; 7] = [
    "VIEW",
    "ADD_TO_CART",
    "REMOVE_FROM_CART",
    "PURCHASE",
    "LOGIN",
    "LOGOUT",
    "SEARCH",
];

/// What to do with a timestamp written with typographic dashes (`–` for `-`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Dashes {
    /// Replace them with `-` and keep the event, with the fixed timestamp.
    #[default]
    Normalise,
    /// Reject the event with `bad-timestamp`.
    Reject,
}

/// The plugin's table in the pipeline file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// The values `action` may take.
    actions: Vec<String>,
    /// Compare `action` with `actions` ignoring ASCII case.
    action_case_insensitive: bool,
    /// `normalise` or `reject` timestamps written with typographic dashes.
    typographic_dashes: Dashes,
    /// Required fields that may be absent; when present they are still checked.
    optional_fields: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            actions: DEFAULT_ACTIONS.iter().map(|a| a.to_string()).collect(),
            action_case_insensitive: false,
            typographic_dashes: Dashes::Normalise,
            optional_fields: Vec::new(),
        }
    }
}

/// Why an event is rejected: its code and reason.
type Rejection = (&'static str, String);

/// The validator, configured.
pub struct ValidateClickstream {
    actions: Vec<String>,
    /// `actions` joined for reject reasons, built once.
    actions_list: String,
    action_case_insensitive: bool,
    dashes: Dashes,
    /// Per entry of [`FIELDS`]: may the field be absent?
    optional: [bool; FIELDS.len()],
}

impl ValidateClickstream {
    /// Check every field in order; `Ok` carries a normalised timestamp to set.
    fn check(&self, event: &Event<'_>) -> Result<Option<String>, Rejection> {
        let mut fixed_timestamp = None;
        for (&(name, check), &optional) in FIELDS.iter().zip(&self.optional) {
            let Some(value) = event.get(name) else {
                if optional {
                    continue;
                }
                return Err((
                    "missing-field",
                    format!("required field `{name}` is missing"),
                ));
            };
            match (check, value) {
                (Check::Price, Value::Int(price)) => check_price(price as f64)?,
                (Check::Price, Value::Float(price)) => check_price(price)?,
                (Check::Text | Check::Action | Check::Timestamp, Value::Text(text)) => {
                    if text.trim().is_empty() {
                        return Err(("empty-field", format!("field `{name}` must not be empty")));
                    }
                    match check {
                        Check::Action => self.check_action(text)?,
                        Check::Timestamp => fixed_timestamp = self.check_timestamp(text)?,
                        _ => {}
                    }
                }
                (check, other) => {
                    let expected = match check {
                        Check::Price => "number",
                        _ => "string",
                    };
                    return Err((
                        "wrong-type",
                        format!(
                            "field `{name}` must be a {expected}, found {}",
                            other.type_name()
                        ),
                    ));
                }
            }
        }
        Ok(fixed_timestamp)
    }

    fn check_action(&self, action: &str) -> Result<(), Rejection> {
        let known = self.actions.iter().any(|allowed| {
            if self.action_case_insensitive {
                allowed.eq_ignore_ascii_case(action)
            } else {
                allowed == action
            }
        });
        if known {
            return Ok(());
        }
        Err((
            "unknown-action",
            format!(
                "field `action` has unknown value `{action}`; expected one of {}",
                self.actions_list
            ),
        ))
    }

    /// `Ok(Some(..))` is a timestamp that parses once its dashes are fixed.
    fn check_timestamp(&self, text: &str) -> Result<Option<String>, Rejection> {
        let bad = |err: String| ("bad-timestamp", format!("field `timestamp`: {err}"));
        let Err(err) = Timestamp::parse(text) else {
            return Ok(None);
        };
        let Some(normalised) = normalise_dashes(text) else {
            return Err(bad(err.to_string()));
        };
        if self.dashes == Dashes::Reject {
            return Err(bad(format!(
                "`{text}` uses typographic dashes, which are not accepted; write `-`"
            )));
        }
        match Timestamp::parse(&normalised) {
            Ok(_) => Ok(Some(normalised)),
            Err(err) => Err(bad(err.to_string())),
        }
    }
}

fn check_price(price: f64) -> Result<(), Rejection> {
    if !price.is_finite() {
        return Err((
            "bad-price",
            format!("field `price` must be finite, found {price}"),
        ));
    }
    if price < 0.0 {
        return Err((
            "negative-price",
            format!("field `price` must not be negative, found {price}"),
        ));
    }
    Ok(())
}

impl Plugin for ValidateClickstream {
    const NAME: &'static str = "validate-clickstream";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn init(config: Config) -> Result<Self, String> {
        let settings = config.parse::<Settings>()?;
        if settings.actions.is_empty() {
            return Err("`actions` must name at least one action".to_string());
        }
        if settings.actions.iter().any(|a| a.trim().is_empty()) {
            return Err("`actions` must not hold an empty action".to_string());
        }
        let mut optional = [false; FIELDS.len()];
        for field in &settings.optional_fields {
            let Some(at) = FIELDS.iter().position(|(name, _)| name == field) else {
                let names: Vec<&str> = FIELDS.iter().map(|(name, _)| *name).collect();
                return Err(format!(
                    "`optional_fields` names `{field}`, which is not a required field; \
                     expected some of {}",
                    names.join(", ")
                ));
            };
            optional[at] = true;
        }
        Ok(ValidateClickstream {
            actions_list: settings.actions.join(", "),
            actions: settings.actions,
            action_case_insensitive: settings.action_case_insensitive,
            dashes: settings.typographic_dashes,
            optional,
        })
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        match self.check(event) {
            Ok(None) => Outcome::keep(),
            Ok(Some(timestamp)) => Outcome::keep().set("timestamp", timestamp),
            Err((code, reason)) => Outcome::reject(code, reason),
        }
    }
}

weir_plugin::export_plugin!(ValidateClickstream);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin::NewValue;
    use weir_plugin::testing::{init, one, run};

    const GOOD: &str = r#"{"user_id":"u1","product_id":"p1","product_category":"Books",
        "action":"VIEW","price":12.5,"device":"mobile","timestamp":"2026-02-19T11:05:00Z"}"#;

    /// `GOOD` with `field` replaced by the JSON `value`, or removed for `None`.
    fn with(field: &str, value: Option<&str>) -> String {
        let mut event: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(GOOD).unwrap();
        match value {
            Some(json) => event.insert(field.to_string(), serde_json::from_str(json).unwrap()),
            None => event.remove(field),
        };
        serde_json::Value::Object(event).to_string()
    }

    fn validate(config: &str, event: &str) -> Outcome {
        one(&init::<ValidateClickstream>(config).unwrap(), event)
    }

    fn assert_reject(outcome: &Outcome, code: &str, field: &str) {
        assert_eq!(outcome.reject_code(), Some(code), "{outcome:?}");
        let reason = outcome.reject_reason().unwrap();
        assert!(reason.contains(&format!("`{field}`")), "{reason}");
    }

    #[test]
    fn keeps_a_valid_event_unchanged() {
        let outcomes =
            run::<ValidateClickstream>("{}", &[GOOD, &with("price", Some("7"))]).unwrap();
        for outcome in outcomes {
            assert!(outcome.is_keep());
            assert_eq!(outcome.set_value("timestamp"), None);
        }
    }

    #[test]
    fn missing_field() {
        let outcome = validate("{}", &with("price", None));
        assert_reject(&outcome, "missing-field", "price");
        assert_eq!(
            outcome.reject_reason(),
            Some("required field `price` is missing")
        );
    }

    #[test]
    fn wrong_type() {
        let outcome = validate("{}", &with("price", Some(r#""12.5""#)));
        assert_reject(&outcome, "wrong-type", "price");
        assert_eq!(
            outcome.reject_reason(),
            Some("field `price` must be a number, found string")
        );
        let outcome = validate("{}", &with("device", Some("[1]")));
        assert_reject(&outcome, "wrong-type", "device");
    }

    #[test]
    fn null_is_the_wrong_type() {
        let outcome = validate("{}", &with("user_id", Some("null")));
        assert_reject(&outcome, "wrong-type", "user_id");
        assert_eq!(
            outcome.reject_reason(),
            Some("field `user_id` must be a string, found null")
        );
    }

    #[test]
    fn empty_field() {
        let outcome = validate("{}", &with("product_id", Some(r#""  ""#)));
        assert_reject(&outcome, "empty-field", "product_id");
    }

    #[test]
    fn unknown_action() {
        let outcome = validate("{}", &with("action", Some(r#""view""#)));
        assert_reject(&outcome, "unknown-action", "action");
        let reason = outcome.reject_reason().unwrap();
        assert!(
            reason.contains("`view`") && reason.contains("PURCHASE"),
            "{reason}"
        );
    }

    #[test]
    fn action_case_insensitive() {
        let config = r#"{"action_case_insensitive":true}"#;
        assert!(validate(config, &with("action", Some(r#""view""#))).is_keep());
        let config = r#"{"actions":["CLICK"]}"#;
        assert!(validate(config, &with("action", Some(r#""CLICK""#))).is_keep());
        let outcome = validate(config, GOOD);
        assert_reject(&outcome, "unknown-action", "action");
    }

    #[test]
    fn negative_price() {
        let outcome = validate("{}", &with("price", Some("-0.01")));
        assert_reject(&outcome, "negative-price", "price");
        assert!(validate("{}", &with("price", Some("0"))).is_keep());
    }

    #[test]
    fn bad_price() {
        // JSON cannot spell infinity, so check the rule directly.
        let (code, reason) = check_price(f64::INFINITY).unwrap_err();
        assert_eq!(code, "bad-price");
        assert!(reason.contains("`price`"), "{reason}");
        assert_eq!(check_price(f64::NAN).unwrap_err().0, "bad-price");
    }

    #[test]
    fn bad_timestamp() {
        let outcome = validate("{}", &with("timestamp", Some(r#""2026-02-30T11:05:00""#)));
        assert_reject(&outcome, "bad-timestamp", "timestamp");
        assert!(
            outcome
                .reject_reason()
                .unwrap()
                .contains("day out of range")
        );
    }

    #[test]
    fn first_failure_wins() {
        let event = r#"{"product_id":"","price":-1}"#;
        assert_reject(&validate("{}", event), "missing-field", "user_id");
    }

    #[test]
    fn typographic_dashes_are_normalised() {
        let event = with("timestamp", Some(r#""2026–02–19T11:05:00""#));
        let outcome = validate("{}", &event);
        assert!(outcome.is_keep(), "{outcome:?}");
        assert_eq!(
            outcome.set_value("timestamp"),
            Some(&NewValue::from("2026-02-19T11:05:00"))
        );
    }

    #[test]
    fn normalised_timestamp_must_still_parse() {
        let event = with("timestamp", Some(r#""2026–02–19""#));
        assert_reject(&validate("{}", &event), "bad-timestamp", "timestamp");
    }

    #[test]
    fn typographic_dashes_can_be_rejected() {
        let event = with("timestamp", Some(r#""2026–02–19T11:05:00""#));
        let outcome = validate(r#"{"typographic_dashes":"reject"}"#, &event);
        assert_reject(&outcome, "bad-timestamp", "timestamp");
        assert!(
            outcome
                .reject_reason()
                .unwrap()
                .contains("typographic dashes")
        );
    }

    #[test]
    fn optional_fields_may_be_absent_but_are_checked() {
        let config = r#"{"optional_fields":["product_id","product_category","price"]}"#;
        let login = r#"{"user_id":"u1","action":"LOGIN","device":"web",
            "timestamp":"2026-02-19T11:05:00Z"}"#;
        assert!(validate(config, login).is_keep());
        assert_reject(&validate("{}", login), "missing-field", "product_id");
        let outcome = validate(config, &with("price", Some("true")));
        assert_reject(&outcome, "wrong-type", "price");
    }

    #[test]
    fn refuses_unknown_keys() {
        let err = init::<ValidateClickstream>(r#"{"action":["VIEW"]}"#)
            .err()
            .unwrap();
        assert!(err.contains("`action`"), "{err}");
    }

    #[test]
    fn refuses_bad_values() {
        let err = init::<ValidateClickstream>(r#"{"typographic_dashes":"fix"}"#)
            .err()
            .unwrap();
        assert!(err.contains("fix"), "{err}");
        let err = init::<ValidateClickstream>(r#"{"optional_fields":["colour"]}"#)
            .err()
            .unwrap();
        assert!(
            err.contains("optional_fields") && err.contains("colour"),
            "{err}"
        );
        let err = init::<ValidateClickstream>(r#"{"actions":[]}"#)
            .err()
            .unwrap();
        assert!(err.contains("actions"), "{err}");
    }
}
