//! `weir plugin new` and `weir plugin build`: a new crate of each kind
//! passes its own unit tests, builds to a component with one command, and
//! that component passes the crate's fixtures under `weir test`.

use std::path::Path;
use std::process::Command;

use crate::common::weir_command;

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
        succeed(new, &format!("weir plugin new {name}"));
        let root = dir.path().join(&name);
        let logic = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
        assert!(logic.contains("impl Plugin for Team"), "{logic}");

        let mut test = Command::new(env!("CARGO"));
        test.args(["test", "--release"]).current_dir(&root);
        let tested = succeed(test, &format!("cargo test in {name}"));
        assert!(tested.contains("test result: ok. 1 passed"), "{tested}");

        let mut build = weir_command(&root);
        build.args(["plugin", "build"]);
        let built = succeed(build, &format!("weir plugin build in {name}"));
        assert!(
            built.contains(&format!(
                "plugin  {name} 0.1.0 (contract weir:plugin@0.1.0)"
            )),
            "{built}"
        );
        let wasm = built
            .lines()
            .find_map(|line| line.strip_prefix("built   "))
            .expect("the component's path");
        assert!(
            wasm.ends_with(&format!("{}.wasm", name.replace('-', "_"))),
            "{wasm}"
        );
        let sha256 = built
            .lines()
            .find_map(|line| line.strip_prefix("sha256  "))
            .unwrap();
        assert_eq!(sha256.len(), 64);

        let mut fixtures = weir_command(&root);
        fixtures.args([
            "test",
            "--plugin",
            wasm,
            "--config",
            config,
            "fixtures/example.jsonl",
        ]);
        let checked = succeed(fixtures, &format!("weir test in {name}"));
        assert!(checked.contains("all as expected"), "{checked}");
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
