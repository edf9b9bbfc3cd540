//! The command line's habits (docs/cli.md): one vocabulary of flags on every
//! subcommand, exit statuses that mean one thing each, nothing that
//! succeeds silently, errors that say what to check, and the habits users
//! bring from the AWS CLI, DuckDB and Vector.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::{generate, weir};
use crate::s3::{bucket, s3_command, weir_aws};

/// The example pipeline.
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/clickstream.toml");

/// `weir run` of the example pipeline over `input` into `lake` in `path`,
/// with `flags` before the command.
fn run_example(path: &Path, flags: &[&str], input: &str, lake: &str) -> std::process::Output {
    let mut args = flags.to_vec();
    args.extend([
        "run",
        "--pipeline",
        EXAMPLE,
        "--input",
        input,
        "--lake",
        lake,
    ]);
    weir(&args, path)
}

/// Spellings the vocabulary replaced: no help may show them.
const RETIRED: [&str; 4] = ["--out", "--endpoint", "--location", "--errors-location"];

/// The commands that talk to AWS.
const AWS_COMMANDS: [&str; 9] = [
    "run",
    "etl",
    "consume",
    "send",
    "query",
    "report",
    "compact",
    "validate",
    "plugin push",
];

/// The commands that read or write a lake and take it as a flag.
const LAKE_COMMANDS: [&str; 7] = [
    "run",
    "etl",
    "consume",
    "query",
    "report",
    "compact",
    "athena ddl",
];

/// The subcommands of `path` (empty: the top level), from its help.
fn subcommands(dir: &Path, path: &[&str]) -> Vec<String> {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let help = String::from_utf8(weir(&args, dir).stdout).unwrap();
    let Some((_, rest)) = help.split_once("Commands:\n") else {
        return Vec::new();
    };
    rest.lines()
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every long flag a command's help shows.
fn flags(dir: &Path, path: &[&str]) -> BTreeSet<String> {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let output = weir(&args, dir);
    assert!(output.status.success(), "{path:?}");
    let help = String::from_utf8(output.stdout).unwrap();
    help.lines()
        .filter(|line| line.trim_start().starts_with('-'))
        .flat_map(|line| line.split([' ', ',', '=', '[', '<']))
        .map(|word| word.trim_end_matches("..."))
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(str::to_string)
        .collect()
}

#[test]
fn every_subcommand_speaks_one_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    let mut commands: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for top in subcommands(dir.path(), &[]) {
        let nested = subcommands(dir.path(), &[&top]);
        if nested.is_empty() {
            commands.insert(top.clone(), flags(dir.path(), &[&top]));
        }
        for sub in nested {
            commands.insert(format!("{top} {sub}"), flags(dir.path(), &[&top, &sub]));
        }
    }
    assert!(commands.len() >= 18, "{:?}", commands.keys());
    for (command, flags) in &commands {
        for retired in RETIRED {
            assert!(
                !flags.contains(retired),
                "`weir {command}` shows {retired}, which the vocabulary retired"
            );
        }
    }
    for command in AWS_COMMANDS {
        for flag in ["--profile", "--region", "--endpoint-url"] {
            assert!(
                commands[command].contains(flag),
                "`weir {command}` talks to AWS and has no {flag}"
            );
        }
    }
    for command in LAKE_COMMANDS {
        assert!(
            commands[command].contains("--lake"),
            "`weir {command}` has no --lake"
        );
    }
    // A flag two commands share is vocabulary: docs/cli.md must name it.
    let guide = include_str!("../../docs/cli.md");
    let mut uses: BTreeMap<&str, u32> = BTreeMap::new();
    for flags in commands.values() {
        for flag in flags {
            *uses.entry(flag).or_default() += 1;
        }
    }
    for (flag, count) in uses {
        if count >= 2 && !["--help", "--version"].contains(&flag) {
            assert!(
                guide.contains(&format!("`{flag}")),
                "{flag} is on {count} commands and docs/cli.md does not name it"
            );
        }
    }
}

