//! Compiled plugins kept on disk. Compiling a component with Cranelift takes
//! tens of milliseconds; loading the compiled code takes well under one. A
//! process that starts again (a Lambda cold start, the next `weir run`)
//! loads what an earlier one compiled, or what was shipped precompiled.
//!
//! A compiled plugin is the file `<sha256 of the .wasm>.cwasm`, so it can
//! only ever stand for the component whose checksum the pipeline verified.
//! Wasmtime refuses code built by another version of itself or for another
//! CPU, and the plugin is then compiled as if there were no such file.
//!
//! Compiled code runs natively, outside the sandbox, so it is read only from
//! places as trusted as the binary: the folders of precompiled plugins the
//! host is given, beside a `.wasm` only inside the deployment package, and
//! this host's own cache folder. It is never fetched from S3.

use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled plugins are looked for and kept.
#[derive(Clone, Debug, Default)]
pub struct ModuleCache {
    /// Folders of precompiled plugins shipped with the host, read only.
    pub shipped: Vec<PathBuf>,
    /// The folder this host writes what it compiles into (and reads back).
    pub writable: Option<PathBuf>,
    /// The deployment package: a `.cwasm` beside a packaged `.wasm` is used
    /// only inside it. None: never beside a `.wasm`.
    pub package: Option<PathBuf>,
}

/// How a plugin's code was obtained, for logs and the init-time report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Obtained {
    /// Compiled now.
    Compiled,
    /// Loaded from a folder of shipped, precompiled plugins.
    Shipped,
    /// Loaded from the cache folder.
    Cached,
}

impl ModuleCache {
    /// The file name a component with this sha256 is compiled to.
    pub fn file_name(sha256: &str) -> String {
        format!("{sha256}.cwasm")
    }

    /// The compiled component, from a shipped folder, `beside` (the folder
    /// of a packaged `.wasm`), or the cache; else compiled now and, when
    /// there is a cache folder, written there for next time.
    pub fn component(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
        beside: Option<&Path>,
    ) -> wasmtime::Result<(Component, Obtained)> {
        let name = Self::file_name(sha256);
        let beside = beside.filter(|dir| self.in_package(dir));
        let shipped = self.shipped.iter().map(PathBuf::as_path).chain(beside);
        for dir in shipped {
            if let Some(component) = load(engine, &dir.join(&name)) {
                return Ok((component, Obtained::Shipped));
            }
        }
        if let Some(dir) = &self.writable
            && let Some(component) = load(engine, &dir.join(&name))
        {
            return Ok((component, Obtained::Cached));
        }
        let component = Component::new(engine, bytes)?;
        if let Some(dir) = &self.writable
            && let Err(err) = store(&component, dir, &name)
        {
            tracing::warn!(dir = %dir.display(), %err, "could not cache a compiled plugin");
        }
        Ok((component, Obtained::Compiled))
    }
}

impl ModuleCache {
    /// Is `dir` inside the deployment package (after resolving links and
    /// `..`)?
    fn in_package(&self, dir: &Path) -> bool {
        let Some(package) = &self.package else {
            return false;
        };
        match (std::fs::canonicalize(dir), std::fs::canonicalize(package)) {
            (Ok(dir), Ok(package)) => dir.starts_with(package),
            _ => false,
        }
    }
}

/// A compiled component from `path`, if there is one this engine can run.
fn load(engine: &Engine, path: &Path) -> Option<Component> {
    if !path.is_file() {
        return None;
    }
    // SAFETY: the file is native code; it comes only from the deployment
    // package or this host's own cache (see the module's notes), and is
    // named after the sha256 of the component that was verified. Wasmtime
    // checks its version and target before using it.
    match unsafe { Component::deserialize_file(engine, path) } {
        Ok(component) => Some(component),
        Err(err) => {
            tracing::info!(path = %path.display(), err = %format!("{err:#}"), "compiled plugin not usable; compiling");
            None
        }
    }
}

/// Write a compiled component into `dir` under a hidden name, then rename it
/// into place, so a reader never sees half a file.
fn store(component: &Component, dir: &Path, name: &str) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    std::fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(&bytes)?;
        file.sync_all()
    });
    let stored = written.and_then(|()| std::fs::rename(&temp, dir.join(name)));
    if stored.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    stored
}
