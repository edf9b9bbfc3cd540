//! The Terraform deployment under `infra/`, checked without an AWS account by
//! `tests/python/check_infra.py`: every file parses with python-hcl2, the Glue
//! tables match the Athena DDL, the README documents every variable, and
//! checkov passes with every skipped check's reason written beside it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const CHECKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/python/check_infra.py"
);
/// Pins of both tools and everything they pull in, used as constraints.
const PINS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/python/infra-requirements.txt"
);

/// The version `infra-requirements.txt` pins for `package`.
fn pinned(package: &str) -> String {
    let pins = std::fs::read_to_string(PINS).expect("read infra-requirements.txt");
    pins.lines()
        .find_map(|line| line.trim().strip_prefix(&format!("{package}==")))
        .unwrap_or_else(|| panic!("infra-requirements.txt pins no {package}"))
        .to_string()
}

/// A virtual environment at `venv` with `package` installed at its pinned
/// version (the pins file as constraints), made on first use; `ready` tells
/// whether it already is. Panics, with the commands to run by hand, when it
/// cannot be made.
fn venv_with(venv: &Path, package: &str, ready: &dyn Fn() -> bool) {
    if ready() {
        return;
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .status()
        .is_ok_and(|status| status.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "-c", PINS, package])
            .status()
            .is_ok_and(|status| status.success());
    assert!(
        made && ready(),
        "the infrastructure checks need Python 3 with venv and pip; by hand: \
         python3 -m venv {0} && {0}/bin/pip install -c {PINS} {package}",
        venv.display()
    );
}

/// The folder of the two environments. python-hcl2 and checkov cannot share
/// one: checkov's own HCL parser (bc-python-hcl2) installs a package of the
/// same name.
fn venvs() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("weir-infra-venv")
}

/// A Python with python-hcl2, which runs `check_infra.py`.
fn hcl2_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = venvs().join("hcl2");
        let python = venv.join("bin/python");
        let version = pinned("python-hcl2");
        let ready = || {
            Command::new(&python)
                .args([
                    "-c",
                    "import sys, hcl2.utils; sys.exit(hcl2.version.__version__ != sys.argv[1])",
                    &version,
                ])
                .output()
                .is_ok_and(|output| output.status.success())
        };
        venv_with(&venv, "python-hcl2", &ready);
        python
    })
}

/// The checkov executable, in its own environment.
fn checkov() -> &'static Path {
    static CHECKOV: OnceLock<PathBuf> = OnceLock::new();
    CHECKOV.get_or_init(|| {
        let venv = venvs().join("checkov");
        let checkov = venv.join("bin/checkov");
        let version = pinned("checkov");
        let ready = || {
            Command::new(&checkov)
                .arg("--version")
                .output()
                .is_ok_and(|output| {
                    output.status.success()
                        && String::from_utf8_lossy(&output.stdout).trim() == version
                })
        };
        venv_with(&venv, "checkov", &ready);
        checkov
    })
}

fn report(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn terraform_parses_matches_the_athena_ddl_and_passes_checkov() {
    let output = Command::new(hcl2_python())
        .arg(CHECKER)
        .arg("--repo")
        .arg(WORKSPACE)
        .arg("--checkov")
        .arg(checkov())
        .output()
        .expect("run check_infra.py");
    let text = report(&output);
    assert!(output.status.success(), "check_infra.py failed:\n{text}");
    // It checked what it says it did, with checkov run both ways.
    for part in [
        "3 Glue tables match the Athena DDL",
        "(defaults):",
        "(enable_api):",
        "(enable_firehose):",
        "skip comments with reasons",
    ] {
        assert!(text.contains(part), "no {part:?} in:\n{text}");
    }
    assert!(!text.contains("checkov not run"), "{text}");
}

#[test]
fn the_infra_check_fails_on_a_glue_column_the_ddl_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("infra");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(Path::new(WORKSPACE).join("infra")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
        }
    }
    // The column is in `local.event_columns`, the list both event tables
    // make their columns from (`dynamic "columns"`).
    let glue = copy.join("glue.tf");
    let text = std::fs::read_to_string(&glue).unwrap();
    let column = "name = \"product_category\"";
    assert!(text.contains(column), "glue.tf has no {column}");
    std::fs::write(
        &glue,
        text.replacen(column, "name = \"product_categroy\"", 1),
    )
    .unwrap();

    let output = Command::new(hcl2_python())
        .arg(CHECKER)
        .arg("--repo")
        .arg(WORKSPACE)
        .arg("--infra")
        .arg(&copy)
        .arg("--no-checkov")
        .output()
        .expect("run check_infra.py");
    let text = report(&output);
    assert!(!output.status.success(), "a wrong column passed:\n{text}");
    for named in [
        "aws_glue_catalog_table.events: column 3 is `product_categroy` string, \
         athena/ddl.sql has `product_category` string",
        "aws_glue_catalog_table.events_json: column 3 is `product_categroy` string, \
         athena/ddl_json.sql has `product_category` string",
    ] {
        assert!(
            text.contains(named),
            "the failure does not name the column:\n{text}"
        );
    }
}