#[test]
fn a_retired_spelling_still_works_for_now_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let output = weir(&["gen", "--events", "3", "--out", "old.jsonl"], dir.path());
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--out is deprecated") && stderr.contains("use --output"),
        "{stderr}"
    );
    let lines = std::fs::read_to_string(dir.path().join("old.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 3);
}

/// A pipeline whose partition key no event has: every event is rejected.
const ALL_REJECTED: &str = r#"
[[plugin]]
path = "bundled:filter"
[output]
location = "lake"
partitions = ["no_such_field"]
"#;

#[test]
fn exit_statuses_mean_one_thing_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    generate(path, 200, 0.0);
    std::fs::write(path.join("p.toml"), ALL_REJECTED).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--pipeline", "p.toml", "--input", "events.jsonl"];
        args.extend_from_slice(extra);
        weir(&args, path)
    };
    // Everything rejected: written and accounted for, and status 3.
    let output = run(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let error: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(
        error[0].contains("200 of the 200 events read (100.0%) were rejected")
            && error[0].contains("--max-reject-ratio 0.5")
            && error[0].contains("lake/_errors/events"),
        "{stderr}"
    );
    // The user may allow it.
    assert_eq!(run(&["--max-reject-ratio", "1"]).status.code(), Some(0));
    // Out of range is a usage error of ours: status 1, before any work.
    let output = run(&["--max-reject-ratio", "2"]);
    assert_eq!(output.status.code(), Some(1));
    // A flag clap does not know: status 2.
    assert_eq!(run(&["--no-such-flag"]).status.code(), Some(2));
    // A failure: status 1.
    let output = weir(
        &[
            "run",
            "--pipeline",
            "missing.toml",
            "--input",
            "events.jsonl",
        ],
        path,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The I/O cause once, not repeated.
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn quiet_prints_only_errors_and_verbose_prints_more() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    generate(path, 50, 0.0);
    let run = |flag: &str| run_example(path, &[flag], "events.jsonl", "lake");
    let quiet = run("-q");
    assert!(quiet.status.success());
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    let verbose = run("-v");
    assert!(verbose.status.success());
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(stderr.contains("read 50"), "{stderr}");
}

#[test]
fn validate_loads_everything_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let output = weir(&["validate", EXAMPLE, "--json"], path);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plugin| plugin["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{report}");
    assert!(names.contains(&"enrich"), "{report}");
    // Nothing written.
    assert_eq!(std::fs::read_dir(path).unwrap().count(), 0);
    // A plugin that refuses its config fails validation, naming it.
    std::fs::write(
        path.join("bad.toml"),
        "[[plugin]]\npath = \"bundled:enrich\"\nconfig = { high_value_threshold = \"lots\" }\n",
    )
    .unwrap();
    let output = weir(&["validate", "bad.toml"], path);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("refused its config"),
        "{stderr}"
    );
    // Pointed at the pipeline file, not into JSON the user never saw.
    assert!(
        stderr.contains("in the [plugin.config] of plugin 1 (bad.toml line 1)")
            && !stderr.contains("column"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn completions_cover_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let output = weir(&["completions", shell], dir.path());
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        for command in [
            "run",
            "etl",
            "consume",
            "validate",
            "query",
            "max-reject-ratio",
        ] {
            assert!(script.contains(command), "{shell}: {command} missing");
        }
    }
}

/// A lake with the example pipeline's table in it.
fn example_lake(path: &Path) {
    generate(path, 300, 0.0);
    assert!(
        run_example(path, &[], "events.jsonl", "lake")
            .status
            .success()
    );
}

#[test]
fn query_lists_tables_and_a_missing_one_says_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    example_lake(path);
    let output = weir(&["query", "--lake", "lake", "--json", "SHOW TABLES"], path);
    assert!(output.status.success());
    let names: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            row["table_name"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(names.contains(&"ecommerce_events".to_string()), "{names:?}");
    // A table that is not there: once, with the tables that are.
    let output = weir(
        &[
            "query",
            "--lake",
            "lake",
            "SELECT COUNT(*) FROM ecommerce_evnts",
        ],
        path,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("holds no table `ecommerce_evnts`")
            && stderr.contains("its tables: ecommerce_events"),
        "{stderr}"
    );
    // A column typo: DataFusion's suggestion, once.
    let output = weir(
        &[
            "query",
            "--lake",
            "lake",
            "SELECT price_bnd FROM ecommerce_events",
        ],
        path,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr.matches("price_bnd").count(), 1, "{stderr}");
    // A lake that is not there.
    let output = weir(&["query", "--lake", "nonexistent", "SELECT 1"], path);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("there is no lake at") && stderr.contains("nonexistent"),
        "{stderr}"
    );
}

