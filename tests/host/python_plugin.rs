//! A plugin in a second language: the Python filter of
//! `plugins/python-filter`, built into a component by componentize-py (from
//! PyPI) and run by the same host through the same contract, answers as the
//! Rust `bundled:filter` does.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{generate, run_json, tree, weir_command};

const PLUGIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/python-filter");

/// The component, built once per test binary by the plugin's own build
/// script (its tool in a virtual environment under the target directory).
fn component() -> &'static Path {
    static WASM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    WASM.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let wasm = tmp.join("python-filter.wasm");
        let output = Command::new(Path::new(PLUGIN).join("build.sh"))
            .arg(&wasm)
            .env("WEIR_PY_VENV", tmp.join("py-plugin-venv"))
            .output()
            .expect("run plugins/python-filter/build.sh");
        assert!(
            output.status.success() && wasm.is_file(),
            "plugins/python-filter/build.sh failed (it needs Python 3 with venv and pip, and PyPI): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        wasm
    })
}

/// The same `weir test` fixtures hold for the Python component and for the
/// Rust filter with the same config.
#[test]
fn both_filters_pass_the_same_fixtures() {
    let config = r#"{"drop_user_prefixes": ["bot-", "test_"], "keep_actions": ["VIEW", "ADD_TO_CART", "PURCHASE"]}"#;
    let wasm = component().display().to_string();
    for plugin in [wasm.as_str(), "bundled:filter"] {
        let output = weir_command(Path::new(PLUGIN))
            .args([
                "test",
                "--plugin",
                plugin,
                "--config",
                config,
                "fixtures/filter.jsonl",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("14 cases in 1 files, all as expected"),
            "{plugin}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_filter_rules_pass_their_own_tests() {
    let output = Command::new("python3")
        .arg(Path::new(PLUGIN).join("test_filter.py"))
        .output()
        .expect("run test_filter.py");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The plugin's pipeline and the same one with the Rust filter, both
/// writing the table `filtered`.
fn pipelines(dir: &Path) {
    let python = std::fs::read_to_string(Path::new(PLUGIN).join("pipeline.toml"))
        .unwrap()
        .replace(
            "path = \"python-filter.wasm\"",
            &format!("path = {:?}", component().display().to_string()),
        )
        .replace("table = \"python_filtered\"", "table = \"filtered\"");
    assert!(python.contains(&component().display().to_string()));
    let rust = std::fs::read_to_string(Path::new(PLUGIN).join("pipeline-rust.toml"))
        .unwrap()
        .replace("table = \"rust_filtered\"", "table = \"filtered\"");
    std::fs::write(dir.join("python.toml"), python).unwrap();
    std::fs::write(dir.join("rust.toml"), rust).unwrap();
}

#[test]
fn the_python_filter_answers_as_the_rust_filter() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    pipelines(dir);
    // The fixtures: every rule, with the counts the plugin's README gives.
    std::fs::copy(
        Path::new(PLUGIN).join("fixtures/input.jsonl"),
        dir.join("events.jsonl"),
    )
    .unwrap();
    let python = run_json(weir_command(dir), "python.toml", "fixtures-py");
    let rust = run_json(weir_command(dir), "rust.toml", "fixtures-rs");
    let counts =
        |s: &serde_json::Value| (s["read"].clone(), s["kept"].clone(), s["dropped"].clone());
    assert_eq!(counts(&python), (14.into(), 8.into(), 6.into()), "{python}");
    assert_eq!(counts(&python), counts(&rust));
    assert_eq!(python["plugins"][0]["name"], "python-filter");
    assert_eq!(
        tree(&dir.join("fixtures-py")),
        tree(&dir.join("fixtures-rs"))
    );

    // Generated events, bad ones included: the same lake, byte for byte.
    generate(dir, 20_000, 0.05);
    let python = run_json(weir_command(dir), "python.toml", "generated-py");
    let rust = run_json(weir_command(dir), "rust.toml", "generated-rs");
    for key in ["read", "kept", "dropped", "rejected"] {
        assert!(python[key].is_u64(), "{key}");
        assert_eq!(python[key], rust[key], "{key}");
    }
    assert!(python["dropped"].as_u64().unwrap() > 100, "{python}");
    assert_eq!(
        tree(&dir.join("generated-py")),
        tree(&dir.join("generated-rs"))
    );
}
