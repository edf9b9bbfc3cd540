//! Weir's host: runs clickstream events through a chain of WebAssembly
//! plugins into a data lake.
//!
//! The crate is built in layers; each imports only from the layers below it
//! (`ARCHITECTURE.md` at the repository's root draws them, and a test keeps
//! it true):
//!
//! 0. [`storage`] — objects in a folder or on S3;
//! 1. [`engine`] — the sandbox plugins run in;
//! 2. [`pipeline`] — batches of decoded events through the plugin chain;
//! 3. [`lake`] — partitions, file formats, commits, compaction and SQL;
//! 4. [`config`] — the pipeline file and what is built from it;
//! 5. [`sources`] — files, Kinesis, Lambda and ETL feeding the pipeline;
//! 6. [`tools`] — benchmarks, generated events, scaffolds, fixture tests.
//!
//! The command line (`src/main.rs`, `src/commands/`) sits on top. The
//! contract itself is `wit/plugin.wit`.

#![warn(missing_docs)]

pub mod config;
pub mod engine;
pub mod lake;
pub mod pipeline;
pub mod sources;
pub mod storage;
#[cfg(feature = "tools")]
pub mod tools;

/// The name the host gives itself as a stage: on records it drops or rejects
/// before any plugin (blank lines, malformed JSON).
pub const HOST_NAME: &str = "weir";

/// The version of the plugin contract this host implements (`wit/plugin.wit`).
pub const CONTRACT_VERSION: &str = "0.1.0";

/// An error and its causes on one line, `what failed: why: why that`, as
/// logs and one-line messages show them. A cause whose text the line
/// already holds (a wrapper that repeats its source, as DataFusion's do) is
/// not repeated.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut line = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(err) = cause {
            let text = err.to_string();
            if !text.is_empty() && !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = err.source();
        }
        f.write_str(&line.replace('\n', " "))
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorChain;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the pipeline p.toml")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn a_chain_is_one_line_with_every_cause_once() {
        let inner = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file\nat all");
        let err = Outer(inner);
        assert_eq!(
            ErrorChain(&err).to_string(),
            "cannot read the pipeline p.toml: no such file at all"
        );
        // Through an I/O error that wraps another error.
        let wrapped = std::io::Error::other(Outer(std::io::Error::other("gone")));
        assert_eq!(
            ErrorChain(&wrapped).to_string(),
            "cannot read the pipeline p.toml: gone"
        );
        // A wrapper whose text already ends with its cause's.
        let repeats = Repeats(std::io::Error::other("gone"));
        assert_eq!(ErrorChain(&repeats).to_string(), "cannot read: gone");
    }
}