#[test]
fn inputs_and_tables_that_match_nothing_are_not_success() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    example_lake(path);
    // A run over an empty input says so.
    std::fs::write(path.join("empty.jsonl"), "").unwrap();
    let output = run_example(path, &[], "empty.jsonl", "lake2");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: the input empty.jsonl held no events"),
        "{stderr}"
    );
    // ETL over a raw zone that is not there.
    let output = weir(
        &[
            "etl",
            "--input",
            "nosuchraw",
            "--pipeline",
            EXAMPLE,
            "--lake",
            "processed",
            "--date",
            "2026-02-16",
        ],
        path,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nosuchraw: the raw zone holds no objects"),
        "{stderr}"
    );
    // Compaction of a misspelt table.
    let output = weir(
        &["compact", "--lake", "lake", "--table", "ecommerce_evnets"],
        path,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no table `ecommerce_evnets`") && stderr.contains("ecommerce_events"),
        "{stderr}"
    );
    // A report of a table that is not there; and of one that is, by name.
    let output = weir(&["report", "--lake", "lake", "--table", "events"], path);
    assert_eq!(output.status.code(), Some(1));
    let output = weir(
        &[
            "report",
            "--lake",
            "lake",
            "--table",
            "ecommerce_events",
            "--json",
        ],
        path,
    );
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["table"], "ecommerce_events");
}

#[test]
fn a_declared_column_no_event_fills_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    generate(path, 100, 0.0);
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let misspelt =
        format!("{example}\n[[output.column]]\nname = \"price_bnd\"\ntype = \"string\"\n");
    std::fs::write(path.join("p.toml"), misspelt).unwrap();
    let output = weir(
        &[
            "run",
            "--pipeline",
            "p.toml",
            "--input",
            "events.jsonl",
            "--json",
        ],
        path,
    );
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: no kept event has a value for the declared column(s) price_bnd"),
        "{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        summary["unfilled_columns"],
        serde_json::json!(["price_bnd"])
    );
}

#[test]
fn athena_ddl_refuses_a_lake_athena_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let output = weir(
        &["athena", "ddl", "--pipeline", EXAMPLE, "--lake", "lake"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not on S3: Athena reads only s3://"),
        "{stderr}"
    );
}

#[test]
fn plugin_inspect_takes_bundled_names() {
    let dir = tempfile::tempdir().unwrap();
    let output = weir(
        &["plugin", "inspect", "bundled:filter", "--json"],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(info["name"], "filter");
}

/// The one `error:` line of a failed command.
fn error_line(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].len() < 600, "not one short line: {}", errors[0]);
    errors[0].to_string()
}

