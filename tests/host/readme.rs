//! The README cannot rot. Its first screen is exactly what CI runs, and every
//! `sh` block of it runs here, in order, in one shell, in a fresh folder
//! holding the repository's examples and the binaries just built, with the
//! local moto server the README itself starts standing in for AWS.
//!
//! Three `cargo` commands of the page are not run literally, and the shell
//! function standing in for `cargo` says so in its output:
//! - `cargo build --release` and `cargo run --release -- …` use the
//!   binaries this test suite was built with (the same release profile);
//! - `cargo test --release --workspace` is this suite (CI runs it);
//! - `cargo lambda build …` is a 21-minute cross-build: the stand-in checks
//!   that the cargo-lambda the page installs accepts every flag of it.
//!
//! Any other `cargo` (a scaffolded plugin's tests) is the real one.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::common::shell_blocks;

const README: &str = include_str!("../../README.md");
const CI: &str = include_str!("../../.ci/run");
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The commands of a shell block: lines that are neither blank nor comments,
/// with continuation lines joined.
fn commands(block: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        let line = line.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part.trim_end());
                current.push(' ');
            }
            None => {
                current.push_str(line);
                commands.push(std::mem::take(&mut current));
            }
        }
    }
    commands
}

#[test]
fn the_first_screen_is_what_ci_runs() {
    let blocks = shell_blocks(README);
    let first = commands(&blocks[0]);
    assert_eq!(
        first,
        [
            "cargo run --release -- demo",
            "cargo test --release --workspace"
        ]
    );
    // Within the first screen of the page.
    let at = README.find("cargo test --release --workspace").unwrap();
    assert!(README[..at].lines().count() < 40);
    // CI runs each, as written and in this order, and nothing of its own
    // that installs or prepares tools (the build and the tests do that).
    let ci = commands(CI);
    let found: Vec<usize> = first
        .iter()
        .map(|command| {
            ci.iter()
                .position(|line| line == command)
                .unwrap_or_else(|| panic!("`.ci/run` does not run `{command}`:\n{CI}"))
        })
        .collect();
    assert!(found.windows(2).all(|pair| pair[0] < pair[1]), "{ci:?}");
    for line in &ci {
        for forbidden in [
            "rustup target add",
            "rustup toolchain install",
            "apt-get",
            "pip install",
        ] {
            assert!(
                !line.contains(forbidden),
                "`.ci/run` does something the README does not tell a user to do: {line}"
            );
        }
    }
}

/// Copies `from` (a folder) to `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The shell function that stands in for `cargo` (see the module's comment).
const CARGO_STAND_IN: &str = r#"
cargo() {
  case "$*" in
    "build --release")
      echo "readme-test: cargo build --release: using the binaries the suite built" ;;
    "run --release -- "*)
      shift 3
      echo "readme-test: cargo run --release: target/release/weir $*"
      target/release/weir "$@" ;;
    "test --release --workspace")
      echo "readme-test: cargo test --release --workspace: this suite itself" ;;
    "lambda build "*)
      shift 2
      help="$(cargo-lambda lambda build --help)"
      for flag in "$@"; do
        case "$flag" in
          --*) grep -q -- "$flag" <<<"$help" || { echo "cargo lambda build has no $flag" >&2; return 1; } ;;
        esac
      done
      echo "readme-test: cargo lambda build: every flag accepted, build not run" ;;
    *) command cargo "$@" ;;
  esac
}
"#;

#[test]
fn every_command_of_the_readme_runs() {
    let blocks = shell_blocks(README);
    assert!(blocks.len() >= 10, "{blocks:?}");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // What a clone has that the commands use, and the binaries just built
    // where a release build leaves them.
    let workspace = Path::new(WORKSPACE);
    for folder in ["examples", "athena", "plugins/filter/fixtures"] {
        copy_tree(&workspace.join(folder), &root.join(folder));
    }
    let release = root.join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    let weir = Path::new(env!("CARGO_BIN_EXE_weir"));
    std::os::unix::fs::symlink(weir, release.join("weir")).unwrap();

    let script = format!("set -euo pipefail\n{CARGO_STAND_IN}\n{}", blocks.join("\n"));
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(&script)
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env_remove("WEIR_LOG")
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target"),
        )
        // Files, not pipes: a server the page leaves running in the
        // background would hold a pipe open after the shell ends.
        .stdout(std::fs::File::create(dir.path().join("readme.out")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("readme.err")).unwrap())
        // Its own process group, so the servers the page starts in the
        // background stop with it.
        .process_group(0);
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            bash.env_remove(key);
        }
    }
    let mut child = bash.spawn().expect("run bash");
    let group = child.id();
    let status = child.wait();
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{group}")])
        .status();
    let status = status.expect("bash ran");
    let stdout = std::fs::read_to_string(dir.path().join("readme.out")).unwrap();
    let stderr = std::fs::read_to_string(dir.path().join("readme.err")).unwrap();
    assert!(
        status.success(),
        "the README's commands failed:\n{stdout}\n{stderr}"
    );

    // The demo answered the seed's question on screen.
    assert!(stdout.contains("cart_adds"), "{stdout}");
    assert!(root.join("weir-demo/report.html").is_file());
    // The stream's lake is where the page then queries it, and the consumer
    // said what it wrote.
    let stream_lake = root.join("stream-lake/ecommerce_events");
    assert!(stream_lake.is_dir(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("wrote 0 data files"), "{stderr}");
    // The fixtures of the bundled filter, the example pipeline and the new
    // plugin all held.
    assert_eq!(stdout.matches("all as expected").count(), 3, "{stdout}");
    assert!(root.join("drop-bots/drop_bots.wasm").is_file());
    assert!(root.join("report.html").is_file());
}
