//! The plugin guide cannot rot: every `sh` block of `docs/plugin-guide.md`
//! runs here, in order, in one shell, with the `weir` just built and a real
//! S3 server (moto) standing in for the plugins bucket.

use std::path::Path;
use std::process::Command;

use crate::common::{path_with_weir, shell_blocks};
use crate::s3::{boto, bucket, moto, s3_env};

const GUIDE: &str = include_str!("../../docs/plugin-guide.md");

#[test]
fn every_command_of_the_plugin_guide_runs() {
    let blocks = shell_blocks(GUIDE);
    assert!(blocks.len() >= 5, "{blocks:?}");
    let dir = tempfile::tempdir().unwrap();
    bucket("my-team-plugins");
    let script = format!("set -euo pipefail\n{}", blocks.join("\n"));
    let path = path_with_weir();
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target"),
        );
    s3_env(&mut bash, dir.path(), moto());
    let output = bash.output().expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the guide's commands failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Its own checks: the fixtures held, the pipeline ran the plugin, and
    // the pushed object is the component, named by its hash.
    assert!(stdout.contains("all as expected"), "{stdout}");
    let wasm = std::fs::read(dir.path().join("drop-test-users/drop-test-users.wasm")).unwrap();
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(&wasm));
    let production =
        std::fs::read_to_string(dir.path().join("drop-test-users/production.toml")).unwrap();
    assert!(
        production.contains(&format!("sha256 = \"{sha256}\"")),
        "{production}"
    );
    let listed: Vec<serde_json::Value> = serde_json::from_str(&boto(
        moto(),
        &[
            "download",
            "my-team-plugins",
            "weir",
            dir.path().join("pushed").to_str().unwrap(),
        ],
    ))
    .unwrap();
    let key = format!("weir/drop-test-users-0.1.0-{}.wasm", &sha256[..12]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["key"], key.as_str());
    assert_eq!(
        std::fs::read(
            dir.path()
                .join("pushed")
                .join(key.trim_start_matches("weir/"))
        )
        .unwrap(),
        wasm
    );
    assert!(
        production.contains(&format!("path = \"s3://my-team-plugins/{key}\"")),
        "{production}"
    );
    // The pipeline that loaded the plugin from S3 wrote the local run's lake.
    let lake = crate::common::tree(&dir.path().join("drop-test-users/lake"));
    assert!(lake.len() > 1, "{:?}", lake.keys());
    assert_eq!(
        lake,
        crate::common::tree(&dir.path().join("drop-test-users/lake-from-s3"))
    );
}