#[test]
fn aws_errors_say_what_to_check_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    generate(path, 20, 0.0);
    let run_into = |mut command: std::process::Command, lake: &str| {
        command
            .args([
                "run",
                "--pipeline",
                EXAMPLE,
                "--input",
                "events.jsonl",
                "--lake",
                lake,
            ])
            .output()
            .unwrap()
    };
    // No such bucket.
    let line = error_line(&run_into(weir_aws(path), "s3://no-such-bucket-here/lake"));
    assert!(
        line.contains("not found (NoSuchBucket") && line.contains("check the name"),
        "{line}"
    );
    assert!(
        !line.contains("ServiceError {"),
        "the SDK's Debug leaked: {line}"
    );
    // An endpoint nothing listens on, set by the AWS CLI's flag.
    let lake = bucket("habits-unreachable");
    let output = weir_aws(path)
        .args([
            "query",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--lake",
            &format!("s3://{lake}/lake"),
            "SELECT 1",
        ])
        .output()
        .unwrap();
    let line = error_line(&output);
    assert!(
        line.contains("endpoint unreachable") && line.contains("--endpoint-url"),
        "{line}"
    );
    // No credentials anywhere.
    let mut command = s3_command(path, crate::s3::moto());
    command
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let line = error_line(&run_into(command, &format!("s3://{lake}/lake")));
    assert!(
        line.contains("no AWS credentials") && line.contains("AWS_PROFILE"),
        "{line}"
    );
    // The same run with credentials and the bucket works, so the failures
    // above were the faults, not the set-up.
    let output = run_into(weir_aws(path), &format!("s3://{lake}/lake"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_aws_cli_flags_reach_the_clients() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    generate(path, 20, 0.0);
    let lake = format!("s3://{}/lake", bucket("habits-profile"));
    // Credentials only in a named profile of a config file: without
    // --profile there are none; with it, the run goes through.
    std::fs::write(
        path.join("aws-config"),
        "[profile local]\naws_access_key_id = test\naws_secret_access_key = test\n",
    )
    .unwrap();
    let with_profile_only = |flags: &[&str]| {
        let mut command = s3_command(path, crate::s3::moto());
        command
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_REGION")
            .env("AWS_CONFIG_FILE", path.join("aws-config"))
            .args(["run", "--pipeline", EXAMPLE, "--input", "events.jsonl"])
            .args(["--lake", &lake])
            .args(flags)
            .output()
            .unwrap()
    };
    let line = error_line(&with_profile_only(&[]));
    assert!(line.contains("no AWS credentials"), "{line}");
    let output = with_profile_only(&["--profile", "local", "--region", "eu-west-3"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A profile that does not exist is named.
    let line = error_line(&with_profile_only(&["--profile", "nosuch"]));
    assert!(
        line.contains("nosuch") || line.contains("no AWS credentials"),
        "{line}"
    );
}

#[test]
fn access_denied_and_another_region_say_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    generate(path, 20, 0.0);
    let lake = format!("s3://{}/lake", bucket("habits-denied"));
    for (status, code, expected) in [
        (403, "AccessDenied", "access denied (AccessDenied"),
        (301, "PermanentRedirect", "wrong region (PermanentRedirect"),
        (
            403,
            "InvalidAccessKeyId",
            "credentials refused (InvalidAccessKeyId",
        ),
    ] {
        // Every request answered so, as S3 answers a role without the
        // permission, or a bucket in another region.
        let (endpoint, _) = crate::s3::fault_proxy(crate::s3::moto(), move |_| {
            Some(crate::s3::Fault::Answer { status, code })
        });
        let output = s3_command(path, &endpoint)
            .args(["run", "--pipeline", EXAMPLE, "--input", "events.jsonl"])
            .args(["--lake", &lake])
            .output()
            .unwrap();
        let line = error_line(&output);
        assert!(line.contains(expected), "{code}: {line}");
        let advice = match code {
            "AccessDenied" => "check their IAM policy",
            "PermanentRedirect" => "set the region",
            _ => "check that they are current",
        };
        assert!(line.contains(advice), "{code}: {line}");
    }
}

#[test]
fn region_reaches_the_kinesis_client() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(path.join("one.jsonl"), "{\"user_id\":\"u1\"}\n").unwrap();
    crate::kinesis::kinesis_py(&["create-stream", "habits-region", "1"]);
    let send = |flags: &[&str]| {
        weir_aws(path)
            .args(["send", "--stream", "habits-region", "--input", "one.jsonl"])
            .args(flags)
            .output()
            .unwrap()
    };
    // In its own region the stream is there.
    let output = send(&[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Asked for in another, it is not: the server keeps streams per region,
    // as Kinesis does, so --region reached the client.
    let line = error_line(&send(&["--region", "eu-west-3"]));
    assert!(
        line.contains("not found (ResourceNotFoundException"),
        "{line}"
    );
}

#[test]
fn progress_is_drawn_on_a_terminal_and_only_there() {
    // `script` gives the command a terminal, as a person's shell does.
    let dir = tempfile::tempdir().unwrap();
    let weir_binary = env!("CARGO_BIN_EXE_weir");
    let command = format!("{weir_binary} gen --events 300000 --output events.jsonl");
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("TERM", "xterm")
        .output()
        .expect("run script(1), from util-linux");
    assert!(output.status.success());
    let drawn = String::from_utf8_lossy(&output.stdout);
    assert!(drawn.contains("/300000"), "no progress drawn: {drawn:?}");
    // Off a terminal, nothing.
    let output = weir(
        &["gen", "--events", "300000", "--output", "again.jsonl"],
        dir.path(),
    );
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn on_s3_too_an_empty_raw_zone_and_a_misspelt_table_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    generate(path, 50, 0.0);
    let lake = format!("s3://{}/lake", bucket("habits-s3-names"));
    let run = run_into_s3(path, &lake);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The lake's tables, from its folders.
    let output = weir_aws(path)
        .args(["compact", "--lake", &lake, "--table", "ecommerce_evnets"])
        .output()
        .unwrap();
    let line = error_line(&output);
    assert!(
        line.contains("no table `ecommerce_evnets` (tables there: ecommerce_events)"),
        "{line}"
    );
    // A raw zone with nothing in it, and one with objects for other days.
    let empty = format!("s3://{}/raw", bucket("habits-s3-raw"));
    let etl = |input: &str| {
        weir_aws(path)
            .args(["etl", "--input", input, "--pipeline", EXAMPLE])
            .args(["--lake", &lake, "--date", "2026-02-16"])
            .output()
            .unwrap()
    };
    let line = error_line(&etl(&empty));
    assert!(
        line.contains("the raw zone holds no objects at all"),
        "{line}"
    );
    let output = etl(&lake);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: no raw objects for 2026-02-16"),
        "{stderr}"
    );
}

/// `weir run` of the example pipeline over `events.jsonl` into an S3 lake.
fn run_into_s3(path: &Path, lake: &str) -> std::process::Output {
    weir_aws(path)
        .args([
            "run",
            "--pipeline",
            EXAMPLE,
            "--input",
            "events.jsonl",
            "--lake",
            lake,
        ])
        .output()
        .unwrap()
}
