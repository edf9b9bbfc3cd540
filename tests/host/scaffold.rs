//! `weir plugin new` and `weir plugin build`: a new crate of each kind
//! passes its own unit tests, builds to a component with one command, and
//! that component passes the crate's fixtures under `weir test`.

use std::path::Path;
use std::process::Command;

use crate::common::{path_with_weir, shell_blocks, weir_command};

/// The first `toml` block of a Markdown page.
fn toml_block(page: &str) -> String {
    let start = page.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let len = page[start..].find("```").expect("closed");
    page[start..start + len].to_string()
}

/// Run a command with the scaffolds' own target folder (shared by the
/// kinds, so dependencies build once), and insist it succeeds.
fn succeed(mut command: Command, what: &str) -> String {
    let output = command
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target"),
        )
        .output()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_new_plugin_of_each_kind_builds_and_passes_its_tests() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, config) in [
        ("filter", r#"{"drop_user_prefixes": ["bot-"]}"#),
        ("validate", r#"{"max_price": 10000.0}"#),
        ("enrich", r#"{"tax_rate": 0.2}"#),
        ("partition", "{}"),
    ] {
        let name = format!("team-{kind}");
        let mut new = weir_command(dir.path());
        new.args(["plugin", "new", &name, "--kind", kind]);
        // The SDK as a dependency on this checkout (the default here), and
        // once copied in, for offline builds.
        let vendored = kind == "partition";
        if vendored {
            new.args(["--sdk", "vendor"]);
        }
        succeed(new, &format!("weir plugin new {name}"));
        let root = dir.path().join(&name);
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let sdk =
            std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk")).unwrap();
        if vendored {
            assert!(
                manifest.contains(r#"weir-plugin = { path = "vendor/weir-plugin" }"#),
                "{manifest}"
            );
            assert!(root.join("vendor/weir-plugin/src/lib.rs").is_file());
        } else {
            assert!(
                manifest.contains(&format!("path = {:?}", sdk.display().to_string())),
                "{manifest}"
            );
            assert!(!root.join("vendor").exists(), "a dependency, not a copy");
        }
        let logic = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
        assert!(
            !logic.contains("const VERSION"),
            "the version comes from Cargo: {logic}"
        );
        assert!(logic.contains("impl Plugin for Team"), "{logic}");

        // The crate's README is its user's first page: its `sh` block runs
        // as written (unit tests, build, fixtures), with `weir` on PATH.
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let blocks = shell_blocks(&readme);
        assert_eq!(blocks.len(), 1, "{readme}");
        let mut bash = Command::new("bash");
        bash.arg("-c")
            .arg(format!("set -euo pipefail\n{}", blocks[0]))
            .current_dir(&root)
            .env("PATH", path_with_weir())
            .env("NO_COLOR", "1");
        let ran = succeed(bash, &format!("the README of {name}"));
        assert!(ran.contains("test result: ok. 1 passed"), "{ran}");
        assert!(
            ran.contains(&format!(
                "plugin  {name} 0.1.0 (contract weir:plugin@0.1.0)"
            )),
            "{ran}"
        );
        let sha256 = ran
            .lines()
            .find_map(|line| line.strip_prefix("sha256  "))
            .unwrap();
        assert_eq!(sha256.len(), 64);
        assert!(ran.contains("all as expected"), "{ran}");
        assert!(
            readme.contains(&format!("--config '{config}'")),
            "the README tries the kind's example config: {readme}"
        );

        // Its pipeline-file snippet is TOML a pipeline file takes, with the
        // same settings as the command line's JSON.
        let snippet = toml_block(&readme);
        let entry: toml::Table = toml::from_str(&snippet)
            .unwrap_or_else(|err| panic!("the README's TOML of {name}: {err}\n{snippet}"));
        let settings = &entry["plugin"].as_array().unwrap()[0]["config"];
        assert_eq!(
            serde_json::to_value(settings).unwrap(),
            serde_json::from_str::<serde_json::Value>(config).unwrap(),
            "{snippet}"
        );
    }
    // A name that cannot be a crate, and a folder that exists, are refused.
    let output = weir_command(dir.path())
        .args(["plugin", "new", "Bad Name"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("lowercase letters"));
    let output = weir_command(dir.path())
        .args(["plugin", "new", "team-filter"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}
