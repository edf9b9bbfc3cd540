//! A plugin's configuration: its table from the pipeline file.

use serde::de::DeserializeOwned;

/// A plugin's table from the pipeline file, as JSON.
#[derive(Clone, Debug)]
pub struct Config {
    json: String,
}

impl Config {
    /// Wrap the JSON text the host passes to `init`.
    pub fn from_json(json: impl Into<String>) -> Self {
        Config { json: json.into() }
    }

    /// No configuration: every setting at its default.
    pub fn empty() -> Self {
        Config::from_json("{}")
    }

    /// The raw JSON text.
    pub fn as_json(&self) -> &str {
        &self.json
    }

    /// Deserialize into the plugin's own settings type. Mark that type
    /// `#[serde(deny_unknown_fields)]` so a misspelt key refuses the load;
    /// the error names the key.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        let text = if self.json.trim().is_empty() {
            "{}"
        } else {
            &self.json
        };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if path == "." {
                format!("invalid config: {inner}")
            } else {
                format!("invalid config: `{path}`: {inner}")
            }
        })
    }
}
