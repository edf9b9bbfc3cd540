//! Builds every guest crate of the workspace to a `wasm32-wasip2` component
//! and writes `guests.rs` into `OUT_DIR`, naming each one's path and bytes.
//!
//! A nested `cargo build` is the simplest way to give one build two targets.
//! It uses its own target directory (next to the outer one, shared by every
//! profile), so it never waits on the outer build's lock, and it only reruns
//! when something under `plugins/` or `wit/` changes.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/wasm_target.rs"]
#[allow(dead_code)]
mod wasm_target;

use wasm_target::{Ensured, TARGET};

/// (package, constant name, bundled into the `weir` binary?)
const GUESTS: &[(&str, &str, bool)] = &[
    ("validate-clickstream", "VALIDATE_CLICKSTREAM", true),
    ("filter", "FILTER", true),
    ("enrich", "ENRICH", true),
    ("partition-by-date", "PARTITION_BY_DATE", true),
    ("weir-test-trap", "TEST_TRAP", false),
    ("weir-test-spin", "TEST_SPIN", false),
    ("weir-test-hog", "TEST_HOG", false),
    ("weir-test-snoop", "TEST_SNOOP", false),
];

/// Variables the outer cargo sets for this build script that must not leak
/// into the nested build (they name the host target, outer flags and dirs).
const SCRUB_PREFIXES: &[&str] = &[
    "CARGO_CFG_",
    "CARGO_FEATURE_",
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_PROFILE_",
    "CARGO_LLVM_COV",
];
const SCRUB: &[&str] = &[
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_MAKEFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "RUSTFLAGS",
    "RUSTC",
    "RUSTDOC",
    "RUSTC_LINKER",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "LLVM_PROFILE_FILE",
    "TARGET",
    "HOST",
    "PROFILE",
    "OPT_LEVEL",
    "DEBUG",
    "NUM_JOBS",
    "OUT_DIR",
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.join("../..").canonicalize().unwrap();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let guest_target = guest_target_dir(&out_dir);

    // Relative to this package, not absolute: the target directory may be
    // shared by several checkouts (CI's clones), and an absolute path would
    // watch whichever checkout built last.
    for watched in [
        "../../plugins",
        "../../wit",
        "../../Cargo.lock",
        "../../Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    println!("cargo:rerun-if-env-changed=WEIR_GUEST_TARGET_DIR");

    // The toolchain building this crate builds the plugins too: make sure it
    // has the wasm target (rustup skips a toolchain file's `targets` when the
    // toolchain was already installed), and run again if it loses it.
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    match wasm_target::ensure(&rustc, "rustup".as_ref(), &workspace) {
        Ok(Ensured::Present) => {}
        Ok(Ensured::Added { toolchain }) => println!(
            "cargo:warning=added the {TARGET} target to the {toolchain} toolchain with rustup \
             (the plugins are built for it)"
        ),
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
    if let Ok(sysroot) = wasm_target::sysroot(&rustc, &workspace) {
        // A missing path always reruns the script, so removing the target
        // brings it back on the next build.
        let libdir = wasm_target::target_libdir(&sysroot);
        println!("cargo:rerun-if-changed={}", libdir.display());
    }

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(&guest_target);
    for (package, _, _) in GUESTS {
        command.args(["-p", package]);
    }
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if SCRUB.contains(&key) || SCRUB_PREFIXES.iter().any(|p| key.starts_with(p)) {
            command.env_remove(key);
        }
    }
    // Plugins ship without debug info (it would be most of their size) but
    // with function names (for trap backtraces and profiles), with
    // one codegen unit and LTO (slower to build, faster to run).
    command
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        // Link-time optimisation lets the SDK's accessors inline into each
        // plugin's loop; the crates are small, so it costs seconds.
        .env("CARGO_PROFILE_RELEASE_LTO", "fat");

    let status = command
        .status()
        .expect("could not start cargo to build the plugins");
    if !status.success() {
        eprintln!(
            "error: building the plugins for {TARGET} failed (cargo's output above says why)"
        );
        std::process::exit(1);
    }

    let mut generated = String::new();
    for (package, constant, bundled) in GUESTS {
        let file = format!("{}.wasm", package.replace('-', "_"));
        let built = guest_target.join(TARGET).join("release").join(&file);
        let copy = out_dir.join(&file);
        std::fs::copy(&built, &copy)
            .unwrap_or_else(|err| panic!("copy {}: {err}", built.display()));
        let path = copy.display().to_string();
        let bytes = if *bundled {
            format!("include_bytes!({path:?})")
        } else {
            "&[]".to_string()
        };
        writeln!(
            generated,
            "/// The `{package}` plugin.\npub const {constant}: Guest = Guest {{ package: {package:?}, path: {path:?}, bytes: {bytes} }};"
        )
        .unwrap();
    }
    std::fs::write(out_dir.join("guests.rs"), generated).unwrap();
}

/// `<outer target>/wasm-guests`, found from `OUT_DIR`
/// (`<outer target>[/<triple>]/<profile>/build/<pkg>/out`), unless
/// `WEIR_GUEST_TARGET_DIR` names another.
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("WEIR_GUEST_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let build = out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "build"))
        .expect("OUT_DIR lies under a `build` directory");
    let profile = build.parent().unwrap();
    let mut target = profile.parent().unwrap();
    // With an explicit --target, profiles sit one level deeper.
    if target.file_name().is_some_and(|name| name != "target")
        && target
            .parent()
            .is_some_and(|dir| dir.join("CACHEDIR.TAG").exists())
    {
        target = target.parent().unwrap();
    }
    target.join("wasm-guests")
}
