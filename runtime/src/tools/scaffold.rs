//! `weir plugin new`: a ready plugin crate, a working example of its kind.
//!
//! The crate is its own workspace, so it can live anywhere, inside another
//! workspace or not. It carries what it builds against: the contract
//! (`wit/plugin.wit`) and the SDK (`vendor/weir-plugin`), copied from this
//! `weir` binary, so it needs nothing but a Rust toolchain and crates.io.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a crate was not created.
#[derive(Debug, Error)]
pub enum ScaffoldError {
    #[error("plugin name {0:?}: use lowercase letters, digits and -, starting with a letter")]
    BadName(String),
    #[error("{0} already exists: choose another name or folder")]
    Exists(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The kinds of plugin a crate can start as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Drops the events a pipeline does not want.
    Filter,
    /// Rejects events that break a rule, with a code and a reason.
    Validate,
    /// Adds fields to events.
    Enrich,
    /// Sets the Hive partition of events.
    Partition,
}

/// The SDK's files, as this binary was built with them.
const SDK_FILES: &[(&str, &str)] = &[
    (
        "src/lib.rs",
        include_str!("../../../plugins/sdk/src/lib.rs"),
    ),
    (
        "src/__private.rs",
        include_str!("../../../plugins/sdk/src/__private.rs"),
    ),
    (
        "src/config.rs",
        include_str!("../../../plugins/sdk/src/config.rs"),
    ),
    (
        "src/event.rs",
        include_str!("../../../plugins/sdk/src/event.rs"),
    ),
    (
        "src/layout.rs",
        include_str!("../../../plugins/sdk/src/layout.rs"),
    ),
    (
        "src/log.rs",
        include_str!("../../../plugins/sdk/src/log.rs"),
    ),
    (
        "src/outcome.rs",
        include_str!("../../../plugins/sdk/src/outcome.rs"),
    ),
    (
        "src/results.rs",
        include_str!("../../../plugins/sdk/src/results.rs"),
    ),
    (
        "src/testing.rs",
        include_str!("../../../plugins/sdk/src/testing.rs"),
    ),
    (
        "src/time.rs",
        include_str!("../../../plugins/sdk/src/time.rs"),
    ),
    (
        "src/wit.rs",
        include_str!("../../../plugins/sdk/src/wit.rs"),
    ),
];

const CONTRACT: &str = include_str!("../../../wit/plugin.wit");

/// Create the crate `name` in `parent`; returns its folder.
pub fn create(parent: &Path, name: &str, kind: Kind) -> Result<PathBuf, ScaffoldError> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        return Err(ScaffoldError::BadName(name.to_string()));
    }
    let root = parent.join(name);
    if root.exists() {
        return Err(ScaffoldError::Exists(root.display().to_string()));
    }
    let crate_name = name.replace('-', "_");
    let type_name: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let (logic, config, fixture) = template(kind);
    // The same settings as a TOML inline table, for the pipeline file.
    let config_toml = serde_json::from_str::<toml::Value>(config)
        .map(|value| value.to_string())
        .expect("each kind's example config is a JSON object");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{Type}}", &type_name)
            .replace("{{contract}}", crate::CONTRACT_VERSION)
            .replace("{{config}}", config)
            .replace("{{config_toml}}", &config_toml)
    };
    let mut files: Vec<(String, String)> = vec![
        ("Cargo.toml".into(), fill(CARGO_TOML)),
        ("rust-toolchain.toml".into(), RUST_TOOLCHAIN.into()),
        (".gitignore".into(), "/target\n".into()),
        ("README.md".into(), fill(README)),
        ("src/lib.rs".into(), fill(logic)),
        ("fixtures/example.jsonl".into(), fixture.into()),
        ("wit/plugin.wit".into(), CONTRACT.into()),
        ("vendor/weir-plugin/Cargo.toml".into(), fill(SDK_CARGO_TOML)),
    ];
    for (path, text) in SDK_FILES {
        files.push((format!("vendor/weir-plugin/{path}"), (*text).to_string()));
    }
    for (path, text) in files {
        let path = root.join(path);
        let write = |path: &Path| -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().expect("inside the crate"))?;
            std::fs::write(path, &text)
        };
        write(&path).map_err(|source| ScaffoldError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(root)
}

