//! The files of a new plugin crate, with `{{name}}`, `{{crate}}`,
//! `{{Type}}`, `{{sdk}}` and the like for `create` to fill in: its
//! manifest, README, and for each kind its code, example config and
//! fixture.

pub(super) const CARGO_TOML: &str = r#"[package]
name = "{{name}}"
version = "0.1.0"
edition = "2024"

[lib]
# cdylib: the WebAssembly component; rlib: the native unit tests.
crate-type = ["cdylib", "rlib"]

[dependencies]
weir-plugin = {{sdk}}
serde = { version = "1", features = ["derive"] }

[profile.release]
lto = true
strip = "debuginfo"

# Its own workspace: the crate builds wherever it is.
[workspace]
"#;

pub(super) const SDK_CARGO_TOML: &str = r#"[package]
name = "weir-plugin"
description = "Guest SDK for Weir plugins, contract weir:plugin@{{contract}} (copied by `weir plugin new`)"
version = "0.1.0"
edition = "2024"

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = { version = "1", features = ["preserve_order"] }
serde_path_to_error = "0.1"

[target.'cfg(target_arch = "wasm32")'.dependencies]
wit-bindgen = { version = "0.46", default-features = false, features = ["macros", "realloc"] }
"#;

pub(super) const RUST_TOOLCHAIN: &str = r#"[toolchain]
channel = "1.95.0"
targets = ["wasm32-wasip2"]
"#;

pub(super) const README: &str = r#"# {{name}}

A Weir plugin (contract `weir:plugin@{{contract}}`), made by `weir plugin new`.

```sh
cargo test                                   # the unit tests, natively
weir plugin build --output {{crate}}.wasm      # the component, and its sha256
weir test --plugin {{crate}}.wasm \
  --config '{{config}}' fixtures/*.jsonl      # the component against the fixtures
```

`weir plugin build` runs `cargo build --release --target wasm32-wasip2` (and
adds that target through rustup if the toolchain lacks it); `--out` copies
the component out of cargo's target folder. In a pipeline file:

```toml
[[plugin]]
path = "path/to/{{crate}}.wasm"
sha256 = "<printed by weir plugin build>"
config = {{config_toml}}
```

{{sdk_note}}
"#;

pub(super) const UPDATE_NOTE: &str = "The SDK is the `weir-plugin` dependency in `Cargo.toml`; \
`cargo update -p weir-plugin` takes its newest release there (change the tag \
or version first to move to a newer line).";

pub(super) const PATH_NOTE: &str = "The SDK is the `weir-plugin` dependency in `Cargo.toml`, \
a folder of a Weir checkout: the crate builds against whatever that folder holds.";

pub(super) const VENDORED_NOTE: &str = "`wit/` is the contract and `vendor/weir-plugin` the SDK \
this crate builds against, copied from the `weir` that made it; to take a newer \
SDK, point the `weir-plugin` dependency at a release (`weir plugin new --help` \
lists the forms) and delete `vendor/`.";

pub(super) const FILTER_CONFIG: &str = r#"{"drop_user_prefixes": ["bot-"]}"#;
pub(super) const FILTER: &str = r##"//! Weir plugin `{{name}}`: drops events whose `user_id` starts with one of
//! the configured prefixes.

use serde::Deserialize;
use weir_plugin::{Config, Event, Outcome, Plugin};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    drop_user_prefixes: Vec<String>,
}

pub struct {{Type}} {
    prefixes: Vec<String>,
}

impl Plugin for {{Type}} {
    const NAME: &'static str = "{{name}}";

    fn init(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse()?;
        Ok({{Type}} { prefixes: settings.drop_user_prefixes })
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        match event.str("user_id") {
            Some(id) if self.prefixes.iter().any(|p| id.starts_with(p.as_str())) => {
                Outcome::drop()
            }
            _ => Outcome::keep(),
        }
    }
}

weir_plugin::export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_prefixes_only() {
        let config = r#"{{config}}"#;
        let events = [r#"{"user_id":"bot-1"}"#, r#"{"user_id":"u1"}"#, "{}"];
        let outcomes = weir_plugin::testing::run::<{{Type}}>(config, &events).unwrap();
        let dropped: Vec<bool> = outcomes.iter().map(|o| o.is_drop()).collect();
        assert_eq!(dropped, [true, false, false]);
    }
}
"##;
pub(super) const FILTER_FIXTURE: &str = r#"{"input": {"user_id": "bot-1", "action": "VIEW"}, "expect": "dropped"}
{"input": {"user_id": "u1", "action": "VIEW"}, "expect": {"kept": {"user_id": "u1", "action": "VIEW"}}}
"#;

pub(super) const VALIDATE_CONFIG: &str = r#"{"max_price": 10000.0}"#;
pub(super) const VALIDATE: &str = r##"//! Weir plugin `{{name}}`: rejects events whose `price` is missing, not a
//! number, or above the configured maximum.

use serde::Deserialize;
use weir_plugin::{Config, Event, Outcome, Plugin};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    max_price: f64,
}

