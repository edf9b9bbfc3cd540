//! Weir plugin `filter`: drops the events a pipeline does not want, such as
//! test accounts, bots, or actions and devices outside the ones analysed.
//!
//! Filtering never rejects. An event that lacks a field is judged by the rules
//! that can apply to it: a missing `user_id` escapes the user rules, while a
//! missing `action` is dropped when `keep_actions` restricts actions.

use std::collections::HashSet;

use serde::Deserialize;
use weir_plugin::{Config, Event, Outcome, Plugin};

/// The plugin's table in the pipeline file. Every list empty (the default)
/// means no restriction.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Exact `user_id`s to drop, such as test accounts.
    drop_user_ids: Vec<String>,
    /// `user_id` prefixes to drop, such as `bot-` or `test_`.
    drop_user_prefixes: Vec<String>,
    /// When non-empty, the only `action`s kept (ignoring ASCII case).
    keep_actions: Vec<String>,
    /// When non-empty, the only `device`s kept (ignoring ASCII case).
    keep_devices: Vec<String>,
}

/// The filter, configured.
pub struct Filter {
    drop_user_ids: HashSet<String>,
    drop_user_prefixes: Vec<String>,
    keep_actions: Vec<String>,
    keep_devices: Vec<String>,
}

impl Filter {
    fn drops_user(&self, user_id: &str) -> bool {
        self.drop_user_ids.contains(user_id)
            || self
                .drop_user_prefixes
                .iter()
                .any(|prefix| user_id.starts_with(prefix.as_str()))
    }
}

/// Does an allow-list admit `value`? An empty list admits anything, even an
/// absent value; a non-empty one only a listed value, ignoring ASCII case.
fn admits(list: &[String], value: Option<&str>) -> bool {
    list.is_empty()
        || value.is_some_and(|value| list.iter().any(|kept| kept.eq_ignore_ascii_case(value)))
}

/// Refuse a list holding an empty or blank entry, which is surely a mistake.
fn no_blank(key: &str, list: &[String]) -> Result<(), String> {
    if list.iter().any(|entry| entry.trim().is_empty()) {
        return Err(format!("`{key}` must not hold an empty entry"));
    }
    Ok(())
}

impl Plugin for Filter {
    const NAME: &'static str = "filter";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn init(config: Config) -> Result<Self, String> {
        let settings = config.parse::<Settings>()?;
        no_blank("drop_user_ids", &settings.drop_user_ids)?;
        // An empty prefix would drop every event that has a user id.
        no_blank("drop_user_prefixes", &settings.drop_user_prefixes)?;
        no_blank("keep_actions", &settings.keep_actions)?;
        no_blank("keep_devices", &settings.keep_devices)?;
        Ok(Filter {
            drop_user_ids: settings.drop_user_ids.into_iter().collect(),
            drop_user_prefixes: settings.drop_user_prefixes,
            keep_actions: settings.keep_actions,
            keep_devices: settings.keep_devices,
        })
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        let dropped = event.str("user_id").is_some_and(|id| self.drops_user(id))
            || !admits(&self.keep_actions, event.str("action"))
            || !admits(&self.keep_devices, event.str("device"));
        if dropped {
            Outcome::drop()
        } else {
            Outcome::keep()
        }
    }
}

weir_plugin::export_plugin!(Filter);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin::testing::{init, one, run};

    /// Run `events` and say which were kept.
    fn kept(config: &str, events: &[&str]) -> Vec<bool> {
        run::<Filter>(config, events)
            .unwrap()
            .iter()
            .map(|outcome| {
                assert!(outcome.is_keep() || outcome.is_drop(), "{outcome:?}");
                outcome.is_keep()
            })
            .collect()
    }

    #[test]
    fn no_config_keeps_everything() {
        let events = [r#"{"user_id":"bot-1","action":"VIEW"}"#, "{}"];
        assert_eq!(kept("{}", &events), [true, true]);
    }

    #[test]
    fn drops_exact_user_ids() {
        let config = r#"{"drop_user_ids":["qa-1","qa-2"]}"#;
        let events = [
            r#"{"user_id":"qa-1"}"#,
            r#"{"user_id":"qa-10"}"#,
            r#"{"user_id":"QA-2"}"#,
            r#"{"user_id":"qa-2"}"#,
        ];
        assert_eq!(kept(config, &events), [false, true, true, false]);
    }

    #[test]
    fn drops_user_prefixes() {
        let config = r#"{"drop_user_prefixes":["bot-","test_"]}"#;
        let events = [
            r#"{"user_id":"bot-7"}"#,
            r#"{"user_id":"test_alice"}"#,
            r#"{"user_id":"robot-7"}"#,
            r#"{"user_id":"u1"}"#,
        ];
        assert_eq!(kept(config, &events), [false, false, true, true]);
    }

    #[test]
    fn missing_user_id_escapes_user_rules() {
        let config = r#"{"drop_user_ids":["u1"],"drop_user_prefixes":["bot-"]}"#;
        let events = [r#"{"action":"VIEW"}"#, r#"{"user_id":null}"#];
        assert_eq!(kept(config, &events), [true, true]);
    }

    #[test]
    fn keeps_only_listed_actions() {
        let config = r#"{"keep_actions":["PURCHASE","add_to_cart"]}"#;
        let events = [
            r#"{"action":"purchase"}"#,
            r#"{"action":"ADD_TO_CART"}"#,
            r#"{"action":"VIEW"}"#,
            r#"{"user_id":"u1"}"#,
            r#"{"action":3}"#,
        ];
        assert_eq!(kept(config, &events), [true, true, false, false, false]);
    }

    #[test]
    fn keeps_only_listed_devices() {
        let config = r#"{"keep_devices":["mobile","Tablet"]}"#;
        let events = [
            r#"{"device":"MOBILE"}"#,
            r#"{"device":"tablet"}"#,
            r#"{"device":"desktop"}"#,
            r#"{"user_id":"u1"}"#,
        ];
        assert_eq!(kept(config, &events), [true, true, false, false]);
    }

    #[test]
    fn rules_combine() {
        let filter = init::<Filter>(
            r#"{"drop_user_prefixes":["bot-"],"keep_actions":["VIEW"],"keep_devices":["web"]}"#,
        )
        .unwrap();
        let event = r#"{"user_id":"u1","action":"VIEW","device":"web"}"#;
        assert!(one(&filter, event).is_keep());
        let bot = r#"{"user_id":"bot-1","action":"VIEW","device":"web"}"#;
        assert!(one(&filter, bot).is_drop());
        let app = r#"{"user_id":"u1","action":"VIEW","device":"app"}"#;
        assert!(one(&filter, app).is_drop());
    }

    #[test]
    fn refuses_unknown_keys() {
        let err = init::<Filter>(r#"{"drop_users":["u1"]}"#).err().unwrap();
        assert!(err.contains("`drop_users`"), "{err}");
    }

    #[test]
    fn refuses_bad_values() {
        let err = init::<Filter>(r#"{"drop_user_prefixes":["bot-",""]}"#)
            .err()
            .unwrap();
        assert!(err.contains("drop_user_prefixes"), "{err}");
        let err = init::<Filter>(r#"{"keep_actions":"VIEW"}"#).err().unwrap();
        assert!(err.contains("invalid type"), "{err}");
    }
}