/// The plugin's code, its config for the README and fixtures, and a fixture.
fn template(kind: Kind) -> (&'static str, &'static str, &'static str) {
    match kind {
        Kind::Filter => (FILTER, FILTER_CONFIG, FILTER_FIXTURE),
        Kind::Validate => (VALIDATE, VALIDATE_CONFIG, VALIDATE_FIXTURE),
        Kind::Enrich => (ENRICH, ENRICH_CONFIG, ENRICH_FIXTURE),
        Kind::Partition => (PARTITION, PARTITION_CONFIG, PARTITION_FIXTURE),
    }
}

const CARGO_TOML: &str = r#"[package]
name = "{{name}}"
version = "0.1.0"
edition = "2024"

[lib]
# cdylib: the WebAssembly component; rlib: the native unit tests.
crate-type = ["cdylib", "rlib"]

[dependencies]
weir-plugin = { path = "vendor/weir-plugin" }
serde = { version = "1", features = ["derive"] }

[profile.release]
lto = true
strip = "debuginfo"

# Its own workspace: the crate builds wherever it is.
[workspace]
"#;

const SDK_CARGO_TOML: &str = r#"[package]
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

const RUST_TOOLCHAIN: &str = r#"[toolchain]
channel = "1.95.0"
targets = ["wasm32-wasip2"]
"#;

const README: &str = r#"# {{name}}

A Weir plugin (contract `weir:plugin@{{contract}}`), made by `weir plugin new`.

```sh
cargo test                                   # the unit tests, natively
weir plugin build --out {{crate}}.wasm       # the component, and its sha256
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

`wit/` is the contract and `vendor/weir-plugin` the SDK this crate builds
against, copied from the `weir` that made it.
"#;

const FILTER_CONFIG: &str = r#"{"drop_user_prefixes": ["bot-"]}"#;
const FILTER: &str = r##"//! Weir plugin `{{name}}`: drops events whose `user_id` starts with one of
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
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

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
const FILTER_FIXTURE: &str = r#"{"input": {"user_id": "bot-1", "action": "VIEW"}, "expect": "dropped"}
{"input": {"user_id": "u1", "action": "VIEW"}, "expect": {"kept": {"user_id": "u1", "action": "VIEW"}}}
"#;

const VALIDATE_CONFIG: &str = r#"{"max_price": 10000.0}"#;
const VALIDATE: &str = r##"//! Weir plugin `{{name}}`: rejects events whose `price` is missing, not a
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
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

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
const VALIDATE_FIXTURE: &str = r#"{"input": {"price": 5}, "expect": "kept"}
{"input": {"price": 50000}, "expect": {"rejected": "price-too-high"}}
{"input": {"price": "5"}, "expect": {"rejected": "bad-price"}}
"#;

const ENRICH_CONFIG: &str = r#"{"tax_rate": 0.2}"#;
const ENRICH: &str = r##"//! Weir plugin `{{name}}`: adds `price_with_tax`, the `price` plus the
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
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

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
const ENRICH_FIXTURE: &str = r#"{"input": {"user_id": "u1", "price": 10}, "expect": {"kept": {"user_id": "u1", "price": 10, "price_with_tax": 12.0}}}
{"input": {"user_id": "u1"}, "expect": {"kept": {"user_id": "u1"}}}
"#;

const PARTITION_CONFIG: &str = "{}";
const PARTITION: &str = r##"//! Weir plugin `{{name}}`: partitions events by the date of their
//! `timestamp` (`year=`, `month=`, `day=`), and rejects those without one.

use weir_plugin::{Config, Event, Outcome, Plugin};

pub struct {{Type}};

impl Plugin for {{Type}} {
    const NAME: &'static str = "{{name}}";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

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
const PARTITION_FIXTURE: &str = r#"{"input": {"timestamp": "2026-02-19T23:30:00Z"}, "expect": {"kept": true, "partition": {"year": "2026", "month": "02", "day": "19"}}}
{"input": {"user_id": "u1"}, "expect": {"rejected": "bad-timestamp"}}
"#;