pub struct {{Type}} {
    max_price: f64,
}

impl Plugin for {{Type}} {
    const NAME: &'static str = "{{name}}";

    fn init(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse()?;
        Ok({{Type}} { max_price: settings.max_price })
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        match event.f64("price") {
            None => Outcome::reject("bad-price", "`price` is missing or not a number"),
            Some(price) if price > self.max_price => Outcome::reject(
                "price-too-high",
                format!("`price` {price} is above {}", self.max_price),
            ),
            Some(_) => Outcome::keep(),
        }
    }
}

weir_plugin::export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_missing_and_too_high_prices() {
        let config = r#"{{config}}"#;
        let events = [r#"{"price":5}"#, r#"{"price":50000}"#, "{}"];
        let outcomes = weir_plugin::testing::run::<{{Type}}>(config, &events).unwrap();
        let codes: Vec<Option<&str>> = outcomes.iter().map(|o| o.reject_code()).collect();
        assert_eq!(codes, [None, Some("price-too-high"), Some("bad-price")]);
    }
}
"##;
pub(super) const VALIDATE_FIXTURE: &str = r#"{"input": {"price": 5}, "expect": "kept"}
{"input": {"price": 50000}, "expect": {"rejected": "price-too-high"}}
{"input": {"price": "5"}, "expect": {"rejected": "bad-price"}}
"#;

pub(super) const ENRICH_CONFIG: &str = r#"{"tax_rate": 0.2}"#;
pub(super) const ENRICH: &str = r##"//! Weir plugin `{{name}}`: adds `price_with_tax`, the `price` plus the
//! configured tax rate, to events that have a price.

use serde::Deserialize;
use weir_plugin::{Config, Event, Outcome, Plugin};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    tax_rate: f64,
}

pub struct {{Type}} {
    tax_rate: f64,
}

impl Plugin for {{Type}} {
    const NAME: &'static str = "{{name}}";

    fn init(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse()?;
        if !(0.0..=1.0).contains(&settings.tax_rate) {
            return Err("`tax_rate` must be between 0 and 1".into());
        }
        Ok({{Type}} { tax_rate: settings.tax_rate })
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        match event.f64("price") {
            Some(price) => {
                let with_tax = (price * (1.0 + self.tax_rate) * 100.0).round() / 100.0;
                Outcome::keep().set("price_with_tax", with_tax)
            }
            None => Outcome::keep(),
        }
    }
}

weir_plugin::export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin::NewValue;

    #[test]
    fn adds_the_price_with_tax() {
        let config = r#"{{config}}"#;
        let events = [r#"{"price":10}"#, "{}"];
        let outcomes = weir_plugin::testing::run::<{{Type}}>(config, &events).unwrap();
        assert_eq!(outcomes[0].set_value("price_with_tax"), Some(&NewValue::Float(12.0)));
        assert_eq!(outcomes[1].set_value("price_with_tax"), None);
    }
}
"##;
pub(super) const ENRICH_FIXTURE: &str = r#"{"input": {"user_id": "u1", "price": 10}, "expect": {"kept": {"user_id": "u1", "price": 10, "price_with_tax": 12.0}}}
{"input": {"user_id": "u1"}, "expect": {"kept": {"user_id": "u1"}}}
"#;

pub(super) const PARTITION_CONFIG: &str = "{}";
pub(super) const PARTITION: &str = r##"//! Weir plugin `{{name}}`: partitions events by the date of their
//! `timestamp` (`year=`, `month=`, `day=`), and rejects those without one.

use weir_plugin::{Config, Event, Outcome, Plugin};

pub struct {{Type}};

impl Plugin for {{Type}} {
    const NAME: &'static str = "{{name}}";

    fn init(_config: Config) -> Result<Self, String> {
        Ok({{Type}})
    }

    fn process(&self, event: &Event<'_>) -> Outcome {
        match event.timestamp("timestamp") {
            Ok(time) => Outcome::keep()
                .partition("year", time.year_string())
                .partition("month", format!("{:02}", time.month))
                .partition("day", format!("{:02}", time.day)),
            Err(reason) => Outcome::reject("bad-timestamp", reason),
        }
    }
}

weir_plugin::export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_by_the_events_date() {
        let events = [r#"{"timestamp":"2026-02-19T23:30:00Z"}"#, "{}"];
        let outcomes = weir_plugin::testing::run::<{{Type}}>("{}", &events).unwrap();
        assert_eq!(
            outcomes[0].partitions(),
            [("year", "2026"), ("month", "02"), ("day", "19")]
        );
        assert_eq!(outcomes[1].reject_code(), Some("bad-timestamp"));
    }
}
"##;
pub(super) const PARTITION_FIXTURE: &str = r#"{"input": {"timestamp": "2026-02-19T23:30:00Z"}, "expect": {"kept": true, "partition": {"year": "2026", "month": "02", "day": "19"}}}
{"input": {"user_id": "u1"}, "expect": {"rejected": "bad-timestamp"}}
"#;
