//! `weir plugin new`: a ready plugin crate, a working example of its kind.
//!
//! The crate is its own workspace, so it can live anywhere, inside another
//! workspace or not. It depends on the SDK ([`SdkSource`]): by path (a Weir
//! checkout's `plugins/sdk`), from git at a tag, or by version, so
//! `cargo update -p weir-plugin` takes a newer one; or, for a crate that
//! must build offline, with the SDK and the contract copied in
//! (`vendor/weir-plugin`, `wit/`).

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a crate was not created.
#[derive(Debug, Error)]
pub enum ScaffoldError {
    /// The name is not kebab-case: lowercase letters, digits and `-`,
    /// starting with a letter and not ending with `-`; holds the name.
    #[error("plugin name {0:?}: use lowercase letters, digits and -, starting with a letter")]
    BadName(String),
    /// The crate's folder already exists; holds its path.
    #[error("{0} already exists: choose another name or folder")]
    Exists(String),
    /// The SDK folder given with `path:` cannot be used.
    #[error("the SDK folder {dir}")]
    Sdk {
        /// The folder as given.
        dir: String,
        /// Why it could not be made absolute.
        #[source]
        source: std::io::Error,
    },
    /// A file of the crate could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file that could not be written.
        path: String,
        /// Why.
        #[source]
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

/// Where a new plugin's SDK comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdkSource {
    /// A folder holding the SDK crate (a Weir checkout's `plugins/sdk`).
    Path(PathBuf),
    /// A git repository holding Weir, at a tag, branch or commit (`rev`).
    Git {
        /// The repository.
        url: String,
        /// What to check out; none: its default branch.
        rev: Option<String>,
    },
    /// A version from crates.io (`0.1`).
    Version(String),
    /// A copy of the SDK and the contract inside the crate: builds with no
    /// network and no checkout, and takes no update by itself.
    Vendored,
}

impl std::str::FromStr for SdkSource {
    type Err = String;

    /// `path:DIR`, `git:URL` or `git:URL#REV`, `version:X.Y`, or `vendor`.
    fn from_str(text: &str) -> Result<SdkSource, String> {
        if text == "vendor" {
            return Ok(SdkSource::Vendored);
        }
        match text.split_once(':') {
            Some(("path", dir)) if !dir.is_empty() => Ok(SdkSource::Path(PathBuf::from(dir))),
            Some(("git", spec)) if !spec.is_empty() => Ok(match spec.rsplit_once('#') {
                Some((url, rev)) => SdkSource::Git {
                    url: url.to_string(),
                    rev: Some(rev.to_string()),
                },
                None => SdkSource::Git {
                    url: spec.to_string(),
                    rev: None,
                },
            }),
            Some(("version", version)) if !version.is_empty() => {
                Ok(SdkSource::Version(version.to_string()))
            }
            _ => Err(format!(
                "{text:?} is not an SDK source: use path:DIR, git:URL[#REV], version:X.Y or vendor"
            )),
        }
    }
}

impl SdkSource {
    /// The SDK this `weir` was built with: its folder when the checkout it
    /// was built from is still there, else this version's tag in Weir's
    /// repository.
    pub fn of_this_build() -> SdkSource {
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk");
        match std::fs::canonicalize(&checkout) {
            Ok(dir) if dir.join("Cargo.toml").is_file() => SdkSource::Path(dir),
            _ => SdkSource::Git {
                url: REPOSITORY.to_string(),
                rev: Some(format!("v{}", env!("CARGO_PKG_VERSION"))),
            },
        }
    }

    /// The dependency's value in the plugin's `Cargo.toml`. A relative
    /// path is made absolute, so the crate builds wherever it is moved.
    fn dependency(&self) -> Result<String, ScaffoldError> {
        let quoted = |text: &str| toml::Value::String(text.to_string()).to_string();
        Ok(match self {
            SdkSource::Path(dir) => {
                let absolute = std::fs::canonicalize(dir).map_err(|source| ScaffoldError::Sdk {
                    dir: dir.display().to_string(),
                    source,
                })?;
                format!("{{ path = {} }}", quoted(&absolute.to_string_lossy()))
            }
            SdkSource::Git { url, rev: None } => format!("{{ git = {} }}", quoted(url)),
            SdkSource::Git {
                url,
                rev: Some(rev),
            } => format!("{{ git = {}, rev = {} }}", quoted(url), quoted(rev)),
            SdkSource::Version(version) => quoted(version),
            SdkSource::Vendored => r#"{ path = "vendor/weir-plugin" }"#.to_string(),
        })
    }
}

mod templates;

use templates::*;

/// Weir's repository, where the SDK is fetched from by git.
const REPOSITORY: &str = "https://github.com/weir-dev/weir";

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
        "src/layout/tests.rs",
        include_str!("../../../plugins/sdk/src/layout/tests.rs"),
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
pub fn create(
    parent: &Path,
    name: &str,
    kind: Kind,
    sdk: &SdkSource,
) -> Result<PathBuf, ScaffoldError> {
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
    let dependency = sdk.dependency()?;
    let update = match sdk {
        SdkSource::Vendored => VENDORED_NOTE,
        SdkSource::Path(_) => PATH_NOTE,
        SdkSource::Git { .. } | SdkSource::Version(_) => UPDATE_NOTE,
    };
    let fill = |text: &str| {
        text.replace("{{sdk_note}}", update)
            .replace("{{sdk}}", &dependency)
            .replace("{{name}}", name)
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
    ];
    if *sdk == SdkSource::Vendored {
        files.push(("wit/plugin.wit".into(), CONTRACT.into()));
        files.push(("vendor/weir-plugin/Cargo.toml".into(), fill(SDK_CARGO_TOML)));
        for (path, text) in SDK_FILES {
            files.push((format!("vendor/weir-plugin/{path}"), (*text).to_string()));
        }
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

#[cfg(test)]
mod sdk_tests {
    use super::*;

    #[test]
    fn sdk_sources_are_read_and_written_as_dependencies() {
        let git: SdkSource = "git:https://example.com/weir.git#v0.2.0".parse().unwrap();
        assert_eq!(
            git.dependency().unwrap(),
            r#"{ git = "https://example.com/weir.git", rev = "v0.2.0" }"#
        );
        let ssh: SdkSource = "git:git@example.com:team/weir.git".parse().unwrap();
        assert_eq!(
            ssh.dependency().unwrap(),
            r#"{ git = "git@example.com:team/weir.git" }"#
        );
        let version: SdkSource = "version:0.1".parse().unwrap();
        assert_eq!(version.dependency().unwrap(), r#""0.1""#);
        assert_eq!("vendor".parse::<SdkSource>(), Ok(SdkSource::Vendored));
        for bad in ["", "path:", "svn:x", "0.1"] {
            let error = bad.parse::<SdkSource>().unwrap_err();
            assert!(error.contains("path:DIR, git:URL[#REV]"), "{error}");
        }
    }

    #[test]
    fn a_path_is_made_absolute_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = SdkSource::Path(dir.path().to_path_buf());
        let absolute = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            path.dependency().unwrap(),
            format!("{{ path = {:?} }}", absolute.display().to_string())
        );
        let missing = SdkSource::Path(dir.path().join("nope"));
        assert!(matches!(
            missing.dependency(),
            Err(ScaffoldError::Sdk { .. })
        ));
    }

    #[test]
    fn this_build_points_at_its_own_sdk() {
        match SdkSource::of_this_build() {
            SdkSource::Path(dir) => assert!(dir.join("src/lib.rs").is_file(), "{dir:?}"),
            other => panic!("built from a checkout, yet {other:?}"),
        }
    }
}
