//! Making sure the toolchain that builds plugins has the `wasm32-wasip2`
//! standard library.
//!
//! `rust-toolchain.toml` lists the target, but rustup applies a toolchain
//! file's `targets` only when it installs the toolchain itself: on a machine
//! that already has the pinned toolchain, the target is missing and the first
//! plugin build fails deep in the compiler with "can't find crate for std".
//! This module checks the toolchain's sysroot first and, where rustup manages
//! the toolchain, adds the target through it.
//!
//! The build script of this crate uses this file too (by `#[path]`), so the
//! README's first command and `weir plugin build` behave the same way.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target plugins are built for.
pub const TARGET: &str = "wasm32-wasip2";

/// What [`ensure`] found or did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ensured {
    /// The target's standard library was already installed.
    Present,
    /// rustup added it for the named toolchain.
    Added {
        /// The toolchain rustup added it to, as rustup names it.
        toolchain: String,
    },
}

/// Why the target could not be made available.
#[derive(Debug)]
pub enum TargetError {
    /// `rustc --print sysroot` could not run or printed nothing useful.
    Rustc {
        /// The rustc that was asked.
        rustc: String,
        /// What went wrong.
        cause: String,
    },
    /// The target is missing and rustup is not there to add it.
    NoRustup {
        /// The sysroot that lacks the target.
        sysroot: PathBuf,
    },
    /// rustup ran but did not add the target.
    RustupFailed {
        /// What rustup said.
        output: String,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Rustc { rustc, cause } => {
                write!(f, "could not ask `{rustc} --print sysroot`: {cause}")
            }
            TargetError::NoRustup { sysroot } => write!(
                f,
                "the {TARGET} standard library is not installed in {} and rustup was not found; \
                 install rustup (https://rustup.rs) and run `rustup target add {TARGET}`, or add \
                 your distribution's rust-std package for {TARGET}",
                sysroot.display()
            ),
            TargetError::RustupFailed { output } => write!(
                f,
                "`rustup target add {TARGET}` failed ({output}); run it by hand to see why"
            ),
        }
    }
}

impl std::error::Error for TargetError {}

/// The folder holding the target's standard library within a sysroot.
pub fn target_libdir(sysroot: &Path) -> PathBuf {
    sysroot.join("lib").join("rustlib").join(TARGET).join("lib")
}

/// The sysroot of `rustc` as run in `dir` (rustup's proxy picks the
/// toolchain from the folder's `rust-toolchain.toml`).
pub fn sysroot(rustc: &OsStr, dir: &Path) -> Result<PathBuf, TargetError> {
    let failed = |cause: String| TargetError::Rustc {
        rustc: rustc.to_string_lossy().into_owned(),
        cause,
    };
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .output()
        .map_err(|err| failed(err.to_string()))?;
    if !output.status.success() {
        return Err(failed(one_line(&output.stderr)));
    }
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if printed.is_empty() {
        return Err(failed("it printed no sysroot".to_string()));
    }
    Ok(PathBuf::from(printed))
}

/// Makes sure `rustc` (run in `dir`) can build for [`TARGET`]: nothing to do
/// when its sysroot has the target, `rustup target add` when it lacks it and
/// `rustup` runs, a [`TargetError::NoRustup`] naming the fix otherwise.
pub fn ensure(rustc: &OsStr, rustup: &OsStr, dir: &Path) -> Result<Ensured, TargetError> {
    let sysroot = sysroot(rustc, dir)?;
    if target_libdir(&sysroot).is_dir() {
        return Ok(Ensured::Present);
    }
    // rustup names a toolchain by its folder under `$RUSTUP_HOME/toolchains`,
    // which is the sysroot; the proxies also pass it down in RUSTUP_TOOLCHAIN.
    let toolchain = std::env::var("RUSTUP_TOOLCHAIN").ok().or_else(|| {
        sysroot
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
    });
    let mut command = Command::new(rustup);
    command.args(["target", "add", TARGET]).current_dir(dir);
    if let Some(toolchain) = &toolchain {
        command.args(["--toolchain", toolchain]);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(TargetError::NoRustup { sysroot });
        }
        Err(err) => {
            return Err(TargetError::RustupFailed {
                output: err.to_string(),
            });
        }
    };
    if !output.status.success() || !target_libdir(&sysroot).is_dir() {
        return Err(TargetError::RustupFailed {
            output: one_line(&output.stderr),
        });
    }
    Ok(Ensured::Added {
        toolchain: toolchain.unwrap_or_default(),
    })
}

/// A tool's error output on one line.
fn one_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    if joined.is_empty() {
        "no output".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in `rustc` that prints the given sysroot, written as a script.
    fn rustc_printing(dir: &Path, sysroot: &Path) -> PathBuf {
        let script = dir.join("rustc");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho '{}'\n", sysroot.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("weir-wasm-target-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_installed_target_needs_nothing() {
        let dir = scratch("present");
        let sysroot = dir.join("toolchain");
        std::fs::create_dir_all(target_libdir(&sysroot)).unwrap();
        let rustc = rustc_printing(&dir, &sysroot);
        let found = ensure(rustc.as_os_str(), OsStr::new("no-such-rustup-weir"), &dir).unwrap();
        assert_eq!(found, Ensured::Present);
    }

    #[test]
    fn a_missing_target_without_rustup_names_the_fix() {
        let dir = scratch("missing");
        let sysroot = dir.join("toolchain");
        std::fs::create_dir_all(&sysroot).unwrap();
        let rustc = rustc_printing(&dir, &sysroot);
        let err = ensure(rustc.as_os_str(), OsStr::new("no-such-rustup-weir"), &dir).unwrap_err();
        assert!(matches!(err, TargetError::NoRustup { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("rustup target add wasm32-wasip2"),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn a_rustc_that_cannot_run_is_named() {
        let dir = scratch("norustc");
        let err = ensure(OsStr::new("no-such-rustc-weir"), OsStr::new("rustup"), &dir).unwrap_err();
        assert!(
            err.to_string()
                .contains("no-such-rustc-weir --print sysroot"),
            "{err}"
        );
    }

    #[test]
    fn the_real_toolchain_has_the_target_after_the_build() {
        // This crate's build script ran `ensure` before these tests compiled,
        // so the toolchain building them has the target now.
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let sysroot = sysroot(&rustc, here).unwrap();
        assert!(target_libdir(&sysroot).is_dir(), "{}", sysroot.display());
    }
}
